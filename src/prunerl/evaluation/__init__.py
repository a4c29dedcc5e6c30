"""Evaluation of agents before and after pruning: return statistics, stability, agreement, latency.

Works on plain numbers, numpy arrays, torch modules and callables, so it serves any agent.
"""

from prunerl.evaluation.agreement import (
    Divergence,
    action_agreement,
    action_distance,
    categorical_kl,
    gaussian_kl,
)
from prunerl.evaluation.compare import Comparison, compare, probability_of_improvement
from prunerl.evaluation.latency import Latency, measure_latency
from prunerl.evaluation.stability import Stability, coefficient_of_variation, stability
from prunerl.evaluation.stats import ReturnStats, bootstrap_ci, iqm, summarize
from prunerl.evaluation.tolerance import ToleranceCheck, allowed_drop, within_tolerance

__all__ = [
    "Comparison",
    "Divergence",
    "Latency",
    "ReturnStats",
    "Stability",
    "ToleranceCheck",
    "action_agreement",
    "action_distance",
    "allowed_drop",
    "bootstrap_ci",
    "categorical_kl",
    "coefficient_of_variation",
    "compare",
    "gaussian_kl",
    "iqm",
    "measure_latency",
    "probability_of_improvement",
    "stability",
    "summarize",
    "within_tolerance",
]
