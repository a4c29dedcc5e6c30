"""Image observations channels first or last: the layout is read from the shape (or declared),
the Nature-CNN sees channels as channels, and an ambiguous shape is a clear error."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch

from prunerl.rl.dqn import DQN, DQNConfig
from prunerl.rl.dqn_config import q_network
from prunerl.rl.envs import image_layout
from prunerl.rl.networks import ChannelsFirst, nature_cnn

torch.set_num_threads(1)


class FramesEnv(gym.Env[np.ndarray, int]):
    """Random uint8 frames of a given shape; reward 1 for action 1; ten steps per episode."""

    action_space = gym.spaces.Discrete(3)

    def __init__(self, shape: tuple[int, ...] = (84, 84, 4)) -> None:
        self.observation_space = gym.spaces.Box(0, 255, shape, np.uint8)

    def reset(self, *, seed: int | None = None, options: Any = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self.t = 0
        return self.observation_space.sample(), {}

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict]:
        self.t += 1
        return self.observation_space.sample(), float(action == 1), False, self.t >= 10, {}


def register(name: str, shape: tuple[int, ...]) -> str:
    env_id = f"prunerl-test/{name}-v0"
    if env_id not in gym.registry:
        gym.register(env_id, entry_point=FramesEnv, kwargs={"shape": shape})
    return env_id


TINY = DQNConfig(learning_starts=32, batch_size=4, buffer_size=200, train_freq=4)


@pytest.mark.parametrize(
    ("shape", "layout"),
    [((4, 84, 84), "chw"), ((84, 84, 4), "hwc"), ((3, 64, 64), "chw"), ((64, 64, 3), "hwc"),
     ((12, 84, 84), "chw"), ((210, 160, 3), "hwc"), ((1, 84, 84), "chw")],
)  # fmt: skip
def test_the_layout_is_read_from_the_shape(shape: tuple[int, ...], layout: str) -> None:
    assert image_layout(shape) == layout
    other = "chw" if layout == "hwc" else "hwc"
    assert image_layout(shape, other) == other  # a declared layout wins


def test_channels_last_frames_build_a_cnn_over_the_channels_and_train() -> None:
    agent = DQN(register("FramesHWC", (84, 84, 4)), TINY, seed=0)
    q = agent.networks["q"]
    assert isinstance(q[0], ChannelsFirst)
    conv = q[1]
    assert isinstance(conv, torch.nn.Conv2d) and conv.in_channels == 4 and conv.out_channels == 32
    agent.learn(80)
    assert agent.num_updates > 0 and agent.buffer.obs.shape[1:] == (84, 84, 4)
    assert agent.q_values(agent.buffer.obs[:5]).shape == (5, 3)
    assert agent.predict(agent.buffer.obs[0]).shape == ()


def test_channels_last_network_equals_the_channels_first_one_on_transposed_frames() -> None:
    """Same weights, (N, H, W, C) frames vs the same frames as (N, C, H, W): same Q-values. A
    permutation that swaps height and width would still run on square frames, but not match."""
    torch.manual_seed(0)
    last = nature_cnn(4, 3, channels_last=True)
    first = nature_cnn(4, 3)
    layers = [k.split(".", 1) for k in last.state_dict()]  # "1.weight": layer 1 of `last`
    first.load_state_dict({f"{int(i) - 1}.{rest}": last.state_dict()[f"{i}.{rest}"]
                           for i, rest in layers})  # fmt: skip
    frames = torch.rand(2, 84, 84, 4)
    assert torch.allclose(last(frames), first(frames.permute(0, 3, 1, 2)), atol=1e-6)


@pytest.mark.parametrize("shape", [(3, 64, 3), (84, 84, 84), (4, 84, 4), (64, 3, 64)])
def test_an_ambiguous_shape_is_an_error_that_says_how_to_declare_it(shape: tuple) -> None:
    with pytest.raises(ValueError, match=r"cannot tell the channel axis.*image_layout='chw'"):
        image_layout(shape)
    with pytest.raises(ValueError, match=r"image_layout="):
        DQN(register(f"Frames{'x'.join(map(str, shape))}", shape), TINY)


def test_a_declared_layout_resolves_an_ambiguous_shape_and_bad_values_are_rejected() -> None:
    config = DQNConfig(image_layout="chw")
    q = q_network((84, 84, 84), 3, True, config)
    assert isinstance(q[0], torch.nn.Conv2d) and q[0].in_channels == 84
    q = q_network((84, 84, 84), 3, True, DQNConfig(image_layout="hwc"))
    assert isinstance(q[0], ChannelsFirst) and q[1].in_channels == 84
    with pytest.raises(ValueError, match=r"image_layout must be one of .*'nhwc'"):
        DQNConfig(image_layout="nhwc")
