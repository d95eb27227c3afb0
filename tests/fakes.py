"""A small deterministic stand-in for the embedding model, so most tests run in milliseconds.

Vectors are hashed bags of words (each word, lower-cased and crudely stemmed, adds ±1 to a few
buckets), L2-normalised: texts that share words are close, so ranking tests still mean something.
Word pieces are words and punctuation marks, with their character spans, as a tokenizer gives.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Sequence

import numpy as np

from embeddings import TokenVectors

_PIECE = re.compile(r"\w+|[^\w\s]")
_WORD = re.compile(r"\w+")
FAKE_MODEL = "test/hashed-words"


class FakeEncoder:
    """An `embeddings.Encoder`: what indexing and asking use of one, and no model."""

    def __init__(self, name: str = FAKE_MODEL, dimension: int = 64, max_tokens: int = 128) -> None:
        self.name = name
        self.dimension = dimension
        self.max_tokens = max_tokens
        self.quantized = False
        self.encoded = 0  # texts embedded so far, so tests can see what was (re)embedded

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(_PIECE.findall(text)) for text in texts]

    def token_spans(self, texts: Sequence[str]) -> list[list[tuple[int, int]]]:
        return [[match.span() for match in _PIECE.finditer(text)] for text in texts]

    def encode(self, texts: Sequence[str], on_progress: Callable[[int], None] | None = None) -> np.ndarray:
        vectors = np.array([self._vector(text) for text in texts], dtype=np.float32).reshape(-1, self.dimension)
        self.encoded += len(texts)
        if on_progress and len(texts):
            on_progress(len(texts))
        return vectors

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode(texts)

    def read_tokens(self, texts: Sequence[str]) -> list[TokenVectors]:
        """Each piece read alone, as its word's hashed vector (punctuation reads as nothing): a
        question's word meets its passage when the passage holds the word. Not counted in `encoded`."""
        read = []
        for text in texts:
            pieces = tuple(piece.lower() for piece in _PIECE.findall(text))[: self.max_tokens - 2]
            vectors = np.array([self._vector(piece) for piece in pieces], dtype=np.float32)
            read.append(TokenVectors(pieces, vectors.reshape(len(pieces), self.dimension)))
        return read

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dimension, dtype=np.float32)
        for word in _WORD.findall(text.lower()):
            stem = word[:6]
            digest = zlib.crc32(stem.encode())
            for shift in (0, 11, 22):
                bucket = (digest >> shift) % self.dimension
                vector[bucket] += 1.0 if (digest >> (shift + 7)) & 1 else -1.0
        norm = np.linalg.norm(vector)
        return vector / norm if norm else vector

    def warm_up(self) -> None:
        """Nothing to load."""


def load_fake(name: str, quantized: bool = False) -> FakeEncoder:
    """An `embeddings.EncoderFactory`: the fake, under the name it was registered for."""
    return FakeEncoder(name=name)


class DyingEncoder(FakeEncoder):
    """Kills its own process (SIGKILL, by its own pid) the first time any process encodes, as a
    crashed cluster worker would die: `marker` records that it happened."""

    def __init__(self, marker: str, **options) -> None:
        super().__init__(**options)
        self.marker = marker

    def encode(self, texts: Sequence[str], on_progress: Callable[[int], None] | None = None) -> np.ndarray:
        import os
        import signal
        from pathlib import Path

        marker = Path(self.marker)
        if not marker.exists():
            marker.write_text(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)
        return super().encode(texts, on_progress)
