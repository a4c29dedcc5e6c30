"""``prunerl prune``: the performance-gated loop on a trained run, into a new run directory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from prunerl.cli.app import UserError, app, console, err_console, friendly_errors
from prunerl.experiments.prune_session import PruneInterrupted, prune_run, resume_prune
from prunerl.loop.config import LoopConfig
from prunerl.loop.history import StepRecord


def parse_target(text: str) -> float | dict[str, float]:
    """``0.95`` or ``actor=0.95,critic=0.8`` (networks or parameter patterns)."""
    if "=" not in text:
        try:
            return float(text)
        except ValueError:
            raise UserError(
                f"--target must be a sparsity like 0.95 or name=value pairs like "
                f"actor=0.95,critic=0.8; got {text!r}"
            ) from None
    out: dict[str, float] = {}
    for part in text.split(","):
        name, _, value = part.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise UserError(f"--target entry {part!r} must be name=sparsity") from None
    return out


def parse_sets(items: list[str], flag: str) -> dict[str, Any]:
    """``key=value`` pairs, values parsed as YAML (``3e-4``, ``false``, ``[64, 64]``)."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise UserError(f"{flag} expects key=value, got {item!r}")
        out[key.strip()] = yaml.safe_load(raw)
    return out


def report(record: StepRecord) -> None:
    """One short line per evaluated point of the loop (the full reason is in history.csv)."""
    colour = {"accept": "green", "rollback": "red"}.get(record.action, "cyan")
    line = (
        f"{record.iteration:3d} [{colour}]{record.action:8s}[/] {record.sparsity:7.2%}  "
        f"return {record.return_mean:6.1f} [{record.ci_low:.0f}, {record.ci_high:.0f}]"
    )
    line += f"  ({record.episodes} ep)"
    if record.action in ("accept", "rollback"):
        sign = ">=" if record.accepted else "<"
        line += f"  gate {record.gate_value:.0f} {sign} {record.gate_threshold:.0f}"
        line += f"  +{record.finetune_steps} steps"
    adapt = record.reason.rpartition("; ")[2] if record.action == "rollback" else ""
    console.print(f"{line}  {adapt}".rstrip(), highlight=False)


@app.command("prune")
@friendly_errors
def prune(
    run_dir: Annotated[
        Path, typer.Argument(help="A trained run (or, with --resume, a prune run).")
    ],
    target: Annotated[
        str, typer.Option(help="Final sparsity (0.95) or per network (actor=0.95,critic=0.8).")
    ] = "0.9",
    tolerance: Annotated[float, typer.Option(help="Allowed return drop (see --mode).")] = 0.05,
    mode: Annotated[str, typer.Option(help="relative (of |reference|) | absolute.")] = "relative",
    evidence: Annotated[
        str, typer.Option(help="point | lower_bound | non_inferiority (paired CI).")
    ] = "non_inferiority",
    method: Annotated[
        str, typer.Option(help="Criterion or method: magnitude, gradient, taylor, random…")
    ] = "magnitude",
    scope: Annotated[str, typer.Option(help="layer | global.")] = "layer",
    distribution: Annotated[
        str | None, typer.Option(help="erk (default) | uniform; for layer scope.")
    ] = None,
    step: Annotated[float, typer.Option(help="Share of remaining weights cut first.")] = 0.5,
    min_step: Annotated[float, typer.Option(help="Stop when the step shrinks below.")] = 0.05,
    finetune_steps: Annotated[
        int, typer.Option(help="Env steps of RL fine-tuning when distillation fails.")
    ] = 10_000,
    budget: Annotated[
        int | None, typer.Option(help="Env steps of training the loop may spend.")
    ] = None,
    threshold: Annotated[
        float | None, typer.Option(help="Return to reach by training before pruning.")
    ] = None,
    episodes: Annotated[int, typer.Option(help="Episodes of the gate's first look.")] = 20,
    max_episodes: Annotated[
        int, typer.Option(help="While unclear the gate looks again with 2x, up to this.")
    ] = 80,
    holdout_episodes: Annotated[
        int, typer.Option(help="Fresh episodes the final policy is verified on.")
    ] = 50,
    distill_steps: Annotated[
        int, typer.Option(help="Distillation steps from the reference after each prune.")
    ] = 2000,
    lr_scale: Annotated[
        float, typer.Option(help="Fine-tune at this share of the agent's learning rate.")
    ] = 0.1,
    networks: Annotated[
        list[str] | None, typer.Option("--network", help="Network to prune (repeatable).")
    ] = None,
    structured: Annotated[bool, typer.Option(help="Prune whole neurons, then cut them.")] = False,
    sensitivity: Annotated[
        bool, typer.Option(help="Per-layer targets from a sensitivity analysis first.")
    ] = False,
    checkpoint: Annotated[str, typer.Option(help="Source checkpoint: last | best.")] = "last",
    sets: Annotated[
        list[str] | None, typer.Option("--set", help="Other loop option: --set grow=1.5.")
    ] = None,
    agent_sets: Annotated[
        list[str] | None,
        typer.Option(
            "--agent-set", help="Fine-tuning hyperparameter: --agent-set anneal_lr=false."
        ),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="New run directory (default runs/…).")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing run at --out.")] = False,
    resume: Annotated[
        bool, typer.Option(help="Continue the interrupted prune run RUN_DIR.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No per-step lines.")] = False,
) -> None:
    """Prune a trained run step by step, keeping only steps whose return stays in tolerance;
    the result is verified on held-out episodes (README: what the gate guarantees).

    Example: prunerl prune runs/CartPole-v1_dqn_dense_s0 --target 0.95 --tolerance 0.05
    """
    reporter = None if quiet else report
    try:
        if resume:
            summary = resume_prune(run_dir, report=reporter)
        else:
            options: dict[str, Any] = {
                "target": parse_target(target),
                "tolerance": tolerance,
                "mode": mode,
                "evidence": evidence,
                "method": method,
                "scope": scope,
                "distribution": distribution,
                "step": step,
                "min_step": min_step,
                "finetune_steps": finetune_steps,
                "budget": budget,
                "threshold": threshold,
                "eval_episodes": episodes,
                "max_eval_episodes": max_episodes,
                "holdout_episodes": holdout_episodes,
                "distill_steps": distill_steps,
                "lr_scale": lr_scale,
                "networks": networks or None,
                "structured": structured,
                "agent_overrides": parse_sets(agent_sets or [], "--agent-set"),
                **parse_sets(sets or [], "--set"),
            }
            config = LoopConfig.from_dict(options)
            summary = prune_run(
                run_dir,
                config,
                out,
                checkpoint=checkpoint,
                overwrite=overwrite,
                analyse=sensitivity,
                report=reporter,
            )
    except PruneInterrupted as exc:
        err_console.print(
            "[yellow]interrupted:[/] the last accepted step is checkpointed; continue with "
            f"`prunerl prune {exc.args[0]} --resume`",
            highlight=False,
        )
        raise typer.Exit(code=130) from None
    colour = "green" if summary["stop_reason"] == "target_reached" else "yellow"
    console.print(f"[{colour}]{summary['stop_reason']}:[/] {summary['message']}", highlight=False)
    if summary["verification_message"]:
        ok = summary["status"] == "verified"
        label = "[green]verified:[/]" if ok else f"[bold yellow]warning ({summary['status']}):[/]"
        console.print(f"{label} {summary['verification_message']}", highlight=False)
    console.print(
        f"final: {summary['loop_sparsity']:.2%} of {summary['pruned']} pruned, return "
        f"{summary['final_return_mean']:.1f} ± {summary['final_return_std']:.1f} on "
        f"{summary['eval_episodes']} held-out episodes, {summary['accepted_steps']} steps "
        f"accepted, {summary['rollbacks']} rolled back, {summary['loop_env_steps']} env steps "
        f"of training, {summary['eval_episodes_total']} evaluation episodes",
        highlight=False,
    )
    console.print(f"run directory: {summary['run_dir']}", highlight=False)
