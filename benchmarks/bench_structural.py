# ruff: noqa: E402  (BLAS thread settings must precede the numpy import)
"""Structural pruning speed and size: an MLP (4-256-256-2 by default), dense vs hidden neurons cut.

Measured side by side in one process (medians of repeats, one thread):
- torch forward throughput at batch 256: cut vs dense (target >= 8x);
- numpy runtime at batch 1 vs a hand-written numpy forward of the same cut shapes (<= 1.5x);
- exported npz size: dense vs cut (target >= 10x smaller);
- unstructured 90% (weights in CSR) vs dense, at batch 1 and 256, numpy and torch.

    .venv/bin/python -m benchmarks.bench_structural [--repeats 7] [--json out.json]
    # LunarLander PPO's actor (8-64-64-4, tanh) with half its hidden neurons cut:
    .venv/bin/python -m benchmarks.bench_structural --shape 8,64,64,4 --activation tanh \
        --neurons 0.5
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one thread for numpy's BLAS too, before numpy loads

import argparse
import json
import statistics
import tempfile
import timeit
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from prunerl.core.api import prune
from prunerl.runtime import Policy
from prunerl.structural import make_plan
from prunerl.structural.export import to_npz
from prunerl.structural.surgery import cut


def per_call_us(fn: Callable[[], object], repeats: int, min_time: float = 0.05) -> float:
    """Median over ``repeats`` of the mean time per call (µs), each repeat >= min_time s."""
    number = 1
    while timeit.timeit(fn, number=number) < min_time:
        number *= 2
    runs = timeit.repeat(fn, number=number, repeat=repeats)
    return statistics.median(runs) / number * 1e6


ACTIVATIONS: dict[str, tuple[type[nn.Module], Callable[[np.ndarray], np.ndarray]]] = {
    "relu": (nn.ReLU, lambda h: np.maximum(h, 0)),
    "tanh": (nn.Tanh, np.tanh),
}


def build(shape: tuple[int, int, int, int], activation: str, seed: int = 0) -> nn.Sequential:
    """An MLP with two hidden layers: ``shape`` = (inputs, hidden, hidden, outputs)."""
    torch.manual_seed(seed)
    act = ACTIVATIONS[activation][0]
    i, h1, h2, o = shape
    return nn.Sequential(nn.Linear(i, h1), act(), nn.Linear(h1, h2), act(), nn.Linear(h2, o))


def hand_written(model: nn.Module, activation: str) -> Callable[[np.ndarray], np.ndarray]:
    """The fastest plain numpy forward of an MLP: pre-transposed weights, no checks."""
    layers = [m for m in model.modules() if isinstance(m, nn.Linear)]
    (w1, b1), (w2, b2), (w3, b3) = [
        (np.ascontiguousarray(m.weight.detach().numpy().T), m.bias.detach().numpy()) for m in layers
    ]
    act = ACTIVATIONS[activation][1]

    def forward(x: np.ndarray) -> np.ndarray:
        h = act(x @ w1 + b1)
        h = act(h @ w2 + b2)
        return h @ w3 + b3

    return forward


def run(
    repeats: int,
    shape: tuple[int, int, int, int] = (4, 256, 256, 2),
    activation: str = "relu",
    neurons: float = 0.9,
) -> dict[str, Any]:
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(1)
    obs = torch.randn(256, shape[0], generator=gen)
    one = obs[:1]
    dense = build(shape, activation).eval()
    small = cut(dense, make_plan(dense, neurons, "l1", example=obs)).eval()
    sparse = build(shape, activation)
    prune(sparse, sparsity=0.9, method="magnitude")
    sparse.eval()
    shapes = [tuple(m.weight.shape) for m in small.modules() if isinstance(m, nn.Linear)]
    out: dict[str, Any] = {"cut_shapes": shapes}
    with tempfile.TemporaryDirectory() as tmp, torch.no_grad():
        paths = {
            "dense": to_npz(dense, os.path.join(tmp, "dense.npz"), obs, sparse="never"),
            "cut": to_npz(small, os.path.join(tmp, "cut.npz"), obs),
            "csr": to_npz(sparse, os.path.join(tmp, "csr.npz"), obs, sparse="always"),
        }
        out["bytes"] = {k: os.path.getsize(p) for k, p in paths.items()}
        pol = {k: Policy.load(p) for k, p in paths.items()}
        pol["csr_sparse"] = Policy.load(paths["csr"], compute="sparse")
        hand = hand_written(small, activation)
        x1, x256 = one.numpy(), obs.numpy()
        t: dict[str, float] = {}
        t["torch_dense_b256"] = per_call_us(lambda: dense(obs), repeats)
        t["torch_cut_b256"] = per_call_us(lambda: small(obs), repeats)
        t["torch_dense_b1"] = per_call_us(lambda: dense(one), repeats)
        t["torch_cut_b1"] = per_call_us(lambda: small(one), repeats)
        t["numpy_runtime_cut_b1"] = per_call_us(lambda: pol["cut"](x1), repeats)
        t["numpy_runtime_cut_act_b1"] = per_call_us(lambda: pol["cut"].act(x1[0]), repeats)
        t["numpy_hand_cut_b1"] = per_call_us(lambda: hand(x1), repeats)
        for batch, x in (("b1", x1), ("b256", x256)):
            t[f"numpy_runtime_dense_{batch}"] = per_call_us(lambda x=x: pol["dense"](x), repeats)
            t[f"numpy_csr_as_dense_{batch}"] = per_call_us(lambda x=x: pol["csr"](x), repeats)
            t[f"numpy_csr_kernel_{batch}"] = per_call_us(lambda x=x: pol["csr_sparse"](x), repeats)
        csr_torch = _torch_csr(sparse, activation)
        t["torch_csr_b1"] = per_call_us(lambda: csr_torch(one), repeats)
        t["torch_csr_b256"] = per_call_us(lambda: csr_torch(obs), repeats)
        t["torch_unstructured_dense_b256"] = per_call_us(lambda: sparse(obs), repeats)
        out["us"] = t
    b = out["bytes"]
    out["ratios"] = {
        "throughput_b256_cut_over_dense": t["torch_dense_b256"] / t["torch_cut_b256"],
        "runtime_over_hand_b1": t["numpy_runtime_cut_b1"] / t["numpy_hand_cut_b1"],
        "npz_dense_over_cut": b["dense"] / b["cut"],
        "npz_dense_over_csr": b["dense"] / b["csr"],
        "numpy_csr_kernel_over_dense_b1": t["numpy_csr_kernel_b1"] / t["numpy_runtime_dense_b1"],
        "numpy_csr_kernel_over_dense_b256": t["numpy_csr_kernel_b256"]
        / t["numpy_runtime_dense_b256"],
        "torch_csr_over_dense_b1": t["torch_csr_b1"] / t["torch_dense_b1"],
        "torch_csr_over_dense_b256": t["torch_csr_b256"] / t["torch_dense_b256"],
    }
    return out


def _torch_csr(model: nn.Sequential, activation: str) -> Callable[[torch.Tensor], torch.Tensor]:
    """The unstructured-sparse MLP with torch CSR weights (sparse @ dense^T per layer)."""
    layers = [(m.weight.detach().to_sparse_csr(), m.bias.detach()) for m in model[::2]]
    act = torch.relu if activation == "relu" else torch.tanh

    def forward(x: torch.Tensor) -> torch.Tensor:
        h = x.T
        for i, (w, b) in enumerate(layers):
            h = torch.addmm(b[:, None], w, h)
            if i < len(layers) - 1:
                h = act(h)
        return h.T

    return forward


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--json", default=None, help="also write the results to this file")
    parser.add_argument("--shape", default="4,256,256,2", help="inputs,hidden,hidden,outputs")
    parser.add_argument("--activation", default="relu", choices=sorted(ACTIVATIONS))
    parser.add_argument("--neurons", type=float, default=0.9, help="share of hidden neurons cut")
    args = parser.parse_args()
    i, h1, h2, o = (int(v) for v in args.shape.split(","))
    res = run(args.repeats, (i, h1, h2, o), args.activation, args.neurons)
    print(f"cut shapes: {res['cut_shapes']}")
    for k, v in res["us"].items():
        print(f"{k:<34}{v:>10.1f} µs")
    for k, v in res["bytes"].items():
        print(f"npz {k:<30}{v:>10d} bytes")
    for k, v in res["ratios"].items():
        print(f"{k:<34}{v:>10.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=2)


if __name__ == "__main__":
    main()
