"""The criterion interface: a score per weight, higher meaning more important."""

from __future__ import annotations

from typing import ClassVar

import torch

from prunerl.core.gradients import GradientStats
from prunerl.core.targets import Target
from prunerl.registry import Registry


class Criterion:
    """Scores each weight of a target; the pruning method keeps the highest scores.

    A criterion may also define a *rule* (:meth:`threshold`): weights scoring below it are
    pruned whatever the target sparsity (e.g. ``|w| < θ``).
    """

    needs_gradients: ClassVar[bool] = False
    needs_taylor: ClassVar[bool] = False
    needs_last: bool = False  # scores from the last observed gradient, not the running mean

    def scores(self, target: Target, index: int, stats: GradientStats | None) -> torch.Tensor:
        raise NotImplementedError

    def state_dict(self) -> dict[str, object]:
        """What this criterion needs to resume (e.g. a random generator's state)."""
        return {}

    def load_state_dict(self, state: dict[str, object]) -> None:
        """Restore :meth:`state_dict`."""
        return None

    def threshold(self, scores: torch.Tensor) -> float | None:
        """A score below which weights are pruned, or None to prune to a target sparsity."""
        return None

    @staticmethod
    def _require(stats: GradientStats | None, name: str) -> GradientStats:
        if stats is None or stats.count == 0:
            raise RuntimeError(
                f"criterion {name!r} needs gradients: call pruner.observe_gradients() after "
                "loss.backward() at least once before the masks are updated"
            )
        return stats


criteria: Registry[type[Criterion]] = Registry("criterion")
