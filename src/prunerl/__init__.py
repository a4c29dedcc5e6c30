"""prunerl: prune deep reinforcement-learning agents (weights, neurons, features, actions).

The public names load lazily (PEP 562), so ``import prunerl.runtime`` stays torch-free on a
small device.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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


def __getattr__(name: str) -> Any:
    """Import ``prunerl.core`` (and torch) only when one of its names is first used."""
    if name in __all__ and name != "__version__":
        value = getattr(importlib.import_module("prunerl.core"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'prunerl' has no attribute {name!r}")
