"""Sparsity distributions: how one target sparsity is spread over layers (uniform, ERK)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from prunerl.core.targets import Target
from prunerl.registry import Registry

Distribution = Callable[[Sequence[Target], float], list[float]]
distributions: Registry[Distribution] = Registry("distribution")


@distributions.register("uniform")
def uniform(targets: Sequence[Target], sparsity: float) -> list[float]:
    """Every layer gets the same sparsity."""
    return [sparsity] * len(targets)


@distributions.register("erk")
def erk(targets: Sequence[Target], sparsity: float) -> list[float]:
    """Erdős–Rényi-Kernel (Evci et al. 2020): density ∝ sum(shape) / prod(shape).

    Small layers stay denser, large ones sparser, with the same total number of weights kept
    as uniform; layers whose density would exceed 1 are kept dense and the rest rescaled.
    """
    sizes = [t.numel for t in targets]
    raw = [sum(t.mask.shape) / t.numel for t in targets]
    keep_total = (1.0 - sparsity) * sum(sizes)
    dense: set[int] = set()
    while True:
        budget = keep_total - sum(sizes[i] for i in dense)
        free = [i for i in range(len(targets)) if i not in dense]
        weight = sum(raw[i] * sizes[i] for i in free)
        if not free or weight <= 0:
            break
        eps = budget / weight
        over = [i for i in free if eps * raw[i] > 1.0]
        if not over:
            break
        dense.update(over)
    densities = [1.0 if i in dense else min(1.0, eps * raw[i]) for i in range(len(targets))]
    return [max(0.0, 1.0 - d) for d in densities]
