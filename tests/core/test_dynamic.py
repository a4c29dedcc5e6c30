"""SET and RigL move connections at constant sparsity; grown weights start from zero."""

from __future__ import annotations

import math

import pytest
import torch

from prunerl import Pruner
from prunerl.core.methods.dynamic import DropAndGrow

from .nets import mlp, train_step


def run(method: str, steps: int = 100, **kwargs: object) -> list[dict[str, object]]:
    """Train with a dynamic method; record every update's masks, weights, grads and state."""
    torch.manual_seed(0)
    model = mlp((4, 64, 64, 2))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    options = {"sparsity": 0.8, "update_every": 10, "end_step": 80, "seed": 3, **kwargs}
    pruner = Pruner(model, method=method, **options).attach_optimizer(opt)
    records = []
    for step in range(steps):
        before = [t.mask.clone() for t in pruner.targets]
        train_step(model, opt)
        grads = [t.param.grad.detach().abs().clone() for t in pruner.targets]
        if pruner.step(step):
            records.append(
                {
                    "step": step,
                    "old": before,
                    "new": [t.mask.clone() for t in pruner.targets],
                    "weights": [t.param.detach().clone() for t in pruner.targets],
                    "grads": grads,
                    "state": [
                        {k: v.clone() for k, v in opt.state[t.param].items()}
                        for t in pruner.targets
                    ],
                }
            )
    return records


@pytest.mark.parametrize("method", ["set", "rigl"])
def test_connections_move_at_constant_sparsity(method):
    records = run(method)
    assert [r["step"] for r in records] == [0, 10, 20, 30, 40, 50, 60, 70]
    for r in records:
        for old, new in zip(r["old"], r["new"], strict=True):
            assert int(old.sum()) == int(new.sum())  # same count in every layer
            assert 1 - new.float().mean().item() == pytest.approx(0.8, abs=1 / new.numel())
        assert (r["old"][1] != r["new"][1]).any()  # ...but other connections


@pytest.mark.parametrize("method", ["set", "rigl"])
def test_grown_weights_start_at_zero_with_zero_optimizer_state(method):
    checked = 0
    for r in run(method):
        for old, new, w, state in zip(r["old"], r["new"], r["weights"], r["state"], strict=True):
            grown = new & ~old
            checked += int(grown.sum())
            assert not w[grown].any()
            for key in ("exp_avg", "exp_avg_sq"):
                assert not state[key][grown].any()
                assert not state[key][~new].any()
    assert checked > 500


def test_rigl_grows_where_the_gradient_is_largest():
    for r in run("rigl"):
        for old, new, grad in zip(r["old"], r["new"], r["grads"], strict=True):
            grown = new & ~old
            if grown.any():
                assert grad[grown].min() >= grad[~new].max()


def test_drop_fraction_decays_with_a_cosine_and_is_zero_after_end():
    method = DropAndGrow(criterion=None, drop_fraction=0.3, begin=100, end=300)
    assert method.fraction_at(100) == pytest.approx(0.3)
    assert method.fraction_at(200) == pytest.approx(0.15)
    assert method.fraction_at(150) == pytest.approx(0.15 * (1 + math.cos(math.pi / 4)))
    assert method.fraction_at(300) == method.fraction_at(10**6) == 0.0
    steps = range(100, 300, 7)
    values = [method.fraction_at(s) for s in steps]
    assert values == sorted(values, reverse=True)


def test_the_number_moved_follows_the_drop_fraction():
    moved = []
    for r in run("set", drop_fraction=0.5):
        old, new = r["old"][1], r["new"][1]
        moved.append(int((old & ~new).sum()))  # dropped and not regrown by chance
        expected = int(0.5 * 0.5 * (1 + math.cos(math.pi * r["step"] / 80)) * int(old.sum()))
        assert 0.8 * expected <= moved[-1] <= expected
    assert moved == sorted(moved, reverse=True)


def test_masks_stop_moving_after_end_step():
    records = run("set", steps=200, end_step=50)
    assert max(r["step"] for r in records) < 50
