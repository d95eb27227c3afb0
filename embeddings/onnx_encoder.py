"""Sentence embeddings through onnxruntime, so neither indexing nor answering needs torch.

`export_onnx` (run once per model) writes an ONNX graph of the transformer: a BERT encoder's
straight from its weights (`bert_graph`), any other traced through torch. `OnnxEncoder` reproduces
the sentence-transformers pipeline around it (tokenise, truncate, pool, L2-normalise) with
onnxruntime, tokenizers and numpy only.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import tempfile
import uuid
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from embeddings.protocol import TokenVectors

logger = logging.getLogger(__name__)

ONNX_FILE = "model.onnx"
# v2: the embedding layer stays float32 (INT8_OPERATORS); the name changed so no cache serves the first
# recipe, which quantized it too. docs/PERFORMANCE.md, "int8 as the default?", compares the recipes.
INT8_FILE = "model.int8.v2.onnx"
# What the int8 graph quantizes: the matrix products, not the embedding lookup, which has no compute to
# save (leaving it out: SQuAD dev-a gold@1 0.8260 instead of 0.8253, at the same speed).
INT8_OPERATORS = ("MatMul", "Attention")
TOKENIZER_FILE = "tokenizer.json"
CONFIG_FILE = "onnx_config.json"
# A graph's weights live in a file beside it, the graph's name plus this. ONNX Runtime maps such a file
# instead of copying the weights out of the graph: a session opens in ~60 ms instead of ~220 ms, the
# largest part of a cold `qa ask` (docs/PERFORMANCE.md, "Start-up").
WEIGHTS_SUFFIX = ".data"
FORMAT_VERSION = 1  # what OnnxEncoder reads
# How the graph is made; part of the cache key, so older exports are not reused. 3: weights beside the graph.
EXPORT_REVISION = 3
OPSET = 17
# Texts per encoder call: at most TOKEN_BUDGET tokens once padded, and MAX_BATCH texts. Long passages
# run fastest ~8 at a time on a CPU, questions 64 at a time (docs/PERFORMANCE.md, "int8 as the default?").
TOKEN_BUDGET = 2048
MAX_BATCH = 64
# A batch also ends where its texts fall below its longest ÷ this: a server's batch of 30 seed
# questions (7-17 tokens) took 46 ms in groups of like length, 51 ms all padded to the longest
# (benchmarks/bench_padding.py).
PADDING_SLACK = 1.3
POOLING_MODES = ("mean", "cls", "max")

_WEIGHT_PATTERNS = ("*.safetensors", "pytorch_model*.bin")
_CONFIG_FILES = ("modules.json", "sentence_bert_config.json", "config.json", TOKENIZER_FILE)
# Uneven lengths on purpose: the export is traced on a padded batch and checked on one.
_PROBE_TEXTS = (
    "Who is the foreign minister?",
    "A longer probe sentence, so that the batch is padded and the attention mask has zeros in it.",
    "x",
)
_MIN_EXPORT_COSINE = 0.9999


def weights_sha256(model_dir: Path, cache_dir: Path | None = None) -> str:
    """One sha256 over the model's weight files (relative name and content), in a stable order.

    Remembered per (name, size, mtime) in the cache, so a cold `qa ask` does not hash 90 MB again.
    """
    model_dir = Path(model_dir)
    files = sorted({p for pattern in _WEIGHT_PATTERNS for p in model_dir.rglob(pattern)})
    if not files:
        raise FileNotFoundError(f"no weight files ({', '.join(_WEIGHT_PATTERNS)}) under {model_dir}")
    stamp = "|".join(f"{p.resolve()}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in files)
    memo_file = (cache_dir or default_cache_dir()) / "onnx" / "weights-sha256.json"
    try:
        memo = json.loads(memo_file.read_text())
    except FileNotFoundError:
        memo = {}
    except (OSError, ValueError) as error:
        logger.info("the weights hashes remembered in %s cannot be read (%s); hashing again", memo_file, error)
        memo = {}
    if stamp in memo:
        return memo[stamp]
    digest = hashlib.sha256()
    for path in files:
        with path.open("rb") as f:
            file_digest = hashlib.file_digest(f, "sha256").hexdigest()
        digest.update(f"{path.relative_to(model_dir).as_posix()}\0{file_digest}\n".encode())
    memo[stamp] = digest.hexdigest()
    try:
        memo_file.parent.mkdir(parents=True, exist_ok=True)
        temporary = memo_file.with_name(f".{memo_file.name}.{os.getpid()}")
        temporary.write_text(json.dumps(memo))
        os.replace(temporary, memo_file)
    except OSError as error:  # a read-only cache only costs the hashing next time
        logger.info("cannot remember the weights hash in %s (%s)", memo_file, error)
    return memo[stamp]


def default_cache_dir() -> Path:
    """The user cache folder (`$XDG_CACHE_HOME/qa`, else `~/.cache/qa`), for callers that name none;
    `qa` passes its configured one (`QA_CACHE_DIR`)."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("qa", appauthor=False))


def onnx_cache_dir(model_dir: Path, cache_dir: Path | None = None) -> Path:
    """Where the export of `model_dir` is cached under `cache_dir`: keyed by its weights hash.

    The small config files (tokenizer, max_seq_length, pooling) go into the key too, so editing
    them cannot serve a stale export made from the same weights.
    """
    model_dir = Path(model_dir)
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    key = hashlib.sha256(f"{FORMAT_VERSION}.{EXPORT_REVISION}\0{weights_sha256(model_dir, cache_dir)}\0".encode())
    for path in sorted([model_dir / name for name in _CONFIG_FILES] + list(model_dir.glob("*/config.json"))):
        if path.is_file():
            key.update(path.relative_to(model_dir).as_posix().encode() + b"\0" + path.read_bytes())
    return cache_dir / "onnx" / key.hexdigest()[:24]


def is_complete(onnx_dir: Path, *, quantized: bool = False) -> bool:
    """Whether `onnx_dir` holds a finished export (it is only ever renamed into place whole)."""
    onnx_dir = Path(onnx_dir)
    graph = INT8_FILE if quantized else ONNX_FILE
    needed = [CONFIG_FILE, TOKENIZER_FILE, graph, graph + WEIGHTS_SUFFIX]
    return all((onnx_dir / name).is_file() for name in needed)


def ensure_onnx(model_dir: Path, *, quantize: bool = False, cache_dir: Path | None = None) -> Path:
    """The cached export of `model_dir` under `cache_dir` (default: the user cache folder), made first
    if missing (a file lock keeps it to one process)."""
    out_dir = onnx_cache_dir(model_dir, cache_dir)
    if is_complete(out_dir, quantized=quantize):
        return out_dir
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(out_dir.with_name(out_dir.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not is_complete(out_dir):
            export_onnx(model_dir, out_dir, quantize=quantize, cache_dir=cache_dir)
        elif quantize and not is_complete(out_dir, quantized=True):
            _quantize(out_dir)  # from the float32 export already there: no torch needed
    return out_dir


def export_onnx(model_dir: Path, out_dir: Path, *, quantize: bool = False, cache_dir: Path | None = None) -> Path:
    """Export the model's transformer to `out_dir/model.onnx` (with tokenizer and config); return `out_dir`.

    A BERT encoder's graph is written from its weights without torch (`bert_graph`); any other
    architecture is traced through sentence-transformers, so needs torch. Only a plain Transformer →
    Pooling (→ Normalize) model can be reproduced outside torch; anything else is refused. When
    sentence-transformers is installed, the export is checked against it before it is published;
    `quantize` adds the int8 graph.
    """
    import onnxruntime

    from embeddings import bert_graph

    model_dir, out_dir = Path(model_dir), Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        tmp_dir.chmod(0o755)
        model = None  # sentence-transformers' model, when it is loaded: to trace, or to check against
        if bert_graph.can_build(model_dir):
            pipeline = _pipeline_from_files(model_dir)
            input_names = bert_graph.build(model_dir, tmp_dir / ONNX_FILE, OPSET)
            tokenizer = _read_tokenizer(model_dir)
            fused, made_with = "bert", {"built_from": "safetensors"}
        else:
            model = _sentence_transformer(model_dir)
            import torch  # loaded already, by sentence-transformers

            pipeline = _pipeline(model)
            input_names = _trace(pipeline["transformer"], tmp_dir / ONNX_FILE)
            fused = _fuse_transformer_ops(tmp_dir / ONNX_FILE, pipeline["transformer"].auto_model.config)
            tokenizer = _copy_tokenizer(pipeline["transformer"].tokenizer.backend_tokenizer)
            made_with = {"built_from": "torch", "torch_version": torch.__version__}
        move_weights_beside(tmp_dir / ONNX_FILE)
        _save_tokenizer(tokenizer, tmp_dir / TOKENIZER_FILE)
        pad_token = pipeline["pad_token"]
        config = {
            "format_version": FORMAT_VERSION,
            "export_revision": EXPORT_REVISION,
            "pooling": pipeline["pooling"],
            "normalize": pipeline["normalize"],
            "max_seq_length": pipeline["max_seq_length"],
            "dimension": pipeline["dimension"],
            "input_names": input_names,
            "pad_token": pad_token,
            "pad_token_id": int(tokenizer.token_to_id(pad_token)),
            "source_model": str(model_dir.resolve()),
            "weights_sha256": weights_sha256(model_dir, cache_dir),
            "opset": OPSET,
            "fused_for": fused,
            "onnxruntime_version": onnxruntime.__version__,
            **made_with,
        }
        (tmp_dir / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")

        expected = _reference_vectors(model_dir, model)
        if expected is not None:
            _check_export(OnnxEncoder(tmp_dir), expected, "fp32", _MIN_EXPORT_COSINE)
        else:
            logger.info("no sentence-transformers to compare the ONNX export of %s with", model_dir)
        if quantize:
            _quantize(tmp_dir)
        _publish(tmp_dir, out_dir)
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    return out_dir


def _sentence_transformer(model_dir: Path):
    """The sentence-transformers model of `model_dir` (imports torch), with the attention that exports
    best: eager attention becomes plain MatMul/Softmax, which onnxruntime fuses into its Attention op;
    the SDPA graph is left unfused and runs ~1.4x slower."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(model_dir), device="cpu", model_kwargs={"attn_implementation": "eager"})
    model.eval()
    return model


def _reference_vectors(model_dir: Path, model=None) -> np.ndarray | None:
    """sentence-transformers' own vectors for the probe texts, the export's yardstick: from `model`
    when it is loaded already, else loaded now if sentence-transformers is installed."""
    if model is None:
        try:
            model = _sentence_transformer(model_dir)
        except ImportError:
            return None
    return model.encode(list(_PROBE_TEXTS), convert_to_numpy=True, normalize_embeddings=True)


def _read_tokenizer(folder: Path):
    from tokenizers import Tokenizer

    path = Path(folder) / TOKENIZER_FILE
    if not path.is_file():
        raise ValueError(f"{folder}: only models with a fast tokenizer ({TOKENIZER_FILE}) can be exported")
    return Tokenizer.from_file(str(path))


def _copy_tokenizer(tokenizer):
    """A copy of a loaded model's tokenizer, so that saving it below leaves the model's own settings."""
    from tokenizers import Tokenizer

    return Tokenizer.from_str(tokenizer.to_str())


def _save_tokenizer(tokenizer, path: Path) -> None:
    """Saved without truncation or padding: OnnxEncoder sets both, from the model's max_seq_length."""
    tokenizer.no_truncation()
    tokenizer.no_padding()
    tokenizer.save(str(path))


def _trace(transformer, onnx_file: Path) -> list[str]:
    """Trace the transformer alone (token tensors in, token embeddings out) into `onnx_file`, on a
    padded batch of the probe texts; returns the graph's input names."""
    import torch

    preprocess = getattr(transformer, "preprocess", None) or transformer.tokenize  # renamed in ST 6
    features = preprocess(list(_PROBE_TEXTS))
    input_names = [name for name in ("input_ids", "attention_mask", "token_type_ids") if name in features]
    example = tuple(features[name] for name in input_names)
    dynamic_axes = {name: {0: "batch", 1: "sequence"} for name in [*input_names, "token_embeddings"]}

    class TokenEmbeddings(torch.nn.Module):
        """The transformer alone: positional tensors in, last_hidden_state out, as tracing wants."""

        def __init__(self) -> None:
            super().__init__()
            self.auto_model = transformer.auto_model

        def forward(self, *inputs):
            return self.auto_model(**dict(zip(input_names, inputs, strict=True)), return_dict=True).last_hidden_state

    with torch.inference_mode(), warnings.catch_warnings():
        # Tracing notes about shape checks and index ops; the parity check after export is the real test.
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", module=r"torch\.onnx")
        # We choose the tracing exporter on purpose (see `dynamo=False` below); torch warns that it is legacy.
        warnings.filterwarnings("ignore", "You are using the legacy TorchScript-based ONNX export", DeprecationWarning)
        torch.onnx.export(
            TokenEmbeddings(),
            example,
            str(onnx_file),
            input_names=input_names,
            output_names=["token_embeddings"],
            dynamic_axes=dynamic_axes,
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,  # the torch.export-based exporter needs onnxscript; the tracer does not
        )
    return input_names


def move_weights_beside(onnx_file: Path, weights_name: str | None = None) -> None:
    """Rewrite `onnx_file` with its weights in one file beside it (`weights_name`, by default the
    graph's name plus WEIGHTS_SUFFIX), for ONNX Runtime to map rather than copy."""
    import onnx

    weights_name = weights_name or onnx_file.name + WEIGHTS_SUFFIX
    model = onnx.load(str(onnx_file))
    (onnx_file.parent / weights_name).unlink(missing_ok=True)  # onnx appends to a file already there
    onnx.save_model(model, str(onnx_file), save_as_external_data=True, location=weights_name, size_threshold=1024)


def quantize_graph(source: Path, target: Path, weights_name: str | None = None, **options) -> None:
    """Write the int8 dynamically quantised form of the float32 graph `source` to `target`, its
    weights beside it (`weights_name`: see `move_weights_beside`). `options` go to onnxruntime's
    `quantize_dynamic` (benchmarks.int8_recipes tries others)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        source,
        target,
        weight_type=QuantType.QInt8,
        per_channel=True,  # min cosine to fp32 0.99 instead of 0.93 per tensor, at about the same speed
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},  # fused ops defeat type inference
        **{"op_types_to_quantize": list(INT8_OPERATORS), **options},
    )
    move_weights_beside(target, weights_name)


def _quantize(export_dir: Path) -> None:
    """Add the int8 graph beside the fp32 one in `export_dir`, checked against it, and renamed into
    place whole (a process that dies midway leaves no half-written file)."""
    partial = export_dir / f".{INT8_FILE}.{uuid.uuid4().hex[:8]}.tmp"
    weights = export_dir / (INT8_FILE + WEIGHTS_SUFFIX)  # named for the graph's final name
    try:
        quantize_graph(export_dir / ONNX_FILE, partial, weights.name)
        expected = OnnxEncoder(export_dir).encode(list(_PROBE_TEXTS))
        # int8 is lossy by nature; this only catches a broken graph, not a small quality loss.
        _check_export(OnnxEncoder(export_dir, quantized=True, model_file=partial), expected, "int8", 0.8)
        partial.rename(export_dir / INT8_FILE)
    finally:
        if partial.exists():  # not published: neither file stays
            partial.unlink()
            weights.unlink(missing_ok=True)


class OnnxEncoder:
    """Encodes texts like the exported SentenceTransformer: float32, L2-normalised, shape (n, dim).

    Safe to call from several threads at once: onnxruntime's `run` is thread-safe and the
    tokenizer's settings are fixed here, never changed per call.
    """

    def __init__(
        self,
        onnx_dir: Path | str,
        *,
        quantized: bool = False,
        threads: int | None = None,
        model_file: Path | None = None,
        prepack: bool = True,
    ) -> None:
        """`prepack=False` opens the session without ONNX Runtime's pre-packing of the weights: in
        ~7 ms instead of ~60, for calls ~1.8x slower. It suits a process that encodes one question
        and exits (a cold `qa ask`, docs/PERFORMANCE.md); everything else keeps the default."""
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.onnx_dir = Path(onnx_dir)
        self.config = json.loads((self.onnx_dir / CONFIG_FILE).read_text())
        if self.config.get("format_version") != FORMAT_VERSION:
            raise ValueError(
                f"{self.onnx_dir}: ONNX export format {self.config.get('format_version')!r}, "
                f"expected {FORMAT_VERSION}; export it again"
            )
        self.pooling: str = self.config["pooling"]
        if self.pooling not in POOLING_MODES:
            raise ValueError(f"{self.onnx_dir}: unsupported pooling {self.pooling!r}")
        self.max_seq_length: int = self.config["max_seq_length"]
        self.dimension: int = self.config["dimension"]
        self.input_names: list[str] = self.config["input_names"]

        self.tokenizer = Tokenizer.from_file(str(self.onnx_dir / TOKENIZER_FILE))
        self.tokenizer.enable_truncation(max_length=self.max_seq_length)
        self.tokenizer.no_padding()  # each batch is padded to its own longest text
        self.pad_id: int = self.config["pad_token_id"]

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads or cpu_budget()
        options.inter_op_num_threads = 1
        if not prepack:
            options.add_session_config_entry("session.disable_prepacking", "1")
        model_file = model_file or self.onnx_dir / (INT8_FILE if quantized else ONNX_FILE)
        self.session = ort.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])
        # int8 takes one range for the activations of a whole call, so a text's vector would depend
        # on the texts beside it (an index built in pieces would differ from one built at once):
        # each text is encoded alone, which costs passages nothing (docs/PERFORMANCE.md).
        self.texts_per_call: int | None = 1 if quantized else None

    def encode(self, texts: Sequence[str], token_budget: int = TOKEN_BUDGET, max_batch: int = MAX_BATCH) -> np.ndarray:
        """Embed `texts` in order. Texts are batched by token length, each batch at most
        `token_budget` tokens once padded (and `max_batch` texts): long passages go 8 at a time,
        whose activations stay in the CPU's caches, and questions 64 at a time, in groups of like
        length (`PADDING_SLACK`). Padding is masked, so a float32 vector does not depend on its batch;
        int8 encodes one text a call, as its activations' range is the call's."""
        max_batch = min(max_batch, self.texts_per_call or max_batch)
        embeddings = np.empty((len(texts), self.dimension), dtype=np.float32)
        encodings = self.tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids), reverse=True)
        start = 0
        while start < len(order):
            longest = max(1, len(encodings[order[start]].ids))
            end = min(len(order), start + max(1, min(max_batch, token_budget // longest)))
            stop = start + 1
            while stop < end and len(encodings[order[stop]].ids) * PADDING_SLACK >= longest:
                stop += 1
            batch = order[start:stop]
            embeddings[batch] = self._encode_batch([encodings[i] for i in batch], longest)
            start = stop
        return embeddings

    def read_tokens(self, texts: Sequence[str]) -> list[TokenVectors]:
        """Each text's word pieces and their vectors from the last layer, L2-normalised, special
        tokens left out; one text a call, so no piece is read beside padding."""
        read = []
        for encoding in self.tokenizer.encode_batch(list(texts)):
            tokens, _ = self._run([encoding], len(encoding.ids))
            keep = [i for i, special in enumerate(encoding.special_tokens_mask) if not special]
            vectors = tokens[0][keep].astype(np.float32)
            vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
            read.append(TokenVectors(tuple(encoding.tokens[i] for i in keep), vectors))
        return read

    def _encode_batch(self, encodings: list, length: int) -> np.ndarray:
        tokens, attention_mask = self._run(encodings, length)
        pooled = pool(tokens, attention_mask, self.pooling)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return pooled / np.maximum(norms, 1e-12)

    def _run(self, encodings: list, length: int) -> tuple[np.ndarray, np.ndarray]:
        """The last layer's vector of every position of each text, padded to `length`, and the mask."""
        arrays = {
            "input_ids": np.full((len(encodings), length), self.pad_id, dtype=np.int64),
            "attention_mask": np.zeros((len(encodings), length), dtype=np.int64),
            "token_type_ids": np.zeros((len(encodings), length), dtype=np.int64),
        }
        for row, encoding in enumerate(encodings):
            size = len(encoding.ids)
            arrays["input_ids"][row, :size] = encoding.ids
            arrays["attention_mask"][row, :size] = encoding.attention_mask
            arrays["token_type_ids"][row, :size] = encoding.type_ids
        (tokens,) = self.session.run(None, {name: arrays[name] for name in self.input_names})
        return tokens, arrays["attention_mask"]


def cpu_budget() -> int:
    """The cores this process may use: `OMP_NUM_THREADS` when set (Ray sets it to an actor's CPUs,
    as torch reads it), else the CPUs it may run on."""
    try:
        return max(1, int(os.environ["OMP_NUM_THREADS"]))
    except (KeyError, ValueError):
        return len(os.sched_getaffinity(0))


def pool(tokens: np.ndarray, attention_mask: np.ndarray, mode: str) -> np.ndarray:
    """sentence-transformers' Pooling, in numpy: padded positions never count."""
    if mode == "cls":
        return tokens[:, 0]
    mask = attention_mask[:, :, None].astype(tokens.dtype)
    if mode == "max":
        return np.where(mask > 0, tokens, np.finfo(tokens.dtype).min).max(axis=1)
    return (tokens * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)


def _pipeline(model) -> dict:
    """What OnnxEncoder must reproduce of a loaded sentence-transformers model made of exactly
    Transformer → Pooling (→ Normalize)."""
    modules = list(model)
    _check_modules([type(m).__name__ for m in modules])
    transformer = modules[0]
    if not getattr(transformer.tokenizer, "is_fast", False):
        raise ValueError("only models with a fast (tokenizer.json) tokenizer can be exported")
    return {
        "transformer": transformer,
        "pooling": _pooling_mode(modules[1].get_config_dict()),
        "normalize": len(modules) == 3,
        "max_seq_length": int(model.max_seq_length),
        "dimension": int(getattr(model, "get_embedding_dimension", model.get_sentence_embedding_dimension)()),
        "pad_token": transformer.tokenizer.pad_token,
    }


def _pipeline_from_files(model_dir: Path) -> dict:
    """The same as `_pipeline`, read from the model folder's sentence-transformers files (no torch)."""
    model_dir = Path(model_dir)
    modules = json.loads((model_dir / "modules.json").read_text())
    _check_modules([module["type"].rsplit(".", 1)[-1] for module in modules])
    pooling = json.loads((model_dir / modules[1]["path"] / "config.json").read_text())
    hf_config = json.loads((model_dir / "config.json").read_text())
    max_seq_length = int(hf_config["max_position_embeddings"])
    st_config = model_dir / "sentence_bert_config.json"
    if st_config.is_file():
        max_seq_length = int(json.loads(st_config.read_text()).get("max_seq_length") or max_seq_length)
    special_tokens = model_dir / "special_tokens_map.json"
    pad_token = json.loads(special_tokens.read_text()).get("pad_token") if special_tokens.is_file() else None
    if isinstance(pad_token, dict):  # {"content": "[PAD]", ...} in newer files
        pad_token = pad_token.get("content")
    return {
        "pooling": _pooling_mode(pooling),
        "normalize": len(modules) == 3,
        "max_seq_length": max_seq_length,
        "dimension": int(pooling.get("word_embedding_dimension") or hf_config["hidden_size"]),
        "pad_token": pad_token or "[PAD]",
    }


def _check_modules(names: list[str]) -> None:
    if names not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        raise ValueError(f"cannot export a {' → '.join(names)} model; expected Transformer → Pooling (→ Normalize)")


def _pooling_mode(config: dict) -> str:
    """The single pooling mode of a Pooling config, in the current ("pooling_mode") or old (flags) form."""
    mode = config.get("pooling_mode")
    if mode is None:
        enabled = [key for key, value in config.items() if key.startswith("pooling_mode_") and value]
        mode = enabled[0].removeprefix("pooling_mode_") if len(enabled) == 1 else "+".join(enabled) or "none"
    mode = {"cls_token": "cls", "mean_tokens": "mean", "max_tokens": "max"}.get(mode, mode)
    if mode not in POOLING_MODES:
        raise ValueError(f"cannot export pooling mode {mode!r}; supported: {', '.join(POOLING_MODES)}")
    return mode


def _fuse_transformer_ops(onnx_file: Path, hf_config) -> str | None:
    """Fuse attention, GELU and layer norms with onnxruntime's transformer optimizer, in place.

    Returns the optimizer's model type, or None for architectures it is not known to handle; the
    parity check after export catches a fusion that changed the numbers.
    """
    model_type = {"bert": "bert", "roberta": "bert", "xlm-roberta": "bert"}.get(hf_config.model_type)
    if model_type is None:
        return None
    from onnxruntime.transformers.optimizer import optimize_model

    optimized = optimize_model(
        str(onnx_file),
        model_type=model_type,
        num_heads=hf_config.num_attention_heads,
        hidden_size=hf_config.hidden_size,
        opt_level=0,  # fusions only; the session applies the generic graph optimisations at load
    )
    optimized.save_model_to_file(str(onnx_file))
    return model_type


def _check_export(encoder: OnnxEncoder, expected: np.ndarray, label: str, min_cosine: float) -> None:
    cosine = float((encoder.encode(list(_PROBE_TEXTS)) * expected).sum(axis=1).min())
    if cosine < min_cosine:
        raise RuntimeError(f"ONNX {label} export disagrees with sentence-transformers: cosine {cosine:.6f}")


def _publish(tmp_dir: Path, out_dir: Path) -> None:
    """Rename the finished export into place, replacing an older one at `out_dir`."""
    try:
        tmp_dir.rename(out_dir)
        return
    except OSError:
        if not out_dir.exists():
            raise
    old_dir = out_dir.with_name(f".{out_dir.name}.old-{uuid.uuid4().hex[:8]}")
    out_dir.rename(old_dir)
    tmp_dir.rename(out_dir)
    shutil.rmtree(old_dir, ignore_errors=True)
