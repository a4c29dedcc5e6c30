"""``prunerl export``: write a run's final policy as TorchScript, ONNX or a numpy-runtime npz."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from prunerl.cli.app import UserError, app, console, friendly_errors
from prunerl.experiments.runner import load_run
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
    if csr and fmt != "npz":
        raise UserError(f"--csr applies to --format npz only, not {fmt!r}; drop --csr")
    run, _, agent = load_run(run_dir, checkpoint)
    path = export_agent(agent, fmt, out or run.path / "export" / f"policy{FORMATS[fmt]}", csr)
    widths = layer_widths(agent.policy_network())
    cut = agent.structured is not None and agent.structured.is_cut
    console.print(
        f"exported {agent.algo} policy (layer widths {widths}{', cut' if cut else ''}, step "
        f"{agent.num_timesteps}) to {path} ({path.stat().st_size:,} bytes)",
        highlight=False,
    )
