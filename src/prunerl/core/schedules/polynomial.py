"""Gradual polynomial pruning (Zhu & Gupta 2017), cubic by default."""

from __future__ import annotations

from prunerl.core.schedules.base import Schedule, schedules
from prunerl.core.validation import check_interval, check_positive, check_sparsity, check_step


@schedules.register("polynomial")
class Polynomial(Schedule):
    """``s_t = s_f + (s_i - s_f) * (1 - (t - t0) / (t1 - t0)) ** power`` every Δt in [t0, t1]."""

    def __init__(
        self,
        sparsity: float,
        begin_step: int,
        end_step: int,
        update_every: int = 1000,
        initial_sparsity: float = 0.0,
        power: float = 3.0,
    ) -> None:
        self.sparsity = check_sparsity(sparsity)
        self.initial_sparsity = check_sparsity(initial_sparsity, "initial_sparsity")
        if self.initial_sparsity > self.sparsity:
            raise ValueError(
                f"initial_sparsity ({initial_sparsity}) must not exceed the final sparsity "
                f"({sparsity}): pruned weights are never revived; lower initial_sparsity"
            )
        begin = check_step(begin_step, "begin_step")
        end = check_step(end_step, "end_step")
        check_interval(begin, end, "polynomial schedule")
        if power <= 0:
            raise ValueError(f"power must be > 0, got {power}")
        self.power = float(power)
        super().__init__(begin, end, check_positive(update_every, "update_every"))

    def sparsity_at(self, step: int) -> float:
        if step < self.begin:
            return 0.0
        progress = min(1.0, (step - self.begin) / (self.end - self.begin))
        s_i, s_f = self.initial_sparsity, self.sparsity
        return s_f + (s_i - s_f) * (1.0 - progress) ** self.power
