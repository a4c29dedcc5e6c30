"""How much the trained policy needs each action, by three measures (``action_measures``):

- ``usage``: how often the greedy policy picks the action on the states it visits;
- ``margin``: by how much the action's value (Q-value or logit) beats the best other action,
  averaged over visited states; 0 for actions that are never best or duplicate another
  (dominated Q-values, as in action elimination, Zahavy et al. 2018);
- ``removal``: drop in return when the action is removed from the greedy choice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from prunerl.registry import Registry
from prunerl.spaces.paired import Drop, PairedEvidence


@dataclass
class ActionContext:
    """What an action measure may use."""

    outputs: torch.Tensor  # policy outputs on visited states, shape (batch, n_actions)
    actions: np.ndarray  # the actions the greedy policy took there
    n_actions: int
    agent: Any = None
    evidence: PairedEvidence | None = None  # baseline episodes and paired tests against them
    drops: dict[str, list[Drop]] = field(default_factory=dict)  # measures with a CI


ActionMeasure = Callable[[ActionContext], np.ndarray]
action_measures: Registry[ActionMeasure] = Registry("action measure")


@action_measures.register("usage")
def usage_importance(ctx: ActionContext) -> np.ndarray:
    """Fraction of visited states where the greedy policy picks the action."""
    counts = np.bincount(np.asarray(ctx.actions, dtype=np.int64), minlength=ctx.n_actions)
    return counts[: ctx.n_actions] / max(1, counts.sum())


@action_measures.register("margin")
def margin_importance(ctx: ActionContext) -> np.ndarray:
    """Mean of ``max(0, out[a] - max_{b != a} out[b])``: 0 when dominated or duplicated."""
    out = ctx.outputs.double()
    top2 = out.topk(2, dim=1).values
    best, second = top2[:, :1], top2[:, 1:]
    best_other = torch.where(out >= best, second, best)
    return (out - best_other).clamp(min=0).mean(dim=0).numpy()


@action_measures.register("removal")
def removal_importance(ctx: ActionContext) -> np.ndarray:
    """Mean drop in return (paired by episode) when the greedy policy may not pick the action;
    the per-action :class:`Drop` (CI, episodes) goes to ``ctx.drops``."""
    from prunerl.spaces.policy import restricted_greedy

    if ctx.agent is None or ctx.evidence is None:
        raise ValueError("removal importance needs the agent and paired evidence (episodes)")
    all_actions = np.arange(ctx.n_actions)
    drops = [
        ctx.evidence.measure_transform(
            None, restricted_greedy(ctx.agent, all_actions[all_actions != a])
        )
        for a in range(ctx.n_actions)
    ]
    ctx.drops["removal"] = drops
    return np.array([d.mean for d in drops])


def score_actions(ctx: ActionContext, measures: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Every requested measure, by name (unknown names raise listing the valid ones)."""
    fns = {name: action_measures.get(name) for name in measures}
    return {name: np.asarray(fn(ctx), dtype=np.float64) for name, fn in fns.items()}
