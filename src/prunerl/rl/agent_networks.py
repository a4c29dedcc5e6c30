"""Where structural pruning acts in an agent, and how cut networks replace the old ones.

Units are the single-input modules neuron masks go on: a whole network, or each traceable part
of one whose forward takes more than an observation (SAC's twin critic: ``q1`` and ``q2``).
After a cut the optimizers already hold the new parameters (state sliced by
:func:`prunerl.structural.cut`); the new modules are put in place, parameter lists the agent
caches are re-pointed, and a weight pruner (hybrid pruning) is rebuilt with the surviving masks.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from prunerl.core.pruner import Pruner
from prunerl.rl.base import Agent
from prunerl.structural.trace import default_example


def layer_widths(module: nn.Module) -> list[int]:
    """Output width of every Linear/Conv layer in module order (the architecture, in short)."""
    out = []
    for m in module.modules():
        if isinstance(m, nn.Linear):
            out.append(int(m.out_features))
        elif isinstance(m, nn.Conv1d | nn.Conv2d | nn.Conv3d):
            out.append(int(m.out_channels))
    return out


def example_input(agent: Agent, module: nn.Module, batch: int = 4) -> torch.Tensor:
    """A random input batch for ``module``: from its first Linear, else the observation shape."""
    first = next((m for m in module.modules() if isinstance(m, nn.Linear | nn.Conv2d)), None)
    if isinstance(first, nn.Linear):
        return default_example(module, batch)
    shape = tuple(agent.observation_space.shape or ())
    return torch.rand((batch, *shape), generator=torch.Generator().manual_seed(0))


def forward_inputs(module: nn.Module) -> int:
    """Number of required positional inputs of ``module.forward``."""
    params = inspect.signature(module.forward).parameters.values()
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(p.kind in kinds and p.default is inspect.Parameter.empty for p in params)


def prunable_units(
    agent: Agent, sparsity: float | Mapping[str, Any], networks: Sequence[str] | None
) -> list[tuple[str, str]]:
    """(network, submodule path) of every unit to prune; a sparsity mapping names networks."""
    valid = [n for n in agent.networks if n not in agent.followers]
    names = list(sparsity) if isinstance(sparsity, Mapping) else list(networks or agent.prunable)
    bad = [n for n in names if n not in valid]
    if bad:
        raise ValueError(
            f"{agent.algo} has no prunable network(s) {bad}; choose from {valid} (target "
            "networks follow their source; a sparsity mapping is keyed by network name)"
        )
    units = []
    for name in names:
        net = agent.networks[name]
        if forward_inputs(net) == 1:
            units.append((name, ""))
            continue
        parts = [
            p for p, m in net.named_children() if list(m.parameters()) and forward_inputs(m) == 1
        ]
        if not parts:
            raise ValueError(
                f"network {name!r} takes {forward_inputs(net)} inputs and has no single-input "
                "parts to prune; prune another network"
            )
        units += [(name, p) for p in parts]
    return units


def replace_module(networks: dict[str, nn.Module], network: str, path: str, new: nn.Module) -> None:
    if not path:
        networks[network] = new
        return
    parent_path, _, child = path.rpartition(".")
    setattr(networks[network].get_submodule(parent_path), child, new)


def named_parameters(agent: Agent) -> dict[str, nn.Parameter]:
    return {f"{n}.{p}": t for n, net in agent.networks.items() for p, t in net.named_parameters()}


def rebind_parameter_lists(
    agent: Agent, old: Mapping[str, nn.Parameter], new: Mapping[str, nn.Parameter]
) -> None:
    """Point lists of parameters an agent caches (e.g. for gradient clipping) at the cut ones."""
    swap = {id(p): new[name] for name, p in old.items() if name in new}
    old_ids = {id(p) for p in old.values()}
    for value in vars(agent).values():
        if isinstance(value, list) and any(id(v) in old_ids for v in value):
            value[:] = [swap.get(id(v), v) for v in value if id(v) in swap or id(v) not in old_ids]


def rebuild_weight_pruner(agent: Agent, old: Pruner) -> None:
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
