"""Shared fixtures: no test touches a real home folder; the real seeds index is built once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SEEDS = PROJECT_ROOT / "seeds"
SHARED = PROJECT_ROOT.parent / "shared"
SEED_QUESTIONS = SHARED / "eval" / "seeds" / "questions.jsonl"

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def require_shared(path: Path = SEED_QUESTIONS) -> Path:
    """Skip (with the reason) when the shared evaluation data is not beside the project."""
    if not path.exists():
        pytest.skip(f"needs the shared evaluation data at {path} (absent here)")
    return path


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("qa-home")
    monkeypatch.setenv("QA_HOME", str(home))
    monkeypatch.setenv("QA_CACHE_DIR", str(os.environ.get("QA_TEST_CACHE_DIR") or _shared_cache(tmp_path_factory)))
    return home


_cache: list[Path] = []


def _shared_cache(tmp_path_factory) -> Path:
    """One cache folder for the session, so the ONNX export is made once."""
    if not _cache:
        _cache.append(tmp_path_factory.mktemp("qa-cache"))
    return _cache[0]


@pytest.fixture(scope="session")
def seeds_index(tmp_path_factory) -> Path:
    """An index of seeds/ built with the real model, once per test session."""
    from qa.collection import index_paths

    index_dir = tmp_path_factory.mktemp("indexes") / "seeds.qa"
    index_paths([SEEDS], index_dir)
    return index_dir


@pytest.fixture(scope="session")
def seeds_collection(seeds_index):
    from qa.collection import Collection

    return Collection.open(seeds_index)
