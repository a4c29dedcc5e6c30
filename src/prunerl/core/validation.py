"""Shared argument checks with messages that name the value and the fix, and the warning for a
pruned-away layer."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping

import torch


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


def warn_collapsed_layers(masks: Mapping[str, torch.Tensor]) -> None:
    """Warn about layers whose every weight is pruned (layer collapse: their output no longer
    depends on their input). Global ranking does it to small-magnitude layers such as an
    output head."""
    empty = [name for name, mask in masks.items() if mask.numel() and not bool(mask.any())]
    if empty:
        warnings.warn(
            f"pruning removed every weight of {', '.join(empty)}: the network's output no longer "
            "depends on its input there (layer collapse); use scope='layer' (or a distribution "
            "such as 'erk'), or exclude those layers",
            RuntimeWarning,
            stacklevel=3,
        )
