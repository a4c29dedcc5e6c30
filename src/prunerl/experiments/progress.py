"""The training progress bar: steps, recent return, sparsity and steps/s (rich.progress)."""

from __future__ import annotations

import math
import time

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from prunerl.experiments.callbacks import Clock, MetricsLogger, agent_sparsity
from prunerl.rl.base import Agent
from prunerl.rl.callbacks import Callback


class ProgressBar(Callback):
    """A rich progress bar: steps, recent return, sparsity, steps/s (refreshed a few times a s)."""

    def __init__(self, total: int, label: str, logger: MetricsLogger, clock: Clock) -> None:
        self.total, self.label, self.logger, self.clock = total, label, logger, clock
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("return {task.fields[ret]}  sparsity {task.fields[sp]}  {task.fields[sps]}"),
            TimeRemainingColumn(),
        )
        self.task = self.progress.add_task(label, total=total, ret="-", sp="-", sps="-")
        self.next_refresh = 0.0
        self.start_step, self.start_s = 0, 0.0

    def on_training_start(self, agent: Agent) -> None:
        self.start_step, self.start_s = agent.num_timesteps, self.clock.train_s()
        self.progress.start()
        self._refresh(agent)

    def on_step(self, agent: Agent) -> bool:
        now = time.perf_counter()
        if now >= self.next_refresh:
            self.next_refresh = now + 0.25
            self._refresh(agent)
        return True

    def _refresh(self, agent: Agent) -> None:
        ret = self.logger.recent_return
        rate = (agent.num_timesteps - self.start_step) / max(
            self.clock.train_s() - self.start_s, 1e-9
        )
        self.progress.update(
            self.task,
            completed=agent.num_timesteps,
            ret="-" if math.isnan(ret) else f"{ret:.1f}",
            sp=f"{agent_sparsity(agent):.0%}",
            sps=f"{rate:.0f} steps/s",
        )

    def on_training_end(self, agent: Agent) -> None:
        self._refresh(agent)
        self.close()

    def close(self) -> None:
        """Stop the live display (safe to call twice, e.g. after an interrupt)."""
        self.progress.stop()
