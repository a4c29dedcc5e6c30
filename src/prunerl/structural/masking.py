"""Soft channel masks: zero a group's removed channels where they are produced.

A removed channel's producing rows and biases and its BatchNorm/LayerNorm affine parameters
are zero, so the channel carries zero (or a constant, after e.g. a Sigmoid) and can be cut out
without changing the network's outputs. LayerNorm mixes its features through its statistics,
so a masked LayerNorm also gets a forward hook that normalises over the kept features only,
exactly what the cut LayerNorm computes.
"""

from __future__ import annotations

import torch
from torch import nn

from prunerl.structural.groups import Group
from prunerl.structural.handlers import handler_for

#: Non-persistent buffer holding a LayerNorm's kept-feature mask while it is soft-masked.
MASK_BUFFER = "prunerl_feature_mask"


def masked_tensors(
    model: nn.Module, group: Group, keep: torch.Tensor
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(parameter, broadcastable float mask) pairs that zero ``group``'s removed channels."""
    pairs: list[tuple[torch.Tensor, torch.Tensor]] = []
    for m in group.members:
        if m.role == "in":
            continue
        module = model.get_submodule(m.module)
        handler = handler_for(module)
        assert handler is not None
        for name, dim in handler.slices[m.role]:
            t = getattr(module, name, None)
            if not isinstance(t, nn.Parameter):
                continue
            shape = [1] * t.dim()
            shape[dim] = -1
            pairs.append((t, keep.to(device=t.device, dtype=t.dtype).view(shape)))
    return pairs


def layer_norms(model: nn.Module, group: Group) -> list[nn.Module]:
    """The LayerNorms that normalise ``group``'s channels."""
    mods = [model.get_submodule(m.module) for m in group.by_role("feature")]
    return [m for m in mods if isinstance(m, nn.LayerNorm)]


@torch.no_grad()
def apply_masks(model: nn.Module, groups: list[Group], keeps: list[torch.Tensor]) -> None:
    """Zero every removed channel of ``groups`` in ``model`` (bool ``keeps``), in place."""
    for g, keep in zip(groups, keeps, strict=True):
        for t, mask in masked_tensors(model, g, keep):
            t.mul_(mask)
        for norm in layer_norms(model, g):
            set_layer_norm_mask(norm, None if bool(keep.all()) else keep)


def set_layer_norm_mask(module: nn.Module, keep: torch.Tensor | None) -> None:
    """Make ``module`` normalise over the ``keep`` features only (None: back to plain)."""
    hooked = _masked_layer_norm in module._forward_hooks.values()
    if keep is None:
        module._buffers.pop(MASK_BUFFER, None)
        for key in [k for k, f in module._forward_hooks.items() if f is _masked_layer_norm]:
            del module._forward_hooks[key]
        return
    module.register_buffer(MASK_BUFFER, keep.clone().to(torch.bool), persistent=False)
    if not hooked:
        module.register_forward_hook(_masked_layer_norm)


def _masked_layer_norm(
    module: nn.Module, args: tuple[torch.Tensor, ...], output: torch.Tensor
) -> torch.Tensor | None:
    """Forward hook: LayerNorm statistics over kept features; removed features output 0."""
    keep = module._buffers.get(MASK_BUFFER)
    if keep is None:
        return None
    x = args[0]
    m = keep.to(x.dtype)
    count = m.sum()
    mean = (x * m).sum(-1, keepdim=True) / count
    var = (((x - mean) * m) ** 2).sum(-1, keepdim=True) / count
    y = (x - mean) / torch.sqrt(var + module.eps)  # type: ignore[operator]
    weight, bias = module.weight, module.bias
    if isinstance(weight, torch.Tensor):
        y = y * weight
    if isinstance(bias, torch.Tensor):
        y = y + bias
    return y * m
