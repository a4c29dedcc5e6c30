"""Gymnasium wrappers that deploy a space pruning: fewer observation features, fewer actions.

``SelectObservation`` drops observation features (vector observations) or channels (image
observations: frame-stack or colour planes); ``SelectActions`` maps a smaller ``Discrete`` space
onto the kept actions. ``prunerl/Reduced-v0`` (:func:`make_reduced_env`) is any registered env
with both applied, so a pruned agent can be built, fine-tuned and evaluated by env id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from prunerl.spaces.masks import as_keep

REDUCED_ENV_ID = "prunerl/Reduced-v0"


def observation_axis(space: gym.Space, axis: int | None = None) -> int:
    """The axis that holds features (vectors) or channels (channels-first images) of ``space``."""
    if isinstance(space, gym.spaces.Discrete):
        raise ValueError(
            f"observation space {space} is a single Discrete value: there are no features to "
            "prune; one-hot it with gymnasium.wrappers.FlattenObservation to prune its values"
        )
    if not isinstance(space, gym.spaces.Box):
        raise ValueError(
            f"state-space pruning needs a Box observation space, got {space}; flatten "
            "Dict/Tuple spaces with gymnasium.wrappers.FlattenObservation first"
        )
    if axis is not None:
        if not -len(space.shape) <= axis < len(space.shape):
            raise ValueError(f"axis {axis} is out of range for observation shape {space.shape}")
        return axis % len(space.shape)
    if len(space.shape) in (1, 3):
        return 0
    raise ValueError(
        f"observation shape {space.shape} is neither a vector nor a channels-first image; "
        "pass axis= to say which axis holds the features or channels"
    )


class SelectObservation(gym.ObservationWrapper[np.ndarray, Any, np.ndarray]):
    """Keep only the features (or channels) ``keep`` of a Box observation, along ``axis``."""

    def __init__(
        self, env: gym.Env, keep: Sequence[int] | np.ndarray, axis: int | None = None
    ) -> None:
        super().__init__(env)
        space = env.observation_space
        self.axis = observation_axis(space, axis)
        assert isinstance(space, gym.spaces.Box)
        what = "feature" if len(space.shape) == 1 else "channel"
        self.keep = as_keep(keep, space.shape[self.axis], what)
        self.observation_space = gym.spaces.Box(
            np.take(space.low, self.keep, axis=self.axis),
            np.take(space.high, self.keep, axis=self.axis),
            dtype=space.dtype,
        )
        names = _wrapper_attr(env, "feature_names")
        if names is not None and len(names) == space.shape[self.axis]:
            self.feature_names = tuple(names[i] for i in self.keep)

    def observation(self, observation: np.ndarray) -> np.ndarray:
        return np.take(observation, self.keep, axis=self.axis)


class SelectActions(gym.Wrapper[Any, Any, Any, Any]):
    """Expose ``Discrete(len(keep))`` whose action ``i`` is the inner env's action ``keep[i]``.

    An ``info["action_mask"]`` from the inner env is cut to the kept actions.
    """

    def __init__(self, env: gym.Env, keep: Sequence[int] | np.ndarray) -> None:
        super().__init__(env)
        space = env.action_space
        if not isinstance(space, gym.spaces.Discrete):
            raise ValueError(
                f"action-space pruning needs a Discrete action space, got {space}; "
                "continuous actions cannot be removed one by one"
            )
        self.start = int(space.start)
        self.keep = as_keep(keep, int(space.n), "action")
        self.action_space = gym.spaces.Discrete(len(self.keep))
        names = _wrapper_attr(env, "action_names")
        if names is not None and len(names) == space.n:
            self.action_names = tuple(names[i] for i in self.keep)

    def _cut_mask(self, info: dict[str, Any]) -> dict[str, Any]:
        if "action_mask" not in info:
            return info
        mask = np.asarray(info["action_mask"])[self.keep]
        return {**info, "action_mask": mask}

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        obs, info = self.env.reset(**kwargs)
        return obs, self._cut_mask(info)

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        a = int(action)
        if not 0 <= a < len(self.keep):
            raise ValueError(f"action {a} is outside the pruned action space {self.action_space}")
        inner = np.int64(self.keep[a] + self.start)
        obs, reward, terminated, truncated, info = self.env.step(inner)
        return obs, reward, terminated, truncated, self._cut_mask(info)


def _wrapper_attr(env: gym.Env, name: str) -> Any:
    try:
        return env.get_wrapper_attr(name)
    except AttributeError:
        return None


def make_reduced_env(
    base_id: str,
    base_kwargs: dict[str, Any] | None = None,
    observation_keep: Sequence[int] | None = None,
    action_keep: Sequence[int] | None = None,
    observation_axis: int | None = None,
) -> gym.Env:
    """``base_id`` with only the kept observation features/channels and actions (``Reduced-v0``)."""
    from prunerl.rl.envs import check_env_id

    check_env_id(base_id)
    env = gym.make(base_id, **(base_kwargs or {}))
    if observation_keep is not None:
        env = SelectObservation(env, list(observation_keep), observation_axis)
    if action_keep is not None:
        env = SelectActions(env, list(action_keep))
    return env


def reduced_env_kwargs(
    env_id: str,
    env_kwargs: dict[str, Any] | None,
    observation_keep: Sequence[int] | None = None,
    action_keep: Sequence[int] | None = None,
    observation_axis: int | None = None,
) -> dict[str, Any]:
    """Keyword arguments of ``prunerl/Reduced-v0`` for ``env_id`` with a further reduction.

    ``observation_keep`` and ``action_keep`` index the observation and actions of ``env_id`` as
    it is; when ``env_id`` is itself ``Reduced-v0`` the indices are composed with its own, so
    pruning twice gives one flat reduction of the original env.
    """
    kwargs = dict(env_kwargs or {})
    if env_id == REDUCED_ENV_ID:
        base = {
            "base_id": kwargs["base_id"],
            "base_kwargs": kwargs.get("base_kwargs") or {},
            "observation_keep": kwargs.get("observation_keep"),
            "action_keep": kwargs.get("action_keep"),
            "observation_axis": kwargs.get("observation_axis"),
        }
    else:
        base = {
            "base_id": env_id,
            "base_kwargs": kwargs,
            "observation_keep": None,
            "action_keep": None,
            "observation_axis": None,
        }
    if observation_keep is not None:
        prev = base["observation_keep"]
        keep = [int(i) for i in observation_keep]
        base["observation_keep"] = [int(prev[i]) for i in keep] if prev is not None else keep
        if observation_axis is not None:
            base["observation_axis"] = observation_axis
    if action_keep is not None:
        prev = base["action_keep"]
        keep = [int(i) for i in action_keep]
        base["action_keep"] = [int(prev[i]) for i in keep] if prev is not None else keep
    return {k: v for k, v in base.items() if v is not None}
