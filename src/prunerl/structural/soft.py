"""Soft then hard: mask whole neurons during training on a gradual schedule, then cut them.

    pruner = NeuronPruner(q_net, sparsity=0.5, begin_step=10_000, end_step=50_000)
    pruner.follow(q_target); pruner.attach_optimizer(optimizer)
    ...
    loss.backward(); pruner.observe_gradients(); optimizer.step(); pruner.step(step)
    ...
    q_net = pruner.cut()                       # smaller network; optimizer now holds its params
    q_target = pruner.cut_follower(q_target)   # the target network, cut the same way

The same contract as the core :class:`~prunerl.core.Pruner`; the schedules are core's
(``polynomial`` is the cubic schedule of Zhu & Gupta 2017). Masked channels are zero where
they are produced (rows, biases, norm affines) and their optimizer moments are zeroed, so they
stay dead until the cut.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from prunerl.core.config import PruningConfig
from prunerl.structural import masking
from prunerl.structural.api import prunable_groups
from prunerl.structural.importance import Importance, Taylor, build_importance
from prunerl.structural.plan import Plan, check_neuron_sparsity, group_sparsity, select
from prunerl.structural.surgery import cut
from prunerl.structural.trace import default_example


class NeuronPruner:
    """Keeps neuron/channel masks on a network and its followers, updated on a schedule."""

    def __init__(
        self,
        model: nn.Module,
        sparsity: float | Mapping[str, float],
        importance: str | Importance = "l1",
        *,
        schedule: str = "polynomial",
        begin_step: int = 0,
        end_step: int | None = None,
        update_every: int = 1000,
        initial_sparsity: float = 0.0,
        power: float = 3.0,
        rounds: int = 5,
        example: torch.Tensor | None = None,
        observations: torch.Tensor | None = None,
        opaque: Sequence[str] = (),
        importance_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        self.model = model
        if isinstance(sparsity, Mapping):
            for key, value in sparsity.items():
                check_neuron_sparsity(value, f"sparsity[{key!r}]")
            top = max(sparsity.values(), default=0.0)
        else:
            top = check_neuron_sparsity(sparsity)
        self.sparsity_spec = sparsity
        if example is None:
            example = observations if observations is not None else default_example(model)
        self.example: torch.Tensor = example
        self.observations = observations
        self.opaque = tuple(opaque)
        self.groups = prunable_groups(model, self.example, self.opaque)
        if not self.groups:
            raise ValueError(
                f"{type(model).__name__} has no neurons that can be removed (every channel "
                "set is a network input/output or pinned); see find_groups(model) for why"
            )
        self.targets = [group_sparsity(g, sparsity) for g in self.groups]
        self.top = top
        self.schedule = PruningConfig(
            sparsity=top,
            schedule=schedule,
            begin_step=begin_step,
            end_step=end_step,
            update_every=update_every,
            initial_sparsity=initial_sparsity,
            power=power,
            rounds=rounds,
        ).build_schedule(top)
        self.importance = build_importance(importance, **dict(importance_kwargs or {}))
        self.keeps = [torch.ones(g.size, dtype=torch.bool) for g in self.groups]
        self.followers: list[nn.Module] = []
        self.optimizers: list[torch.optim.Optimizer] = []
        self.last_step = -1
        self.num_updates = 0
        self._pairs: list[tuple[torch.Tensor, torch.Tensor]] = []
        self._refresh()

    # ----------------------------------------------------------------- contract
    def follow(self, copy: nn.Module) -> NeuronPruner:
        """Give ``copy`` (e.g. the target network) this network's neuron masks from now on."""
        for g in self.groups:
            for m in g.members:
                try:
                    copy.get_submodule(m.module)
                except AttributeError:
                    raise ValueError(
                        f"follower lacks layer {m.module!r}: it must be a copy of the network"
                    ) from None
        self.followers.append(copy)
        self._refresh()
        return self

    def attach_optimizer(self, optimizer: torch.optim.Optimizer) -> NeuronPruner:
        """Zero this optimizer's state for masked neurons now and at every mask update."""
        self.optimizers.append(optimizer)
        self._zero_optimizer_state()
        return self

    def observe_gradients(self) -> None:
        """Accumulate gradient statistics for the ``taylor`` importance (no-op otherwise)."""
        if isinstance(self.importance, Taylor):
            self.importance.observe(self.model, self.groups)

    def step(self, step: int | None = None, observations: torch.Tensor | None = None) -> bool:
        """Advance to ``step``; update masks at schedule points; keep masked neurons at zero."""
        step = self.last_step + 1 if step is None else int(step)
        changed = False
        point = self.schedule.next_update(self.last_step)
        if point is not None and point <= step:
            changed = self.update_masks(step=step, observations=observations)
        self.last_step = max(self.last_step, step)
        self.apply_masks()
        return changed

    def update_masks(
        self,
        sparsity: float | None = None,
        step: int | None = None,
        observations: torch.Tensor | None = None,
    ) -> bool:
        """Re-score and mask now: to ``sparsity`` for every group, or the schedule's share."""
        if sparsity is not None:
            shares = [check_neuron_sparsity(sparsity)] * len(self.groups)
        else:
            progress = self.schedule.sparsity_at(self.last_step if step is None else step)
            scale = progress / self.top if self.top > 0 else 0.0
            shares = [t * scale for t in self.targets]
        obs = observations if observations is not None else self.observations
        scores = self.importance.scores(self.model, self.groups, obs)
        plan = select(self.groups, scores, shares, self.example, self.opaque, self.keeps)
        new = plan.masks()
        changed = any(bool((a != b).any()) for a, b in zip(new, self.keeps, strict=True))
        self.keeps = new
        self.num_updates += 1
        if isinstance(self.importance, Taylor):
            self.importance.reset()
        self._refresh()
        self._zero_optimizer_state()
        return changed

    @torch.no_grad()
    def apply_masks(self) -> None:
        """Zero every masked neuron's producing parameters (one foreach call)."""
        if self._pairs:
            torch._foreach_mul_([t for t, _ in self._pairs], [m for _, m in self._pairs])

    # ----------------------------------------------------------------- cutting
    def plan(self) -> Plan:
        """The current masks as a plan, to cut this network or any copy of it."""
        return Plan.from_masks(self.groups, self.keeps, self.example, self.opaque)

    def cut(self, optimizers: Sequence[torch.optim.Optimizer] | None = None) -> nn.Module:
        """The smaller network; attached (or given) optimizers move to its parameters."""
        self.apply_masks()
        opts = self.optimizers if optimizers is None else list(optimizers)
        return cut(self.model, self.plan(), opts)

    def cut_follower(self, copy: nn.Module) -> nn.Module:
        """A follower (target network) cut like the network; pass its optimizer via cut()."""
        return cut(copy, self.plan())

    # ----------------------------------------------------------------- reporting
    def sparsity(self) -> float:
        """Share of all prunable neurons/channels currently masked."""
        total = sum(k.numel() for k in self.keeps)
        return 1.0 - sum(int(k.sum()) for k in self.keeps) / total

    def layer_sparsity(self) -> dict[str, float]:
        """Masked share per group, by group name."""
        return {
            g.name: 1.0 - float(k.float().mean())
            for g, k in zip(self.groups, self.keeps, strict=True)
        }

    def state_dict(self) -> dict[str, Any]:
        """Masks and counters, everything needed to resume."""
        return {
            "keeps": {g.name: k.clone() for g, k in zip(self.groups, self.keeps, strict=True)},
            "last_step": self.last_step,
            "num_updates": self.num_updates,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        keeps = state["keeps"]
        names = [g.name for g in self.groups]
        if sorted(keeps) != sorted(names):
            raise ValueError(
                f"neuron-pruner state has groups {sorted(keeps)[:4]}, this network has "
                f"{sorted(names)[:4]}: load it into the architecture it was saved from"
            )
        for g in self.groups:
            if tuple(keeps[g.name].shape) != (g.size,):
                raise ValueError(f"mask of group {g.name!r} does not have {g.size} entries")
        self.keeps = [keeps[g.name].to(torch.bool).clone() for g in self.groups]
        self.last_step = int(state["last_step"])
        self.num_updates = int(state["num_updates"])
        self._refresh()
        self._zero_optimizer_state()
        self.apply_masks()

    # ----------------------------------------------------------------- internals
    def _refresh(self) -> None:
        self._pairs = []
        for net in [self.model, *self.followers]:
            for g, keep in zip(self.groups, self.keeps, strict=True):
                if not bool(keep.all()):
                    self._pairs += masking.masked_tensors(net, g, keep)
            masking.apply_masks(net, self.groups, self.keeps)

    @torch.no_grad()
    def _zero_optimizer_state(self) -> None:
        own = {
            id(t): m
            for g, k in zip(self.groups, self.keeps, strict=True)
            for t, m in masking.masked_tensors(self.model, g, k)
        }
        for opt in self.optimizers:
            for group in opt.param_groups:
                for p in group["params"]:
                    mask = own.get(id(p))
                    if mask is None:
                        continue
                    for value in opt.state.get(p, {}).values():
                        if isinstance(value, torch.Tensor) and value.shape == p.shape:
                            value.mul_(mask)

    def __repr__(self) -> str:
        return f"NeuronPruner(groups={len(self.groups)}, sparsity={self.sparsity():.3f})"
