"""One-shot: prune to the target once, at one step."""

from __future__ import annotations

from prunerl.core.schedules.base import Schedule, schedules
from prunerl.core.validation import check_sparsity, check_step


@schedules.register("one_shot")
class OneShot(Schedule):
    """Prune to the target sparsity once, at ``begin_step`` (default 0)."""

    def __init__(self, sparsity: float, begin_step: int = 0) -> None:
        self.sparsity = check_sparsity(sparsity)
        step = check_step(begin_step, "begin_step")
        super().__init__(step, step, 1)

    def sparsity_at(self, step: int) -> float:
        return self.sparsity if step >= self.begin else 0.0
