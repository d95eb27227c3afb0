"""Shared fixtures: no test touches a real home folder; a fake encoder keeps most tests fast, and
the real seeds index (real model) is built once for the end-to-end tests."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SEEDS = PROJECT_ROOT / "seeds"
SHARED = PROJECT_ROOT.parent / "shared"
SEED_QUESTIONS = SHARED / "eval" / "seeds" / "questions.jsonl"

os.environ.setdefault("HF_HUB_OFFLINE", "1")

# Tests send Ctrl-C (SIGINT) to the `qa index` and `qa watch` they start. A shell without job control
# starts a background job (`make test &` in a script) with SIGINT ignored, and children inherit an
# ignored signal across exec, so those `qa` processes would never see it. A handler, unlike an
# ignore, is reset to the default in each child: they get Ctrl-C as from a terminal.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def require_shared(path: Path = SEED_QUESTIONS) -> Path:
    """Skip (with the reason) when the shared evaluation data is not beside the project."""
    if not path.exists():
        pytest.skip(f"needs the shared evaluation data at {path} (absent here)")
    return path


@pytest.fixture(scope="session", autouse=True)
def session_cache(tmp_path_factory):
    """One cache folder (ONNX export and the like) and a scratch home for the whole session,
    set before any session fixture builds an index, so nothing lands in the real home."""
    saved = {name: os.environ.get(name) for name in ("QA_HOME", "QA_CACHE_DIR")}
    os.environ["QA_HOME"] = str(tmp_path_factory.mktemp("qa-session-home"))
    os.environ["QA_CACHE_DIR"] = os.environ.get("QA_TEST_CACHE_DIR") or str(tmp_path_factory.mktemp("qa-cache"))
    yield Path(os.environ["QA_CACHE_DIR"])
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory, monkeypatch, session_cache):
    """Each test gets its own QA_HOME, so a default index built in one cannot leak into another."""
    home = tmp_path_factory.mktemp("qa-home")
    monkeypatch.setenv("QA_HOME", str(home))
    return home


@pytest.fixture(autouse=True)
def fresh_consoles():
    """The CLI's consoles are made once a process and read COLUMNS then: each test makes its own,
    so a test that sets the width gets it whichever test ran before it on the same worker."""
    from qa.cli.console import stderr_console, stdout_console

    stderr_console.cache_clear()
    stdout_console.cache_clear()


@pytest.fixture(scope="session", autouse=True)
def fake_model_by_name():
    """The fake is loadable by its own name, as a model is: an index built with it opens with it."""
    import embeddings
    from tests.fakes import FAKE_MODEL, load_fake

    with embeddings.registered_encoder(FAKE_MODEL, load_fake):
        yield


@pytest.fixture
def fake_model():
    """The default model is the fake too, so every encoder qa loads (CLI, app, default index) is a fake."""
    import embeddings
    from tests.fakes import load_fake

    with embeddings.registered_encoder(embeddings.DEFAULT_MODEL, load_fake):
        yield


@pytest.fixture
def fake_encoder():
    from tests.fakes import FakeEncoder

    return FakeEncoder()


@pytest.fixture(scope="session")
def fake_seeds_index(tmp_path_factory) -> Path:
    """An index of seeds/ built with the fake encoder, once per test session."""
    from qa.ingest.indexing import index_paths
    from tests.fakes import FakeEncoder

    index_dir = tmp_path_factory.mktemp("indexes") / "fake-seeds.qa"
    index_paths([SEEDS], index_dir, encoder=FakeEncoder())
    return index_dir


def real_encoder():
    """The real model, with the cache folder and backend that qa's configuration gives it."""
    from embeddings import SentenceTransformerEncoder
    from qa import config

    return SentenceTransformerEncoder(**config.current().encoder_options())


@pytest.fixture(scope="session")
def seeds_index(tmp_path_factory) -> Path:
    """An index of seeds/ built with the real model, once per test session."""
    from qa.ingest.indexing import index_paths

    index_dir = tmp_path_factory.mktemp("indexes") / "seeds.qa"
    index_paths([SEEDS], index_dir, encoder=real_encoder())  # the real model, even under `fake_model`
    return index_dir


@pytest.fixture(scope="session")
def seeds_collection(seeds_index):
    from qa.collection import Collection

    return Collection.open(seeds_index, encoder=real_encoder())
