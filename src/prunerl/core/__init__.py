"""The pruning core: masks, criteria, allocation, schedules, methods, regularisers and costs.

Knows nothing of reinforcement learning; works on any ``nn.Module`` with Linear/Conv layers.
"""

from prunerl.core.api import prune, summary
from prunerl.core.config import PruningConfig
from prunerl.core.cost import Cost, measure
from prunerl.core.criteria import Criterion, criteria
from prunerl.core.distributions import distributions
from prunerl.core.methods import Method, methods
from prunerl.core.pruner import Pruner
from prunerl.core.regularizers import group_lasso_penalty, l1_penalty
from prunerl.core.schedules import Schedule, schedules

__all__ = [
    "Cost",
    "Criterion",
    "Method",
    "Pruner",
    "PruningConfig",
    "Schedule",
    "criteria",
    "distributions",
    "group_lasso_penalty",
    "l1_penalty",
    "measure",
    "methods",
    "prune",
    "schedules",
    "summary",
]
