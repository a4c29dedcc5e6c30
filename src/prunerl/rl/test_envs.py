"""Test environments shipped with prunerl, registered in Gymnasium under the ``prunerl/`` namespace.

- ``prunerl/CartPoleDistractors-v0`` / ``prunerl/PendulumDistractors-v0`` /
  ``prunerl/AcrobotDistractors-v0``: the real observation
  followed by K distractor features (Gaussian noise, constants, noisy copies of real features), to
  test state-space pruning.
- ``prunerl/SignMatch-v0``: guess the signs of a few noisy signals, followed by distractors; which
  features a policy needs is known exactly and returns are noisy (:mod:`prunerl.rl.sign_match`).
- ``prunerl/CartPoleExtraActions-v0``: CartPole with extra copies of its two actions and a no-op,
  to test action elimination.
- ``prunerl/InvalidActionChain-v0``: a chain walk where most actions are invalid in each state and
  ``info["action_mask"]`` says which, to test action masking against an invalid-action penalty.
- ``prunerl/Reduced-v0``: any env with some observation features and/or actions removed
  (what a pruned agent is deployed and fine-tuned on; see :mod:`prunerl.spaces.wrappers`).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

CARTPOLE_FEATURES = ("cart_position", "cart_velocity", "pole_angle", "pole_angular_velocity")
PENDULUM_FEATURES = ("cos_theta", "sin_theta", "angular_velocity")
ACROBOT_FEATURES = ("cos_theta1", "sin_theta1", "cos_theta2", "sin_theta2", "omega1", "omega2")
DISTRACTOR_KINDS = ("noise", "constant", "copy")


class AddDistractors(gym.ObservationWrapper[np.ndarray, Any, np.ndarray]):
    """Append ``n_distractors`` useless features to a vector observation.

    Kinds cycle through ``kinds``: ``noise`` is N(0, ``noise_std``) every step, ``constant`` a value
    drawn once from N(0, 1), ``copy`` a real feature plus N(0, ``copy_noise_std``) noise (real
    features are copied in turn). ``feature_names`` names every feature of the new observation.
    """

    def __init__(
        self,
        env: gym.Env,
        n_distractors: int = 16,
        kinds: tuple[str, ...] = DISTRACTOR_KINDS,
        noise_std: float = 1.0,
        copy_noise_std: float = 0.5,
        feature_names: tuple[str, ...] | None = None,
        distractor_seed: int = 0,
    ) -> None:
        super().__init__(env)
        space = env.observation_space
        if not isinstance(space, gym.spaces.Box) or len(space.shape) != 1:
            raise ValueError(f"AddDistractors needs a 1-D Box observation space, got {space}")
        if n_distractors < 0:
            raise ValueError(f"n_distractors must be >= 0, got {n_distractors}")
        unknown = [k for k in kinds if k not in DISTRACTOR_KINDS]
        if unknown or not kinds:
            raise ValueError(f"distractor kinds must be a non-empty subset of {DISTRACTOR_KINDS}")
        n_real = space.shape[0]
        real_names = tuple(feature_names or (f"x{i}" for i in range(n_real)))
        self.kinds = [kinds[i % len(kinds)] for i in range(n_distractors)]
        rng = np.random.default_rng(distractor_seed)
        self.constants = rng.normal(size=n_distractors).astype(np.float32)
        copies = [i for i, k in enumerate(self.kinds) if k == "copy"]
        self.sources = np.zeros(n_distractors, dtype=np.int64)
        self.sources[copies] = np.arange(len(copies)) % n_real
        self.noise_std = noise_std
        self.copy_noise_std = copy_noise_std
        self.n_real = n_real
        names = list(real_names)
        for i, kind in enumerate(self.kinds):
            suffix = f"_of_{real_names[self.sources[i]]}" if kind == "copy" else ""
            names.append(f"{kind}{suffix}_{i}")
        self.feature_names = tuple(names)
        low = np.full(n_distractors, -np.inf, dtype=np.float32)
        high = np.full(n_distractors, np.inf, dtype=np.float32)
        self.observation_space = gym.spaces.Box(
            np.concatenate([space.low.astype(np.float32), low]),
            np.concatenate([space.high.astype(np.float32), high]),
            dtype=np.float32,
        )
        self._rng = np.random.default_rng()

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        if seed is not None:
            self._rng = np.random.default_rng(seed + 7_919)
        return super().reset(seed=seed, options=options)

    def observation(self, observation: np.ndarray) -> np.ndarray:
        real = np.asarray(observation, dtype=np.float32)
        out = np.empty(len(self.kinds), dtype=np.float32)
        for kind in DISTRACTOR_KINDS:
            idx = [i for i, k in enumerate(self.kinds) if k == kind]
            if not idx:
                continue
            if kind == "noise":
                out[idx] = self._rng.normal(0.0, self.noise_std, len(idx))
            elif kind == "constant":
                out[idx] = self.constants[idx]
            else:
                noise = self._rng.normal(0.0, self.copy_noise_std, len(idx))
                out[idx] = real[self.sources[idx]] + noise
        return np.concatenate([real, out])


def make_cartpole_distractors(**kwargs: Any) -> gym.Env:
    """CartPole-v1 with distractor features (keyword arguments go to :class:`AddDistractors`)."""
    return AddDistractors(gym.make("CartPole-v1"), feature_names=CARTPOLE_FEATURES, **kwargs)


def make_pendulum_distractors(**kwargs: Any) -> gym.Env:
    """Pendulum-v1 with distractor features (keyword arguments go to :class:`AddDistractors`)."""
    return AddDistractors(gym.make("Pendulum-v1"), feature_names=PENDULUM_FEATURES, **kwargs)


def make_acrobot_distractors(**kwargs: Any) -> gym.Env:
    """Acrobot-v1 with distractor features (keyword arguments go to :class:`AddDistractors`)."""
    return AddDistractors(gym.make("Acrobot-v1"), feature_names=ACROBOT_FEATURES, **kwargs)


class ExtraActions(gym.Wrapper[Any, Any, Any, Any]):
    """CartPole with ``copies`` extra copies of left/right and (optionally) a no-op (zero force).

    Actions are ``[left, right, left, right, ..., noop]`` and ``action_names`` names them: all but
    two are redundant copies or the no-op, so action elimination should find a set of two.
    """

    def __init__(self, env: gym.Env, copies: int = 2, noop: bool = True) -> None:
        super().__init__(env)
        if copies < 0:
            raise ValueError(f"copies must be >= 0, got {copies}")
        self.base = [0, 1] * (copies + 1) + ([-1] if noop else [])
        self.action_names = tuple(["noop" if b < 0 else ("left", "right")[b] for b in self.base])
        self.action_space = gym.spaces.Discrete(len(self.base))

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        base = self.base[int(action)]
        if base >= 0:
            return self.env.step(np.int64(base))
        inner = self.env.unwrapped
        force = inner.force_mag  # type: ignore[attr-defined]
        inner.force_mag = 0.0  # type: ignore[attr-defined]
        try:
            return self.env.step(np.int64(1))
        finally:
            inner.force_mag = force  # type: ignore[attr-defined]


def make_cartpole_extra_actions(copies: int = 2, noop: bool = True) -> gym.Env:
    """CartPole-v1 with redundant actions (see :class:`ExtraActions`)."""
    return ExtraActions(gym.make("CartPole-v1"), copies=copies, noop=noop)


class InvalidActionChain(gym.Env[np.ndarray, np.int64]):
    """Walk from cell 0 to the last cell of a chain; in each cell only a few actions are valid.

    Each cell has ``valid_per_cell`` valid actions out of ``n_actions`` (one moves forward, one
    back, the rest stay), drawn once from ``layout_seed``. ``info["action_mask"]`` marks them and
    the observation is the one-hot cell followed by the mask. An invalid action costs
    ``invalid_penalty`` and does nothing. Reaching the end gives ``1 - 0.5 * steps / max_steps``.
    Masking lets an agent explore only valid actions (Huang & Ontañón 2022); with
    ``expose_mask=False`` the info carries no mask, so a masking agent must learn from the
    penalty like any other (the baseline masking is compared with).
    """

    metadata = {"render_modes": []}  # noqa: RUF012  (Gymnasium declares it per instance)

    def __init__(
        self,
        length: int = 8,
        n_actions: int = 12,
        valid_per_cell: int = 3,
        invalid_penalty: float = 0.1,
        max_steps: int | None = None,
        layout_seed: int = 0,
        expose_mask: bool = True,
    ) -> None:
        if length < 2 or not 2 <= valid_per_cell <= n_actions:
            raise ValueError(
                f"need length >= 2 and 2 <= valid_per_cell <= n_actions, got length={length}, "
                f"valid_per_cell={valid_per_cell}, n_actions={n_actions}"
            )
        self.length, self.n_actions = length, n_actions
        self.invalid_penalty = invalid_penalty
        self.max_steps = max_steps or 4 * length
        self.expose_mask = expose_mask
        rng = np.random.default_rng(layout_seed)
        self.masks = np.zeros((length, n_actions), dtype=np.int8)
        self.moves = np.zeros((length, n_actions), dtype=np.int64)
        for cell in range(length):
            valid = rng.choice(n_actions, size=valid_per_cell, replace=False)
            self.masks[cell, valid] = 1
            self.moves[cell, valid[0]] = 1
            self.moves[cell, valid[1]] = -1
        self.observation_space = gym.spaces.Box(0.0, 1.0, (length + n_actions,), np.float32)
        self.action_space = gym.spaces.Discrete(n_actions)
        self.cell = 0
        self.steps = 0

    def _obs(self) -> np.ndarray:
        onehot = np.zeros(self.length, dtype=np.float32)
        onehot[self.cell] = 1.0
        return np.concatenate([onehot, self.masks[self.cell].astype(np.float32)])

    def _info(self) -> dict[str, Any]:
        return {"action_mask": self.masks[self.cell].copy()} if self.expose_mask else {}

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self.cell, self.steps = 0, 0
        return self._obs(), self._info()

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        a = int(action)
        self.steps += 1
        reward = 0.0
        if self.masks[self.cell, a]:
            self.cell = int(np.clip(self.cell + self.moves[self.cell, a], 0, self.length - 1))
        else:
            reward = -self.invalid_penalty
        terminated = self.cell == self.length - 1
        if terminated:
            reward += 1.0 - 0.5 * self.steps / self.max_steps
        truncated = not terminated and self.steps >= self.max_steps
        return self._obs(), reward, terminated, truncated, self._info()

    def action_masks(self) -> np.ndarray:
        """The current valid-action mask (the SB3-contrib ``MaskablePPO`` convention)."""
        return self.masks[self.cell].astype(bool)


_REGISTRATIONS: dict[str, dict[str, Any]] = {
    "prunerl/CartPoleDistractors-v0": {
        "entry_point": "prunerl.rl.test_envs:make_cartpole_distractors",
        "max_episode_steps": None,
    },
    "prunerl/PendulumDistractors-v0": {
        "entry_point": "prunerl.rl.test_envs:make_pendulum_distractors",
        "max_episode_steps": None,
    },
    "prunerl/AcrobotDistractors-v0": {
        "entry_point": "prunerl.rl.test_envs:make_acrobot_distractors",
        "max_episode_steps": None,
    },
    "prunerl/SignMatch-v0": {
        "entry_point": "prunerl.rl.sign_match:make_sign_match",
        "max_episode_steps": None,
    },
    "prunerl/CartPoleExtraActions-v0": {
        "entry_point": "prunerl.rl.test_envs:make_cartpole_extra_actions",
        "max_episode_steps": None,
    },
    "prunerl/InvalidActionChain-v0": {
        "entry_point": "prunerl.rl.test_envs:InvalidActionChain",
        "max_episode_steps": None,
    },
    "prunerl/Reduced-v0": {
        "entry_point": "prunerl.spaces.wrappers:make_reduced_env",
        "max_episode_steps": None,
    },
}


def register_test_envs() -> None:
    """Register prunerl's environments with Gymnasium (idempotent; runs on import)."""
    for env_id, spec in _REGISTRATIONS.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, **spec)


register_test_envs()
