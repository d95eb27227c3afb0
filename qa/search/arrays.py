"""Array helpers of the question path."""

from __future__ import annotations

import numpy as np


def distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values, ascending: `np.unique` without its check for masked arrays, whose
    first call imports `numpy.ma` (8–10 ms of a cold `qa ask`, `python -X importtime`)."""
    ordered = np.sort(values)
    if len(ordered) < 2:
        return ordered
    keep = np.empty(len(ordered), dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]
