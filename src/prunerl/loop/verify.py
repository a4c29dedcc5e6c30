"""Held-out verification: is the loop's final policy within tolerance on episodes it never chose on?

The gate accepts steps on selection episodes, so the policy it ends with is optimistically
biased on them (the winner's curse). The verifier evaluates the reference once, at the start,
on ``holdout_episodes`` fresh seeds, and the final policy on the same seeds at the end (paired,
point estimate of the loop's statistic). When the final policy misses the tolerance there, it
falls back to the previous accepted points, most compressed first, down to the start point
(which holds by definition): the loop hands back the most compressed policy that holds. After a
fall-back the held-out episodes have served to choose, so their return is no longer unbiased;
``prunerl evaluate --seed S`` on new seeds gives a fresh estimate.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from prunerl.evaluation import within_tolerance
from prunerl.loop.config import LoopConfig

if TYPE_CHECKING:
    from prunerl.loop.subject import Subject

#: ``verified``: the final policy holds on the held-out episodes; ``fell_back``: it did not, an
#: earlier accepted point does and is the result; ``below_tolerance``: no kept point holds
#: (only after a resume, which keeps no earlier points): the result misses the tolerance.
STATUSES = ("verified", "fell_back", "below_tolerance")


@dataclass
class Verification:
    """The held-out check of the result, and of every point tried before it."""

    status: str
    first_seed: int
    episodes: int
    reference_mean: float
    mean: float  # the result's held-out mean
    threshold: float  # reference_mean - allowed drop
    sparsity: float  # the result's sparsity
    tried: list[dict[str, float]] = field(default_factory=list)  # sparsity, mean, passed

    @property
    def holds(self) -> bool:
        return self.status != "below_tolerance"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        first = self.tried[0] if self.tried else None
        head = (
            f"on {self.episodes} held-out episodes (seeds {self.first_seed}+) the "
            f"{self.sparsity:.2%}-sparse policy returns {self.mean:.1f} vs the reference's "
            f"{self.reference_mean:.1f} (threshold {self.threshold:.1f})"
        )
        if self.status == "verified":
            return f"{head}: the tolerance holds"
        if self.status == "fell_back" and first is not None:
            return (
                f"the most compressed policy ({first['sparsity']:.2%}) returned "
                f"{first['mean']:.1f} < {self.threshold:.1f} on the held-out episodes; fell "
                f"back: {head}"
            )
        return f"{head}: the tolerance does NOT hold there"


class Verifier:
    """Keeps the held-out reference returns and the accepted points to fall back to."""

    def __init__(self, subject: Subject, config: LoopConfig, fallbacks: int = 4) -> None:
        self.subject, self.config, self.fallbacks = subject, config, fallbacks
        self.reference: np.ndarray | None = None
        self.kept: list[tuple[float, Any, Any]] = []  # (sparsity, snapshot, gate returns)
        self.outcome: Verification | None = None
        self.returns: np.ndarray | None = None  # the result's held-out returns
        self.selection: np.ndarray | None = None  # the result's returns when the gate took it

    def evaluate_reference(self) -> None:
        c = self.config
        self.reference = self.subject.evaluate(c.holdout_episodes, c.holdout_seed, False)

    def keep(self, sparsity: float, snapshot: Any, selection: np.ndarray | None) -> None:
        """Remember an accepted point (with the returns the gate accepted it on); the first
        one and the latest ``fallbacks`` are kept."""
        self.kept.append((sparsity, snapshot, selection))
        if len(self.kept) > self.fallbacks + 1:
            del self.kept[1]

    def verify(self, current: Any, selection: np.ndarray | None) -> Verification:
        """Check the subject's current (last accepted) point, falling back while it fails."""
        c, reference = self.config, self.reference
        assert reference is not None
        points = [(self.subject.sparsity(), current, selection), *reversed(self.kept[:-1])]
        tried: list[dict[str, float]] = []
        check = None
        for i, (sparsity, snapshot, gate_returns) in enumerate(points):
            if i > 0:
                self.subject.restore(snapshot)
            returns = self.subject.evaluate(c.holdout_episodes, c.holdout_seed, False)
            check = within_tolerance(
                returns, reference, c.tolerance, mode=c.mode, statistic=c.statistic,  # type: ignore[arg-type]
                evidence="point", paired=True,
            )  # fmt: skip
            tried.append({"sparsity": sparsity, "mean": check.candidate, "passed": check.passed})
            if check.passed or i == 0:
                self.returns, self.selection = returns, gate_returns
            if check.passed:
                break
        assert check is not None
        if not check.passed and len(points) > 1:  # nothing holds: hand back the final point
            self.subject.restore(current)
        status = (
            "verified" if tried[0]["passed"] else "fell_back" if check.passed else "below_tolerance"
        )
        chosen = next((t for t in tried if t["passed"]), tried[0])
        self.outcome = Verification(
            status=status,
            first_seed=c.holdout_seed,
            episodes=c.holdout_episodes,
            reference_mean=check.reference,
            mean=float(chosen["mean"]),
            threshold=check.threshold,
            sparsity=float(chosen["sparsity"]),
            tried=tried,
        )
        return self.outcome

    def state_dict(self) -> dict[str, Any]:
        ref = None if self.reference is None else self.reference.tolist()
        outcome = None if self.outcome is None else self.outcome.to_dict()
        return {"reference": ref, "outcome": outcome}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        ref = state.get("reference")
        self.reference = None if ref is None else np.asarray(ref, dtype=np.float64)
        outcome = state.get("outcome")
        self.outcome = None if outcome is None else Verification(**outcome)
