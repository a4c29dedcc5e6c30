"""Which parameters get masks: selection by module type, name pattern and position."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import nn

#: Module types pruned by default, by class name (so configs can name them as strings).
DEFAULT_MODULE_TYPES: tuple[str, ...] = ("Linear", "Conv1d", "Conv2d", "Conv3d")


@dataclass(eq=False)
class Target:
    """One prunable tensor: ``module.<param_name>`` of network ``network``, with its mask."""

    name: str  # qualified name, e.g. "q.net.0.weight" (or "0.weight" for a single model)
    network: str
    module: nn.Module
    param_name: str
    mask: torch.Tensor  # bool, same shape as the parameter; updated in place

    @property
    def param(self) -> torch.Tensor:
        return getattr(self.module, self.param_name)

    @property
    def numel(self) -> int:
        return self.mask.numel()

    @property
    def nonzero(self) -> int:
        return int(self.mask.sum().item())


def as_networks(networks: nn.Module | Mapping[str, nn.Module]) -> dict[str, nn.Module]:
    """Normalise a module or a name->module mapping to a dict ('' names a lone module)."""
    if isinstance(networks, nn.Module):
        return {"": networks}
    if not isinstance(networks, Mapping) or not networks:
        raise TypeError(
            "networks must be an nn.Module or a non-empty dict of name -> nn.Module, "
            f"got {type(networks).__name__}"
        )
    for name, net in networks.items():
        if not isinstance(net, nn.Module):
            raise TypeError(f"network {name!r} must be an nn.Module, got {type(net).__name__}")
    return dict(networks)


def qualified(network: str, name: str) -> str:
    return f"{network}.{name}" if network else name


def matches(name: str, network: str, patterns: Sequence[str]) -> bool:
    """True if any glob pattern matches the qualified parameter name or the network name."""
    return any(fnmatch.fnmatchcase(name, p) or (network and network == p) for p in patterns)


def select_targets(
    networks: Mapping[str, nn.Module],
    *,
    module_types: Sequence[str] = DEFAULT_MODULE_TYPES,
    include: Sequence[str] | None = None,
    exclude: Sequence[str] = (),
    exclude_first: bool = False,
    exclude_last: bool = False,
    prune_bias: bool = False,
) -> list[Target]:
    """List the parameters to prune, in module order, each with an all-ones mask.

    ``include``/``exclude`` are glob patterns over qualified names ("q.*", "*.0.weight") or
    network names; ``exclude_first``/``exclude_last`` keep each network's first/last layer dense
    (common for input and output layers, as in RigL and JaxPruner).
    """
    wanted = set(module_types)
    targets: list[Target] = []
    for net_name, net in networks.items():
        layers = [(n, m) for n, m in net.named_modules() if type(m).__name__ in wanted]
        if exclude_first:
            layers = layers[1:]
        if exclude_last:
            layers = layers[:-1]
        for mod_name, module in layers:
            for p_name in ("weight", "bias") if prune_bias else ("weight",):
                p = getattr(module, p_name, None)
                if not isinstance(p, torch.Tensor):
                    continue
                full = qualified(net_name, f"{mod_name}.{p_name}" if mod_name else p_name)
                if include is not None and not matches(full, net_name, include):
                    continue
                if matches(full, net_name, exclude):
                    continue
                mask = torch.ones_like(p, dtype=torch.bool)
                targets.append(Target(full, net_name, module, p_name, mask))
    if not targets:
        raise ValueError(
            "no parameters selected for pruning: check module_types "
            f"{list(module_types)}, include={include}, exclude={list(exclude)}"
        )
    return targets


def find_parameter(module: nn.Module, dotted: str) -> tuple[nn.Module, str]:
    """Resolve 'a.b.weight' inside ``module`` to (submodule, 'weight'); KeyError if absent."""
    *path, p_name = dotted.split(".")
    sub = module
    for part in path:
        if not hasattr(sub, part):
            raise KeyError(dotted)
        sub = getattr(sub, part)
    if not isinstance(getattr(sub, p_name, None), torch.Tensor):
        raise KeyError(dotted)
    return sub, p_name
