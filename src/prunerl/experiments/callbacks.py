"""The run's callbacks: metrics.csv rows, periodic evaluation, checkpoints, the Ctrl-C flag.

Each keeps what a resumed run needs in ``state_dict()`` (stored in the checkpoint's JSON).
"""

from __future__ import annotations

import csv
import math
import random
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch

from prunerl.rl.base import Agent
from prunerl.rl.callbacks import Callback
from prunerl.rl.evaluate import evaluate_policy

METRIC_COLUMNS = (
    "env_step",
    "wall_s",
    "episodes",
    "episode_return",
    "episode_length",
    "loss",
    "sparsity",
    "steps_per_s",
    "eval_return_mean",
)


def crossed(last: int, now: int, every: int) -> bool:
    """Whether a multiple of ``every`` lies in (last, now] (so resumed runs keep the same grid)."""
    return now // every > last // every


def at_target(agent: Agent) -> bool:
    """Whether pruning has reached its final target (only such policies can be the best one).

    Otherwise the "best" policy of a pruned run could be a dense one from before pruning began.
    """
    if agent.structured is not None and not agent.structured.at_target():
        return False  # neurons still being masked, or not cut yet
    pruner = agent.pruner
    if pruner is None:
        return True
    step = pruner.last_step
    return all(s.sparsity_at(step) >= s.final_sparsity - 1e-9 for s in pruner.schedules)


def agent_sparsity(agent: Agent) -> float:
    """Sparsity over the pruned networks (0 for a dense agent)."""
    return agent.pruner.sparsity() if agent.pruner is not None else 0.0


@contextmanager
def preserved_rng() -> Iterator[None]:
    """Run a block (evaluation) without moving the global random streams training draws from."""
    torch_state, np_state, py_state = (
        torch.get_rng_state(),
        np.random.get_state(),
        random.getstate(),
    )
    try:
        yield
    finally:
        torch.set_rng_state(torch_state)
        np.random.set_state(np_state)
        random.setstate(py_state)


class Clock:
    """Wall time of training, with evaluation and checkpoint time (overhead) kept apart."""

    def __init__(self, elapsed: float = 0.0, overhead: float = 0.0) -> None:
        self.start = time.perf_counter() - elapsed
        self.overhead = overhead

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def train_s(self) -> float:
        return self.elapsed() - self.overhead

    @contextmanager
    def aside(self) -> Iterator[None]:
        """Count the block as overhead, not training."""
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.overhead += time.perf_counter() - t0


class Evaluator(Callback):
    """Evaluates the deterministic policy every ``every`` env steps; keeps the best one.

    The best policy is chosen among those at the final sparsity (see :func:`at_target`).
    """

    def __init__(
        self,
        env_id: str,
        episodes: int,
        every: int,
        seed: int,
        env_kwargs: dict[str, Any],
        clock: Clock,
        on_best: Callable[[Agent], None],
    ) -> None:
        self.env_id, self.episodes, self.every, self.seed = env_id, episodes, every, seed
        self.env_kwargs, self.clock, self.on_best = env_kwargs, clock, on_best
        self.history: list[dict[str, Any]] = []  # step, mean, std, at_target of each
        self.best_mean = -math.inf
        self.best_step = -1
        self.last: np.ndarray | None = None  # returns of the latest evaluation

    @property
    def seeds(self) -> list[int]:
        return list(range(self.seed, self.seed + self.episodes))

    def on_step(self, agent: Agent) -> bool:
        last = int(self.history[-1]["step"]) if self.history else 0
        if crossed(last, agent.num_timesteps, self.every):
            self.evaluate(agent)
        return True

    def evaluate(self, agent: Agent) -> np.ndarray:
        """Returns of one evaluation; records it and calls ``on_best`` on a new best mean."""
        with self.clock.aside(), preserved_rng():
            returns = evaluate_policy(
                agent.predict, self.env_id, self.episodes, self.seed, self.env_kwargs
            )
            self.last = returns
            mean, std = float(returns.mean()), float(returns.std())
            eligible = at_target(agent)
            self.history.append(
                {"step": agent.num_timesteps, "mean": mean, "std": std, "at_target": eligible}
            )
            if eligible and mean > self.best_mean:
                self.best_mean, self.best_step = mean, agent.num_timesteps
                self.on_best(agent)
        return returns

    def state_dict(self) -> dict[str, Any]:
        best = None if math.isinf(self.best_mean) else self.best_mean  # strict JSON: no -Infinity
        return {"history": self.history, "best_mean": best, "best_step": self.best_step}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.history = list(state["history"])
        best = state["best_mean"]
        self.best_mean = -math.inf if best is None else float(best)
        self.best_step = int(state["best_step"])


class MetricsLogger(Callback):
    """Appends a metrics.csv row every ``every`` env steps (means since the previous row)."""

    def __init__(self, path: Any, every: int, clock: Clock, evaluator: Evaluator) -> None:
        self.path, self.every, self.clock, self.evaluator = path, every, clock, evaluator
        self.last_step, self.last_train_s, self.episodes = 0, 0.0, 0
        self.returns: list[float] = []
        self.lengths: list[int] = []
        self.losses: list[float] = []
        self.recent_return = math.nan

    def on_training_start(self, agent: Agent) -> None:
        if not self.path.exists():
            with open(self.path, "w", newline="") as f:
                csv.writer(f).writerow(METRIC_COLUMNS)
        self.last_step = agent.num_timesteps
        self.last_train_s = self.clock.train_s()

    def on_episode(self, agent: Agent, episode_return: float, length: int) -> None:
        self.returns.append(episode_return)
        self.lengths.append(length)
        self.episodes += 1
        self.recent_return = episode_return

    def on_update(self, agent: Agent, metrics: dict[str, float]) -> None:
        losses = [v for k, v in metrics.items() if k == "loss" or k.endswith("_loss")]
        if losses:
            self.losses.append(float(metrics.get("loss", sum(losses))))

    def on_step(self, agent: Agent) -> bool:
        if crossed(self.last_step, agent.num_timesteps, self.every):
            self.write_row(agent)
        return True

    def write_row(self, agent: Agent) -> None:
        train_s = self.clock.train_s()
        steps = agent.num_timesteps - self.last_step
        evals = [h for h in self.evaluator.history if h["step"] > self.last_step]
        row = [
            agent.num_timesteps,
            round(self.clock.elapsed(), 3),
            self.episodes,
            _mean(self.returns),
            _mean(self.lengths),
            _mean(self.losses),
            round(agent_sparsity(agent), 6),
            round(steps / max(train_s - self.last_train_s, 1e-9), 1),
            evals[-1]["mean"] if evals else "",
        ]
        with open(self.path, "a", newline="") as f:
            csv.writer(f).writerow(row)
        self.last_step, self.last_train_s = agent.num_timesteps, train_s
        self.returns, self.lengths, self.losses = [], [], []

    def state_dict(self) -> dict[str, Any]:
        return {
            "episodes": self.episodes,
            "recent_return": None if math.isnan(self.recent_return) else self.recent_return,
            "pending": {"returns": self.returns, "lengths": self.lengths, "losses": self.losses},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.episodes = int(state["episodes"])
        recent = state["recent_return"]
        self.recent_return = math.nan if recent is None else float(recent)
        pending = state["pending"]
        self.returns, self.lengths = list(pending["returns"]), list(pending["lengths"])
        self.losses = list(pending["losses"])


def _mean(values: list[float] | list[int]) -> float | str:
    return round(float(np.mean(values)), 6) if values else ""


class Checkpointer(Callback):
    """Calls ``save(agent)`` every ``every`` env steps (the run's last.pt)."""

    def __init__(self, every: int, save: Callable[[Agent], None], clock: Clock) -> None:
        self.every, self.save, self.clock = every, save, clock
        self.last_step = 0

    def on_training_start(self, agent: Agent) -> None:
        self.last_step = agent.num_timesteps

    def on_step(self, agent: Agent) -> bool:
        if crossed(self.last_step, agent.num_timesteps, self.every):
            with self.clock.aside():
                self.save(agent)
            self.last_step = agent.num_timesteps
        return True


class StopFlag(Callback):
    """Stops training at the next step boundary once ``set()`` (the Ctrl-C handler sets it)."""

    def __init__(self) -> None:
        self.stop = False

    def set(self, *_: Any) -> None:
        self.stop = True

    def on_step(self, agent: Agent) -> bool:
        return not self.stop


@contextmanager
def graceful_interrupt(flag: StopFlag) -> Iterator[None]:
    """First Ctrl-C: stop at the next step boundary (clean checkpoint); second: stop at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        if flag.stop:
            raise KeyboardInterrupt
        flag.set()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
