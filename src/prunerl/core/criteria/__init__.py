"""Importance criteria, one per file, found by name through :data:`criteria`."""

from prunerl.core.criteria import gradient, magnitude, random, threshold  # noqa: F401  (register)
from prunerl.core.criteria.base import Criterion, criteria

__all__ = ["Criterion", "criteria"]
