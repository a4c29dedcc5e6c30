"""Hyperparameter schedules over training progress (exploration rate, learning rate)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LinearSchedule:
    """``start`` at step ``origin``, linearly to ``end`` ``duration`` steps later, then constant."""

    start: float
    end: float
    duration: float
    origin: float = 0.0

    def __call__(self, step: float) -> float:
        step -= self.origin
        if self.duration <= 0 or step >= self.duration:
            return self.end
        return self.start + (self.end - self.start) * max(step, 0.0) / self.duration


def rate_schedule(start: float, end: float, total: int, origin: int) -> LinearSchedule:
    """A learning-rate schedule from env step ``origin`` (0 when training from scratch; the
    step a fine-tune begins, to rewind the rate, Renda et al. 2020) to ``total``."""
    return LinearSchedule(start, end, total - origin, origin)
