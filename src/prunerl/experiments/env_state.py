"""Snapshot and restore an agent's envs as JSON data, so a resumed run continues mid-episode.

Captures the plain attributes (numbers, arrays, random generators) of every wrapper, the base env
and their spaces, plus the agent's small array attributes (its current observation). That is the
whole state of classic-control, toy-text and prunerl's test envs; an env whose state lives in a
simulator (MuJoCo, Atari) is captured only in part, so a resumed run there is not bit-identical.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

MAX_AGENT_ARRAY = 65_536  # agent arrays up to this size are "current state", larger are buffers
SKIP = frozenset({"spec", "metadata", "render_mode", "episode_start_time", "_cached_spec"})


def _encode(value: Any) -> Any:
    """JSON data for a plain value; ``...`` (Ellipsis) for values that are not captured."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray) and value.dtype != object:
        return {"__nd__": value.tolist(), "dtype": str(value.dtype), "shape": list(value.shape)}
    if isinstance(value, np.random.Generator):
        return {"__rng__": value.bit_generator.state}
    if isinstance(value, (list, tuple)):
        items = [_encode(v) for v in value]
        if any(i is ... for i in items):
            return ...
        return {"__tuple__": items} if isinstance(value, tuple) else items
    return ...


def _decode(data: Any, current: Any) -> Any:
    if isinstance(data, list):
        return [_decode(d, None) for d in data]
    if not isinstance(data, dict):
        return data
    if "__nd__" in data:
        return np.asarray(data["__nd__"], dtype=data["dtype"]).reshape(data["shape"])
    if "__tuple__" in data:
        return tuple(_decode(d, None) for d in data["__tuple__"])
    state = data["__rng__"]
    rng = current if isinstance(current, np.random.Generator) else None
    if rng is None or type(rng.bit_generator).__name__ != state["bit_generator"]:
        rng = np.random.Generator(getattr(np.random, state["bit_generator"])())
    rng.bit_generator.state = state
    return rng


def _capture(obj: Any) -> dict[str, Any]:
    out = {}
    for key, value in vars(obj).items():
        if key in SKIP:
            continue
        encoded = _encode(value)
        if encoded is not ...:
            out[key] = encoded
    return out


def _apply(obj: Any, attrs: dict[str, Any]) -> None:
    for key, data in attrs.items():
        if not isinstance(getattr(type(obj), key, None), property):  # e.g. set only by reset()
            setattr(obj, key, _decode(data, getattr(obj, key, None)))


def _levels(env: Any) -> list[Any]:
    """Every object holding env state: wrappers down to the base env, sub-envs, and spaces."""
    levels: list[Any] = []
    node = env
    while node is not None and node not in levels:
        levels.append(node)
        for sub in getattr(node, "envs", None) or []:
            levels.extend(_levels(sub))
        node = getattr(node, "env", None)
    spaces: list[gym.Space] = []
    for level in levels:
        for key in ("_action_space", "_observation_space", "action_space", "observation_space"):
            space = vars(level).get(key)
            if isinstance(space, gym.Space) and all(space is not s for s in spaces):
                spaces.append(space)
    return levels + spaces


def snapshot_env(env: Any) -> list[dict[str, Any]]:
    """Plain-data state of ``env`` (a gymnasium Env or VectorEnv) and everything it wraps."""
    return [{"cls": type(o).__name__, "attrs": _capture(o)} for o in _levels(env)]


def restore_env(env: Any, snapshot: list[dict[str, Any]]) -> None:
    """Put ``env`` back into the state :func:`snapshot_env` recorded."""
    levels = _levels(env)
    saved = [s["cls"] for s in snapshot]
    if [type(o).__name__ for o in levels] != saved:
        raise ValueError(
            f"the environment's wrappers differ from the checkpoint's ({saved[:4]}...): "
            "resume with the same env id, env_kwargs and gym packages"
        )
    for obj, entry in zip(levels, snapshot, strict=True):
        _apply(obj, entry["attrs"])


def snapshot_agent_envs(agent: Any) -> dict[str, Any]:
    """Snapshots of an agent's env attributes and its small array attributes (current obs)."""
    envs, arrays = {}, {}
    for key, value in vars(agent).items():
        if isinstance(value, (gym.Env, gym.vector.VectorEnv)):
            envs[key] = snapshot_env(value)
        elif isinstance(value, np.ndarray) and value.size <= MAX_AGENT_ARRAY:
            arrays[key] = _encode(value)
    return {"envs": envs, "arrays": arrays}


def restore_agent_envs(agent: Any, state: dict[str, Any]) -> None:
    """Inverse of :func:`snapshot_agent_envs` on a freshly built agent of the same config."""
    for key, snap in state.get("envs", {}).items():
        if isinstance(getattr(agent, key, None), (gym.Env, gym.vector.VectorEnv)):
            restore_env(getattr(agent, key), snap)
    for key, data in state.get("arrays", {}).items():
        setattr(agent, key, _decode(data, None))
