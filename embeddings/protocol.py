"""What indexing and asking need of an embedding model, and nothing more.

The sentence-transformers model (`embeddings.model.SentenceTransformerEncoder`) is one encoder;
the tests' deterministic fake is another. Anything with these attributes and methods will do.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

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
