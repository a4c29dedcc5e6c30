"""Structural pruning of an agent while it learns: neuron masks on a schedule, then the cut.

    agent = DQN("CartPole-v1")
    pruner = StructuredPruner(agent, sparsity=0.75, begin_step=10_000, end_step=30_000)
    agent.learn(50_000, callback=pruner)   # masks in env steps; cut at 30k; small net trains on

Masks follow :class:`~prunerl.structural.NeuronPruner`'s schedule (the cubic one of Zhu & Gupta
2017 by default), re-applied after every optimizer step by a step hook. When the schedule ends,
the masked neurons are cut out of the online network and its target copy with one plan; Adam
moments of the survivors are kept, a weight pruner (hybrid) is rebuilt with its masks, and the
small networks train on. The state is in ``agent.state_dict()``: a checkpoint taken after the cut
loads into a freshly built agent, which is cut the same way first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn
from torch.utils.hooks import RemovableHandle

from prunerl.rl.agent_networks import (
    example_input,
    layer_widths,
    named_parameters,
    prunable_units,
    rebind_parameter_lists,
    rebuild_weight_pruner,
    replace_module,
)
from prunerl.rl.base import Agent
from prunerl.rl.callbacks import Callback
from prunerl.rl.structured_config import StructuredConfig
from prunerl.structural.importance import Taylor
from prunerl.structural.soft import NeuronPruner

__all__ = ["StructuredConfig", "StructuredPruner", "layer_widths", "prune_agent"]

RECORD_ROWS = 1024  # observations kept for activation-based importances


class StructuredPruner(Callback):
    """Neuron masks on an agent's networks, stepped in env steps, then the physical cut.

    Pass it to ``agent.learn(..., callback=...)`` (the run layer does so from the config).
    Networks whose forward takes more than an observation (SAC's twin critic) are pruned
    per traceable submodule (``critic.q1``, ``critic.q2``).
    """

    def __init__(
        self, agent: Agent, config: StructuredConfig | None = None, **overrides: Any
    ) -> None:
        if config is None:
            config = StructuredConfig.from_dict(overrides)
        elif overrides:
            config = StructuredConfig.from_dict({**config.to_dict(), **overrides})
        if agent.structured is not None:
            raise ValueError("this agent already has a StructuredPruner (agent.structured)")
        if agent.pruner is not None and agent.pruner.method.rewinds and config.cut:
            raise ValueError(
                f"weight pruning method {agent.pruner.config.method!r} rewinds weights, which a "
                "structural cut cannot carry; use another method or set cut=False"
            )
        self.agent, self.config = agent, config
        self.units: dict[str, NeuronPruner] = {}
        self.places: dict[str, tuple[str, str]] = {}  # unit -> (network, submodule path)
        self.hooks: list[RemovableHandle] = []
        self.seen: dict[str, torch.Tensor] = {}
        self.is_cut = False
        self.cut_step: int | None = None
        self.last_step = -1
        self.final: dict[str, dict[str, Any]] = {}  # unit states at the cut
        units = prunable_units(agent, config.sparsity, config.networks)
        self.widths_before = {n: layer_widths(agent.networks[n]) for n, _ in units}
        for network, path in units:
            self._add_unit(network, path)
        self._next = self._next_point()
        agent.structured = self

    # ----------------------------------------------------------------- building
    def _add_unit(self, network: str, path: str) -> None:
        agent, c = self.agent, self.config
        module = agent.networks[network].get_submodule(path)
        spec = c.sparsity[network] if isinstance(c.sparsity, dict) else c.sparsity
        pruner = NeuronPruner(
            module,
            spec,
            c.importance,
            schedule=c.schedule or "one_shot",
            begin_step=c.begin_step,
            end_step=c.end_step,
            update_every=c.update_every,
            initial_sparsity=c.initial_sparsity,
            power=c.power,
            rounds=c.rounds,
            example=example_input(self.agent, module),
            importance_kwargs=c.importance_kwargs,
        )
        unit = f"{network}.{path}" if path else network
        for copy, source in agent.followers.items():
            if source == network:
                pruner.follow(agent.networks[copy].get_submodule(path))
        own = {id(p) for p in module.parameters()}
        for opt in agent.optimizers.values():
            if any(id(p) in own for g in opt.param_groups for p in g["params"]):
                pruner.attach_optimizer(opt)
                self.hooks.append(opt.register_step_post_hook(lambda *_, p=pruner: p.apply_masks()))
                if isinstance(pruner.importance, Taylor):
                    hook = lambda *_, p=pruner: p.observe_gradients()  # noqa: E731
                    self.hooks.append(opt.register_step_pre_hook(hook))
        if pruner.importance.needs_observations:
            self.hooks.append(module.register_forward_pre_hook(self._recorder(unit)))
        self.units[unit] = pruner
        self.places[unit] = (network, path)

    def _recorder(self, unit: str) -> Any:
        def record(module: nn.Module, args: tuple[Any, ...]) -> None:
            x = args[0] if args else None
            if isinstance(x, torch.Tensor) and x.dim() >= 2 and x.shape[0] >= 2:
                self.seen[unit] = x.detach()[:RECORD_ROWS]

        return record

    # ----------------------------------------------------------------- training
    def on_step(self, agent: Agent) -> bool:
        """After each env step: mask updates that are due, then the cut when it is due."""
        if self._next is not None and agent.num_timesteps >= self._next:
            self.step(agent.num_timesteps)
        return True

    def step(self, step: int) -> bool:
        """Advance to env step ``step``; returns True when the networks were cut now."""
        if self.is_cut:
            return False
        for unit, pruner in self.units.items():
            point = pruner.schedule.next_update(pruner.last_step)
            if point is not None and point <= step:
                pruner.step(step, observations=self.seen.get(unit))
        self.last_step = max(self.last_step, step)
        self._next = self._next_point()
        if self.config.cut and self._cut_due(step):
            self.cut()
            return True
        return False

    def at_target(self) -> bool:
        """Whether the masks reached their final sparsity (and the cut happened, if asked)."""
        return self.is_cut or (not self.config.cut and self._schedule_done())

    def _schedule_done(self) -> bool:
        return all(p.schedule.next_update(p.last_step) is None for p in self.units.values())

    def _cut_due(self, step: int) -> bool:
        if self.config.cut_step is not None:
            return step >= self.config.cut_step
        return self._schedule_done()

    def _next_point(self) -> int | None:
        if self.is_cut:
            return None
        points = [p.schedule.next_update(p.last_step) for p in self.units.values()]
        due = [p for p in points if p is not None]
        if self.config.cut and self.config.cut_step is not None:
            due.append(self.config.cut_step)
        return min(due, default=None)

    def update_masks(self, sparsity: float | None = None) -> None:
        """Re-score and mask now: to ``sparsity`` in every unit, or the schedule's share."""
        step = max(self.last_step, 0)
        for unit, pruner in self.units.items():
            pruner.update_masks(sparsity, step=step, observations=self.seen.get(unit))

    # ----------------------------------------------------------------- the cut
    def cut(self) -> None:
        """Replace the pruned networks (and their targets) by physically smaller copies."""
        if self.is_cut:
            return
        agent = self.agent
        old_params = named_parameters(agent)
        weight_pruner = agent.pruner
        for h in self.hooks:
            h.remove()
        self.hooks = []
        optimizers = list(agent.optimizers.values())
        for unit, pruner in self.units.items():
            network, path = self.places[unit]
            small = pruner.cut(optimizers)
            replace_module(agent.networks, network, path, small)
            for copy, source in agent.followers.items():
                if source == network:
                    follower = agent.networks[copy].get_submodule(path)
                    replace_module(agent.networks, copy, path, pruner.cut_follower(follower))
            self.final[unit] = pruner.state_dict()
        rebind_parameter_lists(agent, old_params, named_parameters(agent))
        if weight_pruner is not None:
            rebuild_weight_pruner(agent, weight_pruner)
        self.units, self.seen = {}, {}
        self.is_cut, self.cut_step = True, max(agent.num_timesteps, self.last_step, 0)
        self._next = None
        agent.on_networks_replaced()

    # ----------------------------------------------------------------- reporting
    def unit_states(self) -> dict[str, dict[str, Any]]:
        """Each unit's neuron masks and counters (frozen at the cut once it happened)."""
        return (
            dict(self.final) if self.is_cut else {u: p.state_dict() for u, p in self.units.items()}
        )

    def layer_sparsity(self) -> dict[str, float]:
        """Removed (or masked) share of each group's neurons, by ``unit/group``."""
        out = {}
        for unit, state in self.unit_states().items():
            for group, keep in state["keeps"].items():
                out[f"{unit}/{group}"] = 1.0 - float(keep.float().mean())
        return out

    def sparsity(self) -> float:
        """Removed (or masked) share of all prunable neurons."""
        keeps = [k for s in self.unit_states().values() for k in s["keeps"].values()]
        total = sum(k.numel() for k in keeps)
        return 1.0 - sum(int(k.sum()) for k in keeps) / max(total, 1)

    def architecture(self) -> dict[str, dict[str, list[int]]]:
        """Layer widths of each pruned network before pruning and now."""
        return {
            n: {"before": before, "after": layer_widths(self.agent.networks[n])}
            for n, before in self.widths_before.items()
        }

    # ----------------------------------------------------------------- persistence
    def state_dict(self) -> dict[str, Any]:
        """Config, masks, counters and whether (and when) the cut happened."""
        return {
            "config": self.config.to_dict(),
            "units": self.unit_states(),
            "last_step": self.last_step,
            "cut": self.is_cut,
            "cut_step": self.cut_step,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore masks; a saved cut is redone here (before the agent loads its weights)."""
        units = state["units"]
        if self.is_cut:
            saved = {(u, g): k for u, st in units.items() for g, k in st["keeps"].items()}
            mine = {(u, g): k for u, st in self.final.items() for g, k in st["keeps"].items()}
            if saved.keys() != mine.keys() or not all(torch.equal(saved[x], mine[x]) for x in mine):
                raise ValueError(
                    "this agent's networks were already cut differently; load the checkpoint "
                    "into a freshly built agent"
                )
            return
        if sorted(units) != sorted(self.units):
            raise ValueError(
                f"structured state prunes {sorted(units)}, this agent {sorted(self.units)}: "
                "use the pruning config the checkpoint was saved with"
            )
        for unit, pruner in self.units.items():
            pruner.load_state_dict(units[unit])
        self.last_step = int(state["last_step"])
        self._next = self._next_point()
        if state["cut"]:
            self.cut()
            self.cut_step = state["cut_step"]

    def __repr__(self) -> str:
        status = f"cut at {self.cut_step}" if self.is_cut else "masking"
        return f"StructuredPruner({status}, sparsity={self.sparsity():.3f})"


def restore_structure(agent: Agent, state: Mapping[str, Any]) -> None:
    """Bring ``agent`` to a saved structured state (called by ``Agent.load_state_dict``)."""
    if agent.structured is None:
        StructuredPruner(agent, StructuredConfig.from_dict(state["config"]))
    assert agent.structured is not None
    agent.structured.load_state_dict(state)


def prune_agent(
    agent: Agent,
    sparsity: float | dict[str, Any],
    importance: str = "l1",
    observations: Mapping[str, torch.Tensor] | None = None,
    **options: Any,
) -> StructuredPruner:
    """Cut a (trained) agent's neurons now, one-shot; fine-tune it with ``agent.learn`` after.

    ``observations`` maps unit names to input batches for activation-based importances.
    """
    step = agent.num_timesteps
    config = StructuredConfig(
        sparsity=sparsity, importance=importance, schedule="one_shot", begin_step=step, **options
    )
    pruner = StructuredPruner(agent, config)
    pruner.seen.update(observations or {})
    pruner.step(step)  # one-shot at the current step: masks, then the cut (unless cut=False)
    return pruner
