"""Non-finite values (NaN, Inf) in tensors and arrays: a cheap test, and an error that names them.

Training loops call these at fixed points (after an env step, after a round of updates, before a
checkpoint is written) so a NaN stops the run where it appears instead of silently poisoning the
weights and every later checkpoint.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import torch


class NonFiniteError(FloatingPointError):
    """A NaN or Inf where training needs finite numbers; the message names what, where, when."""


def describe_non_finite(values: np.ndarray | torch.Tensor) -> str | None:
    """``"[1] is NaN"`` for the first non-finite entry (index in the array's shape), else None."""
    array = values.detach().cpu().numpy() if isinstance(values, torch.Tensor) else values
    array = np.asarray(array)
    if array.dtype.kind not in "fc":
        return None
    bad = np.argwhere(~np.isfinite(array))
    if len(bad) == 0:  # not bad.size: a 0-d array's hit is a row of length 0
        return None
    index = tuple(int(i) for i in bad[0])
    value = array[index] if index else array.item()
    kind = "NaN" if np.isnan(value) else ("+Inf" if value > 0 else "-Inf")
    where = "" if not index else "[" + ", ".join(str(i) for i in index) + "]"
    return f"{where} is {kind}"


def all_finite(tensors: list[torch.Tensor]) -> bool:
    """Whether every entry of every tensor is finite: one sum per tensor (a NaN or Inf makes its
    sum non-finite), so it costs about one pass over the data and one sync."""
    if not tensors:
        return True
    with torch.no_grad():
        sums = torch.stack([t.detach().sum(dtype=torch.float64) for t in tensors])
        return bool(torch.isfinite(sums).all())


def first_non_finite(named: Mapping[str, torch.Tensor]) -> tuple[str, str] | None:
    """``(name, "[3, 0] is NaN")`` of the first tensor holding a non-finite entry, else None."""
    if all_finite(list(named.values())):
        return None
    for name, tensor in named.items():
        found = describe_non_finite(tensor)
        if found is not None:
            return name, found
    return None


def is_finite_number(value: float) -> bool:
    """A Python or numpy scalar that is neither NaN nor Inf."""
    return math.isfinite(float(value))
