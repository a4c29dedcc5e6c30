"""Argument checks of the evaluation modules; messages name the value and the fix."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

STATISTICS = ("mean", "median", "iqm")
METHODS = ("percentile", "BCa")
RESAMPLES = ("stratified", "runs")


def as_returns(values: Any, name: str = "returns", ndims: tuple[int, ...] = (1, 2)) -> np.ndarray:
    """``values`` as a finite float64 array with one of ``ndims`` dimensions and no empty axis."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be numbers in a (runs x episodes) array or a flat list; rows of "
            f"different lengths or non-numbers cannot be used, got {_preview(values)}"
        ) from None
    if array.ndim not in ndims:
        shapes = " or ".join(f"{d}-D" for d in ndims)
        raise ValueError(f"{name} must be {shapes}, got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} is empty (shape {array.shape}); evaluate at least one episode")
    bad = ~np.isfinite(array)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{name} contains {int(bad.sum())} non-finite value(s) (first {array[where]} at index "
            f"{where}); a diverged episode must be fixed or dropped before computing statistics"
        )
    return array


def as_matrix(values: Any, name: str = "returns") -> np.ndarray:
    """Returns as a (runs x episodes) matrix; a flat list is one run."""
    array = as_returns(values, name)
    return array[None, :] if array.ndim == 1 else array


def check_choice(value: str, choices: tuple[str, ...], name: str) -> str:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return value


def check_confidence(value: float) -> float:
    v = float(value)
    if not 0.0 < v < 1.0 or math.isnan(v):
        raise ValueError(f"confidence must be in (0, 1), got {value} (e.g. 0.95 for a 95% CI)")
    return v


def check_count(value: int, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or int(value) != value or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_tolerance(value: float) -> float:
    v = float(value)
    if not v >= 0.0 or math.isinf(v):
        raise ValueError(
            f"tolerance must be a finite number >= 0, got {value} "
            "(e.g. 0.05 accepts a drop of at most 5% of the reference return)"
        )
    return v


def _preview(values: Any) -> str:
    text = repr(values)
    return text if len(text) <= 60 else text[:57] + "..."
