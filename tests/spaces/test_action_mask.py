from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

from prunerl.rl.envs import make_env, make_vec_env
from prunerl.spaces.action_mask import (
    ActionMasker,
    action_mask_from_info,
    check_action_mask,
    masked_argmax,
    masked_log_prob_entropy,
    masked_max,
    random_valid_actions,
)

MASK = torch.tensor([[True, False, True, False], [False, False, False, True]])
VALUES = torch.tensor([[1.0, 9.0, 2.0, 8.0], [5.0, 6.0, 7.0, -3.0]])


def test_masked_argmax_and_max_ignore_invalid_actions() -> None:
    assert masked_argmax(VALUES, MASK).tolist() == [2, 3]
    assert masked_max(VALUES, MASK).tolist() == [2.0, -3.0]
    assert masked_argmax(VALUES, None).tolist() == [1, 2]
    assert masked_argmax(VALUES[0], np.array([1, 0, 0, 1])).item() == 3  # numpy, 0/1, unbatched


def test_log_prob_and_entropy_are_over_valid_actions_only() -> None:
    logits = torch.randn(2, 4, requires_grad=True)
    actions = torch.tensor([2, 3])
    log_p, entropy = masked_log_prob_entropy(logits, actions, MASK)
    sub = torch.distributions.Categorical(logits=logits[0, [0, 2]])
    assert log_p[0].item() == pytest.approx(sub.log_prob(torch.tensor(1)).item(), abs=1e-6)
    assert entropy[0].item() == pytest.approx(sub.entropy().item(), abs=1e-6)
    assert log_p[1].item() == pytest.approx(0.0, abs=1e-6) and entropy[1].item() == 0.0
    (log_p.sum() + entropy.sum()).backward()
    assert torch.isfinite(logits.grad).all()
    assert logits.grad[0, 1] == 0.0 and logits.grad[0, 3] == 0.0  # invalid logits get no gradient


def test_mask_shape_must_match_network_outputs() -> None:
    with pytest.raises(ValueError, match="one entry per action"):
        masked_argmax(VALUES, torch.ones(2, 3, dtype=torch.bool))


def test_check_action_mask_errors_name_the_fix() -> None:
    with pytest.raises(ValueError, match=r"shape \(5,\).*4 actions.*shape \(4,\)"):
        check_action_mask(np.ones(5), 4)
    with pytest.raises(ValueError, match="no action valid"):
        check_action_mask(np.zeros(4), 4)
    with pytest.raises(ValueError, match="only 0/1"):
        check_action_mask(np.array([0, 2, 1, 1]), 4)
    assert check_action_mask([1, 0, 1, 1], 4).dtype == np.bool_


def test_mask_from_vector_env_info() -> None:
    envs = make_vec_env("prunerl/InvalidActionChain-v0", 3, seed=0)
    _, info = envs.reset(seed=0)
    masks = action_mask_from_info(info, 12, num_envs=3)
    assert masks is not None and masks.shape == (3, 12) and (masks.sum(axis=1) == 3).all()
    assert action_mask_from_info({}, 12, num_envs=3) is None
    partial = {"action_mask": np.zeros((3, 12)), "_action_mask": np.array([True, False, False])}
    partial["action_mask"][0, 1] = 1
    out = action_mask_from_info(partial, 12, num_envs=3)
    assert out is not None and out[0].sum() == 1 and out[1:].all()
    with pytest.raises(ValueError, match="vector env of 3"):
        action_mask_from_info({"action_mask": np.ones(12)}, 12, num_envs=3)


def test_action_masker_puts_a_callable_mask_in_info() -> None:
    env = ActionMasker(
        make_env("CartPole-v1"), lambda e: np.array([True, e.unwrapped.state[2] > 0])
    )
    _, info = env.reset(seed=0)
    assert info["action_mask"].dtype == np.bool_ and info["action_mask"][0]
    *_, info = env.step(0)
    assert info["action_mask"].shape == (2,)
    bad = ActionMasker(make_env("CartPole-v1"), lambda e: np.ones(3))
    with pytest.raises(ValueError, match=r"mask_fn\(env\) has shape \(3,\)"):
        bad.reset(seed=0)
    with pytest.raises(ValueError, match="Discrete"):
        ActionMasker(make_env("Pendulum-v1"), lambda e: np.ones(1))


def test_random_valid_actions_only_valid() -> None:
    mask = np.zeros((500, 6), dtype=bool)
    mask[:, [1, 4]] = True
    picks = random_valid_actions(mask, np.random.default_rng(0))
    assert set(picks.tolist()) == {1, 4}


def test_masker_requires_callable() -> None:
    with pytest.raises(ValueError, match="callable"):
        ActionMasker(gym.make("CartPole-v1"), np.ones(2))  # type: ignore[arg-type]
