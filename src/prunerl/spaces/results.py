"""The outcome of a space pruning: what is kept, the scores behind it, saved as ``spaces.json``.

A run directory holds one ``spaces.json`` with an ``observation`` and/or an ``actions`` entry;
``prunerl explain RUN_DIR`` reads it back.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from prunerl.spaces.decision import Trial
from prunerl.spaces.masks import as_keep
from prunerl.spaces.paired import Drop, finite_or_none

SPACES_FILE = "spaces.json"


@dataclass
class SpacePruning:
    """Kept indices out of ``n``, with every measure's scores and how the decision was made."""

    kind: ClassVar[str] = "space"
    n: int
    keep: list[int]
    method: str  # the measure the decision used
    rule: str  # "top_k", "threshold", "tolerance" or "given"
    scores: dict[str, list[float]] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)
    baseline_return: float | None = None  # mean return before pruning
    pruned_return: float | None = None  # mean return with the pruning applied (no retraining)
    trials: list[dict[str, Any]] = field(default_factory=list)  # backward elimination steps
    # uncertainty of scores measured on episodes: per measure, each item's CI [low, high]
    # (None where it has none) and the episodes behind it; ``verdicts``: the deciding measure's
    # per-item "negligible" / "needed" / "unclear" against ``allowed_drop`` (the tolerance)
    intervals: dict[str, list[list[float | None]]] = field(default_factory=dict)
    score_episodes: dict[str, list[int]] = field(default_factory=dict)
    verdicts: list[str] = field(default_factory=list)
    allowed_drop: float | None = None  # largest accepted drop in mean return
    confidence: float | None = None  # of every interval
    replays: bool | None = None  # whether episodes replayed exactly (common random numbers)

    def __post_init__(self) -> None:
        what = "feature" if self.kind == "observation" else "action"
        self.keep = [int(i) for i in as_keep(self.keep, self.n, what)]
        if not self.names:
            self.names = [f"{what}_{i}" for i in range(self.n)]
        if len(self.names) != self.n:
            raise ValueError(f"{len(self.names)} names given for {self.n} {what}s")
        for name, values in self.scores.items():
            if len(values) != self.n:
                raise ValueError(f"scores {name!r} has {len(values)} values for {self.n} {what}s")
        self.scores = {k: [float(v) for v in vals] for k, vals in self.scores.items()}
        per_item: dict[str, list[Any]] = {"verdicts": self.verdicts} if self.verdicts else {}
        per_item |= {f"intervals {k!r}": v for k, v in self.intervals.items()}
        per_item |= {f"score_episodes {k!r}": v for k, v in self.score_episodes.items()}
        for name, values in per_item.items():
            if len(values) != self.n:
                raise ValueError(f"{name} has {len(values)} values for {self.n} {what}s")

    @property
    def dropped(self) -> list[int]:
        kept = set(self.keep)
        return [i for i in range(self.n) if i not in kept]

    @property
    def mask(self) -> np.ndarray:
        """One bool per item: True where kept."""
        m = np.zeros(self.n, dtype=bool)
        m[self.keep] = True
        return m

    def add_trials(self, trials: list[Trial]) -> None:
        self.trials = [asdict(t) for t in trials]

    def add_drops(self, drops: dict[str, list[Drop]]) -> None:
        """Record the CI and episodes of each measure measured as paired return drops, and the
        deciding measure's verdicts."""
        for name, values in drops.items():
            self.intervals[name] = [[finite_or_none(d.low), finite_or_none(d.high)] for d in values]
            self.score_episodes[name] = [d.episodes for d in values]
        if self.method in drops and all(d.verdict for d in drops[self.method]):
            self.verdicts = [d.verdict for d in drops[self.method]]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SpacePruning:
        """Rebuild from :meth:`to_dict` (the ``kind`` entry picks the class)."""
        kind = data.get("kind", cls.kind)
        target: type[SpacePruning] = {
            "observation": ObservationPruning,
            "actions": ActionPruning,
        }.get(kind, cls)
        names = {f.name for f in fields(target)}
        return target(**{k: v for k, v in data.items() if k in names})


@dataclass
class ObservationPruning(SpacePruning):
    """Which observation features (or image channels along ``axis``) the policy keeps."""

    kind: ClassVar[str] = "observation"
    fill: list[float] | None = None  # the value each dropped feature is fixed at (its mean)
    axis: int | None = None  # feature/channel axis of one observation (None: the default)


@dataclass
class ActionPruning(SpacePruning):
    """Which actions the pruned agent keeps (the new action ``i`` is old action ``keep[i]``)."""

    kind: ClassVar[str] = "actions"


def _spaces_path(path: str | Path) -> Path:
    p = Path(path)
    return p / SPACES_FILE if p.is_dir() or not p.suffix else p


def save_spaces(path: str | Path, *prunings: SpacePruning) -> Path:
    """Write (or update) ``spaces.json`` in a run directory (or at a ``.json`` path), atomically."""
    target = _spaces_path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = json.loads(target.read_text()) if target.exists() else {}
    for p in prunings:
        data[p.kind] = p.to_dict()
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh, indent=2)
    os.replace(tmp, target)
    return target


def load_spaces(path: str | Path) -> dict[str, SpacePruning]:
    """``{"observation": ObservationPruning, "actions": ActionPruning}`` (those present)."""
    target = _spaces_path(path)
    if not target.exists():
        raise FileNotFoundError(
            f"no {SPACES_FILE} at {target}; find what to drop first with `prunerl explain "
            f"{Path(path)} --prune observations` (or `--prune actions`; in Python: "
            "prunerl.spaces.prune_observations, then save_spaces)"
        )
    try:
        data = json.loads(target.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{target} is not valid JSON ({exc}); re-run the space pruning") from None
    return {kind: SpacePruning.from_dict(entry) for kind, entry in data.items()}
