"""The method interface: how masks change at an update step (JaxPruner's algorithm classes)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from prunerl.core.criteria import Criterion
from prunerl.core.distributions import Distribution
from prunerl.core.gradients import GradientStats
from prunerl.core.targets import Target
from prunerl.registry import Registry


@dataclass
class MaskContext:
    """What a method sees at an update: targets, gradient stats and the wanted sparsity.

    Targets are split into groups (e.g. one per network when actor and critic get different
    targets); ``group_sparsity[g]`` is the sparsity wanted for group ``g`` at this step.
    """

    targets: list[Target]
    stats: GradientStats | None
    groups: list[list[int]]
    group_sparsity: list[float]
    scope: str
    distribution: Distribution
    generator: torch.Generator
    step: int

    def target_sparsities(self) -> list[float]:
        """Per-target sparsity: the distribution applied inside each group."""
        out = [0.0] * len(self.targets)
        for group, sparsity in zip(self.groups, self.group_sparsity, strict=True):
            members = [self.targets[i] for i in group]
            for i, s in zip(group, self.distribution(members, sparsity), strict=True):
                out[i] = s
        return out


class Method:
    """Decides new masks. Subclasses override :meth:`update` and optionally :meth:`init_masks`."""

    default_schedule: ClassVar[str] = "one_shot"
    default_criterion: ClassVar[str] = "magnitude"
    sparse_from_start: ClassVar[bool] = False  # masks drawn before training (static, SET, RigL)
    rewinds: ClassVar[bool] = False  # rewind survivors after each update (lottery tickets)

    def __init__(self, criterion: Criterion) -> None:
        self.criterion = criterion

    @property
    def needs_gradients(self) -> bool:
        return self.criterion.needs_gradients

    def init_masks(self, ctx: MaskContext) -> list[torch.Tensor] | None:
        """Masks to start training with, or None to start dense."""
        return None

    def update(self, ctx: MaskContext) -> list[torch.Tensor]:
        """New masks for every target (bool tensors of the targets' shapes)."""
        raise NotImplementedError

    def state_dict(self) -> dict[str, object]:
        return {}

    def load_state_dict(self, state: dict[str, object]) -> None:
        return None


methods: Registry[type[Method]] = Registry("method")
