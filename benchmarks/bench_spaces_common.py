"""Shared by the space-pruning benchmarks: train with an early stop, evaluate, print tables."""

from __future__ import annotations

import dataclasses
import json
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

import prunerl.rl.dqn
import prunerl.rl.ppo
import prunerl.rl.sac  # noqa: F401  (the agents register on import)
from prunerl.rl.base import Agent, agents
from prunerl.rl.callbacks import Callback, CallbackList
from prunerl.rl.evaluate import evaluate_policy

torch.set_num_threads(1)


class EarlyStop(Callback):
    """Stop once a 10-episode greedy evaluation reaches ``target`` (checked every ``every``)."""

    def __init__(self, target: float | None, every: int) -> None:
        self.target, self.every, self.next = target, every, every

    def on_step(self, agent: Agent) -> bool:
        if self.target is None or agent.num_timesteps < self.next:
            return True
        self.next += self.every
        ret = evaluate_policy(agent.predict, agent.env_id, 10, 500, agent.env_kwargs).mean()
        return bool(ret < self.target)


def train(
    algo: str,
    env_id: str,
    seed: int,
    steps: int,
    config_env: str,
    target: float | None = None,
    every: int = 8192,
    callbacks: Sequence[Callback] = (),
    env_kwargs: dict[str, Any] | None = None,
    overrides: dict[str, Any] | None = None,
) -> tuple[Agent, float]:
    """An agent of ``algo`` trained with ``config_env``'s tuned hyperparameters; wall seconds."""
    cls = agents.get(algo)
    config = cls.config_cls.for_env(config_env)  # type: ignore[attr-defined]
    config = dataclasses.replace(config, **(overrides or {}))
    agent = cls(env_id, config, seed=seed, env_kwargs=env_kwargs)
    start = time.perf_counter()
    agent.learn(steps, CallbackList([EarlyStop(target, every), *callbacks]))
    return agent, time.perf_counter() - start


def final_return(agent: Agent, episodes: int = 20, seed: int = 20_000) -> float:
    """Mean greedy return on episodes no decision saw (seeds 20000+)."""
    return float(
        evaluate_policy(agent.predict, agent.env_id, episodes, seed, agent.env_kwargs).mean()
    )


def table(rows: list[dict[str, Any]], columns: Sequence[str]) -> str:
    """A markdown table of ``rows`` (floats to 3 significant digits)."""

    def fmt(v: Any) -> str:
        return f"{v:.3g}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(fmt(r.get(c, "")) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def grouped_means(
    rows: list[dict[str, Any]], keys: Sequence[str], values: Sequence[str]
) -> list[dict[str, Any]]:
    """Mean (and min) of ``values`` over the rows sharing ``keys`` (i.e. over seeds)."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(tuple(r[k] for k in keys), []).append(r)
    out = []
    for key, members in groups.items():
        row: dict[str, Any] = dict(zip(keys, key, strict=True))
        row["seeds"] = len(members)
        for v in values:
            data = [float(m[v]) for m in members]
            row[v] = statistics.mean(data)
            row[f"min {v}"] = min(data)
        out.append(row)
    return out


def save(rows: list[dict[str, Any]], path: str | None) -> None:
    if path:
        Path(path).write_text(json.dumps(rows, indent=2))
