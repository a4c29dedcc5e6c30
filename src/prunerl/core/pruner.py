"""The Pruner: the one object every training loop talks to (design notes, "the one contract").

    pruner = Pruner({"q": q_net}, PruningConfig(method="gmp", sparsity=0.9, end_step=75_000))
    pruner.follow(q_target, source="q")     # target network gets the same masks
    pruner.attach_optimizer(optimizer)      # its state is zeroed where weights are pruned
    ...
    loss.backward(); pruner.observe_gradients(); optimizer.step(); pruner.step(global_step)

Masks are non-persistent buffers beside the weights (``<param>_mask``), so ``state_dict()``
keys, ``load_state_dict``, ``deepcopy`` and Polyak updates are untouched; the pruner's own state
(masks, counters, statistics, rewind point) is in :meth:`Pruner.state_dict`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from prunerl.core.checkpoint import checked_masks
from prunerl.core.config import PruningConfig
from prunerl.core.distributions import distributions
from prunerl.core.gradients import GradientStats
from prunerl.core.methods import MaskContext
from prunerl.core.optim_state import zero_state_where
from prunerl.core.targets import as_networks, find_parameter, holder_of
from prunerl.core.validation import check_sparsity, warn_collapsed_layers


class Pruner:
    """Keeps masks on chosen parameters, updates them on schedule, and keeps pruned weights at 0."""

    def __init__(
        self,
        networks: nn.Module | Mapping[str, nn.Module],
        config: PruningConfig | None = None,
        **overrides: Any,
    ) -> None:
        if config is None:
            config = PruningConfig.from_dict(overrides)
        elif overrides:
            config = PruningConfig.from_dict({**config.to_dict(), **overrides})
        self.config = config
        self.networks = as_networks(networks)
        self.targets, self.groups, group_targets = config.select(self.networks)
        self.schedules = [config.build_schedule(s) for s in group_targets]
        self.method = config.build_method()
        criterion = self.method.criterion
        self.stats = (
            GradientStats(self.targets, taylor=criterion.needs_taylor, last=criterion.needs_last)
            if self.method.needs_gradients
            else None
        )
        self.generator = torch.Generator().manual_seed(config.seed)
        self.optimizers: list[torch.optim.Optimizer] = []
        self._follower_params: list[tuple[nn.Module, str, int]] = []
        self.last_step = -1
        self.num_updates = 0
        self.rewind_state: dict[str, torch.Tensor] | None = None
        for t in self.targets:
            t.module.register_buffer(f"{t.param_name}_mask", t.mask, persistent=False)
        self._refresh_float_masks()
        if self.method.rewinds and config.rewind_step is None:
            self.record_rewind_point()  # rewind to initialisation (Frankle & Carbin 2019)
        initial = (
            self.method.init_masks(self._context(0)) if self.method.sparse_from_start else None
        )
        if initial is not None:
            self._set_masks(initial)

    # ----------------------------------------------------------------- contract
    def attach_optimizer(self, optimizer: torch.optim.Optimizer) -> Pruner:
        """Zero this optimizer's state (momentum, Adam moments) wherever weights are pruned."""
        self.optimizers.append(optimizer)
        self._zero_optimizer_state([t.mask for t in self.targets])
        return self

    def follow(self, copy: nn.Module, source: str = "") -> Pruner:
        """Give ``copy`` (e.g. a target network) the masks of network ``source`` from now on."""
        if source not in self.networks:
            raise ValueError(f"unknown source network {source!r}; known: {list(self.networks)}")
        prefix = f"{source}." if source else ""
        found = []
        for i, t in enumerate(self.targets):
            if t.network != source:
                continue
            local = t.name[len(prefix) :]
            try:
                module, p_name = find_parameter(copy, local)
                fits = getattr(module, p_name).shape == t.mask.shape
            except KeyError:
                fits = False
            if not fits:
                raise ValueError(
                    f"follower has no parameter {local!r} of shape {tuple(t.mask.shape)}: it "
                    f"must have the architecture of network {source!r} (e.g. a deepcopy of it)"
                )
            found.append((module, p_name, i))
        for module, p_name, i in found:  # register only once every parameter fits
            module.register_buffer(f"{p_name}_mask", self.targets[i].mask, persistent=False)
        self._follower_params.extend(found)
        self._refresh_float_masks()
        self.apply_masks()
        return self

    def observe_gradients(self) -> None:
        """Record gradients for gradient-based criteria (no-op for the others)."""
        if self.stats is not None:
            self.stats.observe()

    @property
    def last_step(self) -> int:
        """The largest step passed to :meth:`step` so far (-1 before the first)."""
        return self._last_step

    @last_step.setter
    def last_step(self, value: int) -> None:
        self._last_step = int(value)
        self._next_point = self.schedules[0].next_update(self._last_step)

    def step(self, step: int | None = None, *, followers: bool = True) -> bool:
        """Advance to ``step`` (or by one); update masks on schedule; enforce masks.

        An update fires the first time ``step`` reaches or passes an update point, so callers
        that advance in strides lose none. Returns True when the masks changed at this call.
        ``followers=False`` re-masks the pruned parameters only, not their followers: right
        after an optimizer step, when the followers (target networks) change only by copying or
        averaging the masked parameters, and a mask update re-masks them anyway.
        """
        step = self._last_step + 1 if step is None else int(step)
        rewind_at = self.config.rewind_step
        if rewind_at is not None and self.rewind_state is None and step >= rewind_at:
            self.apply_masks()
            self.record_rewind_point()
        changed = False
        if self._next_point is not None and self._next_point <= step:
            changed = self.update_masks(step=step)
            self.last_step = max(self._last_step, step)  # finds the next update point
        elif step > self._last_step:
            self._last_step = step  # the next update point lies after ``step``: unchanged
        self.apply_masks(None if followers else self._own)
        return changed

    def apply_masks(self, targets: Sequence[int] | None = None) -> None:
        """Multiply every masked parameter (and its followers) by its mask: one foreach call.
        ``targets`` (indices into :attr:`targets`) limits it to those parameters, followers
        excluded (e.g. the ones one optimizer steps).

        Parameters are looked up in their modules' dicts at each call (cheap, and still right
        if a module's parameter object is replaced, e.g. by ``load_state_dict(assign=True)``).
        """
        slots = self._slots if targets is None else [self._slots[i] for i in targets]
        masks = self._float_masks if targets is None else [self._float_masks[i] for i in targets]
        if slots:
            with torch.no_grad():
                torch._foreach_mul_([d[n] for d, n in slots], masks)

    def mask_gradients(self, targets: Sequence[int] | None = None) -> None:
        """Zero the gradients of pruned weights (of ``targets``, indices into :attr:`targets`;
        all by default). Call after :meth:`observe_gradients`, before clipping and the step:
        pruned weights get dense gradients that would inflate the clip norm and shrink every
        update of the surviving weights. Multiplies by cached float masks (~7x faster than bool).
        """
        chosen = range(len(self.targets)) if targets is None else targets
        grads, masks = [], []
        for i in chosen:
            grad = self.targets[i].param.grad
            if grad is not None:
                grads.append(grad)
                masks.append(self._float_masks[i])
        if grads:
            torch._foreach_mul_(grads, masks)

    # ----------------------------------------------------------------- updates
    def update_masks(self, sparsity: float | None = None, step: int | None = None) -> bool:
        """Update masks now, to ``sparsity`` if given, else to the schedule's value at ``step``.

        ``step`` defaults to the last step seen (0 before the first :meth:`step`).
        """
        step = max(self._last_step, 0) if step is None else step
        if sparsity is not None:
            sparsity = check_sparsity(sparsity)
        self.apply_masks()  # weights pruned so far are exactly 0 before scoring or regrowing
        ctx = self._context(step, sparsity)
        new = self.method.update(ctx)
        changed = any(bool((n != t.mask).any()) for n, t in zip(new, self.targets, strict=True))
        self._set_masks(new)
        warn_collapsed_layers({t.name: t.mask for t in self.targets})
        self.num_updates += 1
        if self.stats is not None:
            self.stats.reset()
        if self.method.rewinds and self.rewind_state is not None:
            self.rewind()
        return changed

    def _context(self, step: int, sparsity: float | None = None) -> MaskContext:
        if sparsity is not None:
            group_sparsity = [sparsity] * len(self.groups)
        else:
            group_sparsity = [s.sparsity_at(step) for s in self.schedules]
        return MaskContext(
            targets=self.targets,
            stats=self.stats,
            groups=self.groups,
            group_sparsity=group_sparsity,
            scope=self.config.scope,
            distribution=distributions.get(self.config.distribution),
            generator=self.generator,
            step=step,
        )

    @torch.no_grad()
    def _set_masks(self, new: list[torch.Tensor], keep: list[torch.Tensor] | None = None) -> None:
        """Install ``new`` masks; zero optimizer state where ``keep`` is False.

        ``keep`` defaults to old & new: pruned weights and freshly grown ones start clean.
        """
        if keep is None:
            keep = [t.mask & n for t, n in zip(self.targets, new, strict=True)]
        for t, n in zip(self.targets, new, strict=True):
            t.mask.copy_(n)
        self._refresh_float_masks()
        self.apply_masks()
        self._zero_optimizer_state(keep)

    def _zero_optimizer_state(self, keep: list[torch.Tensor]) -> None:
        """Zero attached optimizers' state wherever ``keep`` is False."""
        zero_state_where(self.optimizers, [t.param for t in self.targets], keep)

    def _refresh_float_masks(self) -> None:
        """Cache float copies of the masks and where each masked tensor lives."""
        own = [t.mask.to(t.param.dtype) for t in self.targets]
        self._own = range(len(own))
        self._float_masks = own + [own[i] for _, _, i in self._follower_params]
        places = [(t.module, t.param_name) for t in self.targets]
        places += [(m, n) for m, n, _ in self._follower_params]
        self._slots = [(holder_of(m, n), n) for m, n in places]

    # ----------------------------------------------------------------- lottery tickets
    def record_rewind_point(self) -> None:
        """Remember current weights; :meth:`rewind` restores survivors to them."""
        self.rewind_state = {t.name: t.param.detach().clone() for t in self.targets}

    @torch.no_grad()
    def rewind(self) -> None:
        """Set surviving weights back to the rewind point (pruned ones stay 0)."""
        if self.rewind_state is None:
            raise RuntimeError("no rewind point: set rewind_step or call record_rewind_point()")
        for t in self.targets:
            t.param.copy_(self.rewind_state[t.name] * t.mask)
        self._zero_optimizer_state([torch.zeros_like(t.mask) for t in self.targets])
        self.apply_masks()

    # ----------------------------------------------------------------- reporting
    def layer_sparsity(self) -> dict[str, float]:
        """Fraction of masked-out weights per target, by qualified name."""
        return {t.name: 1.0 - t.nonzero / t.numel for t in self.targets}

    def sparsity(self) -> float:
        """Fraction of masked-out weights over all selected parameters."""
        total = sum(t.numel for t in self.targets)
        return 1.0 - sum(t.nonzero for t in self.targets) / total

    def target_sparsity(self, step: int | None = None) -> float:
        """The schedules' (largest) target at ``step`` (default: the last step seen)."""
        s = self._last_step if step is None else step
        return max(sch.sparsity_at(s) for sch in self.schedules)

    @property
    def masks(self) -> dict[str, torch.Tensor]:
        """The live boolean masks by qualified name (True: the weight is kept)."""
        return {t.name: t.mask for t in self.targets}

    # ----------------------------------------------------------------- persistence
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume: masks, counters, gradient sums, rewind point, RNG."""
        return {
            "masks": {t.name: t.mask.clone() for t in self.targets},
            "last_step": self.last_step,
            "num_updates": self.num_updates,
            "stats": self.stats.state_dict() if self.stats is not None else None,
            "rewind": self.rewind_state,
            "generator": self.generator.get_state(),
            "criterion": self.method.criterion.state_dict(),
            "config": self.config.to_dict(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Resume from :meth:`state_dict` (checked against these networks before any change)."""
        new = checked_masks(state["masks"], self.targets)
        self._set_masks(new, keep=new)  # the masks before loading are not history
        self.last_step = int(state["last_step"])
        self.num_updates = int(state["num_updates"])
        if self.stats is not None and state.get("stats") is not None:
            self.stats.load_state_dict(state["stats"])
        self.rewind_state = state.get("rewind")
        self.generator.set_state(state["generator"])
        self.method.criterion.load_state_dict(state.get("criterion") or {})

    def __repr__(self) -> str:
        return (
            f"Pruner(method={self.config.method!r}, targets={len(self.targets)}, "
            f"sparsity={self.sparsity():.3f})"
        )
