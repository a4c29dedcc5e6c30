"""Which parameters get masks: selection by module type, name pattern and position."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

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
    """True if a pattern is a glob over the qualified name, the network, or a module path.

    ``"q.*"`` and ``"*.0.weight"`` are globs; ``"actor"`` names a network or, inside a single
    model such as an ``nn.ModuleDict``, every parameter under the submodule ``actor``.
    """
    return any(
        fnmatch.fnmatchcase(name, p) or network == p != "" or name.startswith(f"{p}.")
        for p in patterns
    )


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
    candidates: list[str] = []
    used: set[str] = set()
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
                candidates.append(full)
                if include is not None:
                    hits = [pat for pat in include if matches(full, net_name, [pat])]
                    used.update(hits)
                    if not hits:
                        continue
                if matches(full, net_name, exclude):
                    continue
                mask = torch.ones_like(p, dtype=torch.bool)
                targets.append(Target(full, net_name, module, p_name, mask))
    unused = [pat for pat in include or () if pat not in used]
    if unused:
        raise ValueError(
            f"include pattern(s) {unused} match no prunable parameter; use network names "
            f"{list(networks)} or glob patterns over names such as {candidates[:3]}"
        )
    if not targets:
        raise ValueError(
            "no parameters selected for pruning: check module_types "
            f"{list(module_types)}, include={include}, exclude={list(exclude)}"
        )
    return targets


def group_by_sparsity(
    targets: list[Target], sparsity: Mapping[str, float], networks: Sequence[str]
) -> tuple[list[Target], list[list[int]], list[float]]:
    """Split targets by the first sparsity key (network name or glob) that matches each.

    Returns the matched targets, one group of indices into them per key, and each group's
    sparsity; targets no key matches stay dense. Every key must claim at least one target.
    """
    owner: dict[int, str] = {}
    for i, t in enumerate(targets):
        key = next((k for k in sparsity if matches(t.name, t.network, [k])), None)
        if key is not None:
            owner[i] = key
    unused = [k for k in sparsity if k not in owner.values()]
    if unused:
        raise ValueError(
            f"sparsity key(s) {unused} match no selected parameter (or only ones an earlier key "
            f"claims); use network names {list(networks)} or glob patterns over parameter names "
            f"such as {[t.name for t in targets[:3]]}"
        )
    order = sorted(owner)
    groups = [[j for j, i in enumerate(order) if owner[i] == k] for k in sparsity]
    return [targets[i] for i in order], groups, [float(v) for v in sparsity.values()]


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


def holder_of(module: nn.Module, name: str) -> dict[str, Any]:
    """The dict that holds ``module.<name>``: its parameters, its buffers or its attributes."""
    for holder in (module._parameters, module._buffers):
        if name in holder:
            return holder
    return module.__dict__
