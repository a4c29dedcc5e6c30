"""Structural pruning of an agent while it learns: neuron masks on a schedule, then the cut.

    agent = DQN("CartPole-v1")
    pruner = StructuredPruner(agent, sparsity=0.75, begin_step=10_000, end_step=30_000)
    agent.learn(50_000, callback=pruner)   # masks in env steps; cut at 30k; small net trains on

Masks follow the schedule of :class:`~prunerl.structural.NeuronPruner` (the cubic schedule of
Zhu & Gupta 2017 by default) and are re-applied after every optimizer step (a step hook, so no
agent code changes). When the schedule ends the masked neurons are cut out of the online
network and its target copy with one plan; the optimizers keep their state for the survivors
(Adam moments sliced), a weight pruner (hybrid pruning) is rebuilt over the small networks with
its masks, and training goes on with the smaller, cheaper networks. The state (masks, whether
and when the cut happened) is part of ``agent.state_dict()``, so a checkpoint taken after the
cut loads into a freshly built agent: it is cut the same way first.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn
from torch.utils.hooks import RemovableHandle

from prunerl.core.pruner import Pruner
from prunerl.rl.base import Agent
from prunerl.rl.callbacks import Callback
from prunerl.rl.structured_config import StructuredConfig
from prunerl.structural.importance import Taylor
from prunerl.structural.soft import NeuronPruner
from prunerl.structural.trace import default_example

__all__ = ["StructuredConfig", "StructuredPruner", "layer_widths", "prune_agent"]

RECORD_ROWS = 1024  # observations kept for activation-based importances


def layer_widths(module: nn.Module) -> list[int]:
    """Output width of every Linear/Conv layer in module order (the architecture, in short)."""
    out = []
    for m in module.modules():
        if isinstance(m, nn.Linear):
            out.append(int(m.out_features))
        elif isinstance(m, nn.Conv1d | nn.Conv2d | nn.Conv3d):
            out.append(int(m.out_channels))
    return out


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
        names = self._network_names()
        self.widths_before = {n: layer_widths(agent.networks[n]) for n in names}
        for name in names:
            self._add_network(name)
        self._next = self._next_point()
        agent.structured = self

    # ----------------------------------------------------------------- building
    def _network_names(self) -> list[str]:
        agent, spec = self.agent, self.config.sparsity
        valid = [n for n in agent.networks if n not in agent.followers]
        if isinstance(spec, dict):
            names = list(spec)
        else:
            names = list(self.config.networks or agent.prunable)
        bad = [n for n in names if n not in valid]
        if bad:
            raise ValueError(
                f"{agent.algo} has no prunable network(s) {bad}; choose from {valid} (target "
                "networks follow their source; a sparsity mapping is keyed by network name)"
            )
        return names

    def _add_network(self, name: str) -> None:
        net = self.agent.networks[name]
        if _inputs(net) == 1:
            self._add_unit(name, "")
            return
        children = [p for p, m in net.named_children() if list(m.parameters()) and _inputs(m) == 1]
        if not children:
            raise ValueError(
                f"network {name!r} takes {_inputs(net)} inputs and has no single-input parts "
                "to prune; prune another network"
            )
        for path in children:
            self._add_unit(name, path)

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
            example=self._example(module),
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

    def _example(self, module: nn.Module) -> torch.Tensor:
        first = next((m for m in module.modules() if isinstance(m, nn.Linear | nn.Conv2d)), None)
        if isinstance(first, nn.Linear):
            return default_example(module)
        shape = tuple(self.agent.observation_space.shape or ())
        return torch.rand((4, *shape), generator=torch.Generator().manual_seed(0))

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
        old_params = _named_parameters(agent)
        weight_pruner = agent.pruner
        for h in self.hooks:
            h.remove()
        self.hooks = []
        optimizers = list(agent.optimizers.values())
        for unit, pruner in self.units.items():
            network, path = self.places[unit]
            small = pruner.cut(optimizers)
            _replace(agent.networks, network, path, small)
            for copy, source in agent.followers.items():
                if source == network:
                    follower = agent.networks[copy].get_submodule(path)
                    _replace(agent.networks, copy, path, pruner.cut_follower(follower))
            self.final[unit] = pruner.state_dict()
        _rebind_parameter_lists(agent, old_params, _named_parameters(agent))
        if weight_pruner is not None:
            _rebuild_weight_pruner(agent, weight_pruner)
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
            same = (
                state["cut"]
                and sorted(units) == sorted(self.final)
                and all(
                    all(torch.equal(units[u]["keeps"][g], k) for g, k in s["keeps"].items())
                    for u, s in self.final.items()
                )
            )
            if not same:
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
    pruner.step(step)
    if not pruner.is_cut and config.cut:
        pruner.cut()
    return pruner


# --------------------------------------------------------------------- helpers
def _inputs(module: nn.Module) -> int:
    """Number of required positional inputs of ``module.forward``."""
    params = inspect.signature(module.forward).parameters.values()
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(p.kind in kinds and p.default is inspect.Parameter.empty for p in params)


def _replace(networks: dict[str, nn.Module], network: str, path: str, new: nn.Module) -> None:
    if not path:
        networks[network] = new
        return
    parent_path, _, child = path.rpartition(".")
    setattr(networks[network].get_submodule(parent_path), child, new)


def _named_parameters(agent: Agent) -> dict[str, nn.Parameter]:
    return {f"{n}.{p}": t for n, net in agent.networks.items() for p, t in net.named_parameters()}


def _rebind_parameter_lists(
    agent: Agent, old: Mapping[str, nn.Parameter], new: Mapping[str, nn.Parameter]
) -> None:
    """Point lists of parameters an agent caches (e.g. for gradient clipping) at the cut ones."""
    swap = {id(p): new[name] for name, p in old.items() if name in new}
    old_ids = {id(p) for p in old.values()}
    for value in vars(agent).values():
        if isinstance(value, list) and any(id(v) in old_ids for v in value):
            value[:] = [swap.get(id(v), v) for v in value if id(v) in swap or id(v) not in old_ids]


def _rebuild_weight_pruner(agent: Agent, old: Pruner) -> None:
    """A weight pruner over the cut networks with the surviving masks and the old counters."""
    masks = {}
    for t in old.targets:
        local = t.name[len(t.network) + 1 :] if t.network else t.name
        path, _, param = local.rpartition(".")
        module = agent.networks[t.network].get_submodule(path)
        masks[t.name] = getattr(module, f"{param}_mask").clone()
    generator = old.generator.get_state()
    agent.pruner = None
    agent.setup_pruning()
    assert agent.pruner is not None
    agent.pruner.load_state_dict(
        {
            "masks": masks,
            "last_step": old.last_step,
            "num_updates": old.num_updates,
            "stats": None,  # gradient statistics restart: their shapes changed
            "rewind": None,
            "generator": generator,
        }
    )
