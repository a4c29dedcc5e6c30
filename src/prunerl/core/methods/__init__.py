"""Pruning methods, each a small class found by name through :data:`methods`."""

from prunerl.core.methods import dynamic, prune, static  # noqa: F401  (register)
from prunerl.core.methods.base import MaskContext, Method, methods

__all__ = ["MaskContext", "Method", "methods"]
