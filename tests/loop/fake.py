"""A fake subject whose return is a known function of its sparsity and training, for fast tests.

The policy holds (return 500) while ``sparsity <= limit + skill``; training adds
``steps * skill_per_step`` to ``skill``. Returns vary by episode seed so the CIs are not zero.
On held-out seeds (>= ``HOLDOUT``) the limit is ``holdout_limit`` when given: a policy the gate
liked that does not generalise. ``rare_failures`` makes every k-th episode seed fail once the
sparsity exceeds ``limit`` - 0.2 (the bimodal returns of CartPole).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from prunerl.core.finite import NonFiniteError
from prunerl.loop.config import HOLDOUT_SEED as HOLDOUT


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
        holdout_limit: float | None = None,
        train_diverges_at: int | None = None,
        rare_failures: int = 0,
    ) -> None:
        self._targets = dict(target) if isinstance(target, dict) else {"all": target}
        self.current = dict.fromkeys(self._targets, start)
        self.limit, self.skill_per_step, self.broken = limit, skill_per_step, broken
        self.skill = 0.0
        self.trained = 0  # env steps over the subject's whole life (not rolled back)
        self.train_calls = 0
        self.train_fails_at = train_fails_at  # raise KeyboardInterrupt on this train call
        self.train_diverges_at = train_diverges_at  # raise NonFiniteError on this train call
        self.holdout_limit, self.rare_failures = holdout_limit, rare_failures
        self.evaluated: list[tuple[int, int]] = []  # (episodes, first seed) of every call
        self.restores = 0
        self.recovering = False
        self.skill_per_distill_step = 0.0
        self.distilled = 0

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
        if self.train_calls == self.train_diverges_at:
            raise NonFiniteError("observation[1] is NaN at env step 7; check the environment")
        self.skill += steps * self.skill_per_step
        self.trained += steps
        return steps

    def start_recovery(self) -> None:
        self.recovering = True

    def distill(self, steps: int) -> float:
        """Distillation adds ``skill_per_distill_step`` per step (0 by default: no effect)."""
        self.skill += steps * self.skill_per_distill_step
        self.distilled += steps
        return 0.0

    def evaluate(self, episodes: int, seed: int, record: bool = False) -> np.ndarray:
        self.evaluated.append((episodes, seed))
        limit = self.limit
        if seed >= HOLDOUT and self.holdout_limit is not None:
            limit = self.holdout_limit
        holds = self.sparsity() <= limit + self.skill + 1e-12
        seeds = np.arange(seed, seed + episodes)
        returns = np.where(holds, 500.0, self.broken) - seeds % 3
        if self.rare_failures and self.sparsity() > self.limit - 0.2 + 1e-12:
            returns = np.where(seeds % self.rare_failures == 0, 150.0, returns)
        return returns

    def snapshot(self) -> dict[str, Any]:
        return {"current": dict(self.current), "skill": self.skill}

    def restore(self, snapshot: dict[str, Any]) -> None:
        self.current = dict(snapshot["current"])
        self.skill = snapshot["skill"]
        self.restores += 1
