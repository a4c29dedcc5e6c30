"""What a gated loop returns: why it stopped, where it ended, and its whole history."""

from __future__ import annotations

from dataclasses import dataclass, field

from prunerl.evaluation import ReturnStats
from prunerl.loop.history import History
from prunerl.loop.verify import Verification

#: Why the loop ended; ``message`` in the result says it in words.
STOP_REASONS = (
    "target_reached",
    "min_step",
    "budget",
    "max_iterations",
    "threshold_not_reached",
    "stalled",
)


@dataclass
class LoopResult:
    """The outcome: why the loop stopped, the most compressed accepted point, the history."""

    stop_reason: str
    message: str
    reference: ReturnStats
    final: ReturnStats  # selection returns of the last accepted point (the reference if none)
    sparsity: float
    group_sparsity: dict[str, float]
    env_steps: int
    history: History = field(default_factory=History)
    verification: Verification | None = None  # the held-out check (None: no pruning began)

    @property
    def accepted_steps(self) -> int:
        return len(self.history.accepted())

    @property
    def rollbacks(self) -> int:
        return self.history.rollbacks()

    @property
    def status(self) -> str:
        """The held-out verdict (see :data:`prunerl.loop.verify.STATUSES`), or ``unverified``."""
        return "unverified" if self.verification is None else self.verification.status

    @property
    def succeeded(self) -> bool:
        """The target was reached and the final policy holds on held-out episodes."""
        return self.stop_reason == "target_reached" and self.status == "verified"
