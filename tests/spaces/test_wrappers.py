from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from prunerl.rl.envs import make_env
from prunerl.spaces.wrappers import (
    REDUCED_ENV_ID,
    SelectActions,
    SelectObservation,
    reduced_env_kwargs,
)


class ImageEnv(gym.Env[np.ndarray, np.int64]):
    """Channels-first uint8 observations whose channel c is filled with the value c."""

    def __init__(self) -> None:
        self.observation_space = gym.spaces.Box(0, 255, (4, 6, 6), np.uint8)
        self.action_space = gym.spaces.Discrete(2)

    def _obs(self) -> np.ndarray:
        return np.broadcast_to(np.arange(4, dtype=np.uint8)[:, None, None], (4, 6, 6)).copy()

    def reset(self, **kwargs: object) -> tuple[np.ndarray, dict]:
        return self._obs(), {}

    def step(self, action: object) -> tuple[np.ndarray, float, bool, bool, dict]:
        return self._obs(), 0.0, False, False, {}


def test_select_observation_vector_keeps_features_and_names() -> None:
    env = SelectObservation(make_env("prunerl/CartPoleDistractors-v0"), [3, 0, 2])
    obs, _ = env.reset(seed=0)
    assert obs.shape == (3,) and env.observation_space.shape == (3,)
    assert env.feature_names == ("cart_position", "pole_angle", "pole_angular_velocity")
    mask = np.zeros(20, dtype=bool)
    mask[[0, 2, 3]] = True
    env2 = SelectObservation(make_env("prunerl/CartPoleDistractors-v0"), mask)
    np.testing.assert_array_equal(env2.reset(seed=0)[0], obs)


def test_select_observation_image_channels() -> None:
    env = SelectObservation(ImageEnv(), [1, 3])
    obs, _ = env.reset()
    assert obs.shape == (2, 6, 6) and obs.dtype == np.uint8
    assert obs[0].max() == 1 and obs[1].min() == 3
    assert SelectObservation(ImageEnv(), [0], axis=-1).observation_space.shape == (4, 6, 1)


def test_select_observation_bad_input() -> None:
    cartpole = make_env("CartPole-v1")
    with pytest.raises(ValueError, match="feature mask has length 3 but there are 4"):
        SelectObservation(cartpole, np.array([True, False, True]))
    with pytest.raises(ValueError, match="removing every feature"):
        SelectObservation(cartpole, np.zeros(4, dtype=bool))
    with pytest.raises(ValueError, match=r"out of range.*0\.\.3"):
        SelectObservation(cartpole, [1, 7])
    with pytest.raises(ValueError, match="repeat"):
        SelectObservation(cartpole, [1, 1])
    with pytest.raises(ValueError, match="FlattenObservation"):
        SelectObservation(make_env("FrozenLake-v1"), [0])
    dict_env = gym.wrappers.TransformObservation(
        make_env("CartPole-v1"),
        lambda o: {"x": o},
        gym.spaces.Dict({"x": cartpole.observation_space}),
    )
    with pytest.raises(ValueError, match=r"needs a Box.*FlattenObservation"):
        SelectObservation(dict_env, [0])


def test_select_actions_maps_and_cuts_masks() -> None:
    env = SelectActions(make_env("prunerl/CartPoleExtraActions-v0"), [1, 6])
    assert env.action_space == gym.spaces.Discrete(2)
    assert env.action_names == ("right", "noop")
    env.reset(seed=0)
    env.step(1)
    assert env.unwrapped.force_mag == 10.0
    chain = SelectActions(make_env("prunerl/InvalidActionChain-v0"), [0, 5, 6, 7])
    _, info = chain.reset(seed=0)
    assert info["action_mask"].shape == (4,)
    with pytest.raises(ValueError, match="outside the pruned action space"):
        chain.step(4)
    with pytest.raises(ValueError, match="Discrete"):
        SelectActions(make_env("Pendulum-v1"), [0])
    with pytest.raises(ValueError, match="removing every action"):
        SelectActions(make_env("CartPole-v1"), [])


def test_reduced_env_by_id_and_composition() -> None:
    kwargs = reduced_env_kwargs("prunerl/CartPoleExtraActions-v0", {"copies": 1}, [0, 2, 3], [1, 4])
    env = make_env(REDUCED_ENV_ID, env_kwargs=kwargs)
    assert env.observation_space.shape == (3,) and env.action_space.n == 2
    again = reduced_env_kwargs(REDUCED_ENV_ID, kwargs, [1, 2], [1])
    assert again["observation_keep"] == [2, 3] and again["action_keep"] == [4]
    assert again["base_id"] == "prunerl/CartPoleExtraActions-v0"
    assert again["base_kwargs"] == {"copies": 1}
    assert make_env(REDUCED_ENV_ID, env_kwargs=again).action_space.n == 1
    with pytest.raises(ValueError, match="unknown environment id"):
        make_env(REDUCED_ENV_ID, env_kwargs={"base_id": "CartPol-v1"})
