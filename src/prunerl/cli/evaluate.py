"""``prunerl evaluate``: run a trained policy from a run directory on fixed evaluation episodes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from prunerl.cli.app import app, console, friendly_errors
from prunerl.experiments import evaluate as evaluate_run


@app.command("evaluate")
@friendly_errors
def evaluate(
    run_dir: Annotated[Path, typer.Argument(help="A run directory written by `prunerl train`.")],
    episodes: Annotated[
        int | None, typer.Option("--episodes", "-n", help="Episodes (default: the run's, 20).")
    ] = None,
    checkpoint: Annotated[str, typer.Option(help="last (final policy) or best.")] = "last",
    seed: Annotated[int | None, typer.Option(help="First episode seed (default: run's).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Evaluate a run's final (or best) policy deterministically: mean ± std return."""
    if episodes is not None and episodes <= 0:
        raise ValueError(f"--episodes must be positive, got {episodes}")
    result = evaluate_run(run_dir, episodes=episodes, checkpoint=checkpoint, seed=seed)
    if as_json:
        print(json.dumps(result, indent=2))
        return
    console.print(
        f"{result['algo']} on {result['env_id']} ({result['checkpoint']} checkpoint, step "
        f"{result['num_timesteps']}, sparsity {result['sparsity']:.1%}): return "
        f"{result['return_mean']:.1f} ± {result['return_std']:.1f} over {result['episodes']} "
        f"episodes (seeds {result['eval_seeds'][0]}..{result['eval_seeds'][-1]})",
        highlight=False,
    )
