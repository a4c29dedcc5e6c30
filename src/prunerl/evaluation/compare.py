"""Compare two sets of returns (pruned vs dense): difference with a bootstrap CI, P(improve)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from prunerl.evaluation._bootstrap import bootstrap_interval
from prunerl.evaluation._validation import (
    METHODS,
    RESAMPLES,
    as_matrix,
    check_choice,
    check_confidence,
    check_count,
)
from prunerl.evaluation.stats import Method, Resample, Statistic, statistic_function


def probability_of_improvement(candidate: ArrayLike, reference: ArrayLike) -> float:
    """P(X > Y) + P(X = Y) / 2 for a random candidate return X and reference return Y.

    The Mann-Whitney U statistic over all pairs, as in rliable (Agarwal et al., 2021); 0.5 means
    neither set tends to score higher.
    """
    x = as_matrix(candidate, "candidate").reshape(-1)
    y = np.sort(as_matrix(reference, "reference").reshape(-1))
    below = np.searchsorted(y, x, side="left")  # reference returns strictly below each x
    ties = np.searchsorted(y, x, side="right") - below
    return float((below.sum() + 0.5 * ties.sum()) / (x.size * y.size))


@dataclass(frozen=True)
class Comparison:
    """``candidate - reference`` of one statistic, with its bootstrap CI (NaN with one return)."""

    statistic: str
    candidate: float
    reference: float
    difference: float
    ci_low: float
    ci_high: float
    relative: float
    prob_improvement: float
    n_candidate: int
    n_reference: int
    paired: bool
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        """Plain fields, ready for JSON or a metrics logger."""
        return asdict(self)

    def __str__(self) -> str:
        ci = (
            f"{self.confidence:.0%} CI [{self.ci_low:+.1f}, {self.ci_high:+.1f}]"
            if math.isfinite(self.ci_low)
            else "CI n/a"
        )
        rel = f" ({self.relative:+.1%})" if math.isfinite(self.relative) else ""
        return (
            f"{self.statistic} {self.candidate:.1f} vs {self.reference:.1f}: "
            f"{self.difference:+.1f}{rel}, {ci}, P(improve)={self.prob_improvement:.2f}"
        )


def compare(
    candidate: ArrayLike,
    reference: ArrayLike,
    *,
    statistic: Statistic = "mean",
    paired: bool = False,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    method: Method = "percentile",
    resample: Resample = "stratified",
    seed: int = 0,
) -> Comparison:
    """Difference of ``statistic`` between candidate and reference returns, with a bootstrap CI.

    ``paired=True`` when both were evaluated on the same episodes (same env seeds, same shape): the
    bootstrap then resamples the same episodes for both, which removes the shared episode noise.
    ``relative`` is the difference over ``|reference|`` (NaN when the reference is 0).
    """
    cand = as_matrix(candidate, "candidate")
    ref = as_matrix(reference, "reference")
    if paired and cand.shape != ref.shape:
        raise ValueError(
            f"paired comparison needs returns of the same shape, got candidate {cand.shape} and "
            f"reference {ref.shape}; evaluate both on the same episodes or pass paired=False"
        )
    fn = statistic_function(statistic)
    confidence = check_confidence(confidence)
    value_c, value_r = float(fn(cand.reshape(-1))), float(fn(ref.reshape(-1)))
    if cand.size > 1 and ref.size > 1:
        low, high = bootstrap_interval(
            [cand, ref],
            lambda sets: fn(sets[0]) - fn(sets[1]),
            paired=paired,
            resample=check_choice(resample, RESAMPLES, "resample"),
            confidence=confidence,
            n_resamples=check_count(n_resamples, "n_resamples", 10),
            method=check_choice(method, METHODS, "method"),
            seed=seed,
        )
    else:
        low = high = math.nan
    difference = value_c - value_r
    return Comparison(
        statistic=statistic,
        candidate=value_c,
        reference=value_r,
        difference=difference,
        ci_low=low,
        ci_high=high,
        relative=difference / abs(value_r) if value_r != 0 else math.nan,
        prob_improvement=probability_of_improvement(cand, ref),
        n_candidate=int(cand.size),
        n_reference=int(ref.size),
        paired=paired,
        confidence=confidence,
    )
