"""Explain a space pruning: table rows and a bar chart of the scores behind the decision."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import numpy as np

from prunerl.spaces.results import SpacePruning


def normalised(scores: list[float]) -> np.ndarray:
    """Scores divided by the largest |score| (so different measures share one axis)."""
    s = np.asarray(scores, dtype=np.float64)
    top = np.abs(s).max() if s.size else 0.0
    return s / top if top > 0 else s


def score_rows(pruning: SpacePruning) -> list[dict[str, Any]]:
    """One row per item, most important first by the deciding measure: its scores, each
    measured score's CI (``"<measure> ci"``: [low, high]) and episodes, and the verdict."""
    decisive = pruning.scores.get(pruning.method)
    order = np.argsort(-np.asarray(decisive), kind="stable") if decisive else range(pruning.n)
    kept = set(pruning.keep)
    return [
        {
            "index": int(i),
            "name": pruning.names[i],
            "kept": int(i) in kept,
            "verdict": pruning.verdicts[i] if pruning.verdicts else "",
            **{name: values[i] for name, values in pruning.scores.items()},
            **{f"{name} ci": values[i] for name, values in pruning.intervals.items()},
            **{f"{name} episodes": values[i] for name, values in pruning.score_episodes.items()},
        }
        for i in order
    ]


def decision_text(row: dict[str, Any]) -> str:
    """``removed``, ``kept``, or why a kept item was not tried: ``kept: needed|unclear``."""
    if not row["kept"]:
        return "removed"
    return f"kept: {row['verdict']}" if row["verdict"] in ("needed", "unclear") else "kept"


def interval_text(ci: list[float | None] | None) -> str:
    """``[low, high]`` to 4 significant digits, or ``n/a`` when there is none."""
    if not ci or ci[0] is None or ci[1] is None:
        return "n/a"
    return f"[{ci[0]:.4g}, {ci[1]:.4g}]"


def headline(pruning: SpacePruning) -> str:
    """One sentence: what was kept, by which measure and rule, and the return it held."""
    what = "features" if pruning.kind == "observation" else "actions"
    line = (
        f"{pruning.kind}: kept {len(pruning.keep)} of {pruning.n} {what} "
        f"(removed {len(pruning.dropped)}) by {pruning.method!r}, rule {pruning.rule!r}"
    )
    if pruning.baseline_return is not None and pruning.pruned_return is not None:
        line += f"; return {pruning.baseline_return:.1f} -> {pruning.pruned_return:.1f}"
    if pruning.allowed_drop is not None:
        line += f"; allowed drop {pruning.allowed_drop:.3g}"
    if pruning.confidence is not None and pruning.intervals:
        line += f"; {pruning.confidence:.0%} CIs over paired episodes"
    if pruning.replays is False:
        line += " (episodes did not replay: scores carry env noise)"
    return line


def plot_scores(pruning: SpacePruning, path: str | Path) -> Path:
    """Bar chart of every measure (normalised) per item; removed items are hatched. PNG."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.patches import Patch
    except ImportError:
        raise ValueError(
            "plots need matplotlib: pip install 'prunerl[plots]' (or pass --no-plot)"
        ) from None
    measures = list(pruning.scores) or [pruning.method]
    x = np.arange(pruning.n)
    width = 0.8 / max(1, len(measures))
    fig, ax = plt.subplots(figsize=(max(6.0, 0.45 * pruning.n + 2), 4.0))
    kept = pruning.mask
    for m, name in enumerate(measures):
        values = normalised(pruning.scores.get(name, [0.0] * pruning.n))
        offset = (m - (len(measures) - 1) / 2) * width
        bars = ax.bar(x + offset, values, width, color=f"C{m}")
        for bar, keep in zip(bars, kept, strict=True):
            if not keep:
                bar.set_hatch("//")
                bar.set_alpha(0.45)
    ax.set_xticks(x)
    labels = [f"{n}{'' if k else ' (x)'}" for n, k in zip(pruning.names, kept, strict=True)]
    ax.set_xticklabels(labels, rotation=60, ha="right", fontsize=8)
    ax.set_ylabel("score / max score")
    ax.axhline(0.0, color="black", linewidth=0.6)
    ax.set_title(textwrap.fill(headline(pruning), 80), fontsize=9)
    ax.set_xlabel("hatched bars and (x): removed", fontsize=8)
    handles = [Patch(facecolor=f"C{m}", label=name) for m, name in enumerate(measures)]
    ax.legend(handles=handles, fontsize=8)
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
