"""Decide what to keep from importance scores: top-k, a score threshold, or a return tolerance.

The tolerance rule is backward elimination: try removing items from the least to the most
important and keep each removal only where paired episodes show the return clearly stays
within the tolerance of the unpruned return (:mod:`prunerl.spaces.paired`), so the decision
rests on behaviour, not only on scores, and not on episode noise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from prunerl.spaces.paired import NEGLIGIBLE, Drop, PairedEvidence, Play, finite_or_none


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


def allowed_drop(baseline: float, tolerance: float) -> float:
    """Largest acceptable drop in mean return: ``tolerance * |baseline|``."""
    if not 0.0 <= tolerance < 1.0:
        raise ValueError(
            f"tolerance must be in [0, 1) (allowed relative drop in return), got {tolerance}"
        )
    return tolerance * abs(baseline)


@dataclass
class Trial:
    """One step of backward elimination: removing ``items`` gave mean return ``value`` and a
    paired drop ``drop`` in ``[low, high]`` over ``episodes``; kept if ``accepted``."""

    items: list[int]
    value: float
    accepted: bool
    drop: float | None = None
    low: float | None = None
    high: float | None = None
    episodes: int | None = None
    verdict: str = ""
    against: str = "baseline"


Judge = Callable[[np.ndarray, np.ndarray], Drop]
"""(candidate kept indices, currently kept indices) -> the candidate's paired drop, judged."""


def stepwise_judge(
    evidence: PairedEvidence, play_of: Callable[[np.ndarray], Play], n: int
) -> Judge:
    """Judge a candidate by its drop below the baseline and, once something was removed, by
    its drop below the currently kept set too: both must be negligible, so the return gained by
    removing a harmful input is never spent on removing a needed one. ``play_of(keep)`` plays
    the version that keeps ``keep`` of the ``n`` items."""

    def judge(candidate: np.ndarray, current: np.ndarray) -> Drop:
        key = ("keep", *candidate.tolist())
        total = evidence.measure(play_of(candidate), key)
        if total.verdict != NEGLIGIBLE or len(current) == n:
            return total
        previous = ("keep", *current.tolist())
        evidence.add(previous, play_of(current))
        step = evidence.measure(play_of(candidate), key, against=previous)
        return total if step.verdict == NEGLIGIBLE else replace(step, against="previous step")

    return judge


def elimination_order(
    scores: np.ndarray, bulk_fraction: float | None = 0.01, candidates: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Items to try removing, lowest score first, and those tried together first.

    With ``candidates`` (items already shown negligible one by one) only they are tried, all
    together first; otherwise every item, and first together every item scoring at most
    ``bulk_fraction`` of the top score (one evaluation when many are useless).
    """
    s = np.asarray(scores, dtype=np.float64)
    order = np.argsort(s, kind="stable")
    if candidates is not None:
        order = order[np.isin(order, candidates)]
        return order, order
    if bulk_fraction is None or s.max() <= 0:
        return order, order[:0]
    return order, order[s[order] <= bulk_fraction * s.max()]


def eliminate(
    n: int, order: np.ndarray, bulk: np.ndarray, judge: Judge, min_keep: int = 1
) -> tuple[np.ndarray, list[Trial]]:
    """Backward elimination of ``n`` items: try removing ``bulk`` together (when 2 or more),
    then each item of ``order`` alone. A removal is accepted only when ``judge`` finds its
    drop negligible (CI within the allowed drop); unclear or harmful removals are undone.
    Returns the kept indices and every trial, in order, for the explanation."""
    if not 1 <= min_keep <= n:
        raise ValueError(f"min_keep must be in 1..{n}, got {min_keep}")
    keep = np.arange(n)
    trials: list[Trial] = []

    def attempt(items: np.ndarray) -> None:
        nonlocal keep
        candidate = keep[~np.isin(keep, items)]
        drop = judge(candidate, keep)
        accepted = drop.verdict == NEGLIGIBLE
        trials.append(
            Trial(
                [int(i) for i in items],
                drop.changed,
                accepted,
                drop.mean,
                finite_or_none(drop.low),
                finite_or_none(drop.high),
                drop.episodes,
                drop.verdict,
                drop.against,
            )
        )
        if accepted:
            keep = candidate

    if 1 < len(bulk) <= n - min_keep:
        attempt(bulk)
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
    judge: Judge,
    k: int | None = None,
    threshold: float | None = None,
    candidates: np.ndarray | None = None,
) -> tuple[np.ndarray, list[Trial]]:
    """Kept indices and elimination trials: the ``k`` best, scores >= ``threshold`` of the
    best, or (neither given) backward elimination judged by paired return drops, over
    ``candidates`` only when a measure already sorted out the clearly needed items."""
    if k is not None:
        return keep_top_k(scores, k), []
    if threshold is not None:
        return keep_above(scores, threshold), []
    order, bulk = elimination_order(scores, candidates=candidates)
    return eliminate(len(scores), order, bulk, judge)
