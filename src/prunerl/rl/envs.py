"""Environment construction: any registered Gymnasium id, custom registrations, clear errors."""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np


def import_gym_packages(packages: Sequence[str]) -> None:
    """Import modules that register custom envs (the RL-Zoo ``--gym-packages`` convention)."""
    for name in packages:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise ValueError(
                f"cannot import gym package {name!r} ({exc}); install it or fix --gym-packages"
            ) from None


def check_env_id(env_id: str) -> None:
    """Raise a ValueError suggesting close matches when ``env_id`` is not registered."""
    import prunerl.rl.test_envs  # noqa: F401  (registers prunerl's own test environments)

    if env_id in gym.registry:
        return
    close = difflib.get_close_matches(env_id, list(gym.registry), n=3, cutoff=0.6)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise ValueError(
        f"unknown environment id {env_id!r}.{hint} Use a registered Gymnasium id, or pass "
        "--gym-packages MODULE to import the package that registers it"
    )


def make_env(
    env_id: str,
    seed: int | None = None,
    env_kwargs: dict[str, Any] | None = None,
    wrappers: Sequence[Callable[[gym.Env], gym.Env]] = (),
) -> gym.Env:
    """One environment with episode statistics recorded (``info["episode"]`` at episode end)."""
    check_env_id(env_id)
    try:
        env = gym.make(env_id, **(env_kwargs or {}))
    except gym.error.DependencyNotInstalled as exc:
        raise ValueError(f"environment {env_id!r} needs an extra package: {exc}") from None
    except TypeError as exc:
        raise ValueError(f"bad env_kwargs {env_kwargs} for {env_id!r}: {exc}") from None
    for wrap in wrappers:
        env = wrap(env)
    env = gym.wrappers.RecordEpisodeStatistics(env)
    if seed is not None:
        env.action_space.seed(seed)
        env.observation_space.seed(seed)
    return env


def make_vec_env(
    env_id: str,
    num_envs: int,
    seed: int,
    env_kwargs: dict[str, Any] | None = None,
    wrappers: Sequence[Callable[[gym.Env], gym.Env]] = (),
) -> gym.vector.SyncVectorEnv:
    """``num_envs`` copies in one process; finished episodes reset in the same step.

    Same-step autoreset puts the last observation of a finished episode in
    ``info["final_obs"]``, which value bootstrapping on truncation needs.
    """
    check_env_id(env_id)
    fns = [(lambda i=i: make_env(env_id, seed + i, env_kwargs, wrappers)) for i in range(num_envs)]
    return gym.vector.SyncVectorEnv(fns, autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)


def finished_episodes(infos: dict[str, Any]) -> list[tuple[float, int]]:
    """``(return, length)`` of the episodes that ended in one step of :func:`make_vec_env`."""
    final = infos.get("final_info", {})
    if "episode" not in final:
        return []
    episode = final["episode"]
    ended = np.flatnonzero(final["_episode"])
    return [(float(episode["r"][i]), int(episode["l"][i])) for i in ended]


def obs_shape(space: gym.Space) -> tuple[int, ...]:
    if not isinstance(space, gym.spaces.Box):
        raise ValueError(
            f"observation space {space} is not supported: prunerl agents take Box observations "
            "(wrap Discrete/Dict spaces with gymnasium's FlattenObservation)"
        )
    return tuple(space.shape)


def is_image_space(space: gym.Space) -> bool:
    """Image observations: uint8 Box with 3 dimensions (see :func:`image_layout` for the order)."""
    return isinstance(space, gym.spaces.Box) and space.dtype == np.uint8 and len(space.shape) == 3


IMAGE_LAYOUTS = ("auto", "chw", "hwc")


def image_layout(shape: tuple[int, ...], declared: str = "auto") -> str:
    """``"chw"`` (channels first, e.g. (4, 84, 84)) or ``"hwc"`` (channels last, e.g. (84, 84, 4)).

    ``"auto"`` reads it from the shape: an end axis is channel-like when it is at most half the
    middle (spatial) axis, and exactly one end must be. Otherwise (both ends small, as in
    (3, 64, 3), or neither, as in (84, 84, 84)) a wrong guess would build a network that runs
    but learns from scrambled pixels, so it is an error that says how to declare the layout.
    """
    if declared not in IMAGE_LAYOUTS:
        raise ValueError(f"image_layout must be one of {IMAGE_LAYOUTS}, got {declared!r}")
    if len(shape) != 3:
        raise ValueError(f"image observations have 3 axes, got shape {shape}")
    if declared != "auto":
        return declared
    first, last = 2 * shape[0] <= shape[1], 2 * shape[2] <= shape[1]
    if first != last:
        return "chw" if first else "hwc"
    raise ValueError(
        f"cannot tell the channel axis of image observations of shape {shape}: declare it "
        "with image_layout='chw' (channels first, e.g. (4, 84, 84)) or 'hwc' (channels last, "
        "e.g. (84, 84, 4)) in the agent's config (DQNConfig, or `agent:` of a run config), or "
        "wrap the env so that observations are (C, H, W)"
    )
