"""Sparsity schedules, one per file, found by name through :data:`schedules`."""

from prunerl.core.schedules import constant, iterative, one_shot, polynomial  # noqa: F401
from prunerl.core.schedules.base import Schedule, schedules
from prunerl.core.schedules.constant import Constant
from prunerl.core.schedules.iterative import Iterative
from prunerl.core.schedules.one_shot import OneShot
from prunerl.core.schedules.polynomial import Polynomial

__all__ = ["Constant", "Iterative", "OneShot", "Polynomial", "Schedule", "schedules"]
