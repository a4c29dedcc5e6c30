"""The digits example: 90% gradual magnitude pruning keeps test accuracy within 2 points."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
import torch

pytest.importorskip("sklearn")
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "digits_gmp.py"


def load_example() -> ModuleType:
    """Import ``examples/digits_gmp.py`` by path (examples are scripts, not a package)."""
    spec = importlib.util.spec_from_file_location("digits_gmp", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


def test_gmp_to_90_percent_keeps_accuracy_within_two_points():
    torch.set_num_threads(1)
    digits = load_example()
    dense = digits.train_digits(sparsity=None, epochs=20, seed=0)
    pruned = digits.train_digits(sparsity=0.9, epochs=20, seed=0)
    assert dense.accuracy > 0.95  # the dense baseline has learned the task
    assert pruned.accuracy >= dense.accuracy - 0.02
    assert pruned.sparsity == pytest.approx(0.9, abs=1e-3)
    assert pruned.cost.flops_sparse == pytest.approx(0.1 * pruned.cost.flops_dense, rel=1e-3)
    assert dense.cost.params_nonzero == dense.cost.params_total
