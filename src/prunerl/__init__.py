"""prunerl: prune deep reinforcement-learning agents (weights, neurons, features, actions)."""

from prunerl.core import (
    Pruner,
    PruningConfig,
    criteria,
    distributions,
    group_lasso_penalty,
    l1_penalty,
    measure,
    methods,
    prune,
    schedules,
    summary,
)

__version__ = "0.1.0"

__all__ = [
    "Pruner",
    "PruningConfig",
    "__version__",
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
