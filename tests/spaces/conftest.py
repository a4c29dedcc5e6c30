"""Shared fixtures for the spaces tests."""

from __future__ import annotations

import pytest

from prunerl.rl.dqn import DQN

from .helpers import controller_agent


@pytest.fixture
def cartpole_agent() -> DQN:
    """A real DQN agent holding a hand-built CartPole controller (no training)."""
    return controller_agent(n_distractors=4)
