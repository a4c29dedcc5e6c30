"""``prunerl export``: write a run's final policy as TorchScript, ONNX or a numpy-runtime npz."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from prunerl.cli.app import UserError, app, console, friendly_errors
from prunerl.experiments.checkpoint import load_checkpoint
from prunerl.experiments.config import build_config, load_yaml
from prunerl.experiments.run_dir import RunDir
from prunerl.experiments.runner import build_agent
from prunerl.rl.export import FORMATS, check_format, export_agent
from prunerl.rl.structured import layer_widths


@app.command("export")
@friendly_errors
def export(
    run_dir: Annotated[Path, typer.Argument(help="A run directory written by `prunerl train`.")],
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="torchscript | onnx | npz (numpy runtime).")
    ] = "npz",
    out: Annotated[
        Path | None, typer.Option(help="Output file (default RUN_DIR/export/policy.<ext>).")
    ] = None,
    csr: Annotated[
        bool, typer.Option("--csr", help="npz: store every weight matrix in CSR (weight-pruned).")
    ] = False,
    checkpoint: Annotated[str, typer.Option(help="last (final policy) or best.")] = "last",
) -> None:
    """Export the policy network of a run's final checkpoint, cut if structurally pruned.

    Example: prunerl export runs/dqn_neurons75 --format npz --out policy.npz
    """
    check_format(fmt)
    if checkpoint not in ("last", "best"):
        raise UserError(f"--checkpoint must be 'last' or 'best', got {checkpoint!r}")
    if csr and fmt != "npz":
        raise UserError(f"--csr applies to --format npz only, not {fmt!r}; drop --csr")
    run = RunDir.open(run_dir)
    _, agent = build_agent(build_config(load_yaml(run.config)))
    try:
        state, _ = load_checkpoint(run, checkpoint)
    except FileNotFoundError:
        raise UserError(
            f"run {str(run.path)!r} has no {checkpoint!r} checkpoint to export "
            f"(checkpoints/{checkpoint}.pt); finish it first with `prunerl train --resume "
            f"{run.path}`"
        ) from None
    agent.load_state_dict(state)
    path = export_agent(agent, fmt, out or run.path / "export" / f"policy{FORMATS[fmt]}", csr)
    widths = layer_widths(agent.policy_network())
    cut = agent.structured is not None and agent.structured.is_cut
    console.print(
        f"exported {agent.algo} policy (layer widths {widths}{', cut' if cut else ''}, step "
        f"{agent.num_timesteps}) to {path} ({path.stat().st_size:,} bytes)",
        highlight=False,
    )
