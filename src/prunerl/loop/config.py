"""LoopConfig: every choice of a performance-gated pruning loop in one validated record."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from prunerl.core.validation import check_sparsity

MODES = ("relative", "absolute")
EVIDENCE = ("point", "lower_bound", "non_inferiority")
STATISTICS = ("mean", "median", "iqm")
HOLDOUT_SEED = 1_000_000  # held-out episodes: seeds 1_000_000 + i, never used to choose


def _fraction(value: float, name: str, low_open: bool = True) -> float:
    """A number in (0, 1) (or [0, 1) when ``low_open`` is False)."""
    v = float(value)
    ok = (0.0 < v < 1.0) if low_open else (0.0 <= v < 1.0)
    if not ok or not math.isfinite(v):
        interval = "(0, 1)" if low_open else "[0, 1)"
        raise ValueError(f"{name} must be in {interval}, got {value}")
    return v


def _positive(value: int, name: str, allow_zero: bool = False) -> int:
    if isinstance(value, bool) or int(value) != value or value < (0 if allow_zero else 1):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be an integer {bound}, got {value!r}")
    return int(value)


@dataclass
class LoopConfig:
    """Targets, acceptance gate, recovery, step adaptation and budgets of a gated pruning loop.

    The step is the fraction of the *remaining* weights a prune removes (0.5 halves the weights
    left), so steps shrink in absolute terms as the network gets sparse, as in iterative
    magnitude pruning (Han et al. 2015; Frankle & Carbin 2019). After each prune the pruned
    networks are distilled from the reference (no env steps), then judged by a sequential
    paired test; RL fine-tuning runs only when the distilled candidate does not pass. The final
    policy is verified on held-out episodes no decision ever used.
    """

    target: float | dict[str, float] = 0.9  # final sparsity, or per network / parameter pattern
    tolerance: float = 0.05  # allowed drop of the return below the reference
    mode: str = "relative"  # tolerance as a fraction of |reference| or in return units
    evidence: str = "non_inferiority"  # what must clear the threshold: point | CI low | paired
    statistic: str = "mean"  # statistic of the evaluation returns: mean | median | iqm
    confidence: float = 0.95  # confidence of the bootstrap intervals
    step: float = 0.5  # fraction of the remaining weights removed by the first prune
    min_step: float = 0.05  # the loop stops once a rejected step shrinks below this
    max_step: float = 0.9  # cap on the step when accepted steps grow it
    shrink: float = 0.5  # a rejected step is multiplied by this before the retry
    grow: float = 1.0  # an accepted step is multiplied by this (adaptive pruning)
    train_longer: int = 1  # retries of a rejected step with `longer`x recovery, then shrink
    longer: float = 2.0  # fine-tuning multiplier for each train-longer retry
    distill_steps: int = 2000  # gradient steps of distillation from the reference per prune
    distill_batch: int = 128  # observations per distillation step
    distill_lr: float = 3e-4  # its Adam step size, decaying linearly to 0 over each recovery
    finetune_steps: int = 10_000  # env steps of RL fine-tuning when distillation is not enough
    finetune_chunks: int = 1  # fine-tune in this many pieces, evaluating after each
    eval_before_finetune: bool = True  # judge the distilled prune before any RL fine-tuning
    budget: int | None = None  # env steps of training + fine-tuning (0: distillation only)
    threshold: float | None = None  # return to reach (by training) before the first prune
    eval_episodes: int = 20  # episodes of the gate's first look
    max_eval_episodes: int = 80  # while unclear the gate looks again with 2x, up to this many
    holdout_episodes: int = 50  # fresh episodes the final policy is verified on
    eval_seed: int = 10_000  # selection episodes use seeds eval_seed + i, i < max_eval_episodes
    method: str = "magnitude"  # criterion or prune-family method deciding which weights go
    scope: str = "layer"  # layer: every layer to the step's sparsity; global: one ranking
    distribution: str | None = None  # layer scope: erk (default) | uniform; global: uniform
    networks: list[str] | None = None  # networks to prune (None: the agent's default)
    pruning: dict[str, Any] = field(default_factory=dict)  # more PruningConfig options
    agent_overrides: dict[str, Any] = field(default_factory=dict)  # hyperparameters to fine-tune
    lr_scale: float = 0.1  # fine-tune at this share of the agent's learning_rate
    structured: bool = False  # remove whole neurons (structural pruning) instead of weights
    max_iterations: int = 200  # hard cap on prune attempts

    def __post_init__(self) -> None:
        if isinstance(self.target, dict):
            if not self.target:
                raise ValueError("target dict is empty; give {network or pattern: sparsity}")
            self.target = {
                str(k): check_sparsity(v, f"target[{k!r}]") for k, v in self.target.items()
            }
        else:
            self.target = check_sparsity(self.target, "target")
        if not math.isfinite(float(self.tolerance)) or self.tolerance < 0:
            raise ValueError(
                f"tolerance must be >= 0, got {self.tolerance}; use e.g. 0.05 (5% of the "
                "reference return, mode='relative') or 25 (return units, mode='absolute')"
            )
        for name, value, allowed in (
            ("mode", self.mode, MODES),
            ("evidence", self.evidence, EVIDENCE),
            ("statistic", self.statistic, STATISTICS),
        ):
            if value not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
        _fraction(self.confidence, "confidence")
        for name in ("step", "min_step", "max_step", "shrink"):
            _fraction(getattr(self, name), name)
        if self.min_step > self.step:
            raise ValueError(f"min_step ({self.min_step}) must be <= step ({self.step})")
        if self.step > self.max_step:
            raise ValueError(f"step ({self.step}) must be <= max_step ({self.max_step})")
        if not 0.0 < self.lr_scale <= 1.0:
            raise ValueError(f"lr_scale must be in (0, 1], got {self.lr_scale}")
        if self.grow < 1.0 or self.longer < 1.0:
            raise ValueError(f"grow and longer must be >= 1, got {self.grow} and {self.longer}")
        _positive(self.train_longer, "train_longer", allow_zero=True)
        _positive(self.finetune_steps, "finetune_steps", allow_zero=True)
        _positive(self.finetune_chunks, "finetune_chunks")
        _positive(self.eval_episodes, "eval_episodes")
        _positive(self.holdout_episodes, "holdout_episodes")
        _positive(self.distill_steps, "distill_steps", allow_zero=True)
        _positive(self.distill_batch, "distill_batch")
        if not 0.0 < self.distill_lr < 1.0:
            raise ValueError(f"distill_lr must be in (0, 1), got {self.distill_lr}")
        if self.max_eval_episodes < self.eval_episodes:
            raise ValueError(
                f"max_eval_episodes ({self.max_eval_episodes}) must be >= eval_episodes "
                f"({self.eval_episodes}); equal turns sequential testing off"
            )
        if self.eval_seed + self.max_eval_episodes > self.holdout_seed:
            raise ValueError(
                f"eval_seed + max_eval_episodes must stay below the held-out seeds "
                f"(from {self.holdout_seed}); lower eval_seed or max_eval_episodes"
            )
        _positive(self.eval_seed, "eval_seed", allow_zero=True)
        _positive(self.max_iterations, "max_iterations")
        if self.budget is not None:
            _positive(self.budget, "budget", allow_zero=True)
        if self.threshold is not None and not math.isfinite(float(self.threshold)):
            raise ValueError(f"threshold must be a finite return, got {self.threshold}")
        if self.evidence == "non_inferiority" and self.eval_episodes < 2:
            raise ValueError(
                "evidence='non_inferiority' needs eval_episodes >= 2 for a confidence interval; "
                "raise eval_episodes or use evidence='point'"
            )

    @property
    def holdout_seed(self) -> int:
        """First seed of the held-out episodes: far from the selection seeds."""
        return HOLDOUT_SEED

    @property
    def max_target(self) -> float:
        t = self.target
        return max(t.values()) if isinstance(t, dict) else t

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LoopConfig:
        """Build from plain data (YAML), rejecting unknown keys with the list of valid ones."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown loop option(s) {unknown}; valid options: {sorted(known)}")
        return cls(**data)
