"""Structural pruning: remove whole neurons, channels and blocks so the network really shrinks.

Decide, then cut (design notes): :func:`find_groups` finds the channels that must shrink
together, :mod:`importance` scores them, :class:`NeuronPruner` masks them during training on a
schedule, and :func:`cut` builds the smaller network with its optimizer state.
"""

from prunerl.structural.api import make_plan, prunable_groups, prune_neurons
from prunerl.structural.groups import Group, Member, UnsupportedLayerError, find_groups
from prunerl.structural.handlers import Handler, handlers
from prunerl.structural.importance import Importance, importances
from prunerl.structural.masking import apply_masks
from prunerl.structural.plan import Plan, select
from prunerl.structural.surgery import cut

__all__ = [
    "Group",
    "Handler",
    "Importance",
    "Member",
    "Plan",
    "UnsupportedLayerError",
    "apply_masks",
    "cut",
    "find_groups",
    "handlers",
    "importances",
    "make_plan",
    "prunable_groups",
    "prune_neurons",
    "select",
]
