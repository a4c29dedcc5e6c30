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

    def safe_sparsity(self, tolerance: float, mode: str = "relative") -> dict[str, float]:
        """Per layer: the highest tested sparsity up to which every level stays in tolerance."""
        ref = float(getattr(self.reference, self.statistic))
        floor = ref - allowed_drop(ref, tolerance, mode)  # type: ignore[arg-type]
        out = {}
        for layer in self.curves:
            safe = 0.0
            for s, v in zip(self.sparsities, self.values(layer), strict=True):
                if v < floor:
                    break
                safe = s
            out[layer] = safe
        return out

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
    result: Sensitivity,
    target: float,
    tolerance: float,
    mode: str = "relative",
    cap: float = 0.995,
) -> dict[str, float]:
    """Per-layer sparsities with the weighted overall ``target``, spread by sensitivity.

    Each layer's density is ``(1 - safe)^beta``, ``safe`` being its highest tolerated tested
    sparsity and ``beta`` the one exponent (found by bisection) that meets the overall target:
    robust layers are pruned more, and layers that tolerate no tested level stay dense.
    """
    safe = result.safe_sparsity(tolerance, mode)
    total = sum(result.numel.values())

    def overall(beta: float) -> tuple[float, dict[str, float]]:
        out = {k: min(cap, 1.0 - (1.0 - s) ** beta) for k, s in safe.items()}
        return sum(out[k] * result.numel[k] for k in out) / total, out

    reachable, _ = overall(1e3)
    if reachable < target:
        raise ValueError(
            f"the sensitivity curves tolerate at most {reachable:.3f} overall sparsity (layers "
            f"safe at {safe}); lower the target, raise the tolerance, or test lower sparsities"
        )
    low, high = 0.0, 1e3
    for _ in range(100):
        mid = 0.5 * (low + high)
        low, high = (mid, high) if overall(mid)[0] < target else (low, mid)
    return overall(high)[1]
