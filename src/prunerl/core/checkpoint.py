"""Checks that a saved pruner state fits the networks it is loaded into."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch

from prunerl.core.targets import Target


def checked_masks(
    masks: Mapping[str, torch.Tensor], targets: Sequence[Target]
) -> list[torch.Tensor]:
    """Saved masks in target order as bool tensors on the targets' devices.

    Raises ValueError, before anything changes, when masks are missing, unexpected or of
    another shape: the state was saved from another architecture.
    """
    names = [t.name for t in targets]
    if sorted(masks) != sorted(names):
        missing = sorted(set(names) - set(masks))
        extra = sorted(set(masks) - set(names))
        raise ValueError(
            f"pruner state does not fit these networks (missing masks {missing[:4]}, "
            f"unexpected {extra[:4]}): load it into the architecture it was saved from"
        )
    for t in targets:
        shape = tuple(masks[t.name].shape)
        if shape != tuple(t.mask.shape):
            raise ValueError(
                f"mask {t.name!r} has shape {shape}, the parameter has "
                f"{tuple(t.mask.shape)}: the checkpoint is from another architecture"
            )
    return [masks[t.name].to(device=t.mask.device, dtype=torch.bool) for t in targets]
