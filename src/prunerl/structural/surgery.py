"""Cut: build the physically smaller network a plan describes, with its optimizer state.

The cut network's outputs equal those of the masked network (removed channels zeroed where they
are produced). A removed channel that still carries a constant into the next layer (a Sigmoid
maps 0 to 0.5) has that constant folded into the next Linear's bias, so nothing is lost.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
from torch import nn

from prunerl.structural.groups import Group, Member
from prunerl.structural.handlers import handler_for
from prunerl.structural.masking import apply_masks, layer_norms, set_layer_norm_mask
from prunerl.structural.optim import carry_optimizer
from prunerl.structural.plan import Plan, check_plan_fits

Slices = dict[str, list[tuple[int, torch.Tensor]]]


def expand(index: torch.Tensor, repeat: int) -> torch.Tensor:
    """Channel indices to input positions when each channel owns ``repeat`` (through Flatten)."""
    if repeat == 1:
        return index
    return (index[:, None] * repeat + torch.arange(repeat)).flatten()


def cut(
    model: nn.Module,
    plan: Plan,
    optimizers: Sequence[torch.optim.Optimizer] = (),
    *,
    inplace: bool = False,
) -> nn.Module:
    """Remove the channels ``plan`` drops from (a copy of) ``model`` and return it.

    Each optimizer in ``optimizers`` is updated in place: ``model``'s parameters in it are
    replaced by the cut ones, and their state (Adam moments, momentum) is sliced to the kept
    rows and columns, so training goes on where it was. Cut a target network with the same plan.
    """
    check_plan_fits(model, plan)
    old_names = {id(p): n for n, p in model.named_parameters()}
    old_params = dict(model.named_parameters())
    new = model if inplace else copy.deepcopy(model)
    groups = [(g, k) for g, k in zip(plan.groups, plan.keep, strict=True) if len(k) < g.size]
    apply_masks(new, plan.groups, plan.masks())
    constants = _removed_inputs(new, plan, [g for g, _ in groups])
    slices: Slices = {}
    with torch.no_grad():
        for g, keep in groups:
            keep = keep.sort().values
            removed = plan.removed(plan.groups.index(g))
            for m in g.members:
                module = new.get_submodule(m.module)
                if m.role == "in":
                    _fold(m, module, removed, constants.get(m.module))
                handler = handler_for(module)
                assert handler is not None
                index = expand(keep, m.repeat) if m.role == "in" else keep
                for p_name, dim in handler.cut(module, m.role, index).items():
                    slices.setdefault(f"{m.module}.{p_name}", []).append((dim, index))
            for norm in layer_norms(new, g):
                set_layer_norm_mask(norm, None)
    for opt in optimizers:
        carry_optimizer(opt, old_params, old_names, dict(new.named_parameters()), slices)
    return new


def _removed_inputs(
    model: nn.Module, plan: Plan, groups: list[Group]
) -> dict[str, list[torch.Tensor]]:
    """Inputs every reading layer sees (masked network, eval mode), recorded by forward hooks."""
    readers = {m.module for g in groups for m in g.by_role("in")}
    seen: dict[str, list[torch.Tensor]] = {}
    handles = []
    for name in readers:

        def hook(mod: nn.Module, args: tuple[torch.Tensor, ...], name: str = name) -> None:
            seen.setdefault(name, []).append(args[0].detach())

        handles.append(model.get_submodule(name).register_forward_pre_hook(hook))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(plan.example)
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return seen


def _fold(
    member: Member, module: nn.Module, removed: torch.Tensor, inputs: list[torch.Tensor] | None
) -> None:
    """Fold constant values of removed input channels into ``module``'s bias (or fail clearly)."""
    handler = handler_for(module)
    assert handler is not None
    if not inputs:
        return
    weight = module.weight
    assert isinstance(weight, torch.Tensor)
    cols = expand(removed, member.repeat)
    for x in inputs:
        axis = handler.axis(module, x.dim())
        values = x.index_select(axis, cols.to(x.device)).movedim(axis, -1)
        values = values.reshape(-1, len(cols))
        if not bool((values == 0).all()):
            break
    else:
        return
    if not torch.allclose(values, values[:1].expand_as(values), atol=1e-6, rtol=0):
        raise RuntimeError(
            f"removed input channels of {member.module!r} vary with the input: the groups are "
            "inconsistent with this network (please report it with the model)"
        )
    const = values[0]
    padding = getattr(module, "padding", 0)
    if isinstance(module, nn.Linear):
        contribution = weight[:, cols] @ const
    elif padding == "valid" or (isinstance(padding, tuple) and all(p == 0 for p in padding)):
        per_channel = weight.index_select(1, cols).flatten(2).sum(-1)
        contribution = per_channel @ const
    else:
        raise ValueError(
            f"layer {member.module!r} reads removed channels whose value is "
            f"{float(const[0]):.4g}, not 0 (an activation with f(0) != 0 such as Sigmoid, or a "
            "constant added after the producer), and its zero padding makes that value "
            "position-dependent: use an activation with f(0) = 0 (ReLU, Tanh) before it, or "
            "exclude this group"
        )
    bias = getattr(module, "bias", None)
    if not isinstance(bias, torch.Tensor):
        raise ValueError(
            f"layer {member.module!r} reads removed channels with constant value "
            f"{float(const[0]):.4g} but has no bias to absorb it: give it a bias "
            "(bias=True) or exclude this group"
        )
    bias.add_(contribution.to(bias.dtype))
