"""Deploy a space pruning: a new agent of the same algorithm on the reduced env, networks cut.

The new agent's env is ``prunerl/Reduced-v0`` (the original env behind the observation and
action wrappers), so it trains, evaluates and checkpoints like any agent; its networks are the
old ones with the dropped input features folded into the bias and the dropped action outputs
removed, so before any fine-tuning it acts exactly as the old agent did with those features held
at their mean and those actions forbidden.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch
from torch import nn

from prunerl.rl.base import Agent
from prunerl.spaces.policy import discrete_actions, network_input
from prunerl.spaces.results import ActionPruning, ObservationPruning
from prunerl.spaces.surgery import cut_input_features, cut_output_units, input_width, last_linear
from prunerl.spaces.wrappers import REDUCED_ENV_ID, observation_axis, reduced_env_kwargs

IN_FLIGHT = ("rollout", "nstep")  # extra-state keys of unfinished steps, not knowledge


def input_fill(agent: Agent, pruning: ObservationPruning) -> np.ndarray | None:
    """The network-input value of each feature held at its raw fill (e.g. after whitening).

    None when the pruning has no fill (a hand-made mask): dropped features then count as 0.
    """
    space = agent.observation_space
    axis = observation_axis(space, pruning.axis)
    shape = tuple(space.shape or ())
    if pruning.fill is None:
        return None
    fill = np.asarray(pruning.fill, dtype=np.float64)
    raw = np.moveaxis(np.broadcast_to(fill, (*np.delete(shape, axis), len(fill))), -1, axis)
    x = network_input(agent, raw[None].astype(space.dtype)).double()
    per_feature = x.movedim(axis + 1, 0).reshape(len(fill), -1).mean(dim=1)
    return per_feature.numpy()


def _cut_state(state: Any, shape: tuple[int, ...], keep: np.ndarray, axis: int) -> Any:
    """Cut every tensor/array shaped like one observation (e.g. normalisation statistics)."""
    if isinstance(state, dict):
        return {k: _cut_state(v, shape, keep, axis) for k, v in state.items()}
    if isinstance(state, torch.Tensor) and tuple(state.shape) == shape:
        return state.index_select(axis, torch.as_tensor(keep, dtype=torch.long)).clone()
    if isinstance(state, np.ndarray) and state.shape == shape:
        return np.take(state, keep, axis=axis)
    return state


def reduce_agent(
    agent: Agent,
    observation: ObservationPruning | None = None,
    actions: ActionPruning | None = None,
    config: Any = None,
    seed: int | None = None,
) -> Agent:
    """A new agent on the reduced observation and/or action set, its networks cut to fit.

    ``config``: hyperparameters for fine-tuning the new agent (default: the old agent's).
    Weight-pruning masks are not carried over (the zeros in the weights are).
    """
    if observation is None and actions is None:
        raise ValueError("nothing to reduce: pass an observation and/or an actions pruning")
    nets = {name: copy.deepcopy(net) for name, net in agent.networks.items()}
    # what the agent learned (e.g. observation statistics) carries over; steps in flight (a
    # rollout or n-step transitions in progress) belong to the old spaces and do not
    extra = {k: v for k, v in agent.extra_state().items() if k not in IN_FLIGHT}
    axis: int | None = None
    if observation is not None:
        space = agent.observation_space
        axis = observation_axis(space, observation.axis)
        shape = tuple(space.shape or ())
        if shape[axis] != observation.n:
            raise ValueError(
                f"the observation pruning is for {observation.n} features but the agent's "
                f"observation has {shape[axis]}; prune this agent's observations again"
            )
        keep = np.asarray(observation.keep)
        fill = input_fill(agent, observation)
        for name, net in nets.items():
            if input_width(net) < observation.n:
                raise ValueError(
                    f"network {name!r} reads {input_width(net)} inputs, fewer than the "
                    f"{observation.n} observation features; cannot cut it"
                )
            nets[name] = cut_input_features(net, keep, observation.n, fill)
        extra = _cut_state(extra, shape, keep, axis)
    if actions is not None:
        n_actions = discrete_actions(agent)
        if n_actions != actions.n:
            raise ValueError(
                f"the action pruning is for {actions.n} actions but the agent has {n_actions}"
            )
        for name, net in nets.items():
            if last_linear(net).out_features == n_actions:
                nets[name] = cut_output_units(net, actions.keep)
    kwargs = reduced_env_kwargs(
        agent.env_id,
        agent.env_kwargs,
        observation.keep if observation is not None else None,
        actions.keep if actions is not None else None,
        axis if observation is not None and observation.axis is not None else None,
    )
    new = type(agent)(
        REDUCED_ENV_ID,
        copy.deepcopy(config if config is not None else agent.config),
        seed=agent.seed if seed is None else seed,
        env_kwargs=kwargs,
    )
    for name, net in nets.items():
        _load(new.networks[name], net, name)
    new.load_extra_state(extra)
    return new


def _load(target: nn.Module, source: nn.Module, name: str) -> None:
    try:
        target.load_state_dict(source.state_dict())
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0]
        raise ValueError(
            f"the cut network {name!r} does not fit the agent built for the reduced env "
            f"({first}); the agent's network sizes must follow its spaces"
        ) from None
