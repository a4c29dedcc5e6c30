"""Recovery by policy distillation: after a prune, the pruned networks learn to reproduce the
reference networks' outputs on observed states (Rusu et al. 2016; PoPS, Livne & Cohen 2020).

It takes no env steps: the states come from the agent's replay buffer (if it has one) and from
the loop's evaluation episodes (the reference's and every candidate's, DAgger-like: the states
a pruned policy drifts into are the ones it must learn). RL fine-tuning of a pruned DQN tends to
shake a good greedy policy loose (docs/benchmarks.md); matching the reference does not.

How each network's outputs are matched is the agent's ``distill_kinds``:

- ``"q"``: action values, through the KL of their softmax at a temperature set per batch to the
  reference's mean |advantage| (scale-free: what matters is which action is best, not the level);
- ``"logits"``: policy logits, KL of the action distributions;
- ``"regression"``: values or continuous actions, MSE scaled by the reference's variance.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from prunerl.core.finite import NonFiniteError
from prunerl.rl.base import Agent

POOL_BYTES = 64 << 20  # memory for recorded observations


class StatePool:
    """A reservoir of observations (uniform over everything offered, bounded in memory)."""

    def __init__(self, seed: int = 0, max_bytes: int = POOL_BYTES) -> None:
        self.max_bytes, self.rng = max_bytes, np.random.default_rng(seed)
        self.data: np.ndarray | None = None
        self.size = self.seen = 0

    def add(self, obs: np.ndarray) -> None:
        """Offer a batch of observations (reservoir sampling keeps a uniform subset)."""
        obs = np.asarray(obs)
        if self.data is None:
            capacity = max(1, self.max_bytes // max(1, obs[0].nbytes))
            self.data = np.empty((capacity, *obs.shape[1:]), dtype=obs.dtype)
        for row in obs:
            self.seen += 1
            if self.size < len(self.data):
                self.data[self.size] = row
                self.size += 1
            else:
                slot = int(self.rng.integers(self.seen))
                if slot < len(self.data):
                    self.data[slot] = row

    def sample(self, n: int) -> np.ndarray:
        assert self.data is not None and self.size > 0
        return self.data[self.rng.integers(self.size, size=n)]


def recording(policy: Callable[..., np.ndarray], pool: StatePool) -> Callable[..., np.ndarray]:
    """``policy`` that also offers every observation it is asked about to ``pool``."""

    def act(obs: np.ndarray, **kwargs: Any) -> np.ndarray:
        pool.add(obs)
        return policy(obs, **kwargs)

    return act


def freeze(network: nn.Module) -> nn.Module:
    """A frozen copy of ``network`` for reference outputs: no gradients, no hooks."""
    teacher = copy.deepcopy(network).requires_grad_(False).eval()
    for module in teacher.modules():
        module._forward_pre_hooks.clear()
        module._forward_hooks.clear()
    return teacher


def distillation_loss(kind: str, student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    """How far ``student`` outputs are from the reference's, by output kind (module docstring)."""
    if kind == "q":
        advantage = teacher - teacher.mean(-1, keepdim=True)
        tau = advantage.abs().mean().clamp(min=1e-6)
        kind, student, teacher = "logits", student / tau, teacher / tau
    if kind == "logits":
        return F.kl_div(
            F.log_softmax(student, -1),
            F.log_softmax(teacher, -1),
            log_target=True,
            reduction="batchmean",
        )
    if kind == "regression":
        return F.mse_loss(student, teacher) / teacher.var().clamp(min=1e-6)
    raise ValueError(f"unknown distillation kind {kind!r}; use q, logits or regression")


class Distiller:
    """The reference networks of an agent and the states to match them on."""

    def __init__(self, agent: Agent, networks: list[str], pool: StatePool) -> None:
        kinds = agent.distill_kinds()
        self.agent = agent
        self.kinds = {n: kinds[n] for n in networks if n in kinds}
        self.teachers = {n: freeze(agent.networks[n]) for n in self.kinds}
        self.pool = pool
        self.buffer = getattr(agent, "buffer", None)
        if not hasattr(self.buffer, "sample_obs"):
            self.buffer = None

    @property
    def active(self) -> bool:
        """Whether there is anything to distil (networks with a kind, states to match on)."""
        has_states = self.pool.size > 0 or (self.buffer is not None and len(self.buffer) > 0)
        return bool(self.kinds) and has_states

    def states(self, n: int) -> np.ndarray:
        """``n`` observations: half from the replay buffer when there is one."""
        from_buffer = 0 if self.buffer is None or len(self.buffer) == 0 else n
        if self.pool.size and from_buffer:
            from_buffer = n // 2
        parts = []
        if from_buffer:
            assert self.buffer is not None
            parts.append(np.asarray(self.buffer.sample_obs(from_buffer)))
        if n - from_buffer:
            parts.append(self.pool.sample(n - from_buffer))
        return np.concatenate(parts)

    def run(self, steps: int, batch: int, lr: float, after_step: Callable[[], None]) -> float:
        """``steps`` Adam steps (a fresh optimizer, its rate decaying linearly from ``lr`` to 0,
        so the last iterate is a settled one) on the distillation loss; ``after_step``
        re-applies the masks. Returns the last loss (NaN when inactive)."""
        if not self.active or steps <= 0:
            return float("nan")
        agent = self.agent
        params = [p for n in self.kinds for p in agent.networks[n].parameters() if p.requires_grad]
        optimizer = torch.optim.Adam(params, lr=lr)
        loss = torch.zeros(())
        for k in range(steps):
            optimizer.param_groups[0]["lr"] = lr * (1.0 - k / steps)
            x = agent.network_input(self.states(batch))
            loss = torch.zeros(())
            for name, kind in self.kinds.items():
                with torch.no_grad():
                    target = self.teachers[name](x)
                loss = loss + distillation_loss(kind, agent.networks[name](x), target)
            if not torch.isfinite(loss):
                raise NonFiniteError(f"the distillation loss is {float(loss)}")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            after_step()
        return float(loss.detach())

    def state_dict(self) -> dict[str, dict[str, torch.Tensor]]:
        """The reference networks' weights (what a resumed loop distils towards)."""
        return {n: t.state_dict() for n, t in self.teachers.items()}

    def load_state_dict(self, state: dict[str, dict[str, torch.Tensor]]) -> None:
        for name, weights in state.items():
            self.teachers[name].load_state_dict(weights)
