"""Numpy kernels of the policy ops: each builder returns a function of the input arrays.

Builders prepare weights once (transposed, contiguous, float32) so a forward pass is a few
numpy calls per layer: at batch 1 Python overhead, not arithmetic, is the cost.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

Kernel = Callable[..., np.ndarray]


def linear(weight: np.ndarray, bias: np.ndarray | None, relu: bool = False) -> Kernel:
    """y = x W^T + b (then ReLU, fused, in place) with W^T stored contiguous."""
    wt = np.ascontiguousarray(weight.T)
    b = np.zeros(weight.shape[0], dtype=weight.dtype) if bias is None else bias
    if not relu:

        def plain(x: np.ndarray) -> np.ndarray:
            y = x @ wt
            y += b
            return y

        return plain

    def fused(x: np.ndarray) -> np.ndarray:
        y = x @ wt
        y += b
        return np.maximum(y, 0, out=y)

    return fused


def csr_linear(
    data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, n_in: int, bias: np.ndarray | None
) -> Kernel:
    """y = x W^T + b for W in CSR (rows = outputs): gather, multiply, segment-sum in numpy."""
    n_out = len(indptr) - 1
    nonempty = np.flatnonzero(np.diff(indptr) > 0)
    starts = indptr[:-1][nonempty]
    b = np.zeros(n_out, dtype=data.dtype) if bias is None else bias

    def run(x: np.ndarray) -> np.ndarray:
        if x.shape[-1] != n_in:
            raise ValueError(f"expected {n_in} input features, got {x.shape[-1]}")
        xt = x.reshape(-1, n_in).T  # (in, batch): gathering rows keeps memory contiguous
        out = np.broadcast_to(b, (xt.shape[1], n_out)).copy()
        if len(starts):
            sums = np.add.reduceat(xt[indices] * data[:, None], starts, axis=0)
            out[:, nonempty] += sums.T
        return out.reshape(*x.shape[:-1], n_out)

    return run


def conv2d(
    weight: np.ndarray, bias: np.ndarray | None, stride: list[int], padding: list[int]
) -> Kernel:
    """2-D cross-correlation (torch's Conv2d, groups=1) by im2col and one matrix product."""
    out_ch, _, kh, kw = weight.shape
    w2 = np.ascontiguousarray(weight.reshape(out_ch, -1).T)
    sh, sw = stride
    ph, pw = padding

    def run(x: np.ndarray) -> np.ndarray:
        if ph or pw:
            x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
        win = sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]
        n, _, ho, wo = win.shape[:4]
        cols = win.transpose(0, 2, 3, 1, 4, 5).reshape(n * ho * wo, -1)
        y = cols @ w2
        if bias is not None:
            y += bias
        return np.ascontiguousarray(y.reshape(n, ho, wo, out_ch).transpose(0, 3, 1, 2))

    return run


def maxpool2d(kernel: list[int], stride: list[int], padding: list[int]) -> Kernel:
    """Max over kernel windows, padding with -inf as torch does."""
    kh, kw = kernel
    sh, sw = stride
    ph, pw = padding

    def run(x: np.ndarray) -> np.ndarray:
        if ph or pw:
            x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=-np.inf)
        win = sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]
        return win.max(axis=(-2, -1))

    return run


def affine(scale: np.ndarray, shift: np.ndarray, axis: int) -> Kernel:
    """x * scale + shift per channel along ``axis`` (BatchNorm in eval mode, folded)."""

    def run(x: np.ndarray) -> np.ndarray:
        shape = [1] * x.ndim
        shape[axis] = -1
        return x * scale.reshape(shape) + shift.reshape(shape)

    return run


def layer_norm(weight: np.ndarray | None, bias: np.ndarray | None, eps: float) -> Kernel:
    """LayerNorm over the last axis."""

    def run(x: np.ndarray) -> np.ndarray:
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        y = (x - mean) / np.sqrt(var + eps)
        if weight is not None:
            y = y * weight
        return y + bias if bias is not None else y

    return run


def _softplus(beta: float, threshold: float) -> Kernel:
    def run(x: np.ndarray) -> np.ndarray:
        bx = beta * x
        return np.where(bx > threshold, x, np.log1p(np.exp(np.minimum(bx, threshold))) / beta)

    return run


def _softmax(axis: int) -> Kernel:
    def run(x: np.ndarray) -> np.ndarray:
        e = np.exp(x - x.max(axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)

    return run


def activation(kind: str, attrs: Mapping[str, Any]) -> Kernel:
    """Elementwise activations, matching torch's definitions."""
    if kind == "relu":
        return lambda x: np.maximum(x, 0)
    if kind == "tanh":
        return np.tanh
    if kind == "sigmoid":  # the tanh form never overflows
        return lambda x: 0.5 * (1.0 + np.tanh(0.5 * x))
    if kind == "silu":
        return lambda x: x * 0.5 * (1.0 + np.tanh(0.5 * x))
    if kind == "leaky_relu":
        slope = float(attrs["slope"])
        return lambda x: np.where(x >= 0, x, x * slope)
    if kind == "elu":
        alpha = float(attrs["alpha"])
        return lambda x: np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))
    if kind == "softplus":
        return _softplus(float(attrs["beta"]), float(attrs["threshold"]))
    if kind == "softmax":
        return _softmax(int(attrs["axis"]))
    raise KeyError(kind)


def shape_op(kind: str, attrs: Mapping[str, Any]) -> Kernel:
    """reshape, binary arithmetic and reductions."""
    if kind == "reshape":
        shape = tuple(attrs["shape"])
        return lambda x: x.reshape(shape)
    if kind in ("add", "sub", "mul", "div"):
        fn = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide}[kind]
        if "scalar" in attrs:  # x op c, or c op x when "reverse"
            c = np.float32(attrs["scalar"])
            if attrs.get("reverse"):
                return lambda x: fn(c, x)
            return lambda x: fn(x, c)
        return lambda a, b: fn(a, b)
    if kind == "slice":
        index = [slice(None)] * (int(attrs["axis"]) + 1)
        index[-1] = slice(int(attrs["start"]), int(attrs["stop"]))
        where = tuple(index)
        return lambda x: x[where]
    if kind == "clamp":
        low, high = attrs["min"], attrs["max"]
        return lambda x: np.clip(x, low, high)
    if kind in ("mean", "sum"):
        reduce = np.mean if kind == "mean" else np.sum
        axis = tuple(attrs["axis"])
        keep = bool(attrs["keepdim"])
        return lambda x: reduce(x, axis=axis, keepdims=keep)
    raise KeyError(kind)
