"""Passages embedded in bfloat16 (embeddings.bf16): on CPUs with AMX and torch installed, a new
index embeds its passages with the real model in bfloat16, each text's vector its own whatever is
encoded beside it, within a cosine of 1e-4 of float32; an index keeps what it chose; elsewhere,
float32, saying why."""

from __future__ import annotations

import importlib.util
import json
import logging

import numpy as np
import pytest

from embeddings import bf16
from tests.conftest import SEEDS, real_encoder

needs_amx = pytest.mark.skipif(
    not bf16.cpu_has_amx_bf16() or None in (importlib.util.find_spec(n) for n in ("torch", "transformers")),
    reason="bfloat16 passages need a CPU with AMX (amx_bf16 in /proc/cpuinfo) and torch installed",
)


def passages_of_seeds() -> list[str]:
    texts = [path.read_text() for path in sorted(SEEDS.glob("*.txt"))]
    return [text[start : start + 900] for text in texts for start in range(0, min(len(text), 2700), 900)]


@needs_amx
def test_a_texts_bfloat16_vector_is_its_own_and_within_1e_4_of_float32() -> None:
    """An index built in pieces (a resumed run, files one by one) must equal one built at once: a
    text gets the same vector to the bit alone, among others, or in another order."""
    encoder = real_encoder()
    together_encoder = bf16.Bf16PassageEncoder(
        encoder.location,
        encoder.onnx_encoder.tokenizer,
        encoder.onnx_encoder.pad_id,
        encoder.onnx_encoder.pooling,
        encoder.dimension,
    )
    texts = passages_of_seeds() + ["Who defected?", "A short line about the ambassador to the UN."]
    together = together_encoder.encode(texts)
    alone = np.stack([together_encoder.encode([text])[0] for text in texts])
    backwards = together_encoder.encode(texts[::-1])[::-1]
    assert np.array_equal(together, alone)
    assert np.array_equal(together, backwards)
    float32 = encoder.encode(texts)
    cosines = (together * float32).sum(axis=1)
    assert cosines.min() > 0.9999
    assert not np.array_equal(together, float32)  # bfloat16 it is


@needs_amx
def test_a_new_index_embeds_passages_in_bfloat16_and_keeps_that_choice(tmp_path, monkeypatch) -> None:
    from qa.collection import Collection
    from qa.ingest.indexing import index_paths

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text((SEEDS / sorted(p.name for p in SEEDS.glob("*.txt"))[0]).read_text())
    index_dir = tmp_path / "docs.qa"
    index_paths([folder], index_dir)
    assert json.loads((index_dir / "manifest.json").read_text())["model"]["passage_precision"] == "bfloat16"
    assert Collection.open(index_dir).stats().passage_precision == "bfloat16"

    monkeypatch.setenv("QA_PASSAGES", "float32")  # asks for float32, but only a new index may choose
    (folder / "b.txt").write_text("The ambassador to the United Nations refused the post.")
    index_paths([folder], index_dir)
    assert json.loads((index_dir / "manifest.json").read_text())["model"]["passage_precision"] == "bfloat16"

    other = tmp_path / "float32.qa"
    index_paths([folder], other)
    assert json.loads((other / "manifest.json").read_text())["model"]["passage_precision"] == "float32"

    from typer.testing import CliRunner

    from qa.cli import app

    monkeypatch.delenv("QA_PASSAGES")
    said = CliRunner().invoke(app, ["index", str(folder), "--index", str(tmp_path / "cli.qa")]).output
    assert "passages embedded in bfloat16 · index at" in said, said


def test_without_amx_passages_are_float32_and_the_log_says_why(tmp_path, monkeypatch, caplog) -> None:
    """A machine without AMX (or torch) embeds in float32: a new index records it; one that chose
    bfloat16 elsewhere still takes new passages, in float32, with one warning saying why."""
    from qa.ingest.indexing import index_paths

    monkeypatch.setattr(bf16, "cpu_has_amx_bf16", lambda: False)
    assert bf16.unavailable(real_encoder().location) == "this CPU has no AMX bfloat16 unit"
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("Ali Treki, a former foreign minister, refused to become ambassador to the UN.")
    index_dir = tmp_path / "docs.qa"
    index_paths([folder], index_dir)
    manifest = json.loads((index_dir / "manifest.json").read_text())
    assert manifest["model"]["passage_precision"] == "float32"

    manifest["model"]["passage_precision"] = "bfloat16"  # as if made on a machine with AMX
    (index_dir / "manifest.json").write_text(json.dumps(manifest))
    (folder / "b.txt").write_text("Moussa Koussa flew to London and resigned.")
    with caplog.at_level(logging.WARNING, logger="embeddings.model"):
        index_paths([folder], index_dir)
    assert "not in bfloat16 as this index's were: this CPU has no AMX bfloat16 unit" in caplog.text


@needs_amx
def test_bfloat16_indexing_imports_torch_but_not_transformers(tmp_path) -> None:
    """The forward pass is written from the weights: transformers' two seconds of import and loading
    are not paid by every `qa index`, nor sentence-transformers'."""
    import os
    import subprocess
    import sys

    from tests.conftest import PROJECT_ROOT

    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from qa.ingest.indexing import index_paths\n"
        f"report = index_paths([Path({str(SEEDS)!r})], Path({str(tmp_path / 'index')!r}))\n"
        "assert report.passages > 0, report\n"
        "loaded = {m.split('.')[0] for m in sys.modules}\n"
        "assert 'torch' in loaded, 'not bfloat16'\n"
        "assert not loaded & {'transformers', 'sentence_transformers'}, loaded\n"
    )
    environment = {**os.environ, "HF_HUB_OFFLINE": "1", "QA_PASSAGES": "bfloat16"}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True, env=environment
    )
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "index" / "manifest.json").read_text())
    assert manifest["model"]["passage_precision"] == "bfloat16"
