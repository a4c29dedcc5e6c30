"""What structural pruning of an agent does: how many neurons, scored how, when, and the cut.

The same schedule fields as the core ``pruning:`` section (``begin_step``, ``end_step``,
``update_every``…, in env steps), so a run config reads alike for weights and neurons.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from prunerl.core.schedules import schedules
from prunerl.structural.importance import importances
from prunerl.structural.plan import check_neuron_sparsity

Sparsity = float | dict[str, Any]


@dataclass
class StructuredConfig:
    """Neuron pruning of an agent's networks during training (then the physical cut)."""

    sparsity: Sparsity = 0.5  # share of hidden neurons removed per layer; or {network: share}
    importance: str = "l1"  # neuron score: l1 | l2 | activation | apoz | taylor | random
    networks: list[str] | None = None  # networks to prune (None: the algo's defaults)
    schedule: str | None = None  # polynomial (Zhu & Gupta 2017) | one_shot | iterative | ...
    begin_step: int = 0  # env step of the first mask update
    end_step: int | None = None  # env step the schedule reaches `sparsity` (gradual schedules)
    update_every: int = 1000  # env steps between mask updates
    initial_sparsity: float = 0.0  # polynomial: the share at begin_step
    power: float = 3.0  # polynomial: exponent of the decay
    rounds: int = 5  # iterative: number of pruning rounds
    cut: bool = True  # remove the masked neurons physically when the schedule ends
    cut_step: int | None = None  # env step of the cut (None: as soon as the schedule ends)
    importance_kwargs: dict[str, Any] | None = None  # e.g. {direction: incoming}

    def __post_init__(self) -> None:
        if isinstance(self.sparsity, Mapping):
            self.sparsity = dict(self.sparsity)
            if not self.sparsity:
                raise ValueError("sparsity is an empty mapping; give a share like 0.75")
            for key, value in self.sparsity.items():
                values = value.values() if isinstance(value, Mapping) else [value]
                for v in values:
                    check_neuron_sparsity(float(v), f"sparsity[{key!r}]")
        else:
            self.sparsity = check_neuron_sparsity(float(self.sparsity))
        if self.importance not in importances:
            raise ValueError(
                f"unknown neuron importance {self.importance!r}; choose one of "
                f"{', '.join(importances.names())}"
            )
        if self.schedule is None:  # gradual when a window is given, else all at begin_step
            self.schedule = "polynomial" if self.end_step is not None else "one_shot"
        if self.schedule not in schedules:
            raise ValueError(
                f"unknown schedule {self.schedule!r}; choose one of {', '.join(schedules.names())}"
            )
        if isinstance(self.networks, str):
            self.networks = [self.networks]
        if self.update_every <= 0:
            raise ValueError(f"update_every must be positive, got {self.update_every}")
        if self.begin_step < 0:
            raise ValueError(f"begin_step must be >= 0, got {self.begin_step}")
        if self.end_step is None and self.schedule not in ("one_shot", "constant"):
            raise ValueError(
                f"the {self.schedule!r} schedule needs end_step (the env step it reaches the "
                "target sparsity); give end_step, or schedule: one_shot"
            )
        if self.end_step is not None and self.end_step < self.begin_step:
            raise ValueError(
                f"end_step ({self.end_step}) is before begin_step ({self.begin_step}); "
                "give end_step >= begin_step"
            )
        if self.cut_step is not None and self.cut_step < self.last_update_step():
            raise ValueError(
                f"cut_step ({self.cut_step}) is before the last mask update "
                f"({self.last_update_step()}); cut at or after it, or leave cut_step unset"
            )

    def last_update_step(self) -> int:
        """The env step of the schedule's last mask update (begin_step for one_shot)."""
        if self.schedule == "one_shot" or self.end_step is None:
            return self.begin_step
        return self.end_step

    def to_dict(self) -> dict[str, Any]:
        """Plain YAML/JSON data."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StructuredConfig:
        """From a plain dict (a YAML section); unknown keys are an error naming the valid ones."""
        if not isinstance(data, Mapping):
            raise ValueError(f"pruning.structured must be a mapping of options, got {data!r}")
        known = [f.name for f in fields(cls)]
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ValueError(
                f"unknown structured pruning option(s) {unknown}; valid options: {', '.join(known)}"
            )
        return cls(**dict(data))

    @classmethod
    def resolve(
        cls, data: Mapping[str, Any], total_steps: int, begin: float = 0.2, end: float = 0.75
    ) -> StructuredConfig:
        """Fill the schedule window from the run length, as the core ``pruning:`` section does.

        Gradual schedules run from ``begin`` to ``end`` (fractions of ``total_steps``) with about
        ten mask updates; a one-shot prune happens at ``end``.
        """
        if not isinstance(data, Mapping):
            raise ValueError(f"pruning.structured must be a mapping of options, got {data!r}")
        values = dict(data)
        first, last = int(begin * total_steps), max(1, int(end * total_steps))
        if values.get("schedule") == "one_shot":
            values.setdefault("begin_step", last)
        else:
            values.setdefault("begin_step", first)
            values.setdefault("end_step", max(last, int(values["begin_step"]) + 1))
            window = int(values["end_step"]) - int(values["begin_step"])
            values.setdefault("update_every", min(1000, max(1, window // 10)))
        return cls.from_dict(values)
