"""PruningConfig: every choice of a pruning run in one validated, serialisable record."""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from torch import nn

from prunerl.core.criteria import Criterion, criteria
from prunerl.core.distributions import distributions
from prunerl.core.methods import Method, methods
from prunerl.core.schedules import Schedule, schedules
from prunerl.core.targets import (
    DEFAULT_MODULE_TYPES,
    Target,
    group_by_sparsity,
    select_targets,
)
from prunerl.core.validation import check_positive, check_sparsity, check_step

SCOPES = ("layer", "global")


@dataclass
class PruningConfig:
    """What to prune, by which method and criterion, to which sparsity, on which schedule.

    ``sparsity`` is one target for all selected weights, or a dict mapping network names or
    glob patterns over parameter names to their own targets (``{"actor": 0.95, "critic": 0.8}``).
    Steps are whatever counter the caller passes to ``Pruner.step`` (env or gradient steps).
    """

    method: str = "magnitude"
    sparsity: float | dict[str, float] = 0.9
    criterion: str | None = None  # None: the method's default (magnitude)
    criterion_kwargs: dict[str, Any] = field(default_factory=dict)  # e.g. {"theta": 0.01}
    scope: str = "layer"  # "layer": each layer to its target; "global": one ranking
    distribution: str = "uniform"  # how a target spreads over layers: uniform | erk
    schedule: str | None = None  # None: the method's default
    begin_step: int = 0
    end_step: int | None = None
    update_every: int = 1000
    initial_sparsity: float = 0.0
    power: float = 3.0
    rounds: int = 5  # iterative: rounds after begin_step, the last at end_step
    drop_fraction: float = 0.3  # set/rigl: share of connections moved, cosine-decayed to end_step
    rewind_step: int | None = None  # lottery: survivors rewind to this step (None: init)
    module_types: list[str] = field(default_factory=lambda: list(DEFAULT_MODULE_TYPES))
    include: list[str] | None = None
    exclude: list[str] = field(default_factory=list)
    exclude_first: bool = False
    exclude_last: bool = False
    prune_bias: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        if self.method not in methods and self.method not in criteria:
            names = [*methods.names(), *criteria.names()]
            close = difflib.get_close_matches(str(self.method).lower(), names, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ValueError(
                f"unknown method {self.method!r}; choose a method ({', '.join(methods.names())}) "
                f"or a criterion ({', '.join(criteria.names())}).{hint}"
            )
        if self.criterion is not None:
            criteria.get(self.criterion)
        if isinstance(self.sparsity, dict):
            if not self.sparsity:
                raise ValueError("sparsity dict is empty; give at least one {name: sparsity}")
            self.sparsity = {
                k: check_sparsity(v, f"sparsity[{k!r}]") for k, v in self.sparsity.items()
            }
        else:
            self.sparsity = check_sparsity(self.sparsity)
        if self.scope not in SCOPES:
            raise ValueError(f"scope must be one of {SCOPES}, got {self.scope!r}")
        distributions.get(self.distribution)
        if self.scope == "global" and self.method_class().sparse_from_start:
            raise ValueError(
                f"method {self.method!r} draws and moves masks layer by layer; "
                "scope='global' does not apply to it: use scope='layer'"
            )
        if self.scope == "global" and self.distribution != "uniform":
            raise ValueError(
                f"distribution {self.distribution!r} spreads sparsity over layers, but "
                "scope='global' ranks all layers together; use scope='layer' with it, "
                "or leave distribution='uniform'"
            )
        if self.schedule is not None:
            schedules.get(self.schedule)
        check_step(self.begin_step, "begin_step")
        if self.end_step is not None:
            check_step(self.end_step, "end_step")
        if self.rewind_step is not None:
            check_step(self.rewind_step, "rewind_step")
        check_positive(self.update_every, "update_every")
        check_sparsity(self.initial_sparsity, "initial_sparsity")
        self.build_schedule(self.max_sparsity)  # fail now on t1 <= t0 and the like
        self.build_method()

    @property
    def max_sparsity(self) -> float:
        s = self.sparsity
        return max(s.values()) if isinstance(s, dict) else s

    def select(
        self, networks: dict[str, nn.Module]
    ) -> tuple[list[Target], list[list[int]], list[float]]:
        """The targets to mask, their groups (one per sparsity key) and each group's sparsity."""
        targets = select_targets(
            networks,
            module_types=self.module_types,
            include=self.include,
            exclude=self.exclude,
            exclude_first=self.exclude_first,
            exclude_last=self.exclude_last,
            prune_bias=self.prune_bias,
        )
        if not isinstance(self.sparsity, dict):
            return targets, [list(range(len(targets)))], [self.sparsity]
        return group_by_sparsity(targets, self.sparsity, list(networks))

    def method_class(self) -> type[Method]:
        return methods.get("prune") if self.method in criteria else methods.get(self.method)

    def build_criterion(self) -> Criterion:
        name = self.criterion or (self.method if self.method in criteria else None)
        cls = criteria.get(name or self.method_class().default_criterion)
        kwargs = dict(self.criterion_kwargs)
        if cls is criteria.get("random"):
            kwargs.setdefault("seed", self.seed)
        try:
            return cls(**kwargs)
        except TypeError as exc:
            raise ValueError(
                f"bad criterion_kwargs {kwargs} for criterion {cls.__name__}: {exc}"
            ) from None

    def build_method(self) -> Method:
        cls: Any = self.method_class()
        criterion = self.build_criterion()
        if cls in (methods.get("set"), methods.get("rigl")):
            end = self.end_step if self.end_step is not None else 10**12
            return cls(criterion, drop_fraction=self.drop_fraction, begin=self.begin_step, end=end)
        return cls(criterion)

    def schedule_name(self) -> str:
        return self.schedule or self.method_class().default_schedule

    def build_schedule(self, sparsity: float) -> Schedule:
        name = self.schedule_name()
        cls: Any = schedules.get(name)
        begin, end = self.begin_step, self.end_step
        if name == "one_shot":
            return cls(sparsity, begin_step=begin)
        if name == "constant":
            return cls(sparsity, begin, end if end is not None else 10**12, self.update_every)
        if end is None:
            raise ValueError(f"the {name!r} schedule needs end_step (the step pruning stops at)")
        if name == "polynomial":
            return cls(sparsity, begin, end, self.update_every, self.initial_sparsity, self.power)
        if name == "iterative":
            return cls(sparsity, begin, end, self.rounds)
        return cls(sparsity=sparsity, begin_step=begin, end_step=end)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PruningConfig:
        """Build from a plain dict (YAML), rejecting unknown keys with the list of valid ones."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown pruning option(s) {unknown}; valid options: {sorted(known)}")
        return cls(**data)
