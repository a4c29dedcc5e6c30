"""The gated loop on whole neurons: each step masks the least important hidden neurons, and the
accepted result is cut out at the end, so the final networks are physically smaller.

Uses the agent integration of structural pruning (:class:`prunerl.rl.structured.StructuredPruner`:
neuron masks kept through training by optimizer hooks, saved in ``agent.state_dict()``, then the
cut). The loop's sparsity here is the share of hidden neurons removed in every layer.
"""

from __future__ import annotations

from typing import Any

from prunerl.loop.config import LoopConfig
from prunerl.loop.subject import AgentLoopSubject, AgentSubject
from prunerl.rl.base import Agent

#: Weight criteria and the neuron importance that plays their part.
IMPORTANCE_FOR = {"magnitude": "l1", "gradient": "taylor", "taylor": "taylor"}


class StructuredSubject(AgentLoopSubject):
    """Neurons of one agent's networks: one group, ``neurons``, with the loop's target share."""

    def __init__(self, agent: Agent, config: LoopConfig, base_config: Any = None) -> None:
        if isinstance(config.target, dict):
            raise ValueError(
                "structured pruning in the loop takes one target (the share of neurons removed "
                f"per layer), got {config.target}"
            )
        from prunerl.structural import importances

        importance = IMPORTANCE_FOR.get(config.method, config.method)
        if importance not in importances:
            raise ValueError(
                f"--method {config.method!r} is no neuron importance; choose one of "
                f"{', '.join(importances.names())} (magnitude means l1)"
            )
        try:
            from prunerl.rl.structured import StructuredConfig, StructuredPruner
        except ModuleNotFoundError:
            raise ValueError(
                "structured pruning needs prunerl.rl.structured, missing from this install"
            ) from None
        super().__init__(agent, config, base_config)
        if agent.structured is None:
            spec = StructuredConfig(
                sparsity=config.target,
                importance=importance,
                networks=config.networks,
                schedule="one_shot",
                cut=False,
            )
            StructuredPruner(agent, spec)  # registers itself as agent.structured
        assert agent.structured is not None
        if agent.structured.is_cut:
            raise ValueError("this agent's networks are already cut; prune a run before its cut")
        self.structured = agent.structured

    def targets(self) -> dict[str, float]:
        assert isinstance(self.config.target, float)
        return {"neurons": self.config.target}

    def group_sparsity(self) -> dict[str, float]:
        return {"neurons": self.sparsity()}

    def sparsity(self) -> float:
        return self.structured.sparsity()

    def layer_sparsity(self) -> dict[str, float]:
        return self.structured.layer_sparsity()

    def prune_to(self, sparsity: dict[str, float]) -> None:
        self.structured.update_masks(sparsity["neurons"])

    def distilled_networks(self) -> list[str]:
        return sorted({network for network, _ in self.structured.places.values()})

    def enforce_masks(self) -> None:
        for unit in self.structured.units.values():
            unit.apply_masks()

    def finish(self) -> bool:
        """Cut the masked neurons out: the networks shrink, outputs stay the same."""
        self.structured.cut()
        return True

    def architecture(self) -> dict[str, Any]:
        return self.structured.architecture()


def agent_subject(agent: Agent, config: LoopConfig, base_config: Any = None) -> AgentLoopSubject:
    """The subject for ``config``: neurons when ``config.structured``, weights otherwise."""
    cls = StructuredSubject if config.structured else AgentSubject
    return cls(agent, config, base_config)
