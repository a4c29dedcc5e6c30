"""Decide what to keep from importance scores: top-k, a score threshold, or a return tolerance.

The tolerance rule is backward elimination: try removing items from the least to the most
important and keep each removal only while the measured return stays within the tolerance of
the unpruned return, so the decision rests on behaviour, not only on scores.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


def keep_top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` highest scores, sorted (ties go to the lower index)."""
    n = len(scores)
    if not 1 <= k <= n:
        raise ValueError(f"k must be in 1..{n} (at least one item must stay), got {k}")
    order = np.argsort(-np.asarray(scores), kind="stable")
    return np.sort(order[:k])


def keep_above(scores: np.ndarray, fraction: float) -> np.ndarray:
    """Indices whose score is at least ``fraction`` of the largest score."""
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(
            f"threshold must be in [0, 1] (a fraction of the top score), got {fraction}"
        )
    s = np.asarray(scores, dtype=np.float64)
    top = s.max()
    if top <= 0:
        raise ValueError(
            "every score is <= 0, so a fraction of the top score keeps nothing meaningful; "
            "use k= or tolerance= instead"
        )
    return np.flatnonzero(s >= fraction * top)


def return_floor(baseline: float, tolerance: float) -> float:
    """Lowest acceptable return: ``baseline - tolerance * |baseline|``."""
    if not 0.0 <= tolerance < 1.0:
        raise ValueError(
            f"tolerance must be in [0, 1) (allowed relative drop in return), got {tolerance}"
        )
    return baseline - tolerance * abs(baseline)


@dataclass
class Trial:
    """One step of backward elimination: removing ``items`` gave ``value``; kept if accepted."""

    items: list[int]
    value: float
    accepted: bool


def eliminate_within_floor(
    scores: np.ndarray,
    evaluate: Callable[[np.ndarray], float],
    floor: float,
    min_keep: int = 1,
    bulk_fraction: float | None = 0.01,
) -> tuple[np.ndarray, list[Trial]]:
    """Backward elimination from the lowest score up; ``evaluate(keep)`` measures a candidate.

    A removal is accepted when the candidate's value is at least ``floor``. First, every item
    scoring at most ``bulk_fraction`` of the top score is tried in one go (one evaluation
    instead of one per item when many are useless, e.g. distractor features); then the rest
    one at a time. Returns the kept indices and every trial, in order, for the explanation.
    """
    s = np.asarray(scores, dtype=np.float64)
    n = len(s)
    if not 1 <= min_keep <= n:
        raise ValueError(f"min_keep must be in 1..{n}, got {min_keep}")
    keep = np.arange(n)
    trials: list[Trial] = []

    def attempt(items: np.ndarray) -> None:
        nonlocal keep
        candidate = keep[~np.isin(keep, items)]
        value = float(evaluate(candidate))
        accepted = value >= floor
        trials.append(Trial([int(i) for i in items], value, accepted))
        if accepted:
            keep = candidate

    order = np.argsort(s, kind="stable")
    if bulk_fraction is not None and s.max() > 0:
        low = order[s[order] <= bulk_fraction * s.max()]
        if 1 < len(low) <= n - min_keep:
            attempt(low)
    for item in order:
        if len(keep) <= min_keep:
            break
        if item in keep:
            attempt(np.array([item]))
    return keep, trials


def rule_of(k: int | None, threshold: float | None, tolerance: float | None) -> str:
    """Which decision rule the arguments ask for (``tolerance`` when none); two is an error."""
    args = (("k", k), ("threshold", threshold), ("tolerance", tolerance))
    given = [name for name, value in args if value is not None]
    if len(given) > 1:
        raise ValueError(f"give one of k, threshold or tolerance, got {' and '.join(given)}")
    return {"k": "top_k", "threshold": "threshold"}.get(given[0] if given else "", "tolerance")


def decide(
    scores: np.ndarray,
    evaluate: Callable[[np.ndarray], float],
    baseline: float,
    k: int | None = None,
    threshold: float | None = None,
    tolerance: float | None = None,
) -> tuple[np.ndarray, list[Trial], str]:
    """Kept indices, elimination trials and the rule used: ``k``, ``threshold`` or ``tolerance``
    (default 0.05 of ``baseline``; ``evaluate(keep)`` measures the return of a candidate)."""
    rule = rule_of(k, threshold, tolerance)
    if k is not None:
        return keep_top_k(scores, k), [], rule
    if threshold is not None:
        return keep_above(scores, threshold), [], rule
    floor = return_floor(baseline, 0.05 if tolerance is None else tolerance)
    keep, trials = eliminate_within_floor(scores, evaluate, floor)
    return keep, trials, rule
