"""DQN hyperparameters, prunerl's tuned defaults per environment, and the Q-network they build."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from torch import nn

from prunerl.rl.envs import IMAGE_LAYOUTS, image_layout
from prunerl.rl.networks import DuelingQ, mlp, nature_cnn

LOSSES = ("huber", "mse")


@dataclass
class DQNConfig:
    """DQN hyperparameters (defaults are generic; :meth:`for_env` gives tuned ones)."""

    net_arch: tuple[int, ...] = (256, 256)  # hidden layer widths of the MLP Q-network
    learning_rate: float = 1e-4  # Adam step size at the start of training
    final_learning_rate: float | None = None  # if set, lr decays linearly to it by the end
    buffer_size: int = 100_000  # replay buffer capacity (transitions)
    learning_starts: int = 1_000  # env steps of pure collection before the first update
    batch_size: int = 32  # transitions per gradient step
    gamma: float = 0.99  # discount factor
    tau: float = 1.0  # target update coefficient: 1 = hard copy, < 1 = Polyak averaging
    target_update_interval: int = 1_000  # env steps between target network updates
    train_freq: int = 4  # env steps between rounds of gradient steps
    gradient_steps: int = 1  # gradient steps per round
    exploration_fraction: float = 0.1  # fraction of training over which epsilon decays
    exploration_initial_eps: float = 1.0  # epsilon at the start
    exploration_final_eps: float = 0.05  # epsilon after the decay
    max_grad_norm: float | None = 10.0  # gradient norm clip (None: no clipping)
    double_q: bool = False  # double DQN: online net picks the next action, target evaluates it
    dueling: bool = False  # dueling value/advantage heads (vector observations only)
    loss: str = "huber"  # "huber" (smooth L1) or "mse"
    normalize_obs: bool = False  # whiten vector observations with running mean/std
    n_step: int = 1  # n-step returns (Sutton 1988; as in Rainbow): faster credit assignment
    image_layout: str = "auto"  # image axis order: "chw", "hwc", or "auto" (from the shape)

    def __post_init__(self) -> None:
        self.net_arch = tuple(int(h) for h in self.net_arch)
        positive = ("buffer_size", "batch_size", "train_freq", "target_update_interval", "n_step")
        for name in positive:
            if int(getattr(self, name)) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.gradient_steps < 0:
            raise ValueError(f"gradient_steps must be >= 0, got {self.gradient_steps}")
        if not 0.0 < self.tau <= 1.0:
            raise ValueError(f"tau must be in (0, 1], got {self.tau} (1.0 = hard target update)")
        if not 0.0 <= self.gamma <= 1.0:
            raise ValueError(f"gamma must be in [0, 1], got {self.gamma}")
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {self.loss!r}")
        if self.image_layout not in IMAGE_LAYOUTS:
            raise ValueError(
                f"image_layout must be one of {IMAGE_LAYOUTS}, got {self.image_layout!r} "
                "('chw': channels first, 'hwc': channels last, 'auto': read from the shape)"
            )

    @classmethod
    def for_env(cls, env_id: str) -> DQNConfig:
        """prunerl's tuned defaults for known environments, generic defaults otherwise."""
        tuned = TUNED.get(env_id)
        return cls(**tuned) if tuned is not None else cls()


TUNED: dict[str, dict[str, Any]] = {
    # RL-Zoo's CartPole settings (net, lr, batch, cadence, exploration) plus what makes the
    # final policy reliable, dense and pruned to 90% during training (docs/benchmarks.md):
    # lr decayed to 0, double DQN, dueling heads, whitened inputs, 3-step returns.
    "CartPole-v1": dict(
        net_arch=(256, 256),
        learning_rate=2.3e-3,
        final_learning_rate=0.0,
        batch_size=64,
        buffer_size=100_000,
        learning_starts=1_000,
        gamma=0.99,
        target_update_interval=10,
        train_freq=256,
        gradient_steps=128,
        exploration_fraction=0.16,
        exploration_final_eps=0.04,
        double_q=True,
        dueling=True,
        normalize_obs=True,
        n_step=3,
    ),
    # RL-Zoo's settings for the two classic-control / Box2D tasks it tunes alike
    # (SB3's gradient_steps=-1 with one env is one gradient step per env step).
    **{
        env_id: dict(
            net_arch=(256, 256),
            learning_rate=6.3e-4,
            batch_size=128,
            buffer_size=50_000,
            learning_starts=0,
            gamma=0.99,
            target_update_interval=250,
            train_freq=4,
            gradient_steps=4,
            exploration_fraction=0.12,
            exploration_final_eps=0.1,
        )
        for env_id in ("LunarLander-v3", "Acrobot-v1")
    },
    # prunerl's invalid-action chain (tests, masking benchmark): a short horizon (gamma 0.9)
    # makes "forward" clearly better than "stay"; at 0.99 the greedy policy can stall.
    "prunerl/InvalidActionChain-v0": dict(
        net_arch=(64,),
        learning_rate=1e-3,
        gamma=0.9,
        learning_starts=500,
        exploration_fraction=0.3,
        target_update_interval=50,
        batch_size=16,
    ),
}


def q_network(
    obs_shape: tuple[int, ...], n_actions: int, image: bool, config: DQNConfig
) -> nn.Module:
    """Nature-CNN for image observations (channels first or last), else an MLP (dueling heads
    if asked)."""
    if image:
        if config.dueling:
            raise ValueError("dueling heads are built for vector observations; set dueling=False")
        layout = image_layout(obs_shape, config.image_layout)
        channels = obs_shape[0] if layout == "chw" else obs_shape[-1]
        return nature_cnn(channels, n_actions, channels_last=layout == "hwc")
    in_dim = math.prod(obs_shape)
    if config.dueling:
        return DuelingQ(in_dim, n_actions, config.net_arch)
    return mlp(in_dim, n_actions, config.net_arch)
