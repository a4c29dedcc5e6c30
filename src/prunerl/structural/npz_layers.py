"""How each torch layer becomes a numpy-runtime op: (kind, arrays, attributes)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from prunerl.structural.masking import MASK_BUFFER

Op = tuple[str, dict[str, torch.Tensor | None], dict[str, Any]]

_ACTIVATIONS = {"ReLU": "relu", "Tanh": "tanh", "Sigmoid": "sigmoid", "SiLU": "silu"}
_PASS_MODULES = ("Identity", "Dropout", "Dropout1d", "Dropout2d", "AlphaDropout")


def layer_op(m: Any, name: str) -> Op | None:
    """The runtime op computing layer ``m`` (None: it passes its input through)."""
    kind = type(m).__name__
    if kind == "Linear":
        return "linear", {"weight": m.weight, "bias": m.bias}, {}
    if kind == "Conv2d" and _plain_conv(m):
        padding = [0, 0] if m.padding == "valid" else list(m.padding)
        attrs = {"stride": list(m.stride), "padding": padding}
        return "conv2d", {"weight": m.weight, "bias": m.bias}, attrs
    if kind == "MaxPool2d" and _plain_pool(m):
        attrs = {k: _pair(getattr(m, a)) for k, a in _POOL_ATTRS}
        return "maxpool2d", {}, attrs
    if kind in ("BatchNorm1d", "BatchNorm2d"):
        return "affine", _fold_batch_norm(m), {"axis": 1}
    if kind == "LayerNorm" and len(m.normalized_shape) == 1:
        if MASK_BUFFER in m._buffers:
            raise ValueError(f"LayerNorm {name!r} is soft-masked: cut the network first")
        return "layer_norm", {"weight": m.weight, "bias": m.bias}, {"eps": float(m.eps)}
    if kind in _ACTIVATIONS:
        return _ACTIVATIONS[kind], {}, {}
    if kind == "LeakyReLU":
        return "leaky_relu", {}, {"slope": float(m.negative_slope)}
    if kind == "ELU":
        return "elu", {}, {"alpha": float(m.alpha)}
    if kind == "Softplus":
        return "softplus", {}, {"beta": float(m.beta), "threshold": float(m.threshold)}
    if kind == "Softmax" and isinstance(m.dim, int):
        return "softmax", {}, {"axis": m.dim}
    if kind in _PASS_MODULES:
        return None
    raise ValueError(
        f"npz export: layer {name!r} ({kind}) is not supported by the numpy runtime "
        "(Linear, Conv2d, MaxPool2d, BatchNorm, LayerNorm, Flatten and the common "
        "activations are); export to torchscript or onnx instead"
    )


_POOL_ATTRS = (("kernel", "kernel_size"), ("stride", "stride"), ("padding", "padding"))


def _pair(v: int | tuple[int, ...] | list[int]) -> list[int]:
    return [int(v), int(v)] if isinstance(v, int) else [int(x) for x in v]


def _plain_conv(m: nn.Conv2d) -> bool:
    if m.groups != 1 or tuple(m.dilation) != (1, 1) or m.padding_mode != "zeros":
        raise ValueError(
            f"npz export: Conv2d with groups={m.groups}, dilation={m.dilation}, padding_mode="
            f"{m.padding_mode!r} is not supported; use groups=1, dilation=1, zero padding"
        )
    if m.padding == "same":
        raise ValueError("npz export: Conv2d padding='same' is not supported; give ints")
    return True


def _plain_pool(m: nn.MaxPool2d) -> bool:
    if m.ceil_mode or _pair(m.dilation) != [1, 1] or m.return_indices:
        raise ValueError("npz export: MaxPool2d needs ceil_mode=False, dilation=1")
    return True


def _fold_batch_norm(m: Any) -> dict[str, torch.Tensor | None]:
    """BatchNorm in eval mode as x * scale + shift per channel."""
    if m.running_mean is None or m.running_var is None:
        raise ValueError("npz export: BatchNorm without running statistics cannot be folded")
    scale = torch.rsqrt(m.running_var + m.eps)
    if m.weight is not None:
        scale = scale * m.weight
    shift = -m.running_mean * scale
    if m.bias is not None:
        shift = shift + m.bias
    return {"scale": scale, "shift": shift}
