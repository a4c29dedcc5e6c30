"""``prunerl demo``: the main job — DQN on CartPole-v1, dense vs pruned to 90% while it learns."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from prunerl.cli.app import app, console, friendly_errors
from prunerl.experiments.demo import DEMO_ALGO, DEMO_ENV, DEMO_STEPS, demo_configs, run_demo

DEMO_OUT = Path("runs/demo")


ROWS: tuple[tuple[str, Callable[[dict[str, Any]], str]], ...] = (
    (
        "return (mean ± std)",
        lambda s: f"{s['final_return_mean']:.1f} ± {s['final_return_std']:.1f}",
    ),
    ("best periodic eval", lambda s: f"{s['best_return_mean']:.1f}"),
    ("sparsity", lambda s: f"{s['sparsity']:.1%}"),
    ("params nonzero/total", lambda s: f"{s['params_nonzero']:,}/{s['params_total']:,}"),
    ("FLOPs (sparse/dense)", lambda s: f"{s['flops_sparse']:,}/{s['flops_dense']:,}"),
    ("batch-1 latency µs", lambda s: f"{s['latency_batch1_us']:.0f}"),
    ("training wall s", lambda s: f"{s['train_wall_s']:.1f}"),
    ("env steps/s", lambda s: f"{s['env_steps_per_s']:.0f}"),
)


def comparison_table(results: dict[str, dict[str, Any]], title: str) -> Table:
    """Runs side by side, one column each: return, sparsity, size, FLOPs, latency, time."""
    table = Table(title=title)
    table.add_column("")
    for label in results:
        table.add_column(label, justify="right")
    for name, cell in ROWS:
        table.add_row(name, *(cell(s) for s in results.values()))
    return table


@app.command("demo")
@friendly_errors
def demo(
    steps: Annotated[int, typer.Option(help="Env steps per run.")] = DEMO_STEPS,
    sparsity: Annotated[float, typer.Option(help="Target sparsity of the pruned run.")] = 0.9,
    seed: Annotated[int, typer.Option(help="Random seed of both runs.")] = 0,
    episodes: Annotated[int, typer.Option(help="Final evaluation episodes.")] = 20,
    out: Annotated[Path, typer.Option(help="Where both run directories go.")] = DEMO_OUT,
    parallel: Annotated[
        bool | None,
        typer.Option("--parallel/--sequential", help="Two processes (default on 2+ cores) or one."),
    ] = None,
) -> None:
    """Train DQN on CartPole-v1 dense and pruned during training (GMP), then compare them."""
    configs = demo_configs(steps, sparsity, seed, episodes)
    console.print(
        f"prunerl demo: {DEMO_ALGO} on {DEMO_ENV}, {steps:,} env steps, seed {seed}; "
        f"runs: {', '.join(configs)} (gradual magnitude pruning to {sparsity:.0%}, "
        "Zhu & Gupta 2017)",
        highlight=False,
    )
    start = time.perf_counter()

    def announce(label: str) -> None:
        console.print(f"training {label} …", highlight=False)

    results = run_demo(configs, out, parallel, on_start=announce)
    title = (
        f"{DEMO_ALGO} on {DEMO_ENV}: dense vs pruned during training "
        f"({episodes} eval episodes, seed {seed})"
    )
    console.print(comparison_table(results, title))
    console.print(
        f"run directories: {', '.join(str(Path(out) / k) for k in results)} "
        f"(total {time.perf_counter() - start:.0f} s)",
        highlight=False,
    )
