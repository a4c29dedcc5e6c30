"""The agent interface shared by DQN, PPO and SAC, and the glue to the pruning core."""

from __future__ import annotations

import dataclasses
import random
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, SupportsFloat

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from prunerl.core import Pruner, PruningConfig
from prunerl.core.finite import NonFiniteError
from prunerl.registry import Registry
from prunerl.rl.callbacks import Callback
from prunerl.rl.guard import (
    ENV_FIX,
    UPDATE_FIX,
    WEIGHT_CHECK_EVERY,
    transition_problem,
    update_problem,
)

if TYPE_CHECKING:
    from prunerl.rl.structured import StructuredPruner


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch so one seed fixes a run on CPU."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class Agent(ABC):
    """A learning agent whose networks are exposed by name for pruning.

    Subclasses set ``algo``, ``config_cls`` (a hyperparameter dataclass), ``prunable`` (the
    networks pruned by default) and ``followers`` (copy -> source, e.g. target networks), build
    ``self.networks`` and ``self.optimizers`` in ``__init__``, then call :meth:`setup_pruning`.
    """

    algo: ClassVar[str]
    config_cls: ClassVar[type]
    prunable: ClassVar[tuple[str, ...]]
    followers: ClassVar[dict[str, str]] = {}

    def __init__(
        self,
        env_id: str,
        config: Any = None,
        *,
        pruning: PruningConfig | None = None,
        prune_networks: Sequence[str] | None = None,
        seed: int = 0,
        env_kwargs: dict[str, Any] | None = None,
        flush_denormal: bool = True,
    ) -> None:
        self.env_id = env_id
        if config is None:  # the algorithm's tuned settings for this env, if it has any
            for_env = getattr(self.config_cls, "for_env", None)
            config = for_env(env_id) if for_env is not None else self.config_cls()
        self.config = config
        if not isinstance(self.config, self.config_cls):
            raise TypeError(f"{self.algo} needs a {self.config_cls.__name__}, got {type(config)}")
        self.pruning = pruning
        self.prune_networks = tuple(prune_networks) if prune_networks else None
        self.seed = seed
        self.env_kwargs = env_kwargs or {}
        #: flush denormal floats to 0 while learning (CPU): decaying Adam moments and tiny
        #: activations otherwise fall into the slow denormal path (up to 2x on some Intel CPUs)
        self.flush_denormal = flush_denormal
        self.networks: dict[str, nn.Module] = {}
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self.pruner: Pruner | None = None
        self.structured: StructuredPruner | None = None  # neuron masks/cut, set by that class
        self.num_timesteps = 0
        self.num_updates = 0
        self._weights_checked = 0  # env step of the last check of every weight
        #: env step where learning-rate schedules start (a fine-tune sets it to rewind them)
        self.schedule_origin = 0
        self.rng = np.random.default_rng(seed)
        seed_everything(seed)
        self.build()
        self.setup_pruning()

    @abstractmethod
    def build(self) -> None:
        """Make the envs, networks, optimizers and buffers from ``self.config``: called once by
        ``__init__`` after seeding, and the pruner is set up over ``self.networks`` right after."""

    # ------------------------------------------------------------------ pruning glue
    def setup_pruning(self) -> None:
        """Build the pruner over the chosen networks; targets follow; optimizers attached."""
        if self.pruning is None:
            return
        names = self._pruned_network_names()
        self.pruner = Pruner({n: self.networks[n] for n in names}, self.pruning)
        for copy, source in self.followers.items():
            if source in names:
                self.pruner.follow(self.networks[copy], source=source)
        for opt in self.optimizers.values():
            self.pruner.attach_optimizer(opt)

    def _pruned_network_names(self) -> tuple[str, ...]:
        assert self.pruning is not None
        valid = [n for n in self.networks if n not in self.followers]
        if isinstance(self.pruning.sparsity, dict):
            # keys name networks ("actor") or layers inside them ("critic.2"): prune both
            named = (k.split(".", 1)[0] for k in self.pruning.sparsity)
            names = tuple(dict.fromkeys(n for n in named if n in self.networks))
            names = names or (self.prune_networks or self.prunable)
        else:
            names = self.prune_networks or self.prunable
        bad = [n for n in names if n not in valid]
        if bad:
            raise ValueError(
                f"{self.algo} has no prunable network(s) {bad}; choose from {valid} "
                "(target networks follow their source automatically)"
            )
        return names

    def on_networks_replaced(self) -> None:
        """Called after a structural cut put smaller networks in ``self.networks``.

        The optimizers already hold the new parameters; override to refresh anything else that
        caches parameters (e.g. a list used for gradient clipping).
        """
        return None

    def mask_gradients(self) -> None:
        """Zero the gradients of pruned weights (after ``pruner.observe_gradients()``).

        Pruned weights are constants of the sparse network, yet they get dense gradients; left in,
        those inflate the global norm that gradient clipping divides by and shrink every update
        of the surviving weights.
        """
        if self.pruner is not None:
            self.pruner.mask_gradients()

    def pruning_step(self) -> None:
        """Call after every optimizer step: schedule in env steps, masks re-applied to the
        stepped networks (their targets keep theirs: they are only ever copied or averaged
        from the masked online networks, and every mask update re-masks them)."""
        if self.pruner is not None:
            self.pruner.step(self.num_timesteps, followers=False)

    def network_input(self, obs: np.ndarray) -> torch.Tensor:
        """The tensor the networks take for a batch of raw observations: flattened float32
        here; agents that scale, whiten or normalise observations override it."""
        return torch.as_tensor(np.asarray(obs, dtype=np.float32)).flatten(1)

    def distill_kinds(self) -> dict[str, str]:
        """How each network's outputs are matched when a pruned copy is distilled from it
        (:mod:`prunerl.loop.distill`): ``q`` | ``logits`` | ``regression``; unnamed: not."""
        return {}

    # ------------------------------------------------------------------ divergence guards
    def prepare_learning(self) -> None:
        """Process-wide settings for a stretch of training: denormals flushed unless opted out."""
        torch.set_flush_denormal(self.flush_denormal)

    def check_transition(self, obs: np.ndarray, reward: SupportsFloat | np.ndarray) -> None:
        """Stop on a non-finite observation or reward from the env (after ``num_timesteps`` is
        advanced), before it reaches a buffer or a normaliser."""
        problem = transition_problem(obs, reward)
        if problem is not None:
            self.drop_episode()
            raise NonFiniteError(f"{problem} at env step {self.num_timesteps}; {ENV_FIX}")

    def check_update(
        self, metrics: dict[str, float], extra: dict[str, torch.Tensor] | None = None
    ) -> None:
        """Stop when a round of updates made a loss non-finite, or (checked every
        ``WEIGHT_CHECK_EVERY`` env steps) a weight, before a callback can log, evaluate or
        checkpoint it; ``extra`` names more tensors (SAC's temperature)."""
        weights = self.num_timesteps >= self._weights_checked + WEIGHT_CHECK_EVERY
        if weights:
            self._weights_checked = self.num_timesteps
        problem = update_problem(self.networks, metrics, extra or {}, weights)
        if problem is not None:
            self.drop_episode()
            raise NonFiniteError(
                f"{problem} after the update at env step {self.num_timesteps} (gradient step "
                f"{self.num_updates}); {UPDATE_FIX}"
            )

    def drop_episode(self) -> None:
        """Forget the episode in progress, so the next :meth:`learn` starts with an env reset
        (after a divergence, or a rollback to an earlier snapshot)."""
        return None

    # ------------------------------------------------------------------ interface
    @abstractmethod
    def learn(self, total_timesteps: int, callback: Callback | None = None) -> Agent:
        """Train until ``num_timesteps`` reaches ``total_timesteps`` (continues if resumed)."""

    @abstractmethod
    def predict(self, obs: np.ndarray, deterministic: bool = True) -> np.ndarray:
        """Actions for a batch of observations (or one observation)."""

    @abstractmethod
    def policy_network(self) -> nn.Module:
        """The network that maps observations to Q-values, logits or action means (for export)."""

    @property
    @abstractmethod
    def observation_space(self) -> gym.Space:
        """The (single-env) observation space the agent was built for."""

    @property
    @abstractmethod
    def action_space(self) -> gym.Space:
        """The (single-env) action space the agent was built for."""

    # ------------------------------------------------------------------ persistence
    def state_dict(self) -> dict[str, Any]:
        """Networks, optimizers, pruner, counters and RNG states (tensors and plain data only)."""
        return {
            "algo": self.algo,
            "config": dataclasses.asdict(self.config),
            "networks": {n: net.state_dict() for n, net in self.networks.items()},
            "optimizers": {n: opt.state_dict() for n, opt in self.optimizers.items()},
            "pruner": self.pruner.state_dict() if self.pruner is not None else None,
            "structured": self.structured.state_dict() if self.structured is not None else None,
            "counters": {"num_timesteps": self.num_timesteps, "num_updates": self.num_updates},
            "rng": {
                "torch": torch.get_rng_state(),
                "numpy": self.rng.bit_generator.state,
            },
            "extra": self.extra_state(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`; a checkpoint from another architecture gets a clear error."""
        if state.get("algo") != self.algo:
            raise ValueError(f"checkpoint is for {state.get('algo')!r}, not {self.algo!r}")
        if state.get("structured") is not None:  # cut the networks to the saved widths first
            from prunerl.rl.structured import restore_structure

            restore_structure(self, state["structured"])
        for name, net in self.networks.items():
            try:
                net.load_state_dict(state["networks"][name])
            except (KeyError, RuntimeError) as exc:
                first = str(exc).strip().splitlines()[0]
                raise ValueError(
                    f"checkpoint does not fit network {name!r} ({first}); it was saved from "
                    "another architecture: use the same env, algo and network sizes"
                ) from None
        for name, opt in self.optimizers.items():
            opt.load_state_dict(state["optimizers"][name])
        if self.pruner is not None:
            if state.get("pruner") is None:
                raise ValueError("checkpoint has no pruner state but this agent prunes")
            self.pruner.load_state_dict(state["pruner"])
        self.num_timesteps = int(state["counters"]["num_timesteps"])
        self.num_updates = int(state["counters"]["num_updates"])
        torch.set_rng_state(state["rng"]["torch"])
        self.rng.bit_generator.state = state["rng"]["numpy"]
        self.load_extra_state(state.get("extra") or {})

    def extra_state(self) -> dict[str, Any]:
        """Algorithm-specific state to checkpoint (e.g. SAC's entropy coefficient)."""
        return {}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        return None


agents: Registry[type[Agent]] = Registry("algorithm")
