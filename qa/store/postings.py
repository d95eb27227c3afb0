"""A segment's lexical index on disk: for each term, the rows (passages) holding it and how often.

Files (in the segment's `postings/` folder): the vocabulary as JSON and four .npy arrays, memory-mapped
when read.
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from embeddings.npy import load_mapped, read_header
from qa.errors import IndexMismatch
from qa.text.analysis import analyze

VOCABULARY_FILE = "vocabulary.json"
POSTINGS_FILES = ("indptr.npy", "rows.npy", "frequencies.npy", "lengths.npy")


def mapped(path: Path) -> np.ndarray:
    """A .npy file memory-mapped, as a plain array: slicing a np.memmap costs several times more.

    Its size is checked against its own header first: reading past the end of a mapped file kills
    the process (SIGBUS), so a truncated file must be an IndexMismatch before it is mapped."""
    expected, size = npy_sizes(path)
    if size != expected:
        raise IndexMismatch(f"{path.name} is {size:,} bytes; its header says {expected:,}")
    return load_mapped(path).view(np.ndarray)


def npy_sizes(path: Path) -> tuple[int, int]:
    """(the size a .npy file's header says it has, the size it has); IndexMismatch when it has no
    readable header."""
    with path.open("rb") as handle:
        try:
            shape, _, dtype = read_header(handle)
        except (ValueError, OSError, EOFError) as error:
            raise IndexMismatch(f"{path.name} has no readable array header ({error})") from error
        return handle.tell() + math.prod(shape) * dtype.itemsize, os.fstat(handle.fileno()).st_size


class Postings:
    """One segment's lexical index: for each term, the rows (passages) holding it and how often."""

    def __init__(self, vocabulary: dict[str, int], indptr, rows, frequencies, lengths) -> None:
        self.vocabulary = vocabulary
        self.indptr = indptr
        self.rows = rows
        self.frequencies = frequencies
        self.lengths = lengths

    @classmethod
    def build(cls, texts: Iterable[str]) -> Postings:
        """Postings of texts; row i is the i-th text. Memory stays near the size of the postings
        themselves (three small integers each), and `texts` may be a generator, so a merge of
        millions of passages need not hold their texts twice."""
        term_ids: dict[str, int] = {}
        seen: dict[str, tuple[np.ndarray, np.ndarray, int]] = {}  # repeated texts are analysed once
        length_of_row: list[int] = []
        terms_parts, counts_parts = [], []
        for text in texts:
            found = seen.get(text)
            if found is None:
                terms = analyze(text)
                counted = Counter(terms)
                ids = np.fromiter((term_ids.setdefault(t, len(term_ids)) for t in counted), np.int32, len(counted))
                found = (ids, np.fromiter(counted.values(), np.float32, len(counted)), len(terms))
                if len(seen) < 100_000:
                    seen[text] = found
            ids, counts, length = found
            length_of_row.append(length)
            terms_parts.append(ids)
            counts_parts.append(counts)
        lengths = np.array(length_of_row, dtype=np.int32)
        if not terms_parts:
            return cls({}, np.zeros(1, np.int64), np.zeros(0, np.int32), np.zeros(0, np.float32), lengths)
        terms_per_row = np.fromiter(map(len, terms_parts), np.int64, len(terms_parts))
        terms_all = np.concatenate(terms_parts)
        del terms_parts
        # Terms in alphabetical order, rows ascending within each term.
        alphabetical = sorted(term_ids)
        rank = np.empty(len(term_ids), dtype=np.int32)
        rank[[term_ids[t] for t in alphabetical]] = np.arange(len(alphabetical), dtype=np.int32)
        terms_all = rank[terms_all]
        order = np.argsort(terms_all, kind="stable")
        rows = np.repeat(np.arange(len(lengths), dtype=np.int32), terms_per_row)[order]
        frequencies = np.concatenate(counts_parts)[order]
        indptr = np.concatenate([[0], np.cumsum(np.bincount(terms_all, minlength=len(alphabetical)))]).astype(np.int64)
        return cls({term: i for i, term in enumerate(alphabetical)}, indptr, rows, frequencies, lengths)

    @classmethod
    def load(cls, folder: Path, map_file: Callable[[Path], np.ndarray] = mapped) -> Postings:
        vocabulary = {term: i for i, term in enumerate(json.loads((folder / VOCABULARY_FILE).read_text("utf-8")))}
        return cls(vocabulary, *(map_file(folder / name) for name in POSTINGS_FILES))

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / VOCABULARY_FILE).write_text(json.dumps(list(self.vocabulary)), encoding="utf-8")
        for name, array in zip(POSTINGS_FILES, (self.indptr, self.rows, self.frequencies, self.lengths)):
            np.save(folder / name, array)

    def term(self, term: str) -> tuple[np.ndarray, np.ndarray] | None:
        """(rows, frequencies) of a term, or None when no passage of this segment holds it."""
        i = self.vocabulary.get(term)
        if i is None:
            return None
        start, end = int(self.indptr[i]), int(self.indptr[i + 1])
        return np.asarray(self.rows[start:end]), np.asarray(self.frequencies[start:end])
