"""Multi-model pruning: an ensemble of agents pruned together by one gated loop.

Several networks of *one* agent (actor + critic, online + target Q) need no extra machinery:
``LoopConfig(target={"actor": 0.95, "critic": 0.8})`` gives them separate targets,
``target=0.9, scope="global"`` one shared budget, and target networks follow their source.
An *ensemble* (e.g. the same agent trained on several seeds) is pruned here: every member takes
the same step, the gate judges the members' returns together (runs x episodes, paired with the
reference), and a rejected step rolls every member back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from prunerl.core.allocation import global_masks
from prunerl.loop.config import LoopConfig
from prunerl.loop.subject import AgentSubject
from prunerl.rl.base import Agent


class EnsembleSubject:
    """Several agents as one subject, with separate targets per member or a shared budget.

    ``shared=False``: group ``m{i}/{g}`` is member i's group g, each with the loop's target.
    ``shared=True``: one group ``ensemble``; every prune ranks the weights of all members
    together (the loop's criterion), so a member that tolerates pruning gives up more weights.
    """

    def __init__(self, agents: Sequence[Agent], config: LoopConfig, shared: bool = False) -> None:
        if len(agents) < 2:
            raise ValueError(f"an ensemble needs at least 2 agents, got {len(agents)}")
        if shared and isinstance(config.target, dict):
            raise ValueError(
                "a shared budget takes one target sparsity (a float), got a dict; use "
                "shared=False for per-network targets"
            )
        self.members = [AgentSubject(a, config) for a in agents]
        self.config, self.shared = config, shared

    def targets(self) -> dict[str, float]:
        if self.shared:
            assert isinstance(self.config.target, float)
            return {"ensemble": self.config.target}
        return {f"m{i}/{g}": t for i, m in enumerate(self.members) for g, t in m.targets().items()}

    def group_sparsity(self) -> dict[str, float]:
        if self.shared:
            return {"ensemble": self.sparsity()}
        return {
            f"m{i}/{g}": s
            for i, m in enumerate(self.members)
            for g, s in m.group_sparsity().items()
        }

    def sparsity(self) -> float:
        targets = [t for m in self.members for t in m.pruner.targets]
        return 1.0 - sum(t.nonzero for t in targets) / sum(t.numel for t in targets)

    def prune_to(self, sparsity: dict[str, float]) -> None:
        if not self.shared:
            for i, m in enumerate(self.members):
                m.prune_to({g: sparsity[f"m{i}/{g}"] for g in m.names})
            return
        self._prune_shared(sparsity["ensemble"])

    @torch.no_grad()
    def _prune_shared(self, sparsity: float) -> None:
        """One ranking over every member's weights, each scored by its member's criterion."""
        scores: list[torch.Tensor] = []
        masks: list[torch.Tensor] = []
        for m in self.members:
            m.pruner.apply_masks()
            criterion = m.pruner.method.criterion
            for i, t in enumerate(m.pruner.targets):
                scores.append(criterion.scores(t, i, m.pruner.stats))
                masks.append(t.mask)
        kept = iter(global_masks(scores, masks, sparsity))
        for m in self.members:
            state = m.pruner.state_dict()
            state["masks"] = {t.name: next(kept) for t in m.pruner.targets}
            state["last_step"] = max(m.agent.num_timesteps, 0)
            m.pruner.load_state_dict(state)
            if m.pruner.stats is not None:
                m.pruner.stats.reset()
            m.hold()

    def train(self, steps: int) -> int:
        return sum(m.train(steps) for m in self.members)

    def evaluate(self, episodes: int, seed: int, record: bool = False) -> np.ndarray:
        """Returns as members x episodes, every member on the same episode seeds."""
        return np.stack([m.evaluate(episodes, seed, record) for m in self.members])

    def start_recovery(self) -> None:
        for m in self.members:
            m.start_recovery()

    def distill(self, steps: int) -> float:
        """Every member distilled towards its own reference; the mean of their last losses."""
        return float(np.mean([m.distill(steps) for m in self.members]))

    def snapshot(self) -> list[Any]:
        return [m.snapshot() for m in self.members]

    def restore(self, snapshot: list[Any]) -> None:
        for m, s in zip(self.members, snapshot, strict=True):
            m.restore(s)
