"""Checkpoints: ``agent.state_dict()`` as ``NAME.pt`` plus ``NAME.json`` metadata, atomically.

The ``.pt`` file loads with ``torch.load(path, weights_only=True)`` (tensors and plain data only,
no code runs); the replay buffer is optional, as ``NAME.buffer.npz``. Process-wide random states
(Python's and numpy's global generators) go in the JSON, so a resumed run draws the same numbers.
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from prunerl import __version__
from prunerl.core.finite import NonFiniteError, first_non_finite
from prunerl.experiments.run_dir import RunDir, atomic_write, read_json, write_json
from prunerl.rl.base import Agent
from prunerl.rl.buffers import ReplayBuffer


def find_buffer(agent: Agent) -> ReplayBuffer | None:
    """The agent's replay buffer, whatever attribute holds it (on-policy agents have none)."""
    for value in vars(agent).values():
        if isinstance(value, ReplayBuffer):
            return value
    return None


def global_rng_state() -> dict[str, Any]:
    """Python's and numpy's global random states as JSON data."""
    version, internal, gauss = random.getstate()
    np_state = np.random.get_state(legacy=False)
    assert isinstance(np_state, dict)
    np_state["state"] = {k: np.asarray(v).tolist() for k, v in np_state["state"].items()}
    return {"python": [version, list(internal), gauss], "numpy": np_state}


def set_global_rng_state(state: dict[str, Any]) -> None:
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    np_state = dict(state["numpy"])
    np_state["state"] = {
        "key": np.asarray(np_state["state"]["key"], dtype=np.uint32),
        "pos": int(np_state["state"]["pos"]),
    }
    np.random.set_state(np_state)


def non_finite_weights(state: dict[str, Any]) -> str | None:
    """``"q.trunk.0.weight[3, 1] is NaN"`` when a network or optimizer tensor of an agent state
    is not finite (a diverged run), else None."""
    named: dict[str, torch.Tensor] = {}
    for net, weights in (state.get("networks") or {}).items():
        named.update({f"{net}.{k}": v for k, v in weights.items() if v.is_floating_point()})
    for opt, opt_state in (state.get("optimizers") or {}).items():
        for index, slots in (opt_state.get("state") or {}).items():
            for key, value in slots.items():
                if isinstance(value, torch.Tensor) and value.is_floating_point():
                    named[f"optimizer {opt}, parameter {index}, {key}"] = value
    found = first_non_finite(named)
    return None if found is None else "".join(found)


def save_checkpoint(
    agent: Agent, run: RunDir, name: str, meta: dict[str, Any], keep_buffer: bool = False
) -> Path:
    """Write ``NAME.pt`` (agent state), optionally the buffer, then ``NAME.json`` (metadata).

    A state holding NaN or Inf is refused (:class:`NonFiniteError`): the checkpoint on disk
    stays the last good one."""
    path = run.checkpoint(name)
    state = agent.state_dict()
    problem = non_finite_weights(state)
    if problem is not None:
        raise NonFiniteError(
            f"not writing checkpoint {name!r}: {problem}; {path.name} keeps the last good state"
        )
    atomic_write(path, lambda f: torch.save(state, f), binary=True)
    buffer = find_buffer(agent) if keep_buffer else None
    if buffer is not None:
        arrays: dict[str, Any] = buffer.filled_arrays()
        atomic_write(path.with_suffix(".buffer.npz"), lambda f: np.savez(f, **arrays), binary=True)
    info = {
        "name": name,
        "algo": agent.algo,
        "env_id": agent.env_id,
        "num_timesteps": agent.num_timesteps,
        "num_updates": agent.num_updates,
        "prunerl_version": __version__,
        "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "global_rng": global_rng_state(),
        "buffer": None
        if buffer is None
        else {"pos": buffer.pos, "full": buffer.full, "rng": buffer.rng.bit_generator.state},
        "run": meta,
    }
    write_json(path.with_suffix(".json"), info)
    return path


def load_checkpoint(run: RunDir, name: str = "last") -> tuple[dict[str, Any], dict[str, Any]]:
    """(agent state, metadata) of checkpoint ``name``, with clear errors when it is unusable."""
    path = run.checkpoint(name)
    meta_path = path.with_suffix(".json")
    if not path.is_file() or not meta_path.is_file():
        when = (
            "written when an evaluation at the final sparsity sets a new best"
            if name == "best"
            else "written every checkpoint.every steps: train the run first "
            f"(`prunerl train ...`), or finish it with `prunerl train --resume {run.path}`"
        )
        raise FileNotFoundError(
            f"{str(run.path)!r} has no checkpoint {name!r} ({path.name} + {meta_path.name}); "
            f"it is {when}"
        )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        meta = read_json(meta_path)
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"checkpoint {str(path)!r} is unreadable ({first})") from None
    counters = state.get("counters", {}) if isinstance(state, dict) else {}
    problem = non_finite_weights(state) if isinstance(state, dict) else None
    if problem is not None:
        raise ValueError(
            f"checkpoint {str(path)!r} is poisoned: {problem} (written by a run that diverged); "
            "it cannot be resumed or evaluated: use an earlier run, or train again from config.yaml"
        )
    if counters.get("num_timesteps") != meta.get("num_timesteps"):
        raise ValueError(
            f"checkpoint {str(path)!r} and its metadata disagree (step "
            f"{counters.get('num_timesteps')} vs {meta.get('num_timesteps')}): the last write "
            "was cut off; start a new run from config.yaml"
        )
    return state, meta


def restore_checkpoint(
    agent: Agent, run: RunDir, state: dict[str, Any], meta: dict[str, Any]
) -> None:
    """Load agent state, the replay buffer (if saved) and the global random states."""
    agent.load_state_dict(state)
    info = meta.get("buffer")
    buffer = find_buffer(agent)
    if info is not None and buffer is not None:
        path = run.checkpoint(str(meta["name"])).with_suffix(".buffer.npz")
        with np.load(path) as data:
            arrays = {key: data[key] for key in data.files}
        try:
            buffer.load_arrays(arrays, int(info["pos"]), bool(info["full"]))
        except ValueError as exc:
            raise ValueError(f"{exc} (in {str(path)!r})") from None
        buffer.rng.bit_generator.state = info["rng"]
    if "global_rng" in meta:
        set_global_rng_state(meta["global_rng"])
