from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import pytest
import torch
from torch import nn

from prunerl.rl.evaluate import evaluate_policy
from prunerl.spaces import prune_observations, reduce_agent
from prunerl.spaces.wrappers import REDUCED_ENV_ID

from .helpers import controller_agent


def test_measures_agree_on_the_controller_inputs(cartpole_agent: Any) -> None:
    result = prune_observations(cartpole_agent, "permutation", k=2, episodes=4)
    assert result.keep == [2, 3] and result.rule == "top_k"
    assert set(result.scores) == {"permutation", "weight_norm", "saliency"}
    for name, scores in result.scores.items():
        s = np.asarray(scores)
        assert set(np.argsort(-s)[:2]) == {2, 3}, name
        assert np.abs(s[[0, 1, 4, 5, 6, 7]]).max() < 1e-9, name  # unused inputs score 0
    assert result.baseline_return == 500.0
    assert result.names[2] == "pole_angle" and len(result.names) == 8


def test_tolerance_keeps_exactly_the_needed_features(cartpole_agent: Any) -> None:
    result = prune_observations(cartpole_agent, "weight_norm", episodes=4)
    assert result.keep == [2, 3] and result.rule == "tolerance"
    assert result.pruned_return == 500.0
    first = result.trials[0]  # every zero-score input removed in one go
    assert first["items"] == [0, 1, 4, 5, 6, 7] and first["accepted"]
    rejected = [t["items"] for t in result.trials if not t["accepted"]]
    assert sorted(rejected) == [[2], [3]]  # both were tried, and both were needed
    assert len(result.fill or []) == 8


def test_threshold_rule_and_rule_conflicts(cartpole_agent: Any) -> None:
    result = prune_observations(cartpole_agent, "saliency", threshold=0.01, episodes=2)
    assert result.keep == [2, 3]
    with pytest.raises(ValueError, match="give one of k, threshold or tolerance"):
        prune_observations(cartpole_agent, k=2, tolerance=0.1)
    with pytest.raises(ValueError, match="unknown feature measure"):
        prune_observations(cartpole_agent, "permutaton", k=2, episodes=2)
    with pytest.raises(ValueError, match=r"k must be in 1\.\.8"):
        prune_observations(cartpole_agent, "saliency", k=0, episodes=2)


def test_reduced_agent_runs_on_the_smaller_observation(cartpole_agent: Any) -> None:
    result = prune_observations(cartpole_agent, "permutation", episodes=3)
    small = reduce_agent(cartpole_agent, result)
    assert small.env_id == REDUCED_ENV_ID
    assert small.observation_space.shape == (2,)
    assert small.networks["q"][0].weight.shape == (2, 2)
    returns = evaluate_policy(small.predict, small.env_id, 5, seed=77, env_kwargs=small.env_kwargs)
    assert returns.min() == 500.0
    assert small.config == cartpole_agent.config
    assert small.num_timesteps == 0  # a fresh agent, ready to fine-tune


def test_reduce_agent_rejects_a_pruning_of_another_size(cartpole_agent: Any) -> None:
    result = prune_observations(cartpole_agent, "saliency", k=2, episodes=2)
    other = controller_agent(n_distractors=2)
    with pytest.raises(ValueError, match="for 8 features but the agent's observation has 6"):
        reduce_agent(other, result)
    with pytest.raises(ValueError, match="nothing to reduce"):
        reduce_agent(other)


# ---------------------------------------------------------------- image channels
class ChannelSignal(gym.Env[np.ndarray, np.int64]):
    """Channel 0 is all 255 when action 1 pays and all 0 when action 0 pays; 1-3 are noise."""

    def __init__(self) -> None:
        self.observation_space = gym.spaces.Box(0, 255, (4, 8, 8), np.uint8)
        self.action_space = gym.spaces.Discrete(2)
        self.t, self.good = 0, 0

    def _obs(self) -> np.ndarray:
        self.good = int(self.np_random.integers(2))
        obs = self.np_random.integers(0, 256, (4, 8, 8)).astype(np.uint8)
        obs[0] = 255 * self.good
        return obs

    def reset(self, *, seed: int | None = None, options: Any = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self.t = 0
        return self._obs(), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        reward = float(int(action) == self.good)
        self.t += 1
        return self._obs(), reward, False, self.t >= 20, {}


if "prunerl-test/ChannelSignal-v0" not in gym.registry:
    gym.register("prunerl-test/ChannelSignal-v0", entry_point=ChannelSignal)


class ImageAgent:
    """A duck-typed agent: a conv layer reading only channel 0 decides the action."""

    env_id = "prunerl-test/ChannelSignal-v0"
    env_kwargs: ClassVar[dict[str, Any]] = {}
    observation_space = gym.spaces.Box(0, 255, (4, 8, 8), np.uint8)
    action_space = gym.spaces.Discrete(2)

    def __init__(self) -> None:
        conv = nn.Conv2d(4, 2, 8)
        with torch.no_grad():
            conv.weight.zero_()
            conv.weight[1, 0] = 1.0 / 64
            conv.bias.copy_(torch.tensor([0.5, 0.0]))
        self.net = nn.Sequential(conv, nn.Flatten())

    def policy_network(self) -> nn.Module:
        return self.net

    @torch.no_grad()
    def predict(self, obs: np.ndarray, deterministic: bool = True) -> np.ndarray:
        return self.net(torch.as_tensor(obs, dtype=torch.float32) / 255.0).argmax(1).numpy()


def test_channel_pruning_on_image_observations() -> None:
    agent = ImageAgent()
    result = prune_observations(agent, "permutation", episodes=4)  # type: ignore[arg-type]
    assert result.keep == [0] and result.baseline_return == 20.0
    assert result.pruned_return == 20.0
    for scores in result.scores.values():
        assert int(np.argmax(scores)) == 0 and np.abs(scores[1:]).max() < 1e-9
    drop = np.asarray(result.scores["permutation"])[0]
    assert 5.0 < drop < 15.0  # a shuffled signal is right about half of the time


def test_a_hand_made_mask_deploys_without_fill(cartpole_agent: Any) -> None:
    from prunerl.spaces import ObservationPruning

    given = ObservationPruning(n=8, keep=[2, 3], method="given", rule="given")
    small = reduce_agent(cartpole_agent, given)
    returns = evaluate_policy(small.predict, small.env_id, 2, seed=3, env_kwargs=small.env_kwargs)
    assert returns.min() == 500.0  # the controller ignores the rest, so zeros change nothing


def test_whitened_observations_are_cut_and_folded_exactly() -> None:
    from prunerl.rl.ppo import PPO, PPOConfig
    from prunerl.spaces.observation import fix_features
    from prunerl.spaces.policy import policy_outputs

    agent = PPO(
        "prunerl/CartPoleDistractors-v0",
        PPOConfig(normalize_obs=True, num_envs=2, n_steps=64),
        env_kwargs={"n_distractors": 2},
    )
    agent.learn(256)  # fills the running statistics
    result = prune_observations(agent, "saliency", k=3, episodes=2)
    small = reduce_agent(agent, result)
    keep = np.asarray(result.keep)
    rms, small_rms = agent.obs_normalizer.rms, small.obs_normalizer.rms
    np.testing.assert_allclose(small_rms.mean, rms.mean[keep])
    np.testing.assert_allclose(small_rms.var, rms.var[keep])
    obs = np.random.default_rng(0).normal(size=(16, 6)).astype(np.float32)
    held = fix_features(keep, np.asarray(result.fill), 0)(obs)
    torch.testing.assert_close(
        policy_outputs(small, obs[:, keep]), policy_outputs(agent, held), rtol=1e-4, atol=1e-5
    )


@pytest.mark.parametrize("algo", ["ppo", "dqn"])
def test_steps_in_flight_stay_with_the_old_agent(algo: str) -> None:
    """A PPO rollout or DQN n-step transitions in progress hold old-shape observations: the
    reduced agent starts its own instead of failing to load them."""
    from prunerl.rl import DQN, PPO, Callback, DQNConfig, PPOConfig
    from prunerl.spaces import ObservationPruning

    def in_flight(agent: Any) -> int:
        return int(agent.buffer.pos) if algo == "ppo" else len(agent.writer.pending)

    class _StopMidway(Callback):
        def on_step(self, agent: Any) -> bool:
            return agent.num_timesteps < 40 or in_flight(agent) == 0

    env, kwargs = "prunerl/CartPoleDistractors-v0", {"n_distractors": 2}
    agent: Any
    if algo == "ppo":
        agent = PPO(env, PPOConfig(num_envs=2, n_steps=64, batch_size=64), env_kwargs=kwargs)
    else:
        agent = DQN(env, DQNConfig(net_arch=(16,), n_step=3, learning_starts=10), env_kwargs=kwargs)
    agent.learn(1000, callback=_StopMidway())
    assert in_flight(agent) > 0
    given = ObservationPruning(n=6, keep=[0, 1, 2, 3], method="given", rule="given")
    small = reduce_agent(agent, given)
    assert small.observation_space.shape == (4,)
    small.learn(128)  # trains on the reduced observation from a clean start
