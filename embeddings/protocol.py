"""What indexing and asking need of an embedding model, and nothing more.

The sentence-transformers model (`embeddings.model.SentenceTransformerEncoder`) is one encoder;
the tests' deterministic fake is another. Anything with these attributes and methods will do.
An encoder that can also give the vector of each word piece in its context (`TokenReader`) lets
confidence read a question against its best passage word by word (qa.search.confidence).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Encoder(Protocol):
    """Turns texts into vectors for the index and the questions.

    Every row it returns is float32 and L2-normalised, `dimension` wide, in the order of the texts,
    so that an inner product is a cosine.
    """

    name: str
    """The model's name as the index manifest records it: an index is only ever read with it."""
    dimension: int
    """Width of every vector."""
    max_tokens: int
    """Word pieces the model reads before truncating, special tokens included: passages are cut to fit."""
    quantized: bool
    """Whether vectors come from an int8 model (recorded in the manifest, kept on updates)."""

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Word pieces of each text, special tokens left out."""
        ...

    def token_spans(self, texts: Sequence[str]) -> list[list[tuple[int, int]]]:
        """Character span (start, end) of every word piece of each text, special tokens left out."""
        ...

    def encode(self, texts: Sequence[str], on_progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Embed passages: an array of shape (len(texts), dimension); `on_progress(n)` after every n texts.
        May serialise calls (indexing is one writer)."""
        ...

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed questions like passages; safe to call from many threads at once (the server does)."""
        ...

    def warm_up(self) -> None:
        """Load whatever answering needs now, so the first question is not the slow one."""
        ...


class TokenVectors(NamedTuple):
    """A text's word pieces as the model read them: each piece and its vector from the model's last
    layer (float32, L2-normalised, one row per piece), special tokens left out."""

    pieces: tuple[str, ...]
    vectors: np.ndarray


@runtime_checkable
class TokenReader(Protocol):
    """An encoder that can say what it read of each word piece of a text, in context."""

    def read_tokens(self, texts: Sequence[str]) -> list[TokenVectors]:
        """Each text's `TokenVectors`, in order; safe to call from many threads at once."""
        ...
