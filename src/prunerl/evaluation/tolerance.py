"""Is a candidate (pruned) agent within a tolerance of a reference (dense) one? The gate's test."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from prunerl.evaluation._validation import as_matrix, check_choice, check_tolerance
from prunerl.evaluation.compare import compare
from prunerl.evaluation.stats import Method, Resample, Statistic, bootstrap_ci, statistic_function

ToleranceMode = Literal["relative", "absolute"]
Evidence = Literal["point", "lower_bound", "non_inferiority"]
_EVIDENCE = ("point", "lower_bound", "non_inferiority")


def _one_or_many(values: Any) -> Any:
    """A single number becomes a one-element list; anything else is passed on unchanged."""
    if isinstance(values, int | float | np.number):
        return [values]
    return [values] if isinstance(values, np.ndarray) and values.ndim == 0 else values


def allowed_drop(reference: float, tolerance: float, mode: ToleranceMode = "relative") -> float:
    """The largest drop below ``reference`` that is still accepted.

    Relative drops scale with ``|reference|``, so negative returns (Pendulum: -200) are handled:
    ``(1 - tol) * reference`` would demand a *better* return there.
    """
    tol = check_tolerance(tolerance)
    check_choice(mode, ("relative", "absolute"), "mode")
    return tol * abs(reference) if mode == "relative" else tol


@dataclass(frozen=True)
class ToleranceCheck:
    """Outcome of :func:`within_tolerance`; truthy when it passed, so ``if check:`` reads well."""

    passed: bool
    value: float
    threshold: float
    candidate: float
    reference: float
    tolerance: float
    mode: str
    evidence: str
    statistic: str
    upper: float = math.nan  # the same quantity as ``value`` at the CI's upper end

    def __bool__(self) -> bool:
        return self.passed

    @property
    def clearly_below(self) -> bool:
        """Even the upper end of the evidence misses the threshold: more episodes would not help."""
        return self.upper < self.threshold

    def to_dict(self) -> dict[str, Any]:
        """Plain fields, ready for JSON or a metrics logger."""
        return asdict(self)

    def __str__(self) -> str:
        verdict = "within tolerance" if self.passed else "below tolerance"
        tol = f"{self.tolerance:.1%}" if self.mode == "relative" else f"{self.tolerance:g}"
        what = {"point": "", "lower_bound": " (CI low)", "non_inferiority": " (ref + diff CI low)"}
        return (
            f"{verdict}: {self.statistic}{what[self.evidence]} {self.value:.1f} "
            f"{'>=' if self.passed else '<'} {self.threshold:.1f} "
            f"(reference {self.reference:.1f}, {self.mode} tolerance {tol})"
        )


def within_tolerance(
    candidate: ArrayLike,
    reference: ArrayLike,
    tolerance: float,
    *,
    mode: ToleranceMode = "relative",
    statistic: Statistic = "mean",
    evidence: Evidence = "point",
    paired: bool = False,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    method: Method = "percentile",
    resample: Resample = "stratified",
    seed: int = 0,
) -> ToleranceCheck:
    """Does the candidate keep ``statistic`` within ``tolerance`` of the reference?

    The threshold is ``reference - drop`` with ``drop = tolerance * |reference|`` (relative) or
    ``tolerance`` (absolute). ``evidence`` says what must clear it:

    - ``"point"``: the candidate's statistic;
    - ``"lower_bound"``: the lower bound of the candidate's bootstrap CI (the reference is taken
      as fixed), so a lucky noisy evaluation does not pass;
    - ``"non_inferiority"``: ``reference + lower bound of the CI of (candidate - reference)``, a
      non-inferiority test that also accounts for noise in the reference.

    ``reference`` may be a single number (a known dense return) except for non-inferiority.
    """
    tolerance = check_tolerance(tolerance)
    check_choice(evidence, _EVIDENCE, "evidence")
    fn = statistic_function(statistic)
    cand = as_matrix(candidate, "candidate")
    ref = as_matrix(_one_or_many(reference), "reference")
    value_c, value_r = float(fn(cand.reshape(-1))), float(fn(ref.reshape(-1)))
    threshold = value_r - allowed_drop(value_r, tolerance, mode)
    options: dict[str, Any] = {
        "confidence": confidence,
        "n_resamples": n_resamples,
        "method": method,
        "resample": resample,
        "seed": seed,
    }
    if evidence == "point":
        value = upper = value_c
    elif evidence == "lower_bound":
        value, upper = bootstrap_ci(cand, statistic, **options)
    else:
        result = compare(cand, ref, statistic=statistic, paired=paired, **options)
        if not math.isfinite(result.ci_low):
            raise ValueError(
                "evidence='non_inferiority' needs at least 2 candidate and 2 reference returns, "
                f"got {cand.size} and {ref.size}; evaluate more episodes or use evidence='point'"
            )
        value, upper = value_r + result.ci_low, value_r + result.ci_high
    return ToleranceCheck(
        passed=bool(value >= threshold),
        value=float(value),
        threshold=float(threshold),
        candidate=value_c,
        reference=value_r,
        tolerance=tolerance,
        mode=mode,
        evidence=evidence,
        statistic=statistic,
        upper=float(upper),
    )
