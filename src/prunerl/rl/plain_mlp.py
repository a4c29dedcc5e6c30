"""Forward and backward passes of plain MLPs without the autograd engine's per-layer bookkeeping.

For the small networks of RL on CPU, autograd's bookkeeping (graph nodes, the engine's start-up,
gradient accumulation) is about a quarter of a gradient step. A network that is a plain stack of
``nn.Linear`` layers and ReLU/Tanh activations has a backward pass of a handful of matrix
products, which :class:`PlainMLP` runs directly. It calls the kernels autograd calls, in the same
order, so with ReLU the gradients are the same tensors, bit for bit (tested). Tanh is the one
exception: torch 2.13's CPU ``tanh`` (within about half an ULP) is about 6x slower than numpy's
vectorised one (within 1.5 ULP), which a 64-wide tanh network spends a fifth of its step in, so
the forward here takes numpy's; outputs then differ from the module's in the last bit.

Two ways in: :meth:`PlainMLP.forward` / :meth:`PlainMLP.backward` for a caller that writes its
loss gradient by hand (DQN, PPO), and :meth:`PlainMLP.numpy_forward` for acting.

Anything else — another layer type, a subclass, hooks on a module or a parameter, a
parametrization, weights off the CPU, input that is not a 2-D batch of the weights' dtype — is
not "plain": :meth:`PlainMLP.of` returns None (or :meth:`PlainMLP.accepts` False) and the
caller uses the module and autograd as usual.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import numpy as np
import torch
from torch import nn
from torch.nn.modules import module as _module

__all__ = ["NumpyForward", "PlainMLP"]

_Views = tuple[np.ndarray, np.ndarray | None]  # a layer's weight and bias as arrays
_ACTIVATIONS: dict[type[nn.Module], str] = {nn.ReLU: "relu", nn.Tanh: "tanh"}


def _autocast_check() -> Callable[[], bool]:
    """Whether CPU autocast is on (``is_autocast_enabled(device)`` is torch >= 2.4)."""
    try:
        torch.is_autocast_enabled("cpu")
    except TypeError:
        return torch.is_autocast_cpu_enabled
    return lambda: torch.is_autocast_enabled("cpu")


_cpu_autocast = _autocast_check()


def has_hooks(module: nn.Module) -> bool:
    """True if running the module's forward by hand would skip a hook someone registered."""
    return bool(
        module._forward_hooks
        or module._forward_pre_hooks
        or module._backward_hooks
        or module._backward_pre_hooks
    )


def globally_hooked() -> bool:
    """True if a hook is registered for every module (``register_module_forward_hook`` etc.)."""
    return bool(
        _module._global_forward_hooks
        or _module._global_forward_pre_hooks
        or _module._global_backward_hooks
        or _module._global_backward_pre_hooks
    )


def _tensor_hooked(p: torch.Tensor | None) -> bool:
    """True if a gradient hook on ``p`` would be skipped by a hand-written backward."""
    return p is not None and bool(
        getattr(p, "_backward_hooks", None) or getattr(p, "_post_accumulate_grad_hooks", None)
    )


class PlainMLP:
    """``Linear -> act -> ... -> Linear`` run as kernels; ``acts[i]`` follows ``layers[i]``."""

    __slots__ = ("_arrays", "acts", "kinds", "layers", "modules", "net")

    def __init__(
        self, net: nn.Sequential, layers: tuple[nn.Linear, ...], acts: tuple[str | None, ...]
    ) -> None:
        self.net, self.modules = net, tuple(net)
        self.kinds = tuple(type(m) for m in self.modules)  # a parametrization changes the class
        self.layers, self.acts = layers, acts
        self._arrays: tuple[tuple[tuple[int, int], ...], list[_Views], object] | None = None

    @staticmethod
    def of(net: nn.Module) -> PlainMLP | None:
        """The plain view of ``net``, or None when it is anything but a plain Linear/ReLU/Tanh
        ``nn.Sequential`` (a parametrized Linear has its own class, so it is not plain)."""
        if type(net) is not nn.Sequential or has_hooks(net) or globally_hooked():
            return None
        layers: list[nn.Linear] = []
        acts: list[str | None] = []
        for child in net:
            kind = type(child)
            if isinstance(child, nn.Linear) and kind is nn.Linear:
                weight = child._parameters.get("weight")  # None or absent: moved by someone
                if weight is None or has_hooks(child) or _tensor_hooked(weight):
                    return None
                if _tensor_hooked(child._parameters.get("bias")):
                    return None
                layers.append(child)
                acts.append(None)
            elif kind in _ACTIVATIONS and layers and acts[-1] is None and not has_hooks(child):
                acts[-1] = _ACTIVATIONS[kind]
            else:
                return None
        if not layers or layers[0].weight.is_sparse or layers[0].weight.device.type != "cpu":
            return None
        return PlainMLP(net, tuple(layers), tuple(acts))

    def current(self) -> bool:
        """Whether the network is still this plain stack: the same modules of the same classes
        (a parametrization swaps the class), weights in place, no forward hooks since.

        Cheaper than :meth:`of` (a few microseconds), for callers that keep the view between
        forward passes; it does not look at gradient hooks, so use :meth:`of` before a backward.
        """
        net, modules = self.net, self.modules
        if has_hooks(net) or globally_hooked() or len(net._modules) != len(modules):
            return False
        same = all(
            a is b and type(a) is kind and not has_hooks(a)
            for a, b, kind in zip(net._modules.values(), modules, self.kinds, strict=True)
        )
        return same and all(
            isinstance(layer._parameters.get("weight"), torch.Tensor) for layer in self.layers
        )

    def numpy_forward(self, x: np.ndarray) -> np.ndarray:
        """``net(x)`` in numpy, for acting: a batch-1 forward costs a quarter of torch's.

        The arrays share memory with the parameters, so in-place updates (optimizer steps,
        masks, loading) are seen at once; a replaced tensor or storage is picked up again. BLAS
        rounding may differ from torch's in the last bits.
        """
        for (w, b), act in zip(self._views(), self.acts, strict=True):
            x = x @ w.T if b is None else x @ w.T + b
            if act == "relu":
                x = np.maximum(x, 0, out=x)
            elif act == "tanh":
                x = np.tanh(x, out=x)
        return x

    def _views(self) -> list[_Views]:
        """numpy views of the weights and biases, rebuilt when a tensor or its storage changed
        (the cache holds the tensors, so their ids and addresses cannot be reused meanwhile)."""
        own = [layer._parameters for layer in self.layers]  # a dict lookup, not __getattr__
        tensors = [(cast(torch.Tensor, p["weight"]), p["bias"]) for p in own]
        key = tuple((id(t), t.data_ptr()) for pair in tensors for t in pair if t is not None)
        if self._arrays is None or self._arrays[0] != key:
            views: list[_Views] = [
                (w.detach().numpy(), None if b is None else b.detach().numpy()) for w, b in tensors
            ]
            self._arrays = (key, views, tensors)
        return self._arrays[1]

    def accepts(self, x: torch.Tensor) -> bool:
        """A 2-D CPU batch of the first layer's dtype, outside CPU autocast (what the kernels
        here are written for)."""
        if x.dim() != 2 or x.dtype != self.layers[0].weight.dtype or x.device.type != "cpu":
            return False
        return not _cpu_autocast()

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The input and every layer's output (after its activation); the last is the result."""
        outputs = [x]
        for layer, act in zip(self.layers, self.acts, strict=True):
            bias = layer.bias
            w = layer.weight.t()
            y = x @ w if bias is None else torch.addmm(bias, x, w)
            if act == "relu":
                y = y.relu_()
            elif act == "tanh":  # in place, numpy's vectorised tanh (see the module docstring)
                out = y.numpy()
                np.tanh(out, out=out)
            outputs.append(y)
            x = y
        return outputs

    @torch.no_grad()
    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """``net(x)`` without autograd (the forward above, keeping only the result)."""
        return self.forward(x)[-1]

    @torch.no_grad()
    def gradients(
        self, outputs: list[torch.Tensor], grad: torch.Tensor, input_grad: bool = False
    ) -> tuple[list[torch.Tensor | None], torch.Tensor | None]:
        """Backpropagate ``grad`` (d loss / d result): each layer's weight and bias gradient
        (None for frozen ones), in parameter order, and the input's when ``input_grad``."""
        grads: list[torch.Tensor | None] = []
        for i in range(len(self.layers) - 1, -1, -1):
            layer, act, out, inp = self.layers[i], self.acts[i], outputs[i + 1], outputs[i]
            if act == "relu":
                grad = torch.ops.aten.threshold_backward(grad, out, 0)
            elif act == "tanh":
                grad = torch.ops.aten.tanh_backward(grad, out)
            weight, bias = layer.weight, layer.bias
            grad_in = grad.mm(weight) if i > 0 or input_grad else None
            if bias is not None:
                grads.append(grad.sum(0) if bias.requires_grad else None)
            grads.append(grad.t().mm(inp) if weight.requires_grad else None)
            if grad_in is not None:
                grad = grad_in
        grads.reverse()
        return grads, grad_in

    def backward(self, outputs: list[torch.Tensor], grad: torch.Tensor) -> None:
        """Backpropagate ``grad`` and accumulate every trainable parameter's gradient in its
        ``.grad``, as ``loss.backward()`` would (the network input gets none)."""
        self.accumulate(self.gradients(outputs, grad)[0])

    def accumulate(self, grads: list[torch.Tensor | None]) -> None:
        """Add :meth:`gradients`' output to the parameters' ``.grad`` (autograd's rule)."""
        for p, g in zip(self.parameters(), grads, strict=True):
            if g is None:
                continue
            if p.grad is None:
                p.grad = g
            else:
                p.grad.add_(g)

    def parameters(self) -> list[torch.Tensor]:
        """Weights and biases in ``net.parameters()`` order."""
        own = [layer._parameters for layer in self.layers]
        return [t for p in own for t in (p["weight"], p["bias"]) if t is not None]


class NumpyForward:
    """A network's numpy forward for acting (:meth:`PlainMLP.numpy_forward`), the plain view
    kept between calls and re-derived whenever the network stops being that plain stack."""

    def __init__(self, view: Callable[[nn.Module], Any] = PlainMLP.of) -> None:
        self._view = view  # PlainMLP.of, or another plain view with the same methods
        self._plain: Any = None

    def __call__(self, net: nn.Module, x: np.ndarray) -> np.ndarray | None:
        """``net(x)`` as an array, or None when ``net`` has no plain view (use the module)."""
        plain = self._plain
        if plain is None or plain.net is not net or not plain.current():
            plain = self._plain = self._view(net)
        return None if plain is None else plain.numpy_forward(x)
