"""State- and action-space pruning: find the observation features and actions an agent does
not need, remove them (wrappers + cut layers), mask invalid actions, and explain the decision.

Typical use::

    obs = prune_observations(agent, method="permutation", tolerance=0.05)
    acts = prune_actions(agent, method="usage", tolerance=0.05)
    small = reduce_agent(agent, obs, acts)        # new agent on prunerl/Reduced-v0
    save_spaces(run_dir, obs, acts)               # read by `prunerl explain RUN_DIR`
"""

from prunerl.spaces.action_importance import action_measures
from prunerl.spaces.action_mask import (
    ActionMasker,
    action_mask_from_info,
    check_action_mask,
    mask_invalid,
    masked_argmax,
    masked_log_prob_entropy,
    masked_log_softmax,
    masked_max,
)
from prunerl.spaces.actions import prune_actions
from prunerl.spaces.deploy import reduce_agent
from prunerl.spaces.feature_importance import feature_measures
from prunerl.spaces.group_lasso import InputGroupLasso
from prunerl.spaces.observation import prune_observations
from prunerl.spaces.results import (
    ActionPruning,
    ObservationPruning,
    SpacePruning,
    load_spaces,
    save_spaces,
)
from prunerl.spaces.surgery import cut_input_features, cut_output_units
from prunerl.spaces.wrappers import REDUCED_ENV_ID, SelectActions, SelectObservation

__all__ = [
    "REDUCED_ENV_ID",
    "ActionMasker",
    "ActionPruning",
    "InputGroupLasso",
    "ObservationPruning",
    "SelectActions",
    "SelectObservation",
    "SpacePruning",
    "action_mask_from_info",
    "action_measures",
    "check_action_mask",
    "cut_input_features",
    "cut_output_units",
    "feature_measures",
    "load_spaces",
    "mask_invalid",
    "masked_argmax",
    "masked_log_prob_entropy",
    "masked_log_softmax",
    "masked_max",
    "prune_actions",
    "prune_observations",
    "reduce_agent",
    "save_spaces",
]
