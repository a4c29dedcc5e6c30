"""Prune a Stable-Baselines3 model while it learns: one callback, the core's ``Pruner`` inside.

    from stable_baselines3 import DQN
    from prunerl.integrations.sb3 import PruningCallback

    model = DQN("MlpPolicy", "CartPole-v1")
    cb = PruningCallback(method="gmp", sparsity=0.9, begin_step=10_000, end_step=37_500)
    model.learn(50_000, callback=cb)
    cb.pruner.sparsity()  # 0.9; q_net_target follows q_net's masks

The schedule runs in env steps (``model.num_timesteps``). Pruned weights stay exactly zero
through every gradient step: a hook on each pruned parameter masks its gradient as backward
accumulates it, before SB3 clips the gradient norm (so pruned weights do not count in the clip),
and hooks on the policy's optimizers re-mask the weights after each step. Masking multiplies, so
a NaN gradient stays NaN; with ``check_finite`` (the default) a NaN or Inf in an observation or
reward (each env step) or in the weights (after each round of gradient steps) stops training
with a :class:`prunerl.core.finite.NonFiniteError` naming the source and the env step.
Needs ``pip install prunerl[sb3]``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from torch import nn
from torch.utils.hooks import RemovableHandle

from prunerl.core.config import PruningConfig
from prunerl.core.finite import NonFiniteError
from prunerl.core.pruner import Pruner
from prunerl.integrations.sb3_checks import EnvStepCheck, WeightCheck, check_reset
from prunerl.integrations.sb3_grads import GradientMasker

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
    ``check_finite=False`` turns the NaN/Inf checks off.
    """

    def __init__(
        self,
        config: PruningConfig | Mapping[str, Any] | None = None,
        networks: Sequence[str] | None = None,
        verbose: int = 0,
        check_finite: bool = True,
        **options: Any,
    ) -> None:
        super().__init__(verbose)
        if isinstance(config, PruningConfig):
            self.config = PruningConfig.from_dict({**config.to_dict(), **options})
        else:
            self.config = PruningConfig.from_dict({**dict(config or {}), **options})
        self.network_paths = list(networks) if networks is not None else None
        self.check_finite = check_finite
        self.pruner: Pruner | None = None
        self._hooks: list[RemovableHandle] = []
        self._grads: GradientMasker | None = None
        self._stepped = False  # an optimizer stepped since the weights were last checked
        self._weights: WeightCheck | None = None
        self._env_check = EnvStepCheck()

    # ------------------------------------------------------------------ set-up
    def _init_callback(self) -> None:
        """Called by every ``model.learn``: the pruner is built once, the hooks each time."""
        self._remove_hooks()  # a run stopped by an exception left its hooks behind
        self._weights = None  # the parameters to check, looked up again for this run
        self._env_check = EnvStepCheck()  # this run's env may give other observations
        policy = self.model.policy
        if self.pruner is None:
            self.pruner = self._build_pruner(policy)
            self._grads = GradientMasker(self.pruner)
        assert self._grads is not None
        self._hooks.extend(self._grads.register())  # masks before SB3's clip: see sb3_grads
        for opt in policy_optimizers(policy):
            # each optimizer's hooks touch only its own parameters: SAC builds the actor's loss
            # graph before the critic's step, so changing actor weights then would break it
            owned = {id(p) for group in opt.param_groups for p in group["params"]}
            mine = [i for i, t in enumerate(self.pruner.targets) if id(t.param) in owned]
            if self.pruner.stats is not None:
                self._hooks.append(opt.register_step_pre_hook(self._grads.observe))
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
    def _after_step(self, indices: list[int]) -> Callable[..., None]:
        """A hook: the pruned weights of targets ``indices`` back to exactly 0 after the step."""

        def hook(*_: Any) -> None:
            assert self.pruner is not None
            self.pruner.apply_masks(indices)
            self._stepped = True

        return hook

    # ------------------------------------------------------------------ events
    def _on_step(self) -> bool:
        assert self.pruner is not None
        if self.check_finite:
            get = self.locals.get
            try:
                self._env_check(get("new_obs"), get("rewards"), get("dones"),
                                get("infos") or [], self.num_timesteps)  # fmt: skip
            except NonFiniteError:
                self._remove_hooks()
                raise
        if self._grads is not None and self._grads.dense:
            with self._grads.unmasked():  # RigL regrows by the unmasked gradient
                changed = self.pruner.step(self.num_timesteps)
        else:
            changed = self.pruner.step(self.num_timesteps)
        if changed:
            self.logger.record("prune/sparsity", self.pruner.sparsity())
        return True

    def _on_training_start(self) -> None:
        """The reset observations, which the policy sees before the first env step."""
        last_obs = getattr(self.model, "_last_obs", None)
        if self.check_finite and last_obs is not None:
            try:
                check_reset(last_obs, self.num_timesteps)
            except NonFiniteError:
                self._remove_hooks()
                raise

    def _on_rollout_start(self) -> None:
        """SB3 trains between rollouts: check the weights once after each round of updates."""
        self._check_weights()

    def _check_weights(self) -> None:
        """The pruned networks' parameters, if an optimizer stepped since the last check."""
        if not (self.check_finite and self._stepped) or self.pruner is None:
            return
        self._stepped = False
        if self._weights is None:
            self._weights = WeightCheck({
                f"{net}.{name}" if net else name: p
                for net, module in self.pruner.networks.items()
                for name, p in module.named_parameters()
            })  # fmt: skip
        try:
            self._weights(self.num_timesteps)
        except NonFiniteError:
            self._remove_hooks()
            raise

    def _on_training_end(self) -> None:
        self._remove_hooks()
        self._check_weights()

    def _remove_hooks(self) -> None:
        for hook in self._hooks:
            hook.remove()
        self._hooks.clear()
        if self._grads is not None:
            self._grads.clear()
