"""Export an agent's policy as a standalone file: raw observations in, the action's output out.

The exported module is the agent's :meth:`~prunerl.rl.base.Agent.policy_network` with the
agent's own input preprocessing in front (images scaled to [0, 1], PPO's running observation
normalisation), so the file acts like ``agent.predict(obs, deterministic=True)``:
``argmax`` of Q-values or logits for discrete actions, the (clipped) action for Box spaces.
A structurally masked agent is cut first, so the file holds the small network.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from prunerl.rl.base import Agent
from prunerl.rl.envs import is_image_space
from prunerl.structural.export import to_npz, to_onnx, to_torchscript

FORMATS = {"torchscript": ".pt", "onnx": ".onnx", "npz": ".npz"}


class DeployedPolicy(nn.Module):
    """``network(preprocess(obs))``: flatten, scale images, whiten and clip observations."""

    mean: torch.Tensor | None
    inv_std: torch.Tensor | None

    def __init__(
        self,
        network: nn.Module,
        flatten: bool = False,
        scale: float | None = None,
        mean: np.ndarray | None = None,
        std: np.ndarray | None = None,
        clip: float = 10.0,
    ) -> None:
        super().__init__()
        self.network, self.flatten, self.scale, self.clip = network, flatten, scale, clip
        self.register_buffer("mean", None if mean is None else torch.tensor(mean).float())
        self.register_buffer("inv_std", None if std is None else torch.tensor(1.0 / std).float())

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        x = obs.flatten(1) if self.flatten else obs
        if self.scale is not None:
            x = x * self.scale
        if self.mean is not None and self.inv_std is not None:
            x = ((x - self.mean) * self.inv_std).clamp(-self.clip, self.clip)
        out: torch.Tensor = self.network(x)
        return out


@dataclass
class PolicySpec:
    """What an exporter needs: the module, an example batch, and how outputs become actions."""

    module: nn.Module
    example: torch.Tensor
    head: str  # argmax | identity (see prunerl.runtime)
    low: list[float] | None = None
    high: list[float] | None = None


def policy_spec(agent: Agent, batch: int = 4) -> PolicySpec:
    """The agent's deterministic policy as a module of raw observations (a cut network if cut)."""
    if agent.structured is not None and not agent.structured.is_cut:
        agent.structured.cut()
    obs_space, act_space = agent.observation_space, agent.action_space
    shape = tuple(obs_space.shape or ())
    image = is_image_space(obs_space)
    normalizer = getattr(agent, "obs_normalizer", None)
    mean = std = None
    if normalizer is not None:
        rms = normalizer.rms
        mean = np.asarray(rms.mean, dtype=np.float64).reshape(-1)
        std = np.sqrt(np.asarray(rms.var, dtype=np.float64).reshape(-1) + normalizer.epsilon)
    module = DeployedPolicy(
        agent.policy_network(),
        flatten=not image and len(shape) > 1,
        scale=1.0 / 255.0 if image else None,
        mean=mean,
        std=std,
        clip=float(getattr(normalizer, "clip", 10.0)),
    ).eval()
    obs_space.seed(0)
    example = torch.as_tensor(np.stack([obs_space.sample() for _ in range(batch)])).float()
    if isinstance(act_space, gym.spaces.Discrete):
        return PolicySpec(module, example, "argmax")
    if isinstance(act_space, gym.spaces.Box):
        low = [float(v) for v in np.asarray(act_space.low).reshape(-1)]
        high = [float(v) for v in np.asarray(act_space.high).reshape(-1)]
        return PolicySpec(module, example, "identity", low, high)
    raise ValueError(f"cannot export a policy for action space {act_space}")


def structured_report(agent: Agent) -> dict[str, Any]:
    """For summary.json: neurons removed, layer widths before and after, exported file sizes.

    Empty for an agent without structural pruning; a masked agent is cut first, as on export.
    """
    sp = agent.structured
    if sp is None:
        return {}
    return {
        "structured": {
            "neuron_sparsity": sp.sparsity(),
            "neuron_sparsity_per_layer": sp.layer_sparsity(),
            "importance": sp.config.importance,
            "cut_step": sp.cut_step,
            "architecture": sp.architecture(),
            "export_bytes": export_sizes(agent),
        }
    }


def check_format(fmt: str) -> str:
    """``fmt`` if it is a known export format, else one error line naming the choices."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return fmt


def export_agent(agent: Agent, fmt: str, path: str | Path, csr: bool = False) -> Path:
    """Write the agent's policy to ``path`` as ``torchscript``, ``onnx`` or ``npz``.

    ``csr`` stores every npz weight matrix in CSR (useful after weight pruning; without it a
    matrix is stored in CSR only where that is smaller). Every export is checked against torch.
    """
    check_format(fmt)
    if csr and fmt != "npz":
        raise ValueError(f"--csr applies to the npz format only, not {fmt!r}; drop --csr")
    spec = policy_spec(agent)  # the exports check outputs relative to their scale
    if fmt == "npz":
        return to_npz(
            spec.module,
            path,
            spec.example,
            head=spec.head,
            action_low=spec.low,
            action_high=spec.high,
            sparse="always" if csr else "auto",
        )
    if fmt == "onnx":
        return to_onnx(spec.module, path, spec.example)
    return to_torchscript(spec.module, path, spec.example)


def export_sizes(
    agent: Agent, formats: tuple[str, ...] = ("npz", "torchscript", "onnx")
) -> dict[str, int | None]:
    """File size in bytes of the exported policy per format (formats that cannot export: None)."""
    sizes: dict[str, int | None] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in formats:
            try:
                path = export_agent(agent, fmt, Path(tmp) / f"policy{FORMATS[fmt]}")
                sizes[fmt] = path.stat().st_size
            except (ImportError, ValueError, RuntimeError):  # a size report never fails a run
                sizes[fmt] = None
    return sizes
