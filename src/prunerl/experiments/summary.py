"""What a finished run reports: returns, sparsity, size, FLOPs, latency and speed (summary.json)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

import prunerl
from prunerl.core import measure
from prunerl.evaluation import measure_latency
from prunerl.rl.base import Agent
from prunerl.rl.envs import is_image_space
from prunerl.rl.export import structured_report

SUMMARY_KEYS = (
    "env_id",
    "algo",
    "seed",
    "total_env_steps",
    "final_return_mean",
    "final_return_std",
    "eval_episodes",
    "eval_seeds",
    "best_return_mean",
    "sparsity",
    "sparsity_per_layer",
    "params_total",
    "params_nonzero",
    "flops_dense",
    "flops_sparse",
    "train_wall_s",
    "env_steps_per_s",
    "prunerl_version",
)


def example_input(agent: Agent) -> torch.Tensor:
    """A batch of one network input for the policy network (images stay C x H x W)."""
    shape = tuple(agent.observation_space.shape or ())
    if is_image_space(agent.observation_space):
        return torch.zeros((1, *shape))
    return torch.zeros((1, math.prod(shape)))


def build_summary(
    agent: Agent,
    returns: np.ndarray,
    eval_seeds: list[int],
    evaluations: list[dict[str, Any]],
    best: tuple[float, int],
    train_wall_s: float,
    wall_s: float,
) -> dict[str, Any]:
    """The machine-readable result of a run; keys :data:`SUMMARY_KEYS` at least."""
    net = agent.policy_network()
    example = example_input(agent)
    cost = measure(net, example)
    latency = measure_latency(net, example[0], repeats=300)  # one torch thread, medians
    pruner = agent.pruner
    return {
        "env_id": agent.env_id,
        "algo": agent.algo,
        "seed": agent.seed,
        "total_env_steps": agent.num_timesteps,
        "num_updates": agent.num_updates,
        "final_return_mean": float(np.mean(returns)),
        "final_return_std": float(np.std(returns)),
        "eval_episodes": len(returns),
        "eval_seeds": eval_seeds,
        "final_returns": [float(r) for r in returns],
        "best_return_mean": best[0] if math.isfinite(best[0]) else None,  # None: never at target
        "best_step": best[1] if math.isfinite(best[0]) else None,
        "evaluations": evaluations,
        "pruning_method": pruner.config.method if pruner is not None else None,
        "target_sparsity": pruner.config.sparsity if pruner is not None else 0.0,
        "pruned_networks": sorted(pruner.networks) if pruner is not None else [],
        "sparsity": pruner.sparsity() if pruner is not None else 0.0,
        "sparsity_per_layer": pruner.layer_sparsity() if pruner is not None else {},
        "params_total": cost.params_total,
        "params_nonzero": cost.params_nonzero,
        "flops_dense": cost.flops_dense,
        "flops_sparse": cost.flops_sparse,
        "bytes_dense": cost.bytes_dense,
        "bytes_sparse": cost.bytes_sparse,
        "latency_batch1_us": latency.batch1_us,
        f"latency_batch{latency.batch_size}_us": latency.batch_n_us,
        "train_wall_s": train_wall_s,
        "wall_s": wall_s,
        "env_steps_per_s": agent.num_timesteps / max(train_wall_s, 1e-9),
        "prunerl_version": prunerl.__version__,
        "torch_version": torch.__version__,
        **structured_report(agent),  # neurons: widths before/after, exported sizes
    }
