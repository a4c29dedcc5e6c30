"""The SB3 callback masks pruned gradients where backward accumulates them: before SB3's
gradient-norm clip, and by multiplying (a NaN gradient stays NaN)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from stable_baselines3 import DQN, SAC

from prunerl.core.methods.dynamic import RigL
from prunerl.integrations.sb3 import PruningCallback

torch.set_num_threads(1)

Clip = Callable[..., torch.Tensor]


def pruned_dqn() -> tuple[DQN, PruningCallback]:
    """A DQN pruned to 80% whose every gradient step is clipped (max_grad_norm far below the
    gradient norm); plain SGD, so an update is -lr times the clipped gradient."""
    sgd = {"net_arch": [32, 32], "optimizer_class": torch.optim.SGD}
    model = DQN("MlpPolicy", "CartPole-v1", learning_starts=50, train_freq=4, seed=0,
                learning_rate=10.0, max_grad_norm=0.01, policy_kwargs=sgd)  # fmt: skip
    cb = PruningCallback(method="magnitude", sparsity=0.8, begin_step=100)
    model.learn(200, callback=cb)
    assert cb.pruner is not None and cb.pruner.sparsity() == pytest.approx(0.8, abs=0.01)
    return model, cb


def test_the_clipped_update_of_survivors_is_that_of_zero_pruned_gradients_before_the_clip(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model, cb = pruned_dqn()
    assert cb.pruner is not None
    targets = cb.pruner.targets
    state, rng = copy.deepcopy(model.policy.state_dict()), np.random.get_state()
    real_clip: Clip = torch.nn.utils.clip_grad_norm_

    def one_gradient_step(clip: Clip) -> list[torch.Tensor]:
        """SB3's own train step from the same weights and replay batch, with ``clip``."""
        model.policy.load_state_dict(state)
        np.random.set_state(rng)  # SB3's replay buffer samples with numpy's global RNG
        monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", clip)
        model.train(gradient_steps=1, batch_size=64)
        monkeypatch.undo()
        return [p.detach().clone() for p in model.policy.q_net.parameters()]

    def mask_then_clip(params: Any, max_norm: float, *args: Any, **kw: Any) -> torch.Tensor:
        for t in targets:
            t.param.grad.mul_(t.mask)  # type: ignore[union-attr]
        return real_clip(params, max_norm, *args, **kw)

    def clip_then_mask(params: Any, max_norm: float, *args: Any, **kw: Any) -> torch.Tensor:
        norm = real_clip(params, max_norm, *args, **kw)
        for t in targets:
            t.param.grad.mul_(t.mask)  # type: ignore[union-attr]
        return norm

    cb.init_callback(model)  # the callback's hooks, as during model.learn
    with_callback = one_gradient_step(real_clip)
    cb.on_training_end()
    reference = one_gradient_step(mask_then_clip)
    masked_late = one_gradient_step(clip_then_mask)
    start = [v for k, v in state.items() if k.startswith("q_net.")]
    updates = [[w - s for w, s in zip(ws, start, strict=True)]
               for ws in (with_callback, reference, masked_late)]  # fmt: skip
    norm = [float(torch.cat([u.flatten() for u in us]).norm()) for us in updates]
    assert norm[1] == pytest.approx(0.01 * 10.0, rel=1e-3)  # the clip was active: lr * max norm
    for got, want in zip(updates[0], updates[1], strict=True):
        assert torch.allclose(got, want, rtol=1e-4, atol=1e-7)
    # masking after the clip shrinks the survivors' update: the test tells the two apart
    assert norm[2] < 0.9 * norm[1]
    for t in targets:
        assert not t.param[~t.mask].any()


def test_a_nan_gradient_of_a_pruned_weight_stays_nan() -> None:
    """Masking multiplies (NaN * 0 is NaN): never torch.where/masked_fill, which would hide a
    NaN gradient as 0 and let a diverged update pass the finiteness checks."""
    model, cb = pruned_dqn()
    assert cb.pruner is not None
    first = cb.pruner.targets[0]
    assert first.name == "q_net.q_net.0.weight"
    cb.init_callback(model)
    obs = torch.zeros(3, 4)
    obs[1, 2] = float("nan")  # NaN in input 2: NaN gradient in column 2 of the first layer
    model.policy.q_net.zero_grad()
    model.policy.q_net(obs).sum().backward()
    cb.on_training_end()
    grad = first.param.grad
    assert grad is not None
    pruned_in_column = ~first.mask[:, 2]
    assert pruned_in_column.any()
    assert torch.isnan(grad[:, 2][pruned_in_column]).all()
    assert (grad[:, 0][~first.mask[:, 0]] == 0).all()  # finite gradients of pruned weights: 0


@pytest.mark.parametrize("algo", ["dqn", "sac"])
def test_rigl_and_gradient_statistics_see_the_unmasked_gradients(
    algo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Masking the gradients for the clip must not blind the methods that read them: RigL
    regrows where the pruned weights' gradients are largest, Taylor scores average |w·g|."""
    grown: list[float] = []
    grow = RigL.grow_scores

    def spy(self: RigL, target: Any, index: int, ctx: Any) -> torch.Tensor:
        scores = grow(self, target, index, ctx)
        grown.append(float(scores[~target.mask].sum()))
        return scores

    monkeypatch.setattr(RigL, "grow_scores", spy)
    schedule = {"sparsity": 0.8, "begin_step": 100, "end_step": 250, "update_every": 50}
    for method in ("rigl", "taylor"):
        if algo == "dqn":
            model: Any = DQN("MlpPolicy", "CartPole-v1", learning_starts=50, seed=0,
                             policy_kwargs={"net_arch": [16, 16]})  # fmt: skip
        else:
            model = SAC("MlpPolicy", "Pendulum-v1", learning_starts=50, batch_size=32, seed=0,
                        policy_kwargs={"net_arch": [16, 16]})  # fmt: skip
        cb = PruningCallback(method=method, **schedule)
        model.learn(260, callback=cb)
        assert cb.pruner is not None and cb.pruner.sparsity() == pytest.approx(0.8, abs=0.01)
        stats = cb.pruner.stats
        if method == "taylor":
            assert stats is not None and stats.count > 0
            for i, t in enumerate(cb.pruner.targets):  # pruned weights are 0, so |w·g| is too;
                assert stats.abs_sum[i][~t.mask].sum() > 0  # |g| of the pruned ones is not
    assert len(grown) >= 3 and all(g > 0 for g in grown)  # every regrowth saw real gradients
