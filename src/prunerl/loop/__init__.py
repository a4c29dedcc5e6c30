"""The performance-gated pruning loop, sensitivity analysis and multi-model pruning.

Usage::

    subject = AgentSubject(agent, LoopConfig(target=0.95, tolerance=0.05))
    result = GatedPruner(subject, subject.config).run()      # in memory

On run directories (``prunerl prune``): :func:`prunerl.experiments.prune_run`.
"""

from prunerl.loop.config import LoopConfig
from prunerl.loop.controller import GatedPruner
from prunerl.loop.history import History, StepRecord
from prunerl.loop.multi import EnsembleSubject
from prunerl.loop.result import STOP_REASONS, LoopResult
from prunerl.loop.sensitivity import Sensitivity, layer_targets, sensitivity
from prunerl.loop.structured import StructuredSubject, agent_subject
from prunerl.loop.subject import AgentSubject, Subject

__all__ = [
    "STOP_REASONS",
    "AgentSubject",
    "EnsembleSubject",
    "GatedPruner",
    "History",
    "LoopConfig",
    "LoopResult",
    "Sensitivity",
    "StepRecord",
    "StructuredSubject",
    "Subject",
    "agent_subject",
    "layer_targets",
    "sensitivity",
]
