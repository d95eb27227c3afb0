"""Passages embedded in bfloat16 by torch, on CPUs with AMX: the same model, ~2.5 × the speed of
ONNX Runtime's float32, vectors within a cosine of 1e-4 of it (docs/PERFORMANCE.md, "bfloat16
passages").

Questions stay with ONNX Runtime in float32 (one short text: nothing to gain, and answering never
imports torch). Each text's vector depends on that text alone, as an index built in pieces (a run
resumed after a kill, a folder indexed file by file) must equal one built at once: texts are padded
to a multiple of `BUCKET` tokens set by their own length, and every call has exactly `ROWS` rows,
so each text always goes through the very same computation whatever is encoded beside it.
"""

from __future__ import annotations

import importlib.util
import logging
import math
import threading
from collections.abc import Sequence
from functools import cache, cached_property
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

BUCKET = 16  # texts are padded to a multiple of this many tokens
ROWS = 8  # texts per call, the last call of a length filled up with copies of its first text
TEXTS_PER_STEP = 512  # texts given at once by SentenceTransformerEncoder.encode: few calls to fill up
PRECISIONS = ("auto", "float32", "bfloat16")  # what a new index embeds its passages in


@cache
def cpu_has_amx_bf16() -> bool:
    """Does this CPU multiply bfloat16 matrices in hardware (Intel AMX)? Without it torch emulates
    bfloat16, slower than float32."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return " amx_bf16" in flags


def unavailable(location: str) -> str | None:
    """Why passages cannot be embedded in bfloat16 here, or None when they can."""
    from embeddings import bert_graph

    if not Path(location).is_dir() or not bert_graph.can_build(Path(location)):
        return "the model is not a local BERT folder with safetensors weights"
    if not cpu_has_amx_bf16():
        return "this CPU has no AMX bfloat16 unit"
    if importlib.util.find_spec("torch") is None:
        return "torch is not installed (pip install 'qa-passages[torch]')"
    try:  # what embedding in bfloat16 imports anyway, so it costs nothing more where it works
        import torch  # noqa: F401
    except Exception as error:  # a broken install, or one a test blocks
        return f"torch cannot be imported ({error})"
    return None


class Bf16PassageEncoder:
    """The model's transformer in bfloat16, pooled and normalised as the ONNX encoder does, with
    that encoder's tokenizer (so texts are cut at the same word piece)."""

    def __init__(self, location: str, tokenizer, pad_id: int, pooling: str, dimension: int) -> None:
        self.location = location
        self.tokenizer = tokenizer  # a `tokenizers.Tokenizer` that truncates at the model's limit
        self.pad_id = pad_id
        self.pooling = pooling
        self.dimension = dimension
        self._lock = threading.Lock()

    @cached_property
    def model(self) -> _Bert:
        return _Bert(Path(self.location))

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed `texts` in order, each by a computation that depends on it alone."""
        from embeddings.onnx_encoder import pool

        encodings = self.tokenizer.encode_batch(list(texts))
        longest = self.model.positions  # a bucket never reaches past the position embeddings
        by_length: dict[int, list[int]] = {}
        for i, encoding in enumerate(encodings):
            bucket = max(1, math.ceil(len(encoding.ids) / BUCKET)) * BUCKET
            by_length.setdefault(min(bucket, longest), []).append(i)
        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        with self._lock:
            for length, members in sorted(by_length.items(), reverse=True):
                for begin in range(0, len(members), ROWS):
                    chosen = members[begin : begin + ROWS]
                    rows = chosen + [chosen[0]] * (ROWS - len(chosen))
                    tokens, mask = self._run([encodings[i] for i in rows], length)
                    pooled = pool(tokens, mask, self.pooling)[: len(chosen)]
                    vectors[chosen] = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return vectors

    def _run(self, encodings: list, length: int) -> tuple[np.ndarray, np.ndarray]:
        import torch

        ids = np.full((len(encodings), length), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(encodings), length), dtype=np.int64)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = encoding.attention_mask
        with torch.inference_mode():
            tokens = self.model(torch.from_numpy(ids), torch.from_numpy(mask))
        return tokens.float().numpy(), mask


class _Bert:
    """A BERT encoder's forward pass in bfloat16, from its safetensors weights: the few operations
    of `transformers`' BertModel (absolute positions, GELU, post-layer norm), without importing
    transformers (two seconds of a run's start). `bert_graph` writes the same model for ONNX."""

    def __init__(self, model_dir: Path) -> None:
        import torch
        from safetensors.torch import load_file

        from embeddings.bert_graph import hf_config

        config = hf_config(model_dir)
        weights = load_file(str(model_dir / "model.safetensors"))
        prefix = "bert." if "bert.embeddings.word_embeddings.weight" in weights else ""
        self.w = {name.removeprefix(prefix): tensor.to(torch.bfloat16) for name, tensor in weights.items()}
        self.positions = int(self.w["embeddings.position_embeddings.weight"].shape[0])
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.epsilon = float(config.get("layer_norm_eps", 1e-12))

    def __call__(self, ids, mask):
        import torch
        from torch.nn.functional import gelu, layer_norm, linear, scaled_dot_product_attention

        w, eps = self.w, self.epsilon
        batch, length = ids.shape
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        hidden = x.shape[-1]
        x = layer_norm(x, (hidden,), w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
        padded = (1 - mask[:, None, None, :]).to(torch.bfloat16) * torch.finfo(torch.bfloat16).min

        def heads(t):
            return t.view(batch, length, self.heads, hidden // self.heads).transpose(1, 2)

        for i in range(self.layers):
            layer = f"encoder.layer.{i}."

            def dense(name, t, layer=layer):
                return linear(t, w[f"{layer}{name}.weight"], w[f"{layer}{name}.bias"])

            def norm(name, t, layer=layer):
                return layer_norm(t, (hidden,), w[f"{layer}{name}.weight"], w[f"{layer}{name}.bias"], eps)

            q, k, v = (heads(dense(f"attention.self.{part}", x)) for part in ("query", "key", "value"))
            attended = scaled_dot_product_attention(q, k, v, attn_mask=padded)
            attended = attended.transpose(1, 2).reshape(batch, length, hidden)
            x = norm("attention.output.LayerNorm", dense("attention.output.dense", attended) + x)
            x = norm("output.LayerNorm", dense("output.dense", gelu(dense("intermediate.dense", x))) + x)
        return x
