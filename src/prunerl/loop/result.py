"""What a gated loop returns: why it stopped, where it ended, and its whole history."""

from __future__ import annotations

from dataclasses import dataclass, field

from prunerl.evaluation import ReturnStats
from prunerl.loop.history import History

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
    final: ReturnStats  # the returns of the last accepted point (the reference if none)
    sparsity: float
    group_sparsity: dict[str, float]
    env_steps: int
    history: History = field(default_factory=History)

    @property
    def accepted_steps(self) -> int:
        return len(self.history.accepted())

    @property
    def rollbacks(self) -> int:
        return self.history.rollbacks()

    @property
    def succeeded(self) -> bool:
        return self.stop_reason == "target_reached"
