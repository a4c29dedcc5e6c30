"""describe_non_finite on 0-d values (one env's reward): found, with no index."""

from __future__ import annotations

import numpy as np
import torch

from prunerl.core.finite import describe_non_finite


def test_a_non_finite_scalar_is_described_without_an_index() -> None:
    assert describe_non_finite(np.float32("nan")) == " is NaN"
    assert describe_non_finite(np.array(-np.inf)) == " is -Inf"
    assert describe_non_finite(torch.tensor(float("inf"))) == " is +Inf"
    assert describe_non_finite(np.float64(1.0)) is None
    assert describe_non_finite(np.array([0.0, np.nan])) == "[1] is NaN"
