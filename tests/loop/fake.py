"""A fake subject whose return is a known function of its sparsity and training, for fast tests.

The policy holds (return 500) while ``sparsity <= limit + skill``; training adds
``steps * skill_per_step`` to ``skill``. Returns vary by episode seed so the CIs are not zero.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class FakeSubject:
    """One group ``all`` (or the keys of ``targets``), all pruned to the same sparsity."""

    def __init__(
        self,
        target: float | dict[str, float] = 0.9,
        limit: float = 1.0,
        skill_per_step: float = 0.0,
        broken: float = 100.0,
        start: float = 0.0,
        train_fails_at: int | None = None,
    ) -> None:
        self._targets = dict(target) if isinstance(target, dict) else {"all": target}
        self.current = dict.fromkeys(self._targets, start)
        self.limit, self.skill_per_step, self.broken = limit, skill_per_step, broken
        self.skill = 0.0
        self.trained = 0  # env steps over the subject's whole life (not rolled back)
        self.train_calls = 0
        self.train_fails_at = train_fails_at  # raise KeyboardInterrupt on this train call
        self.restores = 0

    def targets(self) -> dict[str, float]:
        return dict(self._targets)

    def group_sparsity(self) -> dict[str, float]:
        return dict(self.current)

    def sparsity(self) -> float:
        return float(np.mean(list(self.current.values())))

    def prune_to(self, sparsity: dict[str, float]) -> None:
        for name, value in sparsity.items():
            assert value >= self.current[name] - 1e-12, "pruning never revives weights"
            self.current[name] = value

    def train(self, steps: int) -> int:
        self.train_calls += 1
        if self.train_calls == self.train_fails_at:
            raise KeyboardInterrupt
        self.skill += steps * self.skill_per_step
        self.trained += steps
        return steps

    def evaluate(self, episodes: int, seed: int) -> np.ndarray:
        holds = self.sparsity() <= self.limit + self.skill + 1e-12
        base = 500.0 if holds else self.broken
        wiggle = np.array([(seed + i) % 3 for i in range(episodes)], dtype=np.float64)
        return base - wiggle

    def snapshot(self) -> dict[str, Any]:
        return {"current": dict(self.current), "skill": self.skill}

    def restore(self, snapshot: dict[str, Any]) -> None:
        self.current = dict(snapshot["current"])
        self.skill = snapshot["skill"]
        self.restores += 1
