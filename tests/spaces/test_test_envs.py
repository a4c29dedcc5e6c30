from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from prunerl.rl.envs import make_env


def rollout(env: gym.Env, actions: list[int], seed: int = 0) -> np.ndarray:
    obs, _ = env.reset(seed=seed)
    seen = [obs]
    for a in actions:
        obs, *_ = env.step(a)
        seen.append(obs)
    return np.stack(seen)


def test_distractor_kinds_behave_as_documented() -> None:
    env = make_env("prunerl/CartPoleDistractors-v0")
    inner = env.get_wrapper_attr("kinds")
    obs = rollout(env, [0, 1] * 10)
    assert obs.shape == (21, 20)
    kinds = np.array(inner)
    dist = obs[:, 4:]
    assert np.ptp(dist[:, kinds == "constant"], axis=0).max() == 0.0
    noise = dist[:, kinds == "noise"]
    assert noise.std() > 0.5 and abs(np.corrcoef(noise[:, 0], obs[:, 2])[0, 1]) < 0.9
    sources = env.get_wrapper_attr("sources")[kinds == "copy"]
    copies = dist[:, kinds == "copy"]
    assert np.abs(copies - obs[:, sources]).max() < 3.0  # copy = source + N(0, 0.5)
    names = env.get_wrapper_attr("feature_names")
    assert names[:4] == ("cart_position", "cart_velocity", "pole_angle", "pole_angular_velocity")
    assert len(names) == 20 and env.observation_space.contains(obs[0])


def test_distractors_are_reproducible_by_seed() -> None:
    a = rollout(make_env("prunerl/CartPoleDistractors-v0"), [1, 0, 1], seed=3)
    b = rollout(make_env("prunerl/CartPoleDistractors-v0"), [1, 0, 1], seed=3)
    c = rollout(make_env("prunerl/CartPoleDistractors-v0"), [1, 0, 1], seed=4)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a[:, 4:], c[:, 4:])


def test_pendulum_and_acrobot_distractors_and_kwargs() -> None:
    env = make_env("prunerl/PendulumDistractors-v0", env_kwargs={"n_distractors": 5})
    assert env.observation_space.shape == (8,)
    acrobot = make_env("prunerl/AcrobotDistractors-v0", env_kwargs={"n_distractors": 24})
    assert acrobot.observation_space.shape == (30,)
    assert acrobot.get_wrapper_attr("feature_names")[5] == "omega2"
    with pytest.raises(ValueError, match="kinds"):
        make_env("prunerl/PendulumDistractors-v0", env_kwargs={"kinds": ("nois",)})


def test_extra_actions_copies_match_and_noop_differs() -> None:
    names = make_env("prunerl/CartPoleExtraActions-v0").get_wrapper_attr("action_names")
    assert names == ("left", "right", "left", "right", "left", "right", "noop")
    base = rollout(make_env("prunerl/CartPoleExtraActions-v0"), [0, 1, 1, 0])
    copy = rollout(make_env("prunerl/CartPoleExtraActions-v0"), [4, 3, 5, 2])
    noop = rollout(make_env("prunerl/CartPoleExtraActions-v0"), [6, 6, 6, 6])
    np.testing.assert_allclose(base, copy)
    assert abs(noop[-1, 1] - noop[0, 1]) < abs(base[1, 1] - base[0, 1])  # no force on the cart
    env = make_env("prunerl/CartPoleExtraActions-v0")
    env.reset(seed=0)
    env.step(1)
    assert env.unwrapped.force_mag == 10.0  # restored after a no-op too


def test_invalid_action_chain_masks_penalises_and_finishes() -> None:
    env = make_env("prunerl/InvalidActionChain-v0")
    obs, info = env.reset(seed=0)
    chain = env.unwrapped
    mask = info["action_mask"]
    assert mask.shape == (12,) and mask.sum() == 3
    np.testing.assert_array_equal(obs[8:], mask)
    invalid = int(np.flatnonzero(mask == 0)[0])
    _, reward, *_ = env.step(invalid)
    assert reward == pytest.approx(-0.1) and chain.cell == 0
    total, done = 0.0, False
    while not done:
        forward = int(np.flatnonzero(chain.moves[chain.cell] == 1)[0])
        _, reward, terminated, truncated, info = env.step(forward)
        total += reward
        done = terminated or truncated
    assert terminated and total > 0.5


def test_invalid_action_chain_bad_layout() -> None:
    with pytest.raises(ValueError, match="valid_per_cell"):
        make_env("prunerl/InvalidActionChain-v0", env_kwargs={"valid_per_cell": 1})


def test_invalid_action_chain_can_hide_its_mask() -> None:
    env = make_env("prunerl/InvalidActionChain-v0", env_kwargs={"expose_mask": False})
    obs, info = env.reset(seed=0)
    assert "action_mask" not in info and obs[8:].sum() == 3  # still observable in the state
    *_, info = env.step(0)
    assert "action_mask" not in info


@pytest.mark.parametrize("source", ["env", "global"])
def test_sign_match_rewards_each_right_sign_and_replays_by_seed(source: str) -> None:
    kwargs = {"noise_source": source, "reward_noise": 0.0, "n_distractors": 3}
    env = make_env("prunerl/SignMatch-v0", env_kwargs=kwargs)
    assert env.get_wrapper_attr("feature_names")[:3] == ("signal_0", "signal_1", "signal_2")
    obs, _ = env.reset(seed=5)
    first = obs.copy()
    rewards, steps, done = [], 0, False
    while not done:
        right = int(sum(int(obs[i] > 0) << i for i in range(3)))  # every bit guessed right
        wrong_bit_0 = right ^ 1
        obs, reward, terminated, truncated, _ = env.step(wrong_bit_0 if steps % 2 else right)
        rewards.append(reward)
        steps += 1
        done = terminated or truncated
    assert steps == 50 and not terminated
    np.testing.assert_allclose(rewards[::2], 1.0)
    np.testing.assert_allclose(rewards[1::2], 2 / 3)  # one of three signs wrong
    again, _ = env.reset(seed=5)
    if source == "env":
        np.testing.assert_array_equal(again, first)
    else:  # the global source follows numpy's global generator, not reset(seed=...)
        assert not np.array_equal(again[:3], first[:3])


def test_sign_match_reward_noise_and_bad_arguments() -> None:
    env = make_env("prunerl/SignMatch-v0", env_kwargs={"reward_noise": 1.0, "n_distractors": 0})
    env.reset(seed=0)
    noisy = [env.step(0)[1] for _ in range(40)]
    assert np.std(noisy) > 0.5  # noise of std 1 on top of rewards in [0, 1]
    with pytest.raises(ValueError, match="n_real"):
        make_env("prunerl/SignMatch-v0", env_kwargs={"n_real": 9})
    with pytest.raises(ValueError, match="noise_source"):
        make_env("prunerl/SignMatch-v0", env_kwargs={"noise_source": "os"})
