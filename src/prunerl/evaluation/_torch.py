"""Calling a policy for measurement: no autograd, eval mode, inputs on the network's device."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn


@contextmanager
def inference(fn: Callable[..., Any]) -> Iterator[None]:
    """No autograd; modules in eval mode (dropout off), their train/eval flags restored after."""
    modes = [(m, m.training) for m in fn.modules()] if isinstance(fn, nn.Module) else []
    if isinstance(fn, nn.Module):
        fn.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        for module, training in modes:
            module.training = training


def as_input(fn: Callable[..., Any], values: Any, name: str) -> torch.Tensor:
    """``values`` as a non-empty batch tensor, on a module's device and in its float dtype."""
    tensor = torch.as_tensor(values)
    if tensor.dim() == 0 or tensor.shape[0] == 0:
        raise ValueError(
            f"{name} must be a non-empty batch (first axis = items), got shape "
            f"{tuple(tensor.shape)}"
        )
    param = next(fn.parameters(), None) if isinstance(fn, nn.Module) else None
    if param is None:
        return tensor
    # Float inputs take the network's dtype (numpy gives float64); integer inputs (indices for
    # an embedding) are passed unchanged.
    dtype = param.dtype if tensor.is_floating_point() and param.is_floating_point() else None
    return tensor.to(device=param.device, dtype=dtype)
