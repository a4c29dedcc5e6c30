"""Masks survive deepcopy, state_dict round-trips, pruner checkpoints and Polyak averaging."""

from __future__ import annotations

import copy
import io

import pytest
import torch

import prunerl
from prunerl import Pruner

from .nets import mlp, pruned, train_step


def test_model_state_dict_keys_are_unchanged_and_round_trip():
    dense_keys = list(mlp().state_dict())
    model = mlp()
    prunerl.prune(model, sparsity=0.8)
    state = model.state_dict()
    assert list(state) == dense_keys  # masks are non-persistent buffers, no weight_orig
    fresh = mlp(seed=1)
    fresh.load_state_dict(state)
    for name, mask in pruned(model).items():
        weight = fresh.get_parameter(name.removesuffix("_mask"))
        assert not weight[~mask].any()
        assert torch.equal(weight, model.get_parameter(name.removesuffix("_mask")))


def test_deepcopy_keeps_masks_and_zeros():
    model = mlp()
    prunerl.prune(model, sparsity=0.8)
    twin = copy.deepcopy(model)
    for (name, mask), (_, twin_mask) in zip(
        pruned(model).items(), pruned(twin).items(), strict=True
    ):
        assert torch.equal(mask, twin_mask)
        assert not twin.get_parameter(name.removesuffix("_mask"))[~twin_mask].any()


def test_deepcopy_of_a_pruner_drives_its_own_copy_of_the_model():
    model = mlp()
    pruner = Pruner(model, method="gmp", sparsity=0.9, end_step=10, update_every=5)
    twin = copy.deepcopy(pruner)
    twin.step(10)
    assert twin.sparsity() > 0.89 and pruner.sparsity() == 0.0
    for t in twin.targets:  # the copied masks are still the copied modules' buffers
        assert getattr(t.module, f"{t.param_name}_mask") is t.mask
        assert not t.param[~t.mask].any()


def _train(
    pruner: Pruner, model: torch.nn.Module, opt: torch.optim.Optimizer, steps: range
) -> None:
    for step in steps:
        torch.manual_seed(step)
        train_step(model, opt)
        pruner.observe_gradients()
        pruner.step(step)


@pytest.mark.parametrize("criterion", ["taylor", "random"])
def test_pruner_checkpoint_resumes_exactly_through_torch_save(criterion):
    def build() -> tuple[torch.nn.Module, torch.optim.Optimizer, Pruner]:
        model = mlp((4, 32, 32, 2))
        opt = torch.optim.Adam(model.parameters(), lr=1e-2)
        config = prunerl.PruningConfig(
            method="gmp", criterion=criterion, sparsity=0.9, end_step=40, update_every=10
        )
        return model, opt, Pruner(model, config).attach_optimizer(opt)

    model, opt, pruner = build()
    _train(pruner, model, opt, range(25))
    buffer = io.BytesIO()
    torch.save(
        {"pruner": pruner.state_dict(), "model": model.state_dict(), "opt": opt.state_dict()},
        buffer,
    )
    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)

    model2, opt2, pruner2 = build()
    model2.load_state_dict(saved["model"])
    opt2.load_state_dict(saved["opt"])
    pruner2.load_state_dict(saved["pruner"])
    assert pruner2.last_step == 24 and pruner2.num_updates == pruner.num_updates
    assert all(
        torch.equal(a, b)
        for a, b in zip(pruner.masks.values(), pruner2.masks.values(), strict=True)
    )
    if criterion == "taylor":
        assert pruner2.stats is not None and pruner2.stats.count == pruner.stats.count  # type: ignore[union-attr]

    _train(pruner, model, opt, range(25, 50))
    _train(pruner2, model2, opt2, range(25, 50))
    for a, b in zip(pruner.masks.values(), pruner2.masks.values(), strict=True):
        assert torch.equal(a, b)
    for p, q in zip(model.parameters(), model2.parameters(), strict=True):
        assert torch.equal(p, q)


def test_loading_keeps_optimizer_state_of_loaded_survivors_for_sparse_from_start_methods():
    model = mlp()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    pruner = Pruner(model, method="static", sparsity=0.5, seed=1).attach_optimizer(opt)
    _train(pruner, model, opt, range(3))
    state = {"pruner": pruner.state_dict(), "opt": copy.deepcopy(opt.state_dict())}

    model2 = mlp()
    opt2 = torch.optim.Adam(model2.parameters(), lr=1e-2)
    pruner2 = Pruner(model2, method="static", sparsity=0.5, seed=2).attach_optimizer(opt2)
    opt2.load_state_dict(state["opt"])
    pruner2.load_state_dict(state["pruner"])  # a fresh random mask must not erase moments
    for t, t2 in zip(pruner.targets, pruner2.targets, strict=True):
        before, after = opt.state[t.param]["exp_avg"], opt2.state[t2.param]["exp_avg"]
        assert torch.equal(t.mask, t2.mask)
        assert torch.equal(before[t.mask], after[t.mask]) and before[t.mask].any()
        assert not after[~t.mask].any()


@pytest.mark.parametrize("followers", [True, False])
def test_polyak_averaging_into_a_follower_keeps_its_pruned_entries_zero(followers: bool):
    """Re-masking after each optimizer step with or without the followers (agents skip them)."""
    online = mlp()
    target = copy.deepcopy(online)
    opt = torch.optim.Adam(online.parameters(), lr=1e-2)
    pruner = Pruner({"q": online}, method="gmp", sparsity=0.9, end_step=60, update_every=20)
    pruner.attach_optimizer(opt).follow(target, source="q")
    for step in range(100):
        train_step(online, opt)
        pruner.step(step, followers=followers)
        with torch.no_grad():
            for p_t, p_o in zip(target.parameters(), online.parameters(), strict=True):
                p_t.mul_(0.995).add_(0.005 * p_o)  # soft update, as in DQN/SAC
        for name, mask in pruner.masks.items():
            local = name.removeprefix("q.")
            assert torch.equal(target.get_buffer(f"{local}_mask"), mask)
            if step % 20 != 19:  # between updates both are masked: the average stays 0
                assert not target.get_parameter(local)[~mask].any()
    pruner.step(100)
    for name, mask in pruner.masks.items():
        assert not target.get_parameter(name.removeprefix("q."))[~mask].any()
    assert list(target.state_dict()) == list(mlp().state_dict())


def test_stepping_without_followers_leaves_them_alone_until_a_mask_update():
    online = mlp()
    target = copy.deepcopy(online)
    pruner = Pruner({"q": online}, method="gmp", sparsity=0.5, end_step=10, update_every=10)
    pruner.follow(target, source="q")
    pruner.step(10)
    name, mask = next(iter(pruner.masks.items()))
    follower = target.get_parameter(name.removeprefix("q."))
    with torch.no_grad():
        follower.fill_(1.0)
    pruner.step(11, followers=False)
    assert follower[~mask].eq(1.0).all()
    pruner.step(12)
    assert not follower[~mask].any()
