"""``prunerl explain RUN_DIR``: which observation features and actions were removed, and why.

With ``--prune observations|actions|both`` it first scores and decides on the run's saved
policy (``prunerl.spaces.prune_observations`` / ``prune_actions``) and writes ``spaces.json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from prunerl.cli.app import app, console, friendly_errors
from prunerl.experiments.runner import load_run
from prunerl.spaces import prune_actions, prune_observations
from prunerl.spaces.report import headline, plot_scores, score_rows
from prunerl.spaces.results import SPACES_FILE, SpacePruning, load_spaces, save_spaces

PRUNE_CHOICES = ("observations", "actions", "both")


def _prune_run(
    run_dir: Path,
    what: str,
    obs_method: str,
    action_method: str,
    tolerance: float,
    episodes: int,
    checkpoint: str,
) -> None:
    """Score and decide on the run's policy, then write ``RUN_DIR/spaces.json``."""
    if what not in PRUNE_CHOICES:
        raise ValueError(f"--prune must be one of {', '.join(PRUNE_CHOICES)}, got {what!r}")
    agent = load_run(run_dir, checkpoint)[2]
    found: list[SpacePruning] = []
    if what in ("observations", "both"):
        found.append(prune_observations(agent, obs_method, tolerance=tolerance, episodes=episodes))
    if what in ("actions", "both"):
        found.append(prune_actions(agent, action_method, tolerance=tolerance, episodes=episodes))
    save_spaces(run_dir, *found)


def _score_table(pruning: SpacePruning, top: int | None) -> Table:
    table = Table(caption="* the measure the decision used", caption_justify="left")
    table.add_column("#", justify="right")
    table.add_column("name")
    table.add_column("decision")
    for name in pruning.scores:
        label = f"{name} *" if name == pruning.method else name
        table.add_column(escape(label), justify="right")
    rows = score_rows(pruning)
    for row in rows[:top] if top else rows:
        decision = "[green]kept[/]" if row["kept"] else "[red]removed[/]"
        scores = [f"{row[name]:.4g}" for name in pruning.scores]
        table.add_row(str(row["index"]), escape(row["name"]), decision, *scores)
    return table


def _trial_table(pruning: SpacePruning) -> Table:
    table = Table(
        caption="least important first; each return is with all accepted removals so far",
        caption_justify="left",
    )
    for column in ("tried removing", "return", "accepted"):
        table.add_column(column)
    for trial in pruning.trials:
        name = ", ".join(pruning.names[i] for i in trial["items"])
        accepted = "[green]yes[/]" if trial["accepted"] else "[red]no: needed[/]"
        table.add_row(escape(name), f"{trial['value']:.1f}", accepted)
    return table


@app.command("explain")
@friendly_errors
def explain(
    run_dir: Annotated[Path, typer.Argument(help=f"Run directory holding {SPACES_FILE}.")],
    plot: Annotated[bool, typer.Option("--plot/--no-plot", help="Write bar charts (PNG).")] = True,
    top: Annotated[int | None, typer.Option(help="Show only the N most important items.")] = None,
    out: Annotated[Path | None, typer.Option(help="Folder for the PNGs (default RUN_DIR).")] = None,
    prune: Annotated[
        str | None,
        typer.Option(help="First decide on the run's policy: observations|actions|both."),
    ] = None,
    obs_method: Annotated[
        str, typer.Option(help="Feature measure used to decide.")
    ] = "permutation",
    action_method: Annotated[str, typer.Option(help="Action measure used to decide.")] = "usage",
    tolerance: Annotated[float, typer.Option(help="Allowed relative drop in return.")] = 0.05,
    episodes: Annotated[int, typer.Option(help="Episodes per return measurement.")] = 10,
    checkpoint: Annotated[str, typer.Option(help="Policy to prune: last or best.")] = "last",
) -> None:
    """Show the features and actions removed from a run, with the scores behind the decision."""
    if not run_dir.exists():
        raise FileNotFoundError(f"{run_dir} does not exist; pass a run directory")
    if prune is not None:
        _prune_run(run_dir, prune, obs_method, action_method, tolerance, episodes, checkpoint)
    spaces = load_spaces(run_dir)
    folder = out or (run_dir if run_dir.is_dir() else run_dir.parent)
    for kind, pruning in spaces.items():
        console.print(f"[bold]{escape(headline(pruning))}[/]")
        console.print(_score_table(pruning, top))
        removed = ", ".join(pruning.names[i] for i in pruning.dropped) or "nothing"
        console.print(f"removed: {escape(removed)}")
        if pruning.trials:
            console.print(_trial_table(pruning))
        if plot:
            path = plot_scores(pruning, folder / f"spaces_{kind}.png")
            console.print(f"bar chart: {escape(str(path))}")
        console.print()
