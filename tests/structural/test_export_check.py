"""The export check's tolerance: absolute for outputs up to 1, relative to their scale above."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from prunerl.structural.export import _check, to_npz


def test_large_outputs_get_a_bound_relative_to_their_scale() -> None:
    big = np.array([[400.0, -250.0]], dtype=np.float32)
    _check("npz", [big], [big + 1e-3], atol=1e-5)  # 2.5e-6 of the scale: float32 noise
    with pytest.raises(RuntimeError, match=r"differs from torch by 0\.1"):
        _check("npz", [big], [big + 0.1], atol=1e-5)


def test_small_outputs_keep_the_absolute_bound() -> None:
    small = np.array([[0.5, -0.25]], dtype=np.float32)
    _check("npz", [small], [small + 5e-6], atol=1e-5)
    with pytest.raises(RuntimeError, match="please report this model"):
        _check("npz", [small], [small + 5e-5], atol=1e-5)


def test_export_of_a_network_with_large_outputs_passes(tmp_path: Path) -> None:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Linear(64, 4))
    with torch.no_grad():
        net[2].weight.mul_(3000.0)  # Q-values in the hundreds to thousands
    example = torch.randn(256, 8) * 10
    with torch.no_grad():
        assert float(net(example).abs().max()) > 500
    path = to_npz(net, tmp_path / "big.npz", example)
    assert path.is_file()
