"""PPO hyperparameters: one validated dataclass, with prunerl's tuned defaults per environment."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class PPOConfig:
    """PPO hyperparameters (defaults are generic; :meth:`for_env` gives tuned ones)."""

    net_arch: tuple[int, ...] = (64, 64)  # hidden widths of the actor and of the critic MLP
    activation: str = "tanh"  # hidden activation: tanh | relu | elu
    num_envs: int = 8  # environments stepped together
    n_steps: int = 256  # steps per environment in one rollout
    batch_size: int = 64  # samples per minibatch (a rollout has num_envs * n_steps)
    n_epochs: int = 10  # passes over each rollout
    learning_rate: float = 3e-4  # Adam step size at the start of training
    anneal_lr: bool = False  # decay the learning rate linearly to 0 over training
    gamma: float = 0.99  # discount factor
    gae_lambda: float = 0.95  # GAE(λ) bias-variance trade-off
    clip_range: float = 0.2  # PPO ratio clip ε at the start of training
    anneal_clip: bool = False  # decay the clip range linearly to 0 over training
    clip_range_vf: float | None = None  # clip value updates to ± this around old values
    ent_coef: float = 0.0  # entropy bonus weight
    vf_coef: float = 0.5  # value loss weight
    max_grad_norm: float | None = 0.5  # global gradient norm clip (None: no clipping)
    normalize_advantage: bool = True  # standardise advantages per minibatch
    normalize_obs: bool = False  # whiten observations with running statistics
    normalize_reward: bool = False  # scale rewards by the running std of the return
    log_std_init: float = 0.0  # initial log-std of the Gaussian policy (Box actions)
    extra: dict[str, Any] = field(default_factory=dict)  # unused keys kept for the run layer

    def __post_init__(self) -> None:
        self.net_arch = tuple(int(h) for h in self.net_arch)
        for name in ("num_envs", "n_steps", "batch_size", "n_epochs"):
            if int(getattr(self, name)) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        rollout = self.num_envs * self.n_steps
        if self.batch_size > rollout:
            raise ValueError(
                f"batch_size {self.batch_size} exceeds the rollout size num_envs * n_steps = "
                f"{rollout}; lower batch_size or raise n_steps"
            )
        for name in ("gamma", "gae_lambda"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        if self.clip_range <= 0:
            raise ValueError(f"clip_range must be positive, got {self.clip_range}")
        if self.clip_range_vf is not None and self.clip_range_vf <= 0:
            raise ValueError(f"clip_range_vf must be positive or None, got {self.clip_range_vf}")
        if self.learning_rate <= 0:
            raise ValueError(f"learning_rate must be positive, got {self.learning_rate}")

    @classmethod
    def for_env(cls, env_id: str) -> PPOConfig:
        """prunerl's tuned defaults for known environments, generic defaults otherwise."""
        tuned = TUNED.get(env_id)
        return cls(**tuned) if tuned is not None else cls()


TUNED: dict[str, dict[str, Any]] = {
    # the RL-Zoo settings: 500 at 100k env steps
    "CartPole-v1": dict(
        num_envs=8,
        n_steps=32,
        batch_size=256,
        n_epochs=20,
        gamma=0.98,
        gae_lambda=0.8,
        ent_coef=0.0,
        learning_rate=1e-3,
        anneal_lr=True,
        clip_range=0.2,
        anneal_clip=True,
    ),
    # RL-Zoo's settings (1M env steps)
    "LunarLander-v3": dict(
        num_envs=16,
        n_steps=1024,
        batch_size=64,
        n_epochs=4,
        gamma=0.999,
        gae_lambda=0.98,
        ent_coef=0.01,
    ),
    "Acrobot-v1": dict(
        num_envs=16,
        n_steps=256,
        batch_size=64,
        n_epochs=4,
        gamma=0.99,
        gae_lambda=0.94,
        ent_coef=0.0,
        normalize_obs=True,
        normalize_reward=True,
    ),
}
