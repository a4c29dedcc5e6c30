"""Turn scores into masks: keep the top-k per layer, or one ranking over several layers."""

from __future__ import annotations

from collections.abc import Sequence

import torch


def keep_count(numel: int, sparsity: float) -> int:
    """Number of weights kept at ``sparsity`` (rounded, so the error is under one weight)."""
    return round((1.0 - sparsity) * numel)


def mask_topk(scores: torch.Tensor, k: int) -> torch.Tensor:
    """Boolean mask of the k highest scores (ties broken by position, deterministic)."""
    flat = scores.reshape(-1)
    mask = torch.zeros(flat.numel(), dtype=torch.bool, device=scores.device)
    if k > 0:
        mask[torch.topk(flat, k, sorted=False).indices] = True
    return mask.view_as(scores)


def masked_scores(scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Scores with already-pruned entries at -inf, so pruning never revives a weight."""
    return torch.where(
        mask, scores.float(), torch.full_like(scores, float("-inf"), dtype=torch.float)
    )


def layer_masks(
    scores: Sequence[torch.Tensor], masks: Sequence[torch.Tensor], sparsities: Sequence[float]
) -> list[torch.Tensor]:
    """Per-layer top-k at each layer's own sparsity (never below the layer's current sparsity)."""
    out = []
    for s, m, sp in zip(scores, masks, sparsities, strict=True):
        k = min(keep_count(m.numel(), sp), int(m.sum()))
        out.append(mask_topk(masked_scores(s, m), k))
    return out


def global_masks(
    scores: Sequence[torch.Tensor], masks: Sequence[torch.Tensor], sparsity: float
) -> list[torch.Tensor]:
    """One ranking over all layers: keep the k highest scores wherever they are."""
    flat = torch.cat([masked_scores(s, m).reshape(-1) for s, m in zip(scores, masks, strict=True)])
    total = sum(m.numel() for m in masks)
    active = int(sum(int(m.sum()) for m in masks))
    k = min(keep_count(total, sparsity), active)
    kept = mask_topk(flat, k)
    out, offset = [], 0
    for m in masks:
        out.append(kept[offset : offset + m.numel()].view_as(m))
        offset += m.numel()
    return out


def random_mask(shape: torch.Size, sparsity: float, generator: torch.Generator) -> torch.Tensor:
    """A mask keeping exactly ``keep_count`` uniformly random entries."""
    scores = torch.rand(shape, generator=generator)
    return mask_topk(scores, keep_count(scores.numel(), sparsity))
