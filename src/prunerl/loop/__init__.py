"""The performance-gated pruning loop, sensitivity analysis and multi-model pruning.

subject = AgentSubject(agent, LoopConfig(target=0.95, tolerance=0.05))
result = GatedPruner(subject, subject.config).run()
"""

from prunerl.loop.config import LoopConfig
from prunerl.loop.controller import GatedPruner
from prunerl.loop.history import History, StepRecord
from prunerl.loop.result import STOP_REASONS, LoopResult
from prunerl.loop.subject import AgentSubject, Subject

__all__ = [
    "STOP_REASONS",
    "AgentSubject",
    "GatedPruner",
    "History",
    "LoopConfig",
    "LoopResult",
    "StepRecord",
    "Subject",
]
