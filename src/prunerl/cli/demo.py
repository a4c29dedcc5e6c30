"""``prunerl demo``: the main job — prune a small model and show before/after side by side."""

from __future__ import annotations

import time

import torch
from rich.table import Table
from torch import nn

from prunerl.cli.app import app, console, friendly_errors
from prunerl.core import Pruner, PruningConfig, measure


def _latency_us(model: nn.Module, x: torch.Tensor, repeats: int = 200) -> float:
    with torch.no_grad():
        for _ in range(20):
            model(x)
        start = time.perf_counter()
        for _ in range(repeats):
            model(x)
    return (time.perf_counter() - start) / repeats * 1e6


@app.command("demo")
@friendly_errors
def demo(
    sparsity: float = 0.9,
    steps: int = 3000,
    seed: int = 0,
) -> None:
    """Fit a 4-256-256-2 MLP to a toy task dense and pruned with GMP, then compare."""
    torch.manual_seed(seed)
    x = torch.randn(4096, 4)
    y = torch.stack([x[:, 0] * x[:, 1] + x[:, 2], torch.sin(3 * x[:, 3])], dim=1)
    rows = {}
    for label, prune in (("dense", False), (f"gmp {sparsity:.0%}", True)):
        torch.manual_seed(seed)
        model = nn.Sequential(
            nn.Linear(4, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 2)
        )
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        pruner = None
        if prune:
            cfg = PruningConfig(
                method="gmp",
                sparsity=sparsity,
                begin_step=steps // 5,
                end_step=3 * steps // 4,
                update_every=100,
            )
            pruner = Pruner(model, cfg).attach_optimizer(opt)
        start = time.perf_counter()
        for step in range(steps):
            idx = torch.randint(0, len(x), (128,))
            loss = nn.functional.mse_loss(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            if pruner is not None:
                pruner.step(step)
        wall = time.perf_counter() - start
        with torch.no_grad():
            mse = float(nn.functional.mse_loss(model(x), y))
        cost = measure(model, x[:1])
        rows[label] = (mse, cost, wall, _latency_us(model, x[:1]))
    table = Table(title="prunerl demo: toy regression, dense vs pruned during training")
    for col in (
        "model",
        "mse",
        "sparsity",
        "params nonzero/total",
        "FLOPs",
        "train s",
        "batch-1 µs",
    ):
        table.add_column(col, justify="right")
    for label, (mse, cost, wall, lat) in rows.items():
        table.add_row(
            label,
            f"{mse:.4f}",
            f"{cost.sparsity:.1%}",
            f"{cost.params_nonzero}/{cost.params_total}",
            f"{cost.flops_sparse}",
            f"{wall:.1f}",
            f"{lat:.0f}",
        )
    console.print(table)
