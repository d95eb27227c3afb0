"""Reading `.npy` files, one header at a time.

numpy parses an `.npy` header with `ast.literal_eval`, and CPython 3.11 keeps the AST constructor's
recursion count per interpreter, not per thread: two headers parsed at once (a server's questions
opening a new segment while an indexing run maps another) can fail with a spurious SystemError
("AST constructor recursion depth mismatch", CPython gh-106905), which read as a damaged index. A
header is a few hundred bytes, so parsing them one at a time costs nothing; and as a library's own
`ast` work in another thread can still cross one, that error is read again, up to `ATTEMPTS` times.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import BinaryIO

import numpy as np

_HEADERS = threading.Lock()
# What CPython 3.11 raises when another thread's AST work (a library's, outside this lock) crossed
# this one's: nothing is wrong with the file, and reading it again succeeds.
_CROSSED = "AST constructor recursion depth mismatch"
ATTEMPTS = 3


def load_mapped(path: Path) -> np.ndarray:
    """`np.load(path, mmap_mode="r")`, its header parsed under the lock."""
    return _one_at_a_time(lambda: np.load(path, mmap_mode="r"))


def read_header(handle: BinaryIO) -> tuple[tuple[int, ...], bool, np.dtype]:
    """(shape, Fortran order, dtype) of the `.npy` file open at its start, under the lock."""
    start = handle.tell()

    def read() -> tuple[tuple[int, ...], bool, np.dtype]:
        handle.seek(start)
        version = np.lib.format.read_magic(handle)
        if version == (1, 0):
            return np.lib.format.read_array_header_1_0(handle)
        return np.lib.format.read_array_header_2_0(handle)

    return _one_at_a_time(read)


def _one_at_a_time(read):
    for attempt in range(ATTEMPTS):
        try:
            with _HEADERS:
                return read()
        except SystemError as error:
            if _CROSSED not in str(error) or attempt == ATTEMPTS - 1:
                raise
