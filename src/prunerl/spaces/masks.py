"""Kept index sets: convert boolean masks or index lists to sorted indices, with clear errors."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def as_keep(keep: Sequence[int] | Sequence[bool] | np.ndarray, n: int, what: str) -> np.ndarray:
    """Sorted unique indices of the kept ``what`` (features, channels, actions) out of ``n``.

    ``keep`` is a boolean mask of length ``n`` or a list of indices. Raises when the mask has the
    wrong length, an index is out of range or repeated, or nothing would be kept.
    """
    arr = np.asarray(keep)
    if arr.dtype == np.bool_:
        if arr.ndim != 1 or arr.shape[0] != n:
            raise ValueError(
                f"{what} mask has length {arr.shape[0] if arr.ndim else 0} but there are {n} "
                f"{what}s; pass one True/False per {what} (or a list of kept indices)"
            )
        idx = np.flatnonzero(arr)
    else:
        if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
            raise ValueError(
                f"kept {what}s must be a 1-D list of integer indices or a bool mask, got {keep!r}"
            )
        idx = arr.astype(np.int64)
        bad = idx[(idx < 0) | (idx >= n)]
        if bad.size:
            raise ValueError(
                f"{what} indices {bad.tolist()} are out of range: there are {n} {what}s "
                f"(valid indices 0..{n - 1})"
            )
        if np.unique(idx).size != idx.size:
            raise ValueError(f"kept {what} indices repeat: {idx.tolist()}; list each once")
        idx = np.sort(idx)
    if idx.size == 0:
        raise ValueError(
            f"removing every {what} leaves nothing for the agent; keep at least one "
            f"(lower the tolerance or raise k)"
        )
    return idx


def dropped(keep: np.ndarray, n: int) -> np.ndarray:
    """Indices in ``range(n)`` not in ``keep``."""
    mask = np.ones(n, dtype=bool)
    mask[keep] = False
    return np.flatnonzero(mask)
