"""Pruned gradients masked where backward accumulates them, before any clip or optimizer step.

Stable-Baselines3 clips the gradient norm between ``loss.backward()`` and ``optimizer.step()``,
so an optimizer pre-step hook masks too late: the pruned weights' gradients have already
counted in the norm and shrunk every surviving weight's update. A post-accumulate-grad hook on
each pruned parameter masks there instead. Masking multiplies by the mask, so a NaN gradient
stays NaN for the finiteness checks to find (``torch.where``/``masked_fill`` would hide it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch.utils.hooks import RemovableHandle

from prunerl.core.methods.dynamic import RigL
from prunerl.core.pruner import Pruner


class GradientMasker:
    """Masks the gradients of ``pruner``'s targets as they accumulate; keeps the unmasked ones
    when the method reads gradients (gradient statistics, RigL's regrowth)."""

    def __init__(self, pruner: Pruner) -> None:
        self.pruner = pruner
        self.keep_dense = pruner.stats is not None or isinstance(pruner.method, RigL)
        self.dense: dict[int, torch.Tensor] = {}  # target index -> its unmasked gradient
        self._seen: dict[int, torch.Tensor] = {}  # the .grad tensor each one was taken from

    def register(self) -> list[RemovableHandle]:
        """One hook per pruned parameter that takes gradients; the handles remove them."""
        return [
            t.param.register_post_accumulate_grad_hook(self._hook(i))
            for i, t in enumerate(self.pruner.targets)
            if t.param.requires_grad
        ]

    def _hook(self, index: int) -> Callable[[torch.Tensor], None]:
        def hook(param: torch.Tensor) -> None:
            grad = param.grad
            if grad is None:
                return
            if self.keep_dense:
                prev = self.dense.get(index)
                if prev is not None and self._seen.get(index) is grad:
                    # accumulated onto the masked gradient (SAC's actor loss reaches the critic):
                    # add back what masking removed
                    self.dense[index] = grad + prev * ~self.pruner.targets[index].mask
                else:
                    self.dense[index] = grad.detach().clone()
                self._seen[index] = grad
            self.pruner.mask_gradients([index])

        return hook

    @contextmanager
    def unmasked(self) -> Iterator[None]:
        """Inside, each target's ``.grad`` is its unmasked gradient (the masked one after)."""
        targets = self.pruner.targets
        masked = {i: targets[i].param.grad for i in self.dense}
        try:
            for i, dense in self.dense.items():
                targets[i].param.grad = dense
            yield
        finally:
            for i, grad in masked.items():
                targets[i].param.grad = grad

    def observe(self, *_: Any) -> None:
        """Gradient statistics of the unmasked gradients, once every target has one (SAC's
        actor has none before its first step); an optimizer pre-step hook."""
        targets = self.pruner.targets
        if all(t.param.grad is not None or i in self.dense for i, t in enumerate(targets)):
            with self.unmasked():
                self.pruner.observe_gradients()

    def clear(self) -> None:
        self.dense.clear()
        self._seen.clear()
