"""Callbacks: how logging, evaluation, checkpoints and progress bars hook into training.

Template methods in the style of Stable-Baselines3: agents call these at fixed points of
their loop; a callback that returns False from :meth:`Callback.on_step` stops training.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prunerl.rl.base import Agent


class Callback:
    """Base callback: every hook is a no-op."""

    def on_training_start(self, agent: Agent) -> None:
        return None

    def on_step(self, agent: Agent) -> bool:
        """After each environment step (``agent.num_timesteps`` already advanced)."""
        return True

    def on_episode(self, agent: Agent, episode_return: float, length: int) -> None:
        """When a training episode ends."""
        return None

    def on_update(self, agent: Agent, metrics: dict[str, float]) -> None:
        """After a round of gradient updates, with the agent's losses and statistics."""
        return None

    def on_training_end(self, agent: Agent) -> None:
        return None


class CallbackList(Callback):
    """Several callbacks called in order."""

    def __init__(self, callbacks: Sequence[Callback]) -> None:
        self.callbacks = list(callbacks)

    def on_training_start(self, agent: Agent) -> None:
        for c in self.callbacks:
            c.on_training_start(agent)

    def on_step(self, agent: Agent) -> bool:
        keep_going = True
        for c in self.callbacks:
            keep_going = c.on_step(agent) and keep_going
        return keep_going

    def on_episode(self, agent: Agent, episode_return: float, length: int) -> None:
        for c in self.callbacks:
            c.on_episode(agent, episode_return, length)

    def on_update(self, agent: Agent, metrics: dict[str, float]) -> None:
        for c in self.callbacks:
            c.on_update(agent, metrics)

    def on_training_end(self, agent: Agent) -> None:
        for c in self.callbacks:
            c.on_training_end(agent)
