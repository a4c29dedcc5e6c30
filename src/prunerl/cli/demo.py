"""``prunerl demo``: the main job — PPO on CartPole-v1, dense vs made smaller by the gated loop."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from prunerl.cli.app import app, console, err_console, friendly_errors
from prunerl.cli.prune import report
from prunerl.experiments import PruneInterrupted, TrainingInterrupted
from prunerl.experiments.demo import (
    BATCH,
    DEMO_ALGO,
    DEMO_ENV,
    DEMO_STEPS,
    DEMO_TARGET,
    DEMO_TOLERANCE,
    DemoResult,
    demo_loop_config,
    export_and_measure,
    prune_dense,
    train_dense,
)
from prunerl.rl.base import Agent
from prunerl.rl.callbacks import Callback

DEMO_OUT = Path("runs/demo")


class TrainingBar(Callback):
    """A progress bar over the dense training run."""

    def __init__(self, progress: Progress, total: int) -> None:
        self.progress, self.task = progress, progress.add_task("train", total=total)

    def on_step(self, agent: Agent) -> bool:
        if agent.num_timesteps % 1000 < 8:
            self.progress.update(self.task, completed=agent.num_timesteps)
        return True

    def on_training_end(self, agent: Agent) -> None:
        self.progress.update(self.task, completed=agent.num_timesteps)


def _ratio(base: float, other: float) -> str:
    return f"{other:,.1f} ({base / other:.2f}x)"


def demo_table(result: DemoResult) -> Table:
    """Dense and pruned side by side; the last column says what each number rests on."""
    d, p, rows = result.dense, result.pruned, result.rows
    check, lat = p["verification"], rows["latency"]
    dn, pn = lat["dense, numpy runtime"], lat["pruned, numpy runtime"]
    torch1 = lat["dense, torch (agent.predict)"]["batch1_us"]
    table = Table(title=f"{DEMO_ALGO} on {DEMO_ENV}: dense vs pruned (neurons removed, cut)")
    for column in ("", "dense", "pruned", "rests on"):
        table.add_column(column, justify="left" if column in ("", "rests on") else "right")
    table.add_row(
        f"return, {check['episodes']} held-out episodes",
        f"{check['reference_mean']:.1f}",
        f"{check['mean']:.1f}",
        "checked (1)",
    )
    widths = {k: "-".join(map(str, rows[k]["widths"][:-1])) for k in ("dense", "pruned")}
    table.add_row("hidden layer widths", widths["dense"], widths["pruned"], "counted")
    for name, key in (("policy parameters", "params"), ("FLOPs per action", "flops")):
        a, b = rows["dense"][key], rows["pruned"][key]
        table.add_row(name, f"{a:,}", f"{b:,} ({a / b:.1f}x fewer)", "counted")
    a, b = rows["dense"]["file_bytes"], rows["pruned"]["file_bytes"]
    table.add_row("policy file (.npz)", f"{a:,} B", f"{b:,} B", "measured")
    for batch, key in ((1, "batch1_us"), (BATCH, f"batch{BATCH}_us")):
        name = f"latency, batch {batch}, numpy"
        table.add_row(name, f"{dn[key]:,.1f} µs", _ratio(dn[key], pn[key]), "timed here (2)")
    table.add_row("latency, batch 1, torch", f"{torch1:,.1f} µs", "-", "timed here (2)")
    steps = f"+{p['loop_env_steps']:,}"
    table.add_row("env steps of training", f"{d['total_env_steps']:,}", steps, "counted")
    return table


def notes(result: DemoResult) -> list[str]:
    """What the table's footnotes say, with this run's numbers."""
    p, check = result.pruned, result.pruned["verification"]
    return [
        f"(1) pruned >= dense - {p['tolerance']:.0%} (>= {check['threshold']:.1f}) on the same "
        f"{check['episodes']} held-out episodes (seeds {check['first_seed']}+), which no "
        f"pruning decision used; status: {p['status']}. Holds by construction: a result that "
        "misses it falls back to an earlier accepted point.",
        "(2) medians of interleaved rounds on this machine: the µs differ between machines, "
        "the dense/pruned ratio is what carries over. Unstructured sparsity would not speed "
        "up these kernels; removing neurons does.",
    ]


@app.command("demo")
@friendly_errors
def demo(
    steps: Annotated[int, typer.Option(help="Env steps of dense training.")] = DEMO_STEPS,
    target: Annotated[
        float, typer.Option(help="Share of hidden neurons to remove, at most.")
    ] = DEMO_TARGET,
    tolerance: Annotated[
        float, typer.Option(help="Allowed return drop, relative to dense.")
    ] = DEMO_TOLERANCE,
    budget: Annotated[
        int, typer.Option(help="Env steps of RL fine-tuning the loop may spend (0: none).")
    ] = 50_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    out: Annotated[Path, typer.Option(help="Where both run directories go.")] = DEMO_OUT,
) -> None:
    """Train PPO on CartPole-v1, prune whole neurons with the gated loop, export, compare."""
    console.print(
        f"prunerl demo: {DEMO_ALGO} on {DEMO_ENV}, {steps:,} env steps, seed {seed}; then the "
        f"gated loop removes hidden neurons (up to {target:.0%}) while the return stays within "
        f"{tolerance:.0%} of dense, and cuts them out",
        highlight=False,
    )
    loop = demo_loop_config(target, tolerance, budget)  # bad settings fail before training
    start = time.perf_counter()
    progress = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=console,
    )  # fmt: skip
    try:
        with progress:
            dense = train_dense(out, steps, seed, [TrainingBar(progress, steps)])
        console.print("gated loop (neurons): one line per evaluated step", highlight=False)
        pruned = prune_dense(out, loop, on_record=report)
        console.print("exporting both policies and timing them side by side…", highlight=False)
        result = DemoResult(dense, pruned, export_and_measure(out), out)
    except (KeyboardInterrupt, TrainingInterrupted, PruneInterrupted):
        err_console.print("[yellow]interrupted:[/] run `prunerl demo` again to start over")
        raise typer.Exit(code=130) from None
    console.print(demo_table(result))
    for line in notes(result):
        console.print(line, highlight=False)
    console.print(
        f"run directories: {out / 'dense'}, {out / 'pruned'} (exported policies in "
        f"export/policy.npz; total {time.perf_counter() - start:.0f} s)",
        highlight=False,
    )
