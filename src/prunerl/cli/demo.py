"""``prunerl demo``: the main job — DQN on CartPole-v1, dense vs pruned to 90% while it learns."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from prunerl.cli.app import app, console, err_console, friendly_errors
from prunerl.experiments import TrainingInterrupted
from prunerl.experiments.demo import DEMO_ALGO, DEMO_ENV, DEMO_STEPS, demo_configs, run_demo

DEMO_OUT = Path("runs/demo")


def _mean_std(mean: float | None, std: float | None) -> str:
    return "-" if mean is None or std is None else f"{mean:.1f} ± {std:.1f}"


ROWS: tuple[tuple[str, Callable[[dict[str, Any]], str]], ...] = (
    ("final policy return", lambda s: _mean_std(s["final_return_mean"], s["final_return_std"])),
    ("best policy, held-out", lambda s: _mean_std(s["best_held_out_mean"], s["best_held_out_std"])),
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
        f"runs: {', '.join(configs)} (gradual magnitude pruning to {sparsity:.0%}, Zhu & Gupta "
        "2017, spread over layers by ERK, Evci et al. 2020)",
        highlight=False,
    )
    start = time.perf_counter()
    progress = Progress(
        TextColumn("[bold]{task.description:>6}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("return {task.fields[ret]:>5}  sparsity {task.fields[sp]:>4}"),
        TimeElapsedColumn(),
        console=console,
    )
    tasks = {label: progress.add_task(label, total=steps, ret="-", sp="-") for label in configs}

    def update(label: str, step: int, recent: float, sparsity_now: float) -> None:
        ret = "-" if math.isnan(recent) else f"{recent:.0f}"
        progress.update(tasks[label], completed=step, ret=ret, sp=f"{sparsity_now:.0%}")

    try:
        with progress:
            results = run_demo(configs, out, parallel, on_progress=update)
    except (KeyboardInterrupt, TrainingInterrupted):
        err_console.print("[yellow]interrupted:[/] run `prunerl demo` again to start over")
        raise typer.Exit(code=130) from None
    title = f"{DEMO_ALGO} on {DEMO_ENV}, seed {seed}: dense vs pruned during training"
    console.print(comparison_table(results, title))
    console.print(
        f"returns: mean ± std over {episodes} episodes; the best policy (chosen by periodic "
        f"evaluation, at the final sparsity) is re-evaluated on {episodes} held-out episodes",
        highlight=False,
    )
    console.print(
        f"run directories: {', '.join(str(Path(out) / k) for k in results)} "
        f"(total {time.perf_counter() - start:.0f} s)",
        highlight=False,
    )
