"""Aggregate episode returns over episodes and seeds: mean, std, median, IQM, bootstrap CIs.

Follows rliable (Agarwal et al., 2021, "Deep RL at the Edge of the Statistical Precipice"): the
interquartile mean is robust to outlier runs yet uses half of the data, and confidence intervals
come from a seeded bootstrap stratified over runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats as sps

from prunerl.evaluation._bootstrap import bootstrap_interval
from prunerl.evaluation._validation import (
    METHODS,
    RESAMPLES,
    STATISTICS,
    as_matrix,
    check_choice,
    check_confidence,
    check_count,
)

Statistic = Literal["mean", "median", "iqm"]
Method = Literal["percentile", "BCa"]
Resample = Literal["stratified", "runs"]


def _iqm(values: np.ndarray) -> np.ndarray:
    return np.asarray(sps.trim_mean(values, 0.25, axis=-1))


# Vectorised along the last axis, so the bootstrap evaluates many resamples at once.
STATISTIC_FUNCTIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "mean": lambda v: np.mean(v, axis=-1),
    "median": lambda v: np.median(v, axis=-1),
    "iqm": _iqm,
}


def statistic_function(name: str) -> Callable[[np.ndarray], np.ndarray]:
    """The vectorised function behind a statistic name (mean, median, iqm)."""
    return STATISTIC_FUNCTIONS[check_choice(name, STATISTICS, "statistic")]


def iqm(returns: ArrayLike) -> float:
    """Interquartile mean: the mean of the middle 50% of all returns (25% cut from each end)."""
    return float(_iqm(as_matrix(returns).reshape(-1)))


def sample_std(values: np.ndarray) -> float:
    """Standard deviation with Bessel's correction (ddof=1); 0.0 for a single value."""
    return float(np.std(values, ddof=1)) if values.size > 1 else 0.0


@dataclass(frozen=True)
class ReturnStats:
    """Summary of returns over ``n_runs`` runs (seeds) x episodes; the CI is of ``ci_statistic``.

    ``std`` is the sample std (ddof=1) over all episodes; ``ci_low``/``ci_high`` are NaN when
    there is a single return.
    """

    mean: float
    std: float
    median: float
    iqm: float
    ci_low: float
    ci_high: float
    n: int
    n_runs: int
    confidence: float = 0.95
    ci_statistic: str = "mean"
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain fields, ready for JSON or a metrics logger."""
        return asdict(self)

    def __str__(self) -> str:
        ci = (
            f"{self.confidence:.0%} CI [{self.ci_low:.1f}, {self.ci_high:.1f}]"
            if math.isfinite(self.ci_low)
            else "CI n/a"
        )
        of = "" if self.ci_statistic == "mean" else f" of {self.ci_statistic.upper()}"
        runs = f", runs={self.n_runs}" if self.n_runs > 1 else ""
        return f"{self.mean:.1f} ± {self.std:.1f} (IQM {self.iqm:.1f}, {ci}{of}, n={self.n}{runs})"


def bootstrap_ci(
    returns: ArrayLike,
    statistic: Statistic = "mean",
    *,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    method: Method = "percentile",
    resample: Resample = "stratified",
    seed: int = 0,
) -> tuple[float, float]:
    """Seeded bootstrap CI of ``statistic`` over returns (flat, or runs x episodes).

    ``resample="stratified"`` resamples episodes within each run (rliable's stratified
    bootstrap); ``"runs"`` resamples whole runs, which also captures the spread between seeds.
    """
    matrix = as_matrix(returns)
    fn = statistic_function(statistic)
    return bootstrap_interval(
        [matrix],
        lambda sets: fn(sets[0]),
        resample=check_choice(resample, RESAMPLES, "resample"),
        confidence=check_confidence(confidence),
        n_resamples=check_count(n_resamples, "n_resamples", 10),
        method=check_choice(method, METHODS, "method"),
        seed=seed,
    )


def summarize(
    returns: ArrayLike,
    *,
    ci_statistic: Statistic = "mean",
    confidence: float = 0.95,
    n_resamples: int = 2000,
    method: Method = "percentile",
    resample: Resample = "stratified",
    seed: int = 0,
) -> ReturnStats:
    """Mean, std, median, IQM and a bootstrap CI of returns (flat, or runs x episodes)."""
    matrix = as_matrix(returns)
    flat = matrix.reshape(-1)
    if flat.size > 1:
        low, high = bootstrap_ci(
            matrix,
            ci_statistic,
            confidence=confidence,
            n_resamples=n_resamples,
            method=method,
            resample=resample,
            seed=seed,
        )
    else:
        statistic_function(ci_statistic)  # still reject a bad name
        low = high = math.nan
    return ReturnStats(
        mean=float(np.mean(flat)),
        std=sample_std(flat),
        median=float(np.median(flat)),
        iqm=float(_iqm(flat)),
        ci_low=low,
        ci_high=high,
        n=int(flat.size),
        n_runs=int(matrix.shape[0]),
        confidence=check_confidence(confidence),
        ci_statistic=ci_statistic,
        seed=seed,
    )
