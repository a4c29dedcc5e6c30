"""The performance-gated pruning loop, sensitivity analysis and multi-model pruning.

Usage::

    subject = AgentSubject(agent, LoopConfig(target=0.95, tolerance=0.05))
    result = GatedPruner(subject, subject.config).run()      # in memory
    summary = prune_run("runs/dqn", LoopConfig(target=0.95))  # on run directories
"""

from prunerl.loop.config import LoopConfig
from prunerl.loop.controller import GatedPruner
from prunerl.loop.history import History, StepRecord
from prunerl.loop.multi import EnsembleSubject
from prunerl.loop.result import STOP_REASONS, LoopResult
from prunerl.loop.sensitivity import Sensitivity, layer_targets, sensitivity
from prunerl.loop.session import PruneInterrupted, prune_run, resume_prune
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
    "PruneInterrupted",
    "Sensitivity",
    "StepRecord",
    "StructuredSubject",
    "Subject",
    "agent_subject",
    "layer_targets",
    "prune_run",
    "resume_prune",
    "sensitivity",
]
