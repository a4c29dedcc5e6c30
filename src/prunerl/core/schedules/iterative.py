"""Iterative pruning in k rounds, removing the same fraction of survivors each round."""

from __future__ import annotations

import bisect

from prunerl.core.schedules.base import Schedule, schedules
from prunerl.core.validation import check_interval, check_positive, check_sparsity, check_step


@schedules.register("iterative")
class Iterative(Schedule):
    """k rounds evenly spaced after t0, the last at t1; after round i sparsity is 1-(1-s)^(i/k).

    Round i (1..k) falls at ``t0 + round(i (t1 - t0) / k)``, so the network trains for a
    stretch before each round (nothing is pruned at t0, when weights are still untrained).
    Iterative magnitude pruning as in the lottery-ticket work (Frankle & Carbin 2019;
    Yu et al. 2020 prune 20% of survivors per round).
    """

    def __init__(self, sparsity: float, begin_step: int, end_step: int, rounds: int = 5) -> None:
        self.sparsity = check_sparsity(sparsity)
        self.rounds = check_positive(rounds, "rounds")
        begin = check_step(begin_step, "begin_step")
        end = check_step(end_step, "end_step")
        check_interval(begin, end, "iterative schedule")
        span = end - begin
        if self.rounds > span:
            raise ValueError(
                f"rounds ({self.rounds}) must be at most end_step - begin_step ({span}) so that "
                "rounds fall on distinct steps; use fewer rounds or a later end_step"
            )
        k = self.rounds
        self.points = [begin + round(i * span / k) for i in range(1, k + 1)]
        super().__init__(begin, end, max(1, span // k))

    def next_update(self, after: int) -> int | None:
        i = bisect.bisect_right(self.points, after)
        return self.points[i] if i < len(self.points) else None

    def sparsity_at(self, step: int) -> float:
        done = bisect.bisect_right(self.points, step)
        return 1.0 - (1.0 - self.sparsity) ** (done / self.rounds)
