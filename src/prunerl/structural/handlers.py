"""How to cut one layer type: which tensors shrink, along which dimension, for each role.

A layer takes part in a group in one of three roles: ``out`` (its output channels are the
group's channels: a Linear's rows, a conv's filters), ``in`` (it reads the group's channels: a
Linear's columns, a conv's input channels) or ``feature`` (it carries one value per channel: a
BatchNorm's or LayerNorm's affine parameters and statistics). A :class:`Handler` lists the
tensors each role slices; add support for a new layer type by registering one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from prunerl.registry import Registry

ROLES = ("out", "in", "feature")


@dataclass(frozen=True)
class Handler:
    """Tensors (name, dim) sliced per role, and the size attribute each role updates."""

    slices: dict[str, tuple[tuple[str, int], ...]]
    attrs: dict[str, str] = field(default_factory=dict)
    axis: Callable[[nn.Module, int], int] = lambda module, ndim: ndim - 1
    check: Callable[[nn.Module], str | None] | None = None  # returns why it is unsupported

    def size(self, module: nn.Module, role: str) -> int:
        """Number of channels ``module`` has in ``role`` (e.g. a Linear's in_features)."""
        value = getattr(module, self.attrs[role])
        return int(value[0] if isinstance(value, tuple) else value)

    def cut(self, module: nn.Module, role: str, index: torch.Tensor) -> dict[str, int]:
        """Keep only ``index`` along the role's dimension of every tensor; returns name -> dim."""
        done: dict[str, int] = {}
        for name, dim in self.slices[role]:
            for tensor_name in (name, f"{name}_mask"):  # core masks shrink with their weights
                if getattr(module, tensor_name, None) is None:
                    continue
                _replace(module, tensor_name, getattr(module, tensor_name), dim, index)
                if tensor_name == name:
                    done[name] = dim
        attr = self.attrs.get(role)
        if attr is not None:
            value = getattr(module, attr)
            new = len(index)
            setattr(module, attr, (new,) if isinstance(value, tuple) else new)
        return done


def _replace(
    module: nn.Module, name: str, old: torch.Tensor, dim: int, index: torch.Tensor
) -> None:
    data = old.detach().index_select(dim, index.to(old.device)).clone()
    if isinstance(old, nn.Parameter):
        setattr(module, name, nn.Parameter(data, requires_grad=old.requires_grad))
    else:
        module._buffers[name] = data


handlers: Registry[Handler] = Registry("layer handler")
"""Handlers by layer class name (``"Linear"``); register one to support a new layer type."""


def handler_for(module: nn.Module) -> Handler | None:
    """The handler registered for ``module``'s class, or None."""
    name = type(module).__name__
    return handlers.get(name) if name in handlers else None


def _conv_check(module: nn.Module) -> str | None:
    if getattr(module, "groups", 1) != 1:
        return f"grouped/depthwise convolution (groups={module.groups}) is not supported"
    return None


def _layer_norm_check(module: nn.Module) -> str | None:
    shape = getattr(module, "normalized_shape", ())
    if len(shape) != 1:
        return f"LayerNorm over several dimensions {tuple(shape)} is not supported"
    return None


def _conv_axis(module: nn.Module, ndim: int) -> int:
    """A conv's channel axis: before its 1/2/3 spatial axes (works batched and unbatched)."""
    return ndim - len(module.kernel_size) - 1  # type: ignore[arg-type]


def _channel_axis(module: nn.Module, ndim: int) -> int:
    """Axis 1 of a batched (N, C, ...) input, as BatchNorm and PReLU use."""
    return 1 if ndim >= 2 else 0


_LINEAR = Handler(
    slices={"out": (("weight", 0), ("bias", 0)), "in": (("weight", 1),)},
    attrs={"out": "out_features", "in": "in_features"},
)
_CONV = Handler(
    slices={"out": (("weight", 0), ("bias", 0)), "in": (("weight", 1),)},
    attrs={"out": "out_channels", "in": "in_channels"},
    axis=_conv_axis,
    check=_conv_check,
)
_BATCH_NORM = Handler(
    slices={
        "feature": (("weight", 0), ("bias", 0), ("running_mean", 0), ("running_var", 0)),
    },
    attrs={"feature": "num_features"},
    axis=_channel_axis,
)
_LAYER_NORM = Handler(
    slices={"feature": (("weight", 0), ("bias", 0))},
    attrs={"feature": "normalized_shape"},
    check=_layer_norm_check,
)
_PRELU = Handler(
    slices={"feature": (("weight", 0),)}, attrs={"feature": "num_parameters"}, axis=_channel_axis
)

handlers.register("Linear")(_LINEAR)
for _name in ("Conv1d", "Conv2d", "Conv3d"):
    handlers.register(_name)(_CONV)
for _name in ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d"):
    handlers.register(_name)(_BATCH_NORM)
handlers.register("LayerNorm")(_LAYER_NORM)
handlers.register("PReLU")(_PRELU)
