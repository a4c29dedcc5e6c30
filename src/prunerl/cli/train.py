"""``prunerl train``: train an agent (optionally pruned while it learns) into a run directory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from prunerl.cli.app import UserError, app, console, err_console, friendly_errors
from prunerl.experiments import TrainingInterrupted, apply_overrides, build_config, load_yaml
from prunerl.experiments import resume as resume_run
from prunerl.experiments import train as train_run


def config_dict(
    config: Path | None,
    flags: dict[str, Any],
    prune: str | None,
    sparsity: float | None,
    overrides: list[str],
) -> dict[str, Any]:
    """The run config from ``--config``, then the flags, then ``--set`` overrides."""
    data = load_yaml(config) if config is not None else {}
    data.update({k: v for k, v in flags.items() if v is not None and v != []})
    if prune is not None and prune.lower() == "none":
        data["pruning"] = None
    elif prune is not None or sparsity is not None:
        pruning = dict(data.get("pruning") or {})
        if prune is not None and prune != pruning.get("method"):
            pruning = {
                k: v for k, v in pruning.items() if k in ("sparsity", "networks", "structured")
            }
            pruning["method"] = prune
        pruning.setdefault("method", "gmp")
        if sparsity is not None:
            pruning["sparsity"] = sparsity
        data["pruning"] = pruning
    data = apply_overrides(data, overrides)
    for key, flag in (
        ("env_id", "--env ID"),
        ("algo", "--algo NAME"),
        ("total_steps", "--steps N"),
    ):
        if key not in data:
            raise UserError(f"missing {key}: give {flag} (or {key}: in the --config file)")
    return data


@app.command("train", context_settings={"allow_extra_args": True})
@friendly_errors
def train(
    ctx: typer.Context,
    env: Annotated[str | None, typer.Option(help="Gymnasium env id, e.g. CartPole-v1.")] = None,
    algo: Annotated[str | None, typer.Option(help="dqn | ppo | sac.")] = None,
    steps: Annotated[int | None, typer.Option(help="Env steps to train for.")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed (default 0).")] = None,
    threads: Annotated[
        int | None, typer.Option(help="Torch threads (default 1: fastest for small networks).")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Run directory (default runs/…).")] = None,
    prune: Annotated[
        str | None,
        typer.Option(
            help="Pruning method: gmp (gradual, 20%→75% of the run; the default with "
            "--sparsity), magnitude (one-shot at 75%), lottery, static, set, rigl; or none. "
            "`prunerl methods` lists all; pruning.* keys via --set (e.g. pruning.distribution=erk)."
        ),
    ] = None,
    sparsity: Annotated[
        float | None,
        typer.Option(
            help="Target sparsity in [0, 1), the same in every layer "
            "(--set pruning.distribution=erk keeps small layers denser)."
        ),
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="Run config YAML, or a shipped one: dqn_cartpole_gmp90…")
    ] = None,
    overrides: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a config key: --set agent.learning_rate=3e-4."),
    ] = None,
    gym_packages: Annotated[
        list[str] | None, typer.Option(help="Modules that register custom envs (imported first).")
    ] = None,
    resume: Annotated[Path | None, typer.Option(help="Continue this interrupted run.")] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an existing run at --out.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Train an agent, pruned during training if asked, and write a run directory.

    Example: prunerl train --env CartPole-v1 --algo dqn --steps 50000 --prune gmp
    --sparsity 0.9 --out runs/dqn90
    """
    overrides, gym_packages = overrides or [], gym_packages or []
    extra = list(ctx.args)
    if extra and not gym_packages:
        raise UserError(f"unexpected argument(s) {extra}; options start with -- (see --help)")
    packages = [*gym_packages, *extra]  # `--gym-packages a b` (RL-Zoo style) leaves b extra
    try:
        if resume is not None:
            given = [env, algo, steps, seed, threads, out, prune, sparsity, config, packages]
            given.append(overrides)
            if any(v not in (None, []) for v in given):
                raise UserError(
                    "--resume continues a run with its own config; give no other options"
                )
            summary = resume_run(resume, quiet=quiet or None)
        else:
            flags: dict[str, Any] = {"env_id": env, "algo": algo, "total_steps": steps}
            flags.update(seed=seed, threads=threads, gym_packages=packages)
            data = config_dict(config, flags, prune, sparsity, overrides)
            summary = train_run(
                build_config(data), out=out, overwrite=overwrite, quiet=quiet or None
            )
    except TrainingInterrupted as exc:
        err_console.print(
            f"[yellow]interrupted:[/] checkpoint written; resume with "
            f"`prunerl train --resume {exc.args[0]}`",
            highlight=False,
        )
        raise typer.Exit(code=130) from None
    if not quiet:
        print_summary(summary)
    console.print(f"run directory: {summary['run_dir']}", highlight=False)


def print_summary(summary: dict[str, Any]) -> None:
    """A few lines of the result (the full record is summary.json)."""
    console.print(
        f"{summary['algo']} on {summary['env_id']}: return {summary['final_return_mean']:.1f} "
        f"± {summary['final_return_std']:.1f} over {summary['eval_episodes']} episodes "
        f"(best {_number(summary['best_return_mean'])}), sparsity {summary['sparsity']:.1%}, "
        f"{summary['params_nonzero']}/{summary['params_total']} params, "
        f"{summary['train_wall_s']:.1f} s ({summary['env_steps_per_s']:.0f} steps/s)",
        highlight=False,
    )


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"
