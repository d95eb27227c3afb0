"""Reading `.npy` files, one header at a time.

numpy parses an `.npy` header with `ast.literal_eval`, and CPython 3.11 keeps the AST constructor's
recursion count per interpreter, not per thread: two headers parsed at once (a server's questions
opening a new segment while an indexing run maps another) can fail with a spurious SystemError
("AST constructor recursion depth mismatch", CPython gh-106905), which read as a damaged index. A
header is a few hundred bytes, so parsing them one at a time costs nothing.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import BinaryIO

import numpy as np

_HEADERS = threading.Lock()


def load_mapped(path: Path) -> np.ndarray:
    """`np.load(path, mmap_mode="r")`, its header parsed under the lock."""
    with _HEADERS:
        return np.load(path, mmap_mode="r")


def read_header(handle: BinaryIO) -> tuple[tuple[int, ...], bool, np.dtype]:
    """(shape, Fortran order, dtype) of the `.npy` file open at its start, under the lock."""
    with _HEADERS:
        version = np.lib.format.read_magic(handle)
        if version == (1, 0):
            return np.lib.format.read_array_header_1_0(handle)
        return np.lib.format.read_array_header_2_0(handle)
