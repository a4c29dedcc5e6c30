"""Run a config: build the agent, train with logging/eval/checkpoints, write the run directory.

summary = train(build_config({...}), out="runs/dqn90")
summary = resume("runs/dqn90")            # continue from checkpoints/last.pt
result = evaluate("runs/dqn90", episodes=50)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from prunerl.core.finite import NonFiniteError
from prunerl.experiments.algos import agent_class, agent_hyperparameters, hyperparameters_dict
from prunerl.experiments.callbacks import (
    Checkpointer,
    Clock,
    Evaluator,
    MetricsLogger,
    StopFlag,
    graceful_interrupt,
)
from prunerl.experiments.checkpoint import load_checkpoint, restore_checkpoint, save_checkpoint
from prunerl.experiments.config import RunConfig, build_config, load_yaml
from prunerl.experiments.env_state import restore_agent_envs, snapshot_agent_envs
from prunerl.experiments.progress import ProgressBar
from prunerl.experiments.run_dir import (
    RunDir,
    default_out,
    read_json,
    truncate_metrics,
    write_json,
    write_yaml,
)
from prunerl.experiments.summary import build_summary
from prunerl.rl.base import Agent
from prunerl.rl.callbacks import Callback, CallbackList
from prunerl.rl.envs import check_env_id, import_gym_packages
from prunerl.rl.evaluate import evaluate_policy
from prunerl.rl.structured import StructuredPruner


class TrainingInterrupted(Exception):
    """Training stopped by Ctrl-C after writing a checkpoint; ``args[0]`` is the run directory."""


def build_agent(config: RunConfig) -> tuple[RunConfig, Agent]:
    """Validate env and algo, build the agent; return the config with all hyperparameters filled."""
    import_gym_packages(config.gym_packages)
    check_env_id(config.env_id)
    cls = agent_class(config.algo)
    hyper = agent_hyperparameters(cls, config.env_id, config.agent)
    agent = cls(
        config.env_id,
        hyper,
        pruning=config.pruning_config(),
        prune_networks=config.prune_networks(),
        seed=config.seed,
        env_kwargs=config.env_kwargs,
        flush_denormal=config.flush_denormal,
    )
    structured = config.structured_config()
    if structured is not None:  # neurons masked in env steps, then cut (agent.structured)
        StructuredPruner(agent, structured)
    resolved = config.model_copy(update={"algo": cls.algo, "agent": hyperparameters_dict(hyper)})
    return resolved, agent


def run_tag(config: RunConfig) -> str:
    """A short name part for the pruning setting, e.g. ``gmp90``, ``neurons75``."""
    if config.pruning is None:
        return "dense"
    parts = []
    if "method" in config.pruning:
        sparsity = config.pruning["sparsity"]
        amount = f"{round(sparsity * 100)}" if isinstance(sparsity, float) else "mixed"
        parts.append(f"{config.pruning['method']}{amount}")
    if config.pruning.get("structured") is not None:
        sparsity = config.pruning["structured"]["sparsity"]
        amount = f"{round(sparsity * 100)}" if isinstance(sparsity, float) else "mixed"
        parts.append(f"neurons{amount}")
    return "-".join(parts)


def train(
    config: RunConfig,
    out: str | Path | None = None,
    overwrite: bool = False,
    callbacks: list[Callback] | None = None,
    quiet: bool | None = None,
) -> dict[str, Any]:
    """Train ``config`` into a new run directory and return its summary.

    ``quiet`` (None: the config's ``logging.quiet``) hides the progress bar for this call only.
    """
    resolved, agent = build_agent(config)  # every input error surfaces before any file is written
    run = RunDir.create(
        out or default_out(resolved.env_id, resolved.algo, resolved.seed, run_tag(resolved)),
        overwrite,
    )
    write_yaml(run.config, resolved.to_dict())
    return Session(run, resolved, agent, None, callbacks or [], quiet).run()


def resume(
    run_dir: str | Path, callbacks: list[Callback] | None = None, quiet: bool | None = None
) -> dict[str, Any]:
    """Continue an interrupted run from its last checkpoint and its own config."""
    run = RunDir.open(run_dir)
    if run.is_finished():
        raise ValueError(
            f"run {str(run.path)!r} already finished (it has summary.json); evaluate it with "
            f"`prunerl evaluate {run.path}`, or train a fresh run with its settings and more "
            f"steps: `prunerl train --config {run.config} --set total_steps=N --out NEW_DIR`"
        )
    config = build_config(load_yaml(run.config))
    resolved, agent = build_agent(config)
    try:
        state, meta = load_checkpoint(run, "last")
    except FileNotFoundError:
        raise ValueError(
            f"run {str(run.path)!r} has no checkpoint to resume from (it stopped before the "
            f"first one); start it again with `prunerl train --config {run.config} "
            f"--out {run.path} --overwrite`"
        ) from None
    restore_checkpoint(agent, run, state, meta)
    restore_agent_envs(agent, meta["run"].get("env", {}))
    return Session(run, resolved, agent, meta["run"], callbacks or [], quiet).run()


def load_run(
    run_dir: str | Path, checkpoint: str = "last", *, with_buffer: bool = False
) -> tuple[RunDir, RunConfig, Agent]:
    """A run directory's agent, rebuilt from its ``config.yaml``, at checkpoint ``last`` or
    ``best``; ``with_buffer`` also restores the replay buffer and global random states (to go
    on training), which reading the policy does not need."""
    if checkpoint not in ("last", "best"):
        raise ValueError(f"checkpoint must be 'last' or 'best', got {checkpoint!r}")
    run = RunDir.open(run_dir)
    config, agent = build_agent(build_config(load_yaml(run.config)))
    state, meta = load_checkpoint(run, checkpoint)
    if with_buffer:
        restore_checkpoint(agent, run, state, meta)
    else:
        agent.load_state_dict(state)
    return run, config, agent


def evaluate(
    run_dir: str | Path,
    episodes: int | None = None,
    checkpoint: str = "last",
    seed: int | None = None,
) -> dict[str, Any]:
    """Evaluate a run's saved policy (``last`` or ``best``) on fixed episode seeds."""
    run, config, agent = load_run(run_dir, checkpoint)
    n = episodes if episodes is not None else config.eval.episodes
    first = config.eval.seed if seed is None else seed
    returns = evaluate_policy(agent.predict, config.env_id, n, first, config.env_kwargs)
    return {
        "run_dir": str(run.path),
        "checkpoint": checkpoint,
        "env_id": config.env_id,
        "algo": config.algo,
        "num_timesteps": agent.num_timesteps,
        "episodes": n,
        "return_mean": float(returns.mean()),
        "return_std": float(returns.std()),
        "returns": [float(r) for r in returns],
        "eval_seeds": list(range(first, first + n)),
        "sparsity": agent.pruner.sparsity() if agent.pruner is not None else 0.0,
    }


class Session:
    """One stretch of training of a run directory (a fresh run, or a resumed one)."""

    def __init__(
        self,
        run: RunDir,
        config: RunConfig,
        agent: Agent,
        state: dict[str, Any] | None,
        extra: list[Callback],
        quiet: bool | None = None,
    ) -> None:
        self.rundir, self.config, self.agent = run, config, agent
        state = state or {}
        self.clock = Clock(state.get("elapsed_s", 0.0), state.get("overhead_s", 0.0))
        ev = config.eval
        assert ev.every is not None and config.logging.every and config.checkpoint.every
        self.evaluator = Evaluator(
            config.env_id, ev.episodes, ev.every, ev.seed, config.env_kwargs, self.clock,
            on_best=lambda a: self.save(a, "best"),
        )  # fmt: skip
        self.logger = MetricsLogger(run.metrics, config.logging.every, self.clock, self.evaluator)
        self.stop = StopFlag()
        saver = Checkpointer(config.checkpoint.every, lambda a: self.save(a, "last"), self.clock)
        self.callbacks: list[Callback] = [self.evaluator, self.logger, saver, *extra, self.stop]
        if agent.structured is not None:  # first: a cut lands before this step's evaluation
            self.callbacks.insert(0, agent.structured)
        self.bar: ProgressBar | None = None
        if not (config.logging.quiet if quiet is None else quiet):
            label = f"{config.algo} {config.env_id}"
            self.bar = ProgressBar(config.total_steps, label, self.logger, self.clock)
            self.callbacks.append(self.bar)
        if state:
            self.evaluator.load_state_dict(state["evaluator"])
            self.logger.load_state_dict(state["logger"])
            truncate_metrics(run.metrics, agent.num_timesteps)
            self._adopt_later_best()

    def _adopt_later_best(self) -> None:
        """A best.pt saved after the resumed checkpoint stays the best (it is on disk)."""
        path = self.rundir.checkpoint("best").with_suffix(".json")
        if path.is_file():
            meta = read_json(path)
            if meta["num_timesteps"] > self.agent.num_timesteps:
                saved = meta["run"]["evaluator"]
                self.evaluator.best_mean = float(saved["best_mean"])
                self.evaluator.best_step = int(saved["best_step"])

    def state_dict(self) -> dict[str, Any]:
        """What the run (beyond the agent) needs to resume, as JSON data."""
        return {
            "elapsed_s": self.clock.elapsed(),
            "overhead_s": self.clock.overhead,
            "evaluator": self.evaluator.state_dict(),
            "logger": self.logger.state_dict(),
            "env": snapshot_agent_envs(self.agent),
        }

    def save(self, agent: Agent, name: str) -> None:
        keep_buffer = self.config.checkpoint.keep_buffer and name == "last"
        save_checkpoint(agent, self.rundir, name, self.state_dict(), keep_buffer)

    def run(self) -> dict[str, Any]:
        """Train to ``total_steps``, evaluate, write the final checkpoint and summary.json.

        Ctrl-C (or a KeyboardInterrupt) at any point writes ``last`` and raises
        :class:`TrainingInterrupted`; ``resume`` picks up from there.
        """
        agent, total = self.agent, self.config.total_steps
        torch.set_num_threads(self.config.threads)
        try:
            with graceful_interrupt(self.stop):
                agent.learn(total, CallbackList(self.callbacks))
            if self.bar is not None:
                self.bar.close()
            if not (self.stop.stop and agent.num_timesteps < total):
                return self.finish()
        except KeyboardInterrupt:
            pass
        except NonFiniteError as exc:  # nothing more is written: the checkpoints stay good
            raise NonFiniteError(f"{exc}. {self._kept()}") from None
        finally:
            if self.bar is not None:
                self.bar.close()
        self.save(agent, "last")
        raise TrainingInterrupted(str(self.rundir.path))

    def _kept(self) -> str:
        """What a diverged run leaves on disk, in words."""
        meta = self.rundir.checkpoint("last").with_suffix(".json")
        if not meta.is_file():
            return f"Training stopped before its first checkpoint ({self.rundir.path})"
        step = read_json(meta)["num_timesteps"]
        return (
            f"Training stopped; {self.rundir.path} keeps its last good checkpoint (env step "
            f"{step}) and metrics.csv up to the divergence"
        )

    def finish(self) -> dict[str, Any]:
        """Final evaluation (unless one ran at this step), final checkpoint, summary.json."""
        agent, ev = self.agent, self.evaluator
        if not ev.history or ev.history[-1]["step"] != agent.num_timesteps or ev.last is None:
            ev.evaluate(agent)
        assert ev.last is not None
        self.save(agent, "last")
        summary = build_summary(
            agent,
            ev.last,
            ev.seeds,
            ev.history,
            (ev.best_mean, ev.best_step),
            self.clock.train_s(),
            self.clock.elapsed(),
        )
        summary["run_dir"] = str(self.rundir.path)
        write_json(self.rundir.summary, summary)
        return summary
