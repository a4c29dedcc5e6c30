"""Constant sparsity with periodic mask updates: the schedule of dynamic sparse training."""

from __future__ import annotations

from prunerl.core.schedules.base import Schedule, schedules
from prunerl.core.validation import check_interval, check_positive, check_sparsity, check_step


@schedules.register("constant")
class Constant(Schedule):
    """Hold one sparsity; update masks (e.g. drop/regrow) every ``update_every`` steps."""

    def __init__(
        self,
        sparsity: float,
        begin_step: int = 0,
        end_step: int = 10**12,
        update_every: int = 1000,
    ) -> None:
        self.sparsity = check_sparsity(sparsity)
        begin = check_step(begin_step, "begin_step")
        end = check_step(end_step, "end_step")
        check_interval(begin, end, "constant schedule")
        super().__init__(begin, end, check_positive(update_every, "update_every"))

    def sparsity_at(self, step: int) -> float:
        return self.sparsity
