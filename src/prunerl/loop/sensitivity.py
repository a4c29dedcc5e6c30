"""Sensitivity analysis (model-based pruning): prune one layer at a time, measure the return.

A layer whose return holds at high sparsity can take more pruning than a sensitive one; the
curves set per-layer targets for the gated loop (Han et al. 2015, "Learning both Weights and
Connections", chose per-layer thresholds from such curves).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from prunerl.core.allocation import layer_masks
from prunerl.evaluation import ReturnStats, allowed_drop, summarize
from prunerl.loop.subject import AgentSubject

DEFAULT_SPARSITIES = (0.5, 0.7, 0.8, 0.9, 0.95, 0.98)


@dataclass
class Sensitivity:
    """Return statistics of the agent with one layer pruned, per layer and sparsity."""

    reference: ReturnStats
    sparsities: list[float]
    numel: dict[str, int]  # weights per layer
    curves: dict[str, list[ReturnStats]] = field(default_factory=dict)
    statistic: str = "mean"

    @property
    def layers(self) -> list[str]:
        return list(self.curves)

    def values(self, layer: str) -> list[float]:
        return [float(getattr(s, self.statistic)) for s in self.curves[layer]]

    def floor(self, tolerance: float, mode: str = "relative") -> float:
        """The lowest return within ``tolerance`` of the reference."""
        ref = float(getattr(self.reference, self.statistic))
        return ref - allowed_drop(ref, tolerance, mode)  # type: ignore[arg-type]

    def safe_at(self, floor: float) -> dict[str, float]:
        """Per layer: the highest tested sparsity up to which every level returns >= floor."""
        out = {}
        for layer in self.curves:
            safe = 0.0
            for s, v in zip(self.sparsities, self.values(layer), strict=True):
                if v < floor:
                    break
                safe = s
            out[layer] = safe
        return out

    def safe_sparsity(self, tolerance: float, mode: str = "relative") -> dict[str, float]:
        """Per layer: the highest tested sparsity up to which every level stays in tolerance."""
        return self.safe_at(self.floor(tolerance, mode))

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON: the reference and each layer's curve."""
        return {
            "statistic": self.statistic,
            "sparsities": self.sparsities,
            "reference": self.reference.to_dict(),
            "numel": self.numel,
            "curves": {k: [s.to_dict() for s in v] for k, v in self.curves.items()},
        }

    def plot(self, path: str | Path | None = None, title: str = "") -> Any:
        """Return-vs-sparsity curve per layer with CIs (matplotlib, imported here)."""
        import matplotlib

        if path is not None:
            matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4))
        for layer, stats in self.curves.items():
            xs = [0.0, *self.sparsities]
            ys = [getattr(self.reference, self.statistic), *self.values(layer)]
            lows = [self.reference.ci_low, *(s.ci_low for s in stats)]
            highs = [self.reference.ci_high, *(s.ci_high for s in stats)]
            (line,) = ax.plot(xs, ys, marker="o", label=f"{layer} ({self.numel[layer]})")
            ax.fill_between(xs, lows, highs, color=line.get_color(), alpha=0.15)
        ax.axhline(getattr(self.reference, self.statistic), color="k", ls="--", lw=0.8)
        ax.set_xlabel("sparsity of the layer (others dense)")
        ax.set_ylabel(f"{self.statistic} return")
        ax.set_title(title or "sensitivity of each layer to pruning")
        ax.legend(fontsize=7)
        fig.tight_layout()
        if path is not None:
            fig.savefig(path, dpi=120)
            plt.close(fig)
        return fig


def policy_layers(subject: AgentSubject) -> list[str]:
    """Names of the pruned layers inside the network that acts (critics do not act)."""
    policy = subject.agent.policy_network()
    names = {n for n, net in subject.agent.networks.items() if net is policy}
    return [t.name for t in subject.pruner.targets if t.network in names]


@torch.no_grad()
def sensitivity(
    subject: AgentSubject,
    sparsities: Sequence[float] = DEFAULT_SPARSITIES,
    *,
    layers: Sequence[str] | None = None,
    episodes: int = 10,
    seed: int = 10_000,
    statistic: str = "mean",
) -> Sensitivity:
    """Prune each layer alone (by the loop's criterion, no fine-tuning) at each sparsity.

    ``layers`` defaults to the layers of the acting network; every layer is restored after
    its measurements, so the agent ends as it started.
    """
    levels = sorted(float(s) for s in sparsities)
    if not levels or levels[0] <= 0 or levels[-1] >= 1:
        raise ValueError(f"sparsities must lie in (0, 1), got {list(sparsities)}")
    pruner = subject.pruner
    by_name = {t.name: (i, t) for i, t in enumerate(pruner.targets)}
    chosen = list(layers) if layers is not None else policy_layers(subject)
    unknown = [n for n in chosen if n not in by_name]
    if unknown or not chosen:
        raise ValueError(f"unknown layer(s) {unknown}; pruned layers are {list(by_name)}")
    criterion = pruner.method.criterion
    if criterion.needs_gradients and (pruner.stats is None or pruner.stats.count == 0):
        raise ValueError(
            f"criterion {type(criterion).__name__} needs gradient statistics, which a loaded "
            "agent has not recorded yet; run sensitivity with method='magnitude'"
        )
    reference = summarize(subject.evaluate(episodes, seed), ci_statistic=statistic)  # type: ignore[arg-type]
    result = Sensitivity(reference, levels, {}, statistic=statistic)
    for name in chosen:
        index, target = by_name[name]
        original = target.param.detach().clone()
        scores = criterion.scores(target, index, pruner.stats)
        result.numel[name] = target.numel
        result.curves[name] = []
        for s in levels:
            mask = layer_masks([scores], [target.mask], [s])[0]
            target.param.mul_(mask.to(target.param.dtype))
            returns = subject.evaluate(episodes, seed)
            result.curves[name].append(summarize(returns, ci_statistic=statistic))  # type: ignore[arg-type]
            target.param.copy_(original)
    return result


def layer_targets(
    result: Sensitivity, target: float, tolerance: float, mode: str = "relative"
) -> dict[str, float]:
    """Per-layer sparsities with the weight-averaged overall ``target``, spread by sensitivity.

    Each layer may go as far as its curve stays above a return floor: the tolerance's floor
    if that already reaches the target, else the highest lower floor that does (the least
    damage, layer by layer, that buys the target). The layers' safe levels are then scaled
    down together to meet the target exactly, so robust layers are pruned most and layers that
    tolerate no tested level stay dense.
    """
    total = sum(result.numel.values())

    def overall(safe: dict[str, float]) -> float:
        return sum(safe[k] * result.numel[k] for k in safe) / total

    first = result.floor(tolerance, mode)
    seen = {v for layer in result.layers for v in result.values(layer) if v < first}
    for floor in [first, *sorted(seen, reverse=True)]:
        safe = result.safe_at(floor)
        reached = overall(safe)
        if reached >= target:
            return {k: s * target / reached for k, s in safe.items()}
    raise ValueError(
        f"the tested sparsities reach at most {reached:.3f} overall (up to "
        f"{result.sparsities[-1]} per layer); lower the target or test higher sparsities"
    )
