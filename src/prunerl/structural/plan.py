"""A pruning plan: which channels of which groups survive, chosen from importance scores.

A plan refers to layers by name, so one plan made on the online network cuts its target network
(or any copy of the same architecture) identically.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from prunerl.structural.groups import Group
from prunerl.structural.handlers import handler_for


@dataclass
class Plan:
    """Kept channel indices (sorted) per prunable group, and the example batch used to trace."""

    groups: list[Group]
    keep: list[torch.Tensor]
    example: torch.Tensor
    opaque: tuple[str, ...] = field(default_factory=tuple)

    def removed(self, i: int) -> torch.Tensor:
        """Indices of group ``i``'s channels that the plan removes."""
        mask = torch.ones(self.groups[i].size, dtype=torch.bool)
        mask[self.keep[i]] = False
        return mask.nonzero().flatten()

    def masks(self) -> list[torch.Tensor]:
        """One bool vector per group: True where a channel is kept."""
        out = []
        for g, k in zip(self.groups, self.keep, strict=True):
            m = torch.zeros(g.size, dtype=torch.bool)
            m[k] = True
            out.append(m)
        return out

    def summary(self) -> dict[str, tuple[int, int]]:
        """Group name -> (channels before, channels kept)."""
        return {g.name: (g.size, len(k)) for g, k in zip(self.groups, self.keep, strict=True)}

    def fraction_removed(self) -> float:
        """Share of all prunable channels the plan removes."""
        total = sum(g.size for g in self.groups)
        return 1.0 - sum(len(k) for k in self.keep) / max(total, 1)

    @classmethod
    def from_masks(
        cls,
        groups: Sequence[Group],
        masks: Sequence[torch.Tensor],
        example: torch.Tensor,
        opaque: Sequence[str] = (),
    ) -> Plan:
        """A plan keeping the True entries of each group's bool mask (at least one each)."""
        keep = []
        for g, m in zip(groups, masks, strict=True):
            if m.shape != (g.size,):
                raise ValueError(
                    f"mask for group {g.name!r} has shape {tuple(m.shape)}, expected ({g.size},)"
                )
            if not bool(m.any()):
                raise ValueError(
                    f"the mask removes all {g.size} channels of group {g.name!r}: keep at least "
                    "one (use a neuron sparsity below 1, e.g. 0.9)"
                )
            keep.append(m.nonzero().flatten())
        return cls(list(groups), keep, example, tuple(opaque))


def check_neuron_sparsity(value: float, name: str = "sparsity") -> float:
    """A share of a layer's neurons to remove: in [0, 1), since removing all disconnects it."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}") from None
    if math.isnan(v) or not 0.0 <= v < 1.0:
        raise ValueError(
            f"{name} must be in [0, 1), got {value}: removing every neuron of a layer would "
            "disconnect the network; ask for at most e.g. 0.95 (one neuron is always kept)"
        )
    return v


def group_sparsity(group: Group, sparsity: float | Mapping[str, float]) -> float:
    """The share of ``group``'s channels to remove; a dict maps glob patterns over group names.

    A group matches a pattern when its name or any of its producing layers does; unmatched
    groups keep all channels.
    """
    if not isinstance(sparsity, Mapping):
        return check_neuron_sparsity(sparsity)
    names = [group.name] + [m.module for m in group.by_role("out")]
    for pattern, value in sparsity.items():
        if any(fnmatch.fnmatchcase(n, pattern) for n in names):
            return check_neuron_sparsity(value, f"sparsity[{pattern!r}]")
    return 0.0


def n_keep(size: int, sparsity: float) -> int:
    """Channels kept out of ``size`` at ``sparsity``: rounded, never fewer than one."""
    return max(1, round(size * (1.0 - sparsity)))


def select(
    groups: Sequence[Group],
    scores: Sequence[torch.Tensor],
    sparsity: float | Mapping[str, float] | Sequence[float],
    example: torch.Tensor,
    opaque: Sequence[str] = (),
    previous: Sequence[torch.Tensor] | None = None,
) -> Plan:
    """Keep the highest-scoring channels of each group; ``previous`` masks stay removed.

    ``sparsity`` is one share for all groups, a dict of patterns (see :func:`group_sparsity`)
    or one share per group.
    """
    if isinstance(sparsity, Mapping):
        for pattern, value in sparsity.items():
            check_neuron_sparsity(value, f"sparsity[{pattern!r}]")
        targets = [group_sparsity(g, sparsity) for g in groups]
    elif isinstance(sparsity, Sequence):
        targets = [check_neuron_sparsity(v) for v in sparsity]
    else:
        targets = [check_neuron_sparsity(sparsity)] * len(groups)
    masks = []
    for i, (g, s) in enumerate(zip(groups, scores, strict=True)):
        s = s.detach().double().clone()
        if previous is not None:
            s[~previous[i]] = -math.inf
        k = n_keep(g.size, targets[i])
        if previous is not None:
            k = min(k, int(previous[i].sum()))
        mask = torch.zeros(g.size, dtype=torch.bool)
        mask[torch.topk(s, k, sorted=False).indices] = True
        masks.append(mask)
    return Plan.from_masks(groups, masks, example, opaque)


def check_plan_fits(model: nn.Module, plan: Plan) -> None:
    """Raise a ValueError naming the layer if ``model`` is not the architecture of ``plan``."""
    for g in plan.groups:
        for m in g.members:
            try:
                module = model.get_submodule(m.module)
            except AttributeError:
                raise ValueError(
                    f"the plan names layer {m.module!r}, which {type(model).__name__} lacks: "
                    "cut only copies of the network the plan was made on"
                ) from None
            handler = handler_for(module)
            expected = g.size * m.repeat
            if handler is None or handler.size(module, m.role) != expected:
                raise ValueError(
                    f"layer {m.module!r} does not have {expected} channels in role {m.role!r}: "
                    "was it already cut? Make the plan on the network you cut"
                )
