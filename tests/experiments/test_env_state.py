"""Env snapshots: a restored env continues exactly where the saved one was."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from prunerl.experiments.env_state import restore_env, snapshot_env
from prunerl.rl.envs import make_env, make_vec_env


def _roll(env: Any, steps: int) -> list[list[Any]]:
    out = []
    for _ in range(steps):
        obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
        out.append([np.asarray(x).tolist() for x in (obs, reward, terminated, truncated)])
        if np.all(np.asarray(terminated) | np.asarray(truncated)) and not hasattr(env, "envs"):
            env.reset()
    return out


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1", "MountainCar-v0"])
def test_restored_env_continues_identically(env_id: str) -> None:
    env = make_env(env_id, seed=1)
    env.reset(seed=1)
    _roll(env, 17)
    snap = json.loads(json.dumps(snapshot_env(env)))  # must be plain JSON data
    fresh = make_env(env_id, seed=99)
    restore_env(fresh, snap)
    assert _roll(fresh, 60) == _roll(env, 60)


def test_vector_env_round_trip() -> None:
    env = make_vec_env("CartPole-v1", 2, seed=0)
    env.reset(seed=0)
    _roll(env, 30)
    snap = json.loads(json.dumps(snapshot_env(env)))
    fresh = make_vec_env("CartPole-v1", 2, seed=5)
    restore_env(fresh, snap)
    assert _roll(fresh, 40) == _roll(env, 40)


def test_other_wrappers_are_refused() -> None:
    snap = snapshot_env(make_env("CartPole-v1"))
    with pytest.raises(ValueError, match="same env id"):
        restore_env(make_env("Acrobot-v1"), snap[:3])
