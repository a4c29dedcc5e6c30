"""Shared argument checks with messages that name the value and the fix."""

from __future__ import annotations

import math


def check_sparsity(value: float, name: str = "sparsity") -> float:
    """A sparsity must lie in [0, 1): 1.0 would remove every weight."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}") from None
    if not (0.0 <= v < 1.0) or math.isnan(v):
        raise ValueError(f"{name} must be in [0, 1), got {value} (e.g. 0.9 keeps 10% of weights)")
    return v


def check_fraction(value: float, name: str) -> float:
    """A fraction in [0, 1] (e.g. the share of connections SET/RigL move)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}") from None
    if not (0.0 <= v <= 1.0):
        raise ValueError(f"{name} must be in [0, 1], got {value}")
    return v


def _is_int(value: object) -> bool:
    try:
        return int(value) == value  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):
        return False


def check_step(value: int, name: str) -> int:
    """A step counter: a whole number >= 0."""
    if not _is_int(value) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)


def check_positive(value: int, name: str) -> int:
    """A count or period: a whole number >= 1."""
    if not _is_int(value) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def check_interval(begin: int, end: int, what: str = "schedule") -> None:
    if end <= begin:
        raise ValueError(
            f"{what} end_step ({end}) must be greater than begin_step ({begin}); "
            "set end_step after begin_step"
        )
