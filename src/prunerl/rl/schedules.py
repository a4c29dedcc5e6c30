"""Hyperparameter schedules over training progress (exploration rate, learning rate)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LinearSchedule:
    """``start`` at step 0, linearly to ``end`` at ``duration`` steps, then constant."""

    start: float
    end: float
    duration: float

    def __call__(self, step: float) -> float:
        if self.duration <= 0 or step >= self.duration:
            return self.end
        return self.start + (self.end - self.start) * max(step, 0.0) / self.duration
