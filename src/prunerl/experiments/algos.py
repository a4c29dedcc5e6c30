"""Find agent classes by name and build their hyperparameters from a run config.

Agents register themselves when their module is imported; this loader imports prunerl's own
agent modules on demand, so a missing module gives a clear error instead of an empty registry.
"""

from __future__ import annotations

import dataclasses
import importlib
from typing import Any

from prunerl.rl.base import Agent, agents

AGENT_MODULES = {"dqn": "prunerl.rl.dqn", "ppo": "prunerl.rl.ppo", "sac": "prunerl.rl.sac"}


def load_builtin_agents() -> list[str]:
    """Import prunerl's agent modules that are present; return the names that are missing."""
    missing = []
    for name, module in AGENT_MODULES.items():
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            missing.append(name)
    return missing


def agent_class(algo: str) -> type[Agent]:
    """The registered agent class for ``algo`` (``dqn``, ``ppo``, ``sac`` or a user's own)."""
    key = str(algo).lower()
    if key in agents:
        return agents.get(key)
    missing = load_builtin_agents()
    if key in missing:
        raise ValueError(
            f"algorithm {algo!r} is not available: module {AGENT_MODULES[key]} is missing from "
            f"this install; choose one of: {', '.join(agents.names()) or 'none'}"
        )
    return agents.get(key)


def agent_hyperparameters(cls: type[Agent], env_id: str, overrides: dict[str, Any]) -> Any:
    """The algo's tuned defaults for ``env_id`` (``config_cls.for_env``) with ``overrides``."""
    base = (
        cls.config_cls.for_env(env_id) if hasattr(cls.config_cls, "for_env") else cls.config_cls()
    )
    defaults = {f.name: getattr(base, f.name) for f in dataclasses.fields(base)}
    unknown = sorted(set(overrides) - set(defaults))
    if unknown:
        raise ValueError(
            f"unknown {cls.algo} hyperparameter(s) {unknown} in the agent section; valid keys: "
            f"{', '.join(sorted(defaults))}"
        )
    values = {k: _coerce(k, defaults[k], v) for k, v in overrides.items()}
    try:
        return dataclasses.replace(base, **values)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"bad {cls.algo} hyperparameters {values}: {exc}") from None


def hyperparameters_dict(config: Any) -> dict[str, Any]:
    """A hyperparameter dataclass as plain YAML data (tuples become lists)."""
    return {k: _plain(v) for k, v in dataclasses.asdict(config).items()}


def _plain(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _coerce(key: str, default: Any, value: Any) -> Any:
    """Match a YAML value to the type of the field's default (int -> float, list -> tuple)."""
    if default is None or value is None:
        return value
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ValueError(f"agent.{key} must be true or false, got {value!r}")
        return value
    if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(default, tuple) and isinstance(value, list):
        return tuple(value)
    for kind in (int, float, str):
        if isinstance(default, kind) and not isinstance(value, kind):
            raise ValueError(
                f"agent.{key} must be a {kind.__name__} like {default!r}, got {value!r}"
            )
    return value
