"""What the gated loop prunes: an agent's networks behind snapshot / prune / train / evaluate.

The loop only talks to a :class:`Subject`; :class:`AgentSubject` adapts one prunerl agent (its
pruner is rebuilt for the loop so every prune is a one-shot step to a sparsity the loop picks),
and :class:`~prunerl.loop.multi.EnsembleSubject` adapts several agents pruned together.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any, Protocol

import numpy as np

from prunerl.core import Pruner, PruningConfig
from prunerl.core.schedules import OneShot
from prunerl.loop.config import LoopConfig
from prunerl.loop.distill import Distiller, StatePool, recording
from prunerl.rl.base import Agent
from prunerl.rl.evaluate import evaluate_policy


class Subject(Protocol):
    """The operations the gated loop needs; groups are what has its own target sparsity."""

    def targets(self) -> dict[str, float]:
        """Target sparsity of every group."""
        ...

    def group_sparsity(self) -> dict[str, float]:
        """Current sparsity of every group."""
        ...

    def sparsity(self) -> float:
        """Current sparsity over all pruned weights."""
        ...

    def prune_to(self, sparsity: dict[str, float]) -> None:
        """Prune every group to the given sparsity (never reviving a pruned weight)."""
        ...

    def train(self, steps: int) -> int:
        """Train (fine-tune) for ``steps`` env steps; return the env steps actually taken."""
        ...

    def evaluate(self, episodes: int, seed: int, record: bool = False) -> np.ndarray:
        """Returns of ``episodes`` deterministic episodes on seeds ``seed + i``; ``record`` keeps
        their observations for distillation (never for held-out episodes)."""
        ...

    def start_recovery(self) -> None:
        """Freeze the current networks as the reference that pruned ones are distilled towards."""
        ...

    def distill(self, steps: int) -> float:
        """``steps`` gradient steps of distillation towards the reference; the last loss."""
        ...

    def snapshot(self) -> Any:
        """Everything a rollback restores (weights, masks, optimizer state, counters)."""
        ...

    def restore(self, snapshot: Any) -> None:
        """Go back to ``snapshot`` (it stays valid for later restores)."""
        ...


def check_targets(subject: Subject) -> None:
    """Every group's target must be at or above its current sparsity."""
    current = subject.group_sparsity()
    for name, target in subject.targets().items():
        if target < current[name] - 1e-6:
            where = "" if name == "all" else f" of {name!r}"
            raise ValueError(
                f"target sparsity{where} {target:.4g} is below the current sparsity "
                f"{current[name]:.4g}; give a target above it (or start from a denser run)"
            )


def loop_pruning_config(config: LoopConfig) -> PruningConfig:
    """The core config the loop's pruner uses: the loop's method and targets, one-shot steps.

    Network names among the target keys become patterns (``actor`` -> ``actor.*``), so they
    mix with per-layer keys (``actor.0.weight``) from a sensitivity analysis.
    """
    target = config.target
    if isinstance(target, dict):  # a network name stands for all its parameters
        target = {
            k if "." in k or any(c in k for c in "*?[") else f"{k}.*": v for k, v in target.items()
        }
    options = {
        **config.pruning,
        "method": config.method,
        "sparsity": target,
        "scope": config.scope,
        "distribution": config.distribution or ("uniform" if config.scope == "global" else "erk"),
        "schedule": "one_shot",
        "begin_step": 0,
    }
    for key in ("end_step", "rewind_step"):
        options.pop(key, None)
    pruning = PruningConfig.from_dict(options)
    if pruning.method_class().sparse_from_start:
        raise ValueError(
            f"method {config.method!r} trains sparse from the start and regrows weights; the "
            "gated loop prunes step by step: use a criterion (magnitude, gradient, taylor, "
            "random) or a prune-family method (prune, gmp, lottery)"
        )
    return pruning


def fine_tuning_config(agent: Agent, base: Any, config: LoopConfig) -> Any:
    """The agent's hyperparameters for fine-tuning: ``base`` with the loop's overrides,
    ``learning_rate`` scaled by ``lr_scale`` (a trained policy fine-tuned at its full training
    rate tends to lose what it knew; measured on CartPole DQN, docs/benchmarks.md)."""
    overrides = dict(config.agent_overrides)
    valid = {f.name for f in dataclasses.fields(base)}
    unknown = sorted(set(overrides) - valid)
    if unknown:
        raise ValueError(
            f"unknown {agent.algo} hyperparameter(s) {unknown} in agent_overrides; valid: "
            f"{', '.join(sorted(valid))}"
        )
    if "learning_rate" in valid and "learning_rate" not in overrides:
        overrides["learning_rate"] = base.learning_rate * config.lr_scale
    return dataclasses.replace(base, **overrides) if overrides else base


class AgentLoopSubject:
    """What every agent subject shares: fine-tuning hyperparameters, training, evaluation on
    fixed seeds, distillation, and snapshots of ``agent.state_dict()`` (weights, masks,
    optimizers, RNG)."""

    def __init__(self, agent: Agent, config: LoopConfig, base_config: Any = None) -> None:
        self.agent = agent
        self.config = config
        self.base_config = agent.config if base_config is None else base_config
        agent.config = fine_tuning_config(agent, self.base_config, config)
        self._set_optimizer_lr()
        self.states = StatePool(agent.seed)  # observations of evaluation episodes
        self.distiller: Distiller | None = None

    def _set_optimizer_lr(self) -> None:
        """For agents that read the rate from their optimizers, not from their config."""
        lr = getattr(self.agent.config, "learning_rate", None)
        if isinstance(lr, float):
            for opt in self.agent.optimizers.values():
                for group in opt.param_groups:
                    group["lr"] = lr

    def targets(self) -> dict[str, float]:
        raise NotImplementedError

    def group_sparsity(self) -> dict[str, float]:
        raise NotImplementedError

    def sparsity(self) -> float:
        raise NotImplementedError

    def prune_to(self, sparsity: dict[str, float]) -> None:
        raise NotImplementedError

    def hold(self) -> None:
        """Make sure training only enforces the current masks (subclasses)."""

    def finish(self) -> bool:
        """Called once the loop ended; True when it changed the agent (e.g. a cut)."""
        return False

    def train(self, steps: int) -> int:
        if steps <= 0:
            return 0
        before = self.agent.num_timesteps
        # a decaying rate restarts with every fine-tune (learning-rate rewinding), instead of
        # ending near 0 where the original training ended
        self.agent.schedule_origin = before
        self.agent.learn(before + steps)
        return self.agent.num_timesteps - before

    def evaluate(self, episodes: int, seed: int, record: bool = False) -> np.ndarray:
        a = self.agent
        policy = recording(a.predict, self.states) if record else a.predict
        return evaluate_policy(policy, a.env_id, episodes, seed, a.env_kwargs)

    def distilled_networks(self) -> list[str]:
        """The networks this subject prunes (their pruned copies are distilled)."""
        raise NotImplementedError

    def enforce_masks(self) -> None:
        """Pruned weights (or neurons) back to 0 after a distillation step."""
        raise NotImplementedError

    def start_recovery(self) -> None:
        self.distiller = Distiller(self.agent, self.distilled_networks(), self.states)

    def distill(self, steps: int) -> float:
        if self.distiller is None or steps <= 0:
            return float("nan")
        c = self.config
        if self.distiller.kinds and not self.distiller.active:  # no states yet (after a resume)
            self.evaluate(min(5, c.max_eval_episodes), c.eval_seed, record=True)
        return self.distiller.run(steps, c.distill_batch, c.distill_lr, self.enforce_masks)

    def recovery_state(self) -> dict[str, Any] | None:
        """The reference networks distillation aims at (None before :meth:`start_recovery`)."""
        return None if self.distiller is None else self.distiller.state_dict()

    def load_recovery_state(self, state: dict[str, Any]) -> None:
        """Resume distillation towards a saved reference (the subject's networks before any
        cut have the reference's shapes, so the copies load its weights)."""
        self.start_recovery()
        assert self.distiller is not None
        self.distiller.load_state_dict(state)

    def snapshot(self) -> dict[str, Any]:
        return copy.deepcopy(self.agent.state_dict())

    def restore(self, snapshot: dict[str, Any]) -> None:
        # a deep copy: optimizers may keep the loaded tensors, which training changes in place
        self.agent.load_state_dict(copy.deepcopy(snapshot))
        self._set_optimizer_lr()
        self.hold()


class AgentSubject(AgentLoopSubject):
    """Weights of one agent's networks, its pruner built from the loop config (or kept, when
    the agent already has that very pruner, as after a resume)."""

    def __init__(self, agent: Agent, config: LoopConfig, base_config: Any = None) -> None:
        if config.structured:
            raise ValueError(
                "AgentSubject prunes weights; for neurons (structured=True) use "
                "prunerl.loop.structured.StructuredSubject"
            )
        super().__init__(agent, config, base_config)
        pruning = loop_pruning_config(config)
        networks = agent.prune_networks if config.networks is None else tuple(config.networks)
        reuse = agent.pruner is not None and agent.pruner.config == pruning
        if not (reuse and networks == agent.prune_networks):
            # a fresh pruner; weights that are zero already (an earlier pruning) stay pruned
            agent.pruning, agent.prune_networks, agent.pruner = pruning, networks, None
            agent.setup_pruning()
            assert agent.pruner is not None
            state = agent.pruner.state_dict()
            state["masks"] = {t.name: t.param.detach() != 0 for t in agent.pruner.targets}
            agent.pruner.load_state_dict(state)
        assert agent.pruner is not None
        self.pruner: Pruner = agent.pruner
        target = config.target
        self.names: list[str] = list(target) if isinstance(target, dict) else ["all"]
        self.hold()

    def targets(self) -> dict[str, float]:
        target = self.config.target
        return dict(target) if isinstance(target, dict) else {"all": target}

    def group_sparsity(self) -> dict[str, float]:
        out = {}
        for name, group in zip(self.names, self.pruner.groups, strict=True):
            members = [self.pruner.targets[i] for i in group]
            total = sum(t.numel for t in members)
            out[name] = 1.0 - sum(t.nonzero for t in members) / total
        return out

    def sparsity(self) -> float:
        return self.pruner.sparsity()

    def layer_sparsity(self) -> dict[str, float]:
        return self.pruner.layer_sparsity()

    def distilled_networks(self) -> list[str]:
        return list(self.pruner.networks)

    def enforce_masks(self) -> None:
        self.pruner.apply_masks()

    def hold(self, sparsity: dict[str, float] | None = None) -> None:
        """One-shot schedules already past: training steps only enforce the masks."""
        sparsity = self.group_sparsity() if sparsity is None else sparsity
        self.pruner.schedules = [OneShot(sparsity[n], 0) for n in self.names]
        self.pruner.last_step = max(self.agent.num_timesteps, 0)

    def prune_to(self, sparsity: dict[str, float]) -> None:
        self.hold(sparsity)
        self.pruner.update_masks(step=max(self.agent.num_timesteps, 0))
