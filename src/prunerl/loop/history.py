"""The loop's history: one record per evaluation (reference, training, prune attempt), as CSV."""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from prunerl.evaluation import ReturnStats


@dataclass
class StepRecord:
    """One evaluated point of the loop: what was tried, what it scored, what the loop decided.

    ``action`` is ``reference`` (the start point), ``train`` (training towards the threshold),
    ``accept`` or ``rollback`` (a prune attempt), or ``verify`` (the result on held-out
    episodes); ``reason`` says why in words.
    """

    iteration: int
    action: str
    env_steps: int  # env steps the loop has spent so far (training + fine-tuning)
    step: float  # fraction of the remaining weights this attempt removed (0: no prune)
    finetune_steps: int  # env steps of fine-tuning after the prune
    sparsity_before: float
    sparsity: float  # sparsity of the evaluated weights
    return_mean: float
    return_std: float
    return_iqm: float
    ci_low: float
    ci_high: float
    episodes: int = 0  # evaluation episodes behind the returns (the gate's, when it judged)
    gate_value: float = math.nan  # what had to clear the threshold (see ToleranceCheck)
    gate_threshold: float = math.nan
    reason: str = ""
    wall_s: float = 0.0
    groups: dict[str, float] = field(default_factory=dict)  # sparsity per target group

    @property
    def accepted(self) -> bool:
        return self.action == "accept"

    @classmethod
    def from_stats(cls, stats: ReturnStats, **values: Any) -> StepRecord:
        """A record whose return columns come from ``stats``."""
        return cls(
            return_mean=stats.mean,
            return_std=stats.std,
            return_iqm=stats.iqm,
            ci_low=stats.ci_low,
            ci_high=stats.ci_high,
            **values,
        )

    def to_row(self) -> dict[str, Any]:
        """CSV row: plain values, the group sparsities as a JSON object."""
        row = asdict(self)
        row["groups"] = json.dumps(self.groups, sort_keys=True)
        row["accepted"] = self.accepted
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> StepRecord:
        """Inverse of :meth:`to_row` (values may be strings, as read from CSV or JSON)."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in row:  # a column added later: its default
                continue
            raw = row[f.name]
            if f.name == "groups":
                values[f.name] = json.loads(raw) if isinstance(raw, str) else dict(raw)
            elif f.type in ("int",):
                values[f.name] = int(float(raw))
            elif f.type in ("float",):
                values[f.name] = float(raw)
            else:
                values[f.name] = str(raw)
        return cls(**values)


COLUMNS = [*(f.name for f in fields(StepRecord)), "accepted"]


class History(list[StepRecord]):
    """The list of records, with CSV and JSON round trips."""

    def accepted(self) -> list[StepRecord]:
        return [r for r in self if r.accepted]

    def rollbacks(self) -> int:
        return sum(r.action == "rollback" for r in self)

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.DictWriter(out, COLUMNS, lineterminator="\n")
        writer.writeheader()
        for record in self:
            writer.writerow(record.to_row())
        return out.getvalue()

    def write_csv(self, path: str | Path) -> None:
        Path(path).write_text(self.to_csv())

    @classmethod
    def read_csv(cls, path: str | Path) -> History:
        with open(path, newline="") as f:
            return cls(StepRecord.from_row(row) for row in csv.DictReader(f))

    def to_json(self) -> list[dict[str, Any]]:
        return [r.to_row() for r in self]

    @classmethod
    def from_json(cls, rows: list[dict[str, Any]]) -> History:
        return cls(StepRecord.from_row(r) for r in rows)
