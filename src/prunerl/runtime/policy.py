"""Run an exported policy with numpy alone: observations in, actions out.

policy = Policy.load("policy.npz")
action = policy.act(obs)              # one observation -> one action
actions = policy.act(obs_batch)       # a batch -> a batch of actions
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from prunerl.runtime import ops
from prunerl.runtime.format import fail, read_meta

COMPUTE = ("dense", "sparse")


class Policy:
    """A forward pass compiled to numpy kernels, with the action head stored in the file."""

    def __init__(
        self, arrays: Mapping[str, np.ndarray], path: str = "<arrays>", compute: str = "dense"
    ) -> None:
        if compute not in COMPUTE:
            raise ValueError(
                f"compute must be one of {COMPUTE}, got {compute!r}: 'dense' expands CSR "
                "weights at load (fastest at small batches), 'sparse' multiplies in CSR"
            )
        self.path = path
        self.meta = read_meta(arrays, path)
        self.head: str = self.meta["head"]
        self.obs_shape = tuple(self.meta.get("obs_shape", ()))
        self.output = int(self.meta.get("output", 0))
        low, high = self.meta.get("action_low"), self.meta.get("action_high")
        self.low = None if low is None else np.asarray(low, dtype=np.float32)
        self.high = None if high is None else np.asarray(high, dtype=np.float32)
        self.outputs: list[int] = list(self.meta["outputs"])
        self.steps: list[tuple[Callable[..., np.ndarray], tuple[int, ...], int]] = []
        for i, op in enumerate(self.meta["ops"]):
            kernel = self._build(op, arrays, compute, i)
            self.steps.append((kernel, tuple(op["in"]), int(op["out"])))
        self.chain = all(ins == (out - 1,) for _, ins, out in self.steps) and self.outputs == [
            len(self.steps)
        ]
        self.fns = self._fuse(arrays) if self.chain else [k for k, _, _ in self.steps]

    @classmethod
    def load(cls, path: str | Path, compute: str = "dense") -> Policy:
        """Read an exported ``.npz`` policy (no pickle: the file is never executed)."""
        path = str(path)
        if not Path(path).is_file():
            raise FileNotFoundError(f"no policy file at {path}; export one first")
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
        except (ValueError, OSError) as exc:
            raise fail(path, f"numpy cannot read it as an .npz archive ({exc})") from None
        return cls(arrays, path, compute)

    # ----------------------------------------------------------------- building
    def _fuse(self, arrays: Mapping[str, np.ndarray]) -> list[Callable[..., np.ndarray]]:
        """For a chain of ops: fuse each dense Linear with the ReLU right after it."""
        ops_meta = self.meta["ops"]
        fns: list[Callable[..., np.ndarray]] = []
        i = 0
        while i < len(self.steps):
            op = ops_meta[i]
            nxt = ops_meta[i + 1]["op"] if i + 1 < len(ops_meta) else None
            weight = self._array(arrays, op.get("params", {}).get("weight"))
            if op["op"] == "linear" and nxt == "relu" and weight is not None:
                bias = self._array(arrays, op["params"].get("bias"))
                fns.append(ops.linear(weight, bias, relu=True))
                i += 2
                continue
            fns.append(self.steps[i][0])
            i += 1
        return fns

    @staticmethod
    def _array(arrays: Mapping[str, np.ndarray], key: str | None) -> np.ndarray | None:
        if key is None:
            return None
        if key in arrays:
            return np.asarray(arrays[key], dtype=np.float32)
        return None

    def _build(
        self, op: Mapping[str, Any], arrays: Mapping[str, np.ndarray], compute: str, i: int
    ) -> Callable[..., np.ndarray]:
        kind, attrs, params = op["op"], op.get("attrs", {}), op.get("params", {})
        get = lambda name: self._array(arrays, params.get(name))  # noqa: E731
        if kind == "linear":
            key = params["weight"]
            if key not in arrays:  # stored in CSR
                data = np.asarray(arrays[f"{key}.data"], dtype=np.float32)
                indices = np.asarray(arrays[f"{key}.indices"], dtype=np.int64)
                indptr = np.asarray(arrays[f"{key}.indptr"], dtype=np.int64)
                shape = tuple(int(s) for s in arrays[f"{key}.shape"])
                if len(indptr) != shape[0] + 1 or len(indices) != len(data):
                    raise fail(self.path, f"CSR arrays of {key!r} do not match shape {shape}")
                if compute == "sparse":
                    return ops.csr_linear(data, indices, indptr, shape[1], get("bias"))
                dense = np.zeros(shape, dtype=np.float32)
                rows = np.repeat(np.arange(shape[0]), np.diff(indptr))
                dense[rows, indices] = data
                return ops.linear(dense, get("bias"))
            weight = get("weight")
            assert weight is not None
            if weight.ndim != 2:
                raise fail(self.path, f"op {i} (linear) weight has shape {weight.shape}")
            return ops.linear(weight, get("bias"))
        if kind == "conv2d":
            weight = get("weight")
            assert weight is not None
            if weight.ndim != 4:
                raise fail(self.path, f"op {i} (conv2d) weight has shape {weight.shape}")
            return ops.conv2d(weight, get("bias"), attrs["stride"], attrs["padding"])
        if kind == "maxpool2d":
            return ops.maxpool2d(attrs["kernel"], attrs["stride"], attrs["padding"])
        if kind == "affine":
            scale, shift = get("scale"), get("shift")
            assert scale is not None and shift is not None
            return ops.affine(scale, shift, int(attrs["axis"]))
        if kind == "layer_norm":
            return ops.layer_norm(get("weight"), get("bias"), float(attrs["eps"]))
        if kind == "const":
            value = get("value")
            return lambda: value  # type: ignore[return-value]
        if kind in ("reshape", "add", "sub", "mul", "div", "mean", "sum", "slice", "clamp"):
            return ops.shape_op(kind, attrs)
        return ops.activation(kind, attrs)

    # ----------------------------------------------------------------- running
    def forward(self, obs: np.ndarray) -> list[np.ndarray]:
        """All raw outputs (e.g. logits and value) for a batch of observations."""
        x = np.asarray(obs, dtype=np.float32)
        if self.chain:
            for fn in self.fns:
                x = fn(x)
            return [x]
        regs: list[Any] = [None] * (len(self.steps) + 1)
        regs[0] = x
        for fn, ins, out in self.steps:
            regs[out] = fn(*[regs[r] for r in ins])
        return [regs[r] for r in self.outputs]

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        """The raw output the head reads (Q-values, logits or mean), for a batch."""
        if self.chain:
            x = np.asarray(obs, dtype=np.float32)
            for fn in self.fns:
                x = fn(x)
            return x
        return self.forward(obs)[self.output]

    def act(self, obs: np.ndarray) -> np.ndarray:
        """Actions for one observation (shape ``obs_shape``) or a batch of them."""
        x = np.asarray(obs, dtype=np.float32)
        single = x.shape == self.obs_shape
        if not single and x.shape[1:] != self.obs_shape:
            raise ValueError(
                f"observation shape {x.shape} matches neither one observation {self.obs_shape} "
                f"nor a batch (n, {', '.join(map(str, self.obs_shape))})"
            )
        actions = self._head(self(x[None] if single else x))
        return actions[0] if single else actions

    def _head(self, y: np.ndarray) -> np.ndarray:
        if self.head == "argmax":
            return np.argmax(y, axis=-1)
        if self.head == "tanh":
            t = np.tanh(y)
            if self.low is not None and self.high is not None:
                return self.low + (t + 1.0) * 0.5 * (self.high - self.low)
            return t
        if self.low is not None and self.high is not None:
            return np.clip(y, self.low, self.high)
        return y

    def __repr__(self) -> str:
        return f"Policy({self.path!r}, ops={len(self.steps)}, head={self.head!r})"


def load_policy(path: str | Path, compute: str = "dense") -> Policy:
    """Shorthand for :meth:`Policy.load`."""
    return Policy.load(path, compute)
