"""Prune a Stable-Baselines3 model while it learns: one callback, the core's ``Pruner`` inside.

    from stable_baselines3 import DQN
    from prunerl.integrations.sb3 import PruningCallback

    model = DQN("MlpPolicy", "CartPole-v1")
    cb = PruningCallback(method="gmp", sparsity=0.9, begin_step=10_000, end_step=37_500)
    model.learn(50_000, callback=cb)
    cb.pruner.sparsity()  # 0.9; q_net_target follows q_net's masks

The schedule runs in env steps (``model.num_timesteps``). Pruned weights stay exactly zero
through every gradient step: hooks on the policy's optimizers mask the gradients before each
step (so pruned weights do not count in SB3's gradient-norm clip) and the weights after it.
Needs ``pip install prunerl[sb3]``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from torch import nn
from torch.utils.hooks import RemovableHandle

from prunerl.core.config import PruningConfig
from prunerl.core.pruner import Pruner

try:
    from stable_baselines3.common.callbacks import BaseCallback
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "prunerl.integrations.sb3 needs Stable-Baselines3: pip install 'prunerl[sb3]'"
    ) from exc

#: target network -> the network whose masks it receives, by SB3's attribute names
FOLLOWERS = {"q_net_target": "q_net", "critic_target": "critic", "actor_target": "actor"}


def default_networks(policy: nn.Module) -> list[str]:
    """What to prune in an SB3 policy: the Q-network (DQN), actor and critic (SAC, TD3, DDPG),
    or the whole actor-critic policy (PPO, A2C); target networks follow, never chosen."""
    if hasattr(policy, "q_net"):
        return ["q_net"]
    if hasattr(policy, "actor") and hasattr(policy, "critic"):
        return ["actor", "critic"]
    return [""]  # the policy itself


def policy_optimizers(policy: nn.Module) -> list[torch.optim.Optimizer]:
    """Every optimizer an SB3 policy trains with (one, or one each for actor and critic)."""
    found: list[torch.optim.Optimizer] = []
    for owner in (policy, getattr(policy, "actor", None), getattr(policy, "critic", None)):
        opt = getattr(owner, "optimizer", None)
        if isinstance(opt, torch.optim.Optimizer) and all(opt is not o for o in found):
            found.append(opt)
    return found


class PruningCallback(BaseCallback):
    """Prunes ``model.policy`` on a schedule in env steps while an SB3 model learns.

    ``networks`` are attribute paths in the policy (``["q_net"]``, ``["actor", "critic"]``,
    ``["mlp_extractor.policy_net"]``; ``""`` is the whole policy); by default
    :func:`default_networks`. Pruning options as in :class:`prunerl.PruningConfig`, given as
    ``config`` or keywords; a per-network sparsity dict names the same paths.
    """

    def __init__(
        self,
        config: PruningConfig | Mapping[str, Any] | None = None,
        networks: Sequence[str] | None = None,
        verbose: int = 0,
        **options: Any,
    ) -> None:
        super().__init__(verbose)
        if isinstance(config, PruningConfig):
            self.config = PruningConfig.from_dict({**config.to_dict(), **options})
        else:
            self.config = PruningConfig.from_dict({**dict(config or {}), **options})
        self.network_paths = list(networks) if networks is not None else None
        self.pruner: Pruner | None = None
        self._hooks: list[RemovableHandle] = []

    # ------------------------------------------------------------------ set-up
    def _init_callback(self) -> None:
        """Called by every ``model.learn``: the pruner is built once, the hooks each time."""
        policy = self.model.policy
        if self.pruner is None:
            self.pruner = self._build_pruner(policy)
        for opt in policy_optimizers(policy):
            # each optimizer's hooks touch only its own parameters: SAC builds the actor's loss
            # graph before the critic's step, so changing actor weights then would break it
            owned = {id(p) for group in opt.param_groups for p in group["params"]}
            mine = [i for i, t in enumerate(self.pruner.targets) if id(t.param) in owned]
            self._hooks.append(opt.register_step_pre_hook(self._before_step(mine)))
            self._hooks.append(opt.register_step_post_hook(self._after_step(mine)))
        self.pruner.step(self.num_timesteps)

    def _build_pruner(self, policy: nn.Module) -> Pruner:
        paths = self.network_paths if self.network_paths is not None else default_networks(policy)
        networks = {path: self._module(policy, path) for path in paths}
        pruner = Pruner(networks, self.config)
        for copy, source in FOLLOWERS.items():
            if source in networks and isinstance(getattr(policy, copy, None), nn.Module):
                pruner.follow(getattr(policy, copy), source=source)
        for opt in policy_optimizers(policy):
            pruner.attach_optimizer(opt)
        return pruner

    @staticmethod
    def _module(policy: nn.Module, path: str) -> nn.Module:
        if path == "":
            return policy
        try:
            module = policy.get_submodule(path)
        except AttributeError:
            module = None
        if module is None or path in FOLLOWERS:
            choices = [n for n, _ in policy.named_children() if n not in FOLLOWERS]
            raise ValueError(
                f"{type(policy).__name__} has no prunable network {path!r}; choose from "
                f"{choices} (target networks follow their source), or '' for the whole policy"
            )
        return module

    # ------------------------------------------------------------------ hooks
    def _before_step(self, indices: list[int]) -> Callable[..., None]:
        """A hook: gradient statistics for gradient criteria, then the gradients of the pruned
        weights of targets ``indices`` to 0 (they must not count in SB3's gradient-norm clip)."""

        def hook(*_: Any) -> None:
            assert self.pruner is not None
            self.pruner.observe_gradients()
            self.pruner.mask_gradients(indices)

        return hook

    def _after_step(self, indices: list[int]) -> Callable[..., None]:
        """A hook: the pruned weights of targets ``indices`` back to exactly 0 after the step."""

        def hook(*_: Any) -> None:
            assert self.pruner is not None
            self.pruner.apply_masks(indices)

        return hook

    def _on_step(self) -> bool:
        assert self.pruner is not None
        if self.pruner.step(self.num_timesteps):
            self.logger.record("prune/sparsity", self.pruner.sparsity())
        return True

    def _on_training_end(self) -> None:
        for hook in self._hooks:
            hook.remove()
        self._hooks.clear()
