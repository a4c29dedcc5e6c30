"""The gated loop on run directories: prune a trained run into a new, resumable run directory.

    summary = prune_run("runs/dqn", LoopConfig(target=0.95, tolerance=0.05), out="runs/dqn-p95")
    summary = resume_prune("runs/dqn-p95")        # after an interruption

The new directory is a run like any other (``prunerl evaluate`` reads it) plus the loop's files:

    OUT/config.yaml        the source run's config, its pruning section the loop's pruner
    OUT/prune.yaml         the loop's settings and the source run (what a resume needs)
    OUT/history.csv        one row per evaluation: sparsity, return with CI, accept/rollback, why
    OUT/summary.json       the final result (written when the loop ends)
    OUT/checkpoints/       last.pt: the last accepted point, rewritten after every row;
                           reference.pt: the networks pruned ones are distilled towards
    OUT/sensitivity.json   (+ .png) per-layer curves, when asked for

A resumed run continues from the last accepted point with the same reference networks; the
states it distils on are gathered anew (they are not checkpointed), so after a resume an agent
that is distilled may take another path than an uninterrupted run would.

This module is the loop's face on the run layer (:mod:`prunerl.experiments`), which it uses
for configs, checkpoints and summaries; the loop itself (:mod:`prunerl.loop.controller`)
knows nothing of files.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from prunerl.experiments.checkpoint import load_checkpoint, restore_checkpoint, save_checkpoint
from prunerl.experiments.config import RunConfig, build_config, load_yaml
from prunerl.experiments.env_state import restore_agent_envs, snapshot_agent_envs
from prunerl.experiments.run_dir import (
    RunDir,
    atomic_open,
    atomic_write,
    default_out,
    write_json,
    write_yaml,
)
from prunerl.experiments.runner import build_agent, load_run
from prunerl.experiments.summary import build_summary
from prunerl.loop.config import LoopConfig
from prunerl.loop.controller import GatedPruner
from prunerl.loop.history import StepRecord
from prunerl.loop.result import LoopResult
from prunerl.loop.sensitivity import DEFAULT_SPARSITIES, layer_targets, sensitivity
from prunerl.loop.structured import agent_subject
from prunerl.loop.subject import AgentLoopSubject, AgentSubject, loop_pruning_config

LOOP_FILES = ("prune.yaml", "history.csv", "sensitivity.json", "sensitivity.png")
Reporter = Callable[[StepRecord], None]


class PruneInterrupted(Exception):
    """Ctrl-C stopped the loop; ``args[0]`` is the run directory to resume."""


def with_sensitivity(subject: AgentSubject, config: LoopConfig, out: RunDir) -> AgentSubject:
    """Analyse the acting network's layers, save the curves, return a subject with per-layer
    targets (the other pruned networks keep the loop's target)."""
    assert isinstance(config.target, float)
    result = sensitivity(
        subject, DEFAULT_SPARSITIES, episodes=config.eval_episodes, seed=config.eval_seed
    )
    write_json(out.path / "sensitivity.json", result.to_dict())
    with contextlib.suppress(ImportError):  # matplotlib is optional (prunerl[plots])
        result.plot(out.path / "sensitivity.png", title=subject.agent.env_id)
    targets: dict[str, float] = dict(
        layer_targets(result, config.target, config.tolerance, config.mode)
    )
    covered = {t.network for t in subject.pruner.targets}
    analysed = {t.network for t in subject.pruner.targets if t.name in targets}
    for network in sorted(covered - analysed):
        targets[network] = config.target
    new = dataclasses.replace(config, target=targets)
    return AgentSubject(subject.agent, new, base_config=subject.base_config)


def write_run_files(
    out: RunDir, config: RunConfig, loop: LoopConfig, source: dict[str, Any]
) -> None:
    """config.yaml (a valid run config, its pruner the loop's) and prune.yaml."""
    pruning = None  # neurons: the structural state in the checkpoint rebuilds the agent
    if not loop.structured:
        pruning = {**loop_pruning_config(loop).to_dict(), "networks": loop.networks}
    data = {**config.to_dict(), "pruning": pruning}
    build_config(data)  # it must stay a valid run config for `prunerl evaluate`
    write_yaml(out.config, data)
    write_yaml(out.path / "prune.yaml", {"source": source, "loop": loop.to_dict()})


def prune_run(
    source: str | Path,
    config: LoopConfig,
    out: str | Path | None = None,
    *,
    checkpoint: str = "last",
    overwrite: bool = False,
    analyse: bool = False,
    report: Reporter | None = None,
) -> dict[str, Any]:
    """Prune the trained run ``source`` with the gated loop into a new run directory."""
    if analyse and (config.structured or isinstance(config.target, dict)):
        raise ValueError(
            "--sensitivity sets per-layer weight targets itself: give one --target value and "
            "no --structured"
        )
    src, run_config, agent = load_run(source, checkpoint, with_buffer=True)
    subject = agent_subject(agent, config)
    GatedPruner(subject, config)  # bad targets fail here, before any file is written
    tag = f"prune{round(config.max_target * 100)}"
    path = out or default_out(run_config.env_id, run_config.algo, run_config.seed, tag)
    run = RunDir.create(path, overwrite)
    for name in LOOP_FILES:
        (run.path / name).unlink(missing_ok=True)
    source_info = {"run_dir": str(src.path), "checkpoint": checkpoint, "sensitivity": analyse}
    write_run_files(run, run_config, config, source_info)  # a run directory from now on
    if analyse:
        assert isinstance(subject, AgentSubject)
        subject = with_sensitivity(subject, config, run)
        write_run_files(run, run_config, subject.config, source_info)  # per-layer targets
    return Session(run, subject, None, report).run()


def resume_prune(run_dir: str | Path, report: Reporter | None = None) -> dict[str, Any]:
    """Continue an interrupted prune run from its last checkpoint."""
    run = RunDir.open(run_dir)
    spec_path = run.path / "prune.yaml"
    if not spec_path.is_file():
        raise ValueError(f"{str(run.path)!r} is not a prune run (no prune.yaml)")
    if run.is_finished():
        raise ValueError(
            f"prune run {str(run.path)!r} already finished (it has summary.json); evaluate it "
            f"with `prunerl evaluate {run.path}`, or start another prune run with a new --out"
        )
    spec = load_yaml(spec_path)
    loop = LoopConfig.from_dict(spec["loop"])
    try:
        _, agent = build_agent(build_config(load_yaml(run.config)))
        state, meta = load_checkpoint(run, "last")
    except FileNotFoundError:  # stopped before the first record: start again from the source
        source = spec["source"]
        _, _, agent = load_run(source["run_dir"], source["checkpoint"], with_buffer=True)
        subject = agent_subject(agent, loop)
        if source.get("sensitivity") and not isinstance(loop.target, dict):
            assert isinstance(subject, AgentSubject)
            subject = with_sensitivity(subject, loop, run)  # it was cut off: do it again
            write_run_files(run, build_config(load_yaml(run.config)), subject.config, source)
        return Session(run, subject, None, report).run()
    restore_checkpoint(agent, run, state, meta)
    restore_agent_envs(agent, meta["run"].get("env", {}))
    subject = agent_subject(agent, loop)
    reference = run.checkpoint("reference")
    if reference.is_file():
        subject.load_recovery_state(torch.load(reference, weights_only=True))
    return Session(run, subject, meta["run"], report).run()


class Session:
    """One stretch of a prune run: the loop with a checkpoint and history.csv after each row."""

    def __init__(
        self,
        run: RunDir,
        subject: AgentLoopSubject,
        state: dict[str, Any] | None,
        report: Reporter | None,
    ) -> None:
        self.run_dir, self.subject, self.report = run, subject, report
        self.elapsed = float(state.get("elapsed_s", 0.0)) if state else 0.0
        self.t0 = time.perf_counter()
        self.reference_saved = False  # checkpoints/reference.pt written by this session
        self.loop = GatedPruner(subject, subject.config, on_record=self.on_record)
        if state:
            self.loop.load_state_dict(state["loop"])

    def wall_s(self) -> float:
        return self.elapsed + time.perf_counter() - self.t0

    def on_record(self, loop: GatedPruner, record: StepRecord) -> None:
        agent = self.subject.agent
        recovery = None if self.reference_saved else self.subject.recovery_state()
        if recovery is not None:  # once per session, when the prune phase has begun
            path = self.run_dir.checkpoint("reference")
            atomic_write(path, lambda f: torch.save(recovery, f), binary=True)
            self.reference_saved = True
        meta = {"loop": loop.state_dict(), "elapsed_s": self.wall_s()}
        meta["env"] = snapshot_agent_envs(agent)
        save_checkpoint(agent, self.run_dir, "last", meta)
        with atomic_open(self.run_dir.path / "history.csv") as f:
            f.write(loop.history.to_csv())
        if self.report is not None:
            self.report(record)

    def run(self) -> dict[str, Any]:
        try:
            result = self.loop.run()
        except KeyboardInterrupt:  # the checkpoint on disk is the last accepted point
            raise PruneInterrupted(str(self.run_dir.path)) from None
        if self.subject.finish():  # e.g. the structural cut: save the smaller networks
            meta = {"loop": self.loop.state_dict(), "elapsed_s": self.wall_s()}
            save_checkpoint(self.subject.agent, self.run_dir, "last", meta)
        summary = self.summary(result)
        write_json(self.run_dir.summary, summary)
        return summary

    def summary(self, result: LoopResult) -> dict[str, Any]:
        """The standard run summary of the final policy (its returns: the held-out episodes),
        plus the loop's outcome."""
        c, agent, check = self.subject.config, self.subject.agent, result.verification
        if check is None:  # stopped before pruning: evaluate the policy on the held-out seeds
            returns = self.subject.evaluate(c.holdout_episodes, c.holdout_seed)
        else:
            assert self.loop.verifier.returns is not None
            returns = self.loop.verifier.returns
        seeds = list(range(c.holdout_seed, c.holdout_seed + c.holdout_episodes))
        wall = self.wall_s()
        gate = result.final
        best = (gate.mean, agent.num_timesteps)
        summary = build_summary(agent, np.asarray(returns).reshape(-1), seeds, [], best, wall, wall)
        summary.update(
            env_steps_per_s=result.env_steps / max(wall, 1e-9),
            run_dir=str(self.run_dir.path),
            stop_reason=result.stop_reason,
            message=result.message,
            status=result.status,
            verification=None if check is None else check.to_dict(),
            verification_message="" if check is None else str(check),
            succeeded=result.succeeded,
            target=c.target,
            tolerance=c.tolerance,
            tolerance_mode=c.mode,
            evidence=c.evidence,
            statistic=c.statistic,
            reference=result.reference.to_dict(),
            gate_final=gate.to_dict(),
            group_sparsity=result.group_sparsity,
            loop_env_steps=result.env_steps,
            eval_episodes_total=sum(r.episodes for r in result.history),
            iterations=self.loop.iteration,
            accepted_steps=result.accepted_steps,
            rollbacks=result.rollbacks,
            pruned="neurons" if c.structured else "weights",
            loop_sparsity=result.sparsity,
        )
        if c.structured:
            summary["architecture"] = getattr(self.subject, "architecture", dict)()
        return summary
