"""Structural pruning: remove whole neurons, channels and blocks so the network really shrinks.

Decide, then cut (design notes): :func:`find_groups` finds the channels that must shrink
together, :data:`importances` score them, :class:`NeuronPruner` masks them during training on a
schedule, and :func:`cut` builds the smaller network with its optimizer state;
:func:`prune_blocks` drops weak residual blocks, :func:`hybrid_prune` combines blocks, neurons
and weights, and :mod:`~prunerl.structural.export` writes TorchScript, ONNX or the npz that
:mod:`prunerl.runtime` runs with numpy alone.

    plan = make_plan(q_net, sparsity=0.5, importance="l2", example=obs)
    q_small = cut(q_net, plan, optimizers=[optimizer])   # Adam moments sliced, not lost
    target_small = cut(q_target, plan)
    to_npz(q_small, "policy.npz", obs, head="argmax")
"""

from prunerl.structural.api import make_plan, prunable_groups, prune_neurons
from prunerl.structural.blocks import find_residual_blocks, layer_ratios, prune_blocks
from prunerl.structural.export import export, to_npz, to_onnx, to_torchscript
from prunerl.structural.groups import Group, Member, UnsupportedLayerError, find_groups
from prunerl.structural.handlers import Handler, handlers
from prunerl.structural.hybrid import HybridConfig, HybridResult, hybrid_prune
from prunerl.structural.importance import Importance, importances
from prunerl.structural.masking import apply_masks
from prunerl.structural.plan import Plan, select
from prunerl.structural.soft import NeuronPruner
from prunerl.structural.surgery import cut

__all__ = [
    "Group",
    "Handler",
    "HybridConfig",
    "HybridResult",
    "Importance",
    "Member",
    "NeuronPruner",
    "Plan",
    "UnsupportedLayerError",
    "apply_masks",
    "cut",
    "export",
    "find_groups",
    "find_residual_blocks",
    "handlers",
    "hybrid_prune",
    "importances",
    "layer_ratios",
    "make_plan",
    "prunable_groups",
    "prune_blocks",
    "prune_neurons",
    "select",
    "to_npz",
    "to_onnx",
    "to_torchscript",
]
