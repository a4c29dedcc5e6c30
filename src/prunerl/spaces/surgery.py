"""Cut a network to a pruned space: drop input features/channels of its input layers, or output
units (actions) of its last Linear, building a smaller module with the same outputs.

Dropped inputs are replaced by a constant ``fill`` (the feature's mean on real observations),
folded into the first layer's bias: ``b += W[:, dropped] @ fill[dropped]``. A network on the
reduced observation then computes what the full one computes with those features at their mean.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from prunerl.spaces.masks import as_keep, dropped

InputLayer = nn.Linear | nn.Conv1d | nn.Conv2d | nn.Conv3d


def first_layer(net: nn.Module) -> InputLayer:
    """The first registered Linear/Conv layer: the one that reads the observation."""
    for m in net.modules():
        if isinstance(m, InputLayer):
            return m
    raise ValueError(
        f"{type(net).__name__} has no Linear/Conv layer to cut; state-space pruning needs the "
        "observation to enter through a Linear (vectors) or Conv (images) layer"
    )


def _width(layer: InputLayer) -> int:
    return int(layer.in_features if isinstance(layer, nn.Linear) else layer.in_channels)


def input_layers(net: nn.Module) -> list[InputLayer]:
    """Every layer that reads the network's input: the first layer, and the first layer of each
    sibling branch of the same type and width (e.g. both heads of a twin-Q critic).

    A layer counts when it is the first child of its parent module; a later layer that only
    coincides in width would be cut wrongly, and loading the cut network then fails loudly.
    """
    first = first_layer(net)
    found: list[InputLayer] = []
    for parent in net.modules():
        lead = next(iter(parent.children()), None)
        same_kind = isinstance(lead, InputLayer) and type(lead) is type(first)
        if same_kind and _width(lead) == _width(first):  # type: ignore[arg-type]
            found.append(lead)  # type: ignore[arg-type]
    return found or [first]


def last_linear(net: nn.Module) -> nn.Linear:
    """The last registered Linear layer: the one that outputs Q-values or logits."""
    found = [m for m in net.modules() if isinstance(m, nn.Linear)]
    if not found:
        raise ValueError(f"{type(net).__name__} has no Linear output layer to cut")
    return found[-1]


def input_width(net: nn.Module) -> int:
    """Number of input features (Linear) or channels (Conv) of the first layer."""
    return _width(first_layer(net))


def _cut_buffers(layer: nn.Module, old_shape: torch.Size, index: torch.Tensor, dim: int) -> None:
    """Cut buffers shaped like the weight (pruning masks) the same way as the weight."""
    for name, buf in list(layer._buffers.items()):
        if buf is not None and buf.shape == old_shape:
            layer._buffers[name] = buf.index_select(dim, index).clone()


def cut_input_features(
    net: nn.Module,
    keep: Sequence[int] | np.ndarray,
    n_features: int | None = None,
    fill: Sequence[float] | np.ndarray | None = None,
) -> nn.Module:
    """A copy of ``net`` whose input layers read only the kept features (or channels).

    ``n_features``: how many leading inputs are observation features (default all); inputs
    after them (e.g. the action fed to a SAC critic) are always kept. ``fill``: one value per
    feature that dropped features are fixed at (folded into the bias); None drops them as zeros.
    For a Conv layer the fill is a per-channel constant, exact when the layer has no padding.
    """
    net = copy.deepcopy(net)
    width = input_width(net)
    n_features = width if n_features is None else n_features
    if not 0 < n_features <= width:
        raise ValueError(
            f"n_features must be in 1..{width} (the first layer's inputs), got {n_features}"
        )
    what = "feature" if isinstance(first_layer(net), nn.Linear) else "channel"
    kept = as_keep(keep, n_features, what)
    values = None
    if fill is not None:
        values = np.asarray(fill, dtype=np.float64).reshape(-1)
        if values.shape[0] != n_features:
            raise ValueError(
                f"fill has {values.shape[0]} values but there are {n_features} {what}s; "
                f"give one value per {what}"
            )
    for layer in input_layers(net):
        _cut_layer_inputs(layer, kept, n_features, values)
    return net


def _cut_layer_inputs(
    layer: InputLayer, kept: np.ndarray, n_features: int, fill: np.ndarray | None
) -> None:
    """Keep input columns ``kept`` (+ any after ``n_features``) of one layer, folding ``fill``."""
    if not isinstance(layer, nn.Linear) and layer.groups != 1:
        raise ValueError("cannot cut input channels of a grouped convolution")
    width = _width(layer)
    cols = torch.as_tensor(np.concatenate([kept, np.arange(n_features, width)]), dtype=torch.long)
    drop = dropped(kept, n_features)
    with torch.no_grad():
        w = layer.weight
        if fill is not None and drop.size:
            f = torch.as_tensor(fill[drop], dtype=w.dtype)
            shift = w[:, drop].reshape(w.shape[0], drop.size, -1).sum(dim=2) @ f
            if layer.bias is not None:
                layer.bias.add_(shift)
            elif bool(shift.abs().gt(0).any()):
                raise ValueError(
                    "the first layer has no bias to absorb the dropped features' fill "
                    "values; pass fill=None or give the layer a bias"
                )
        old_shape = w.shape
        layer.weight = nn.Parameter(w.index_select(1, cols).clone())
        _cut_buffers(layer, old_shape, cols, 1)
    if isinstance(layer, nn.Linear):
        layer.in_features = len(cols)
    else:
        layer.in_channels = len(cols)


def cut_output_units(net: nn.Module, keep: Sequence[int] | np.ndarray) -> nn.Module:
    """A copy of ``net`` whose last Linear outputs only the kept units (actions)."""
    net = copy.deepcopy(net)
    layer = last_linear(net)
    kept = torch.as_tensor(as_keep(keep, layer.out_features, "action"), dtype=torch.long)
    with torch.no_grad():
        old_shape = layer.weight.shape
        layer.weight = nn.Parameter(layer.weight.index_select(0, kept).clone())
        _cut_buffers(layer, old_shape, kept, 0)
        if layer.bias is not None:
            old_bias = layer.bias.shape
            layer.bias = nn.Parameter(layer.bias.index_select(0, kept).clone())
            _cut_buffers(layer, old_bias, kept, 0)
    layer.out_features = len(kept)
    return net
