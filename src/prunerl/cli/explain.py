"""``prunerl explain RUN_DIR``: which observation features and actions were removed, and why.

With ``--prune observations|actions|both`` it first scores and decides on the run's saved
policy (``prunerl.spaces.prune_observations`` / ``prune_actions``) and writes ``spaces.json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from prunerl.cli.app import app, console, friendly_errors
from prunerl.experiments.runner import load_run
from prunerl.spaces import prune_actions, prune_observations
from prunerl.spaces.report import (
    decision_text,
    headline,
    interval_text,
    plot_scores,
    score_rows,
)
from prunerl.spaces.results import SPACES_FILE, SpacePruning, load_spaces, save_spaces

PRUNE_CHOICES = ("observations", "actions", "both")


def _prune_run(
    run_dir: Path,
    what: str,
    obs_method: str,
    action_method: str,
    checkpoint: str,
    **evidence: Any,
) -> None:
    """Score and decide on the run's policy, then write ``RUN_DIR/spaces.json``; ``evidence``:
    tolerance, episodes, max_episodes, confidence."""
    if what not in PRUNE_CHOICES:
        raise ValueError(f"--prune must be one of {', '.join(PRUNE_CHOICES)}, got {what!r}")
    agent = load_run(run_dir, checkpoint)[2]
    found: list[SpacePruning] = []
    if what in ("observations", "both"):
        found.append(prune_observations(agent, obs_method, **evidence))
    if what in ("actions", "both"):
        found.append(prune_actions(agent, action_method, **evidence))
    save_spaces(run_dir, *found)


def _score_table(pruning: SpacePruning, top: int | None) -> Table:
    level = f"{pruning.confidence:.0%} " if pruning.confidence is not None else ""
    caption = (
        "* the measure the decision used; CI: its confidence interval over paired episodes; "
        "kept: needed/unclear = kept on the score's CI alone"
    )
    table = Table(caption=caption, caption_justify="left")
    table.add_column("#", justify="right")
    table.add_column("name")
    table.add_column("decision")
    for name in pruning.scores:
        label = f"{name} *" if name == pruning.method else name
        table.add_column(escape(label), justify="right")
        if name in pruning.intervals:
            table.add_column(f"{level}CI", justify="right")
            table.add_column("episodes", justify="right")
    rows = score_rows(pruning)
    for row in rows[:top] if top else rows:
        text = decision_text(row)
        decision = f"[red]{text}[/]" if text == "removed" else f"[green]{text}[/]"
        cells = []
        for name in pruning.scores:
            cells.append(f"{row[name]:.4g}")
            if name in pruning.intervals:
                cells += [interval_text(row[f"{name} ci"]), str(row[f"{name} episodes"])]
        table.add_row(str(row["index"]), escape(row["name"]), decision, *cells)
    return table


def _trial_table(pruning: SpacePruning) -> Table:
    table = Table(
        caption="least important first; each return is with all accepted removals so far; "
        "drop: mean paired drop below the baseline (or the previous step) with its CI",
        caption_justify="left",
    )
    for column in ("tried removing", "return", "drop", "CI", "episodes", "accepted"):
        table.add_column(column)
    for trial in pruning.trials:
        name = ", ".join(pruning.names[i] for i in trial["items"])
        against = trial.get("against", "baseline")
        why = trial.get("verdict") or "needed"
        why += "" if against == "baseline" else f" (vs {against})"
        accepted = "[green]yes[/]" if trial["accepted"] else f"[red]no: {escape(why)}[/]"
        drop = trial.get("drop")
        table.add_row(
            escape(name),
            f"{trial['value']:.1f}",
            "n/a" if drop is None else f"{drop:.3g}",
            interval_text([trial.get("low"), trial.get("high")]),
            str(trial.get("episodes") or ""),
            accepted,
        )
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
    tolerance: Annotated[
        float,
        typer.Option(
            help="Allowed relative drop in mean return; an item is removed only where paired "
            "episodes show, at --confidence, that the drop stays within it."
        ),
    ] = 0.05,
    episodes: Annotated[
        int, typer.Option(help="Episodes per measurement at first (same seeds for every one).")
    ] = 10,
    max_episodes: Annotated[
        int,
        typer.Option(
            help="While a score or removal is unclear, episodes double up to this many; "
            "still unclear, the item is kept."
        ),
    ] = 160,
    confidence: Annotated[
        float, typer.Option(help="Confidence level of the bootstrap intervals.")
    ] = 0.95,
    checkpoint: Annotated[str, typer.Option(help="Policy to prune: last or best.")] = "last",
) -> None:
    """Show the features and actions removed from a run, with the scores behind the decision.

    Scores measured on episodes (permutation, removal) show their confidence interval and the
    episodes behind it: the baseline and every change are played on the same episode seeds.
    """
    if not run_dir.exists():
        raise FileNotFoundError(f"{run_dir} does not exist; pass a run directory")
    if prune is not None:
        _prune_run(
            run_dir,
            prune,
            obs_method,
            action_method,
            checkpoint,
            tolerance=tolerance,
            episodes=episodes,
            max_episodes=max_episodes,
            confidence=confidence,
        )
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
