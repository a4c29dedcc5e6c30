"""PPO's loss terms, and their gradient in the policy logits and the values written out.

The loss terms go through autograd for any network. Paired with
:class:`prunerl.rl.plain_mlp.PlainMLP`, a PPO minibatch step on plain MLPs needs no autograd
graph at all: on CPU the engine's bookkeeping for the dozen small tensor ops of the loss costs
more than the 64-wide layers' own products. :func:`categorical_ppo_grads` gives the derivatives of
:func:`clipped_surrogate_loss`, :func:`value_loss` and the entropy bonus, with the subgradients
autograd picks where ``min``/``max``/``clamp`` tie; tests compare them with autograd on the same
loss (equal up to float rounding).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import torch
import torch.nn.functional as F

from prunerl.rl.plain_mlp import PlainMLP
from prunerl.spaces.action_mask import mask_invalid


def clipped_surrogate_loss(
    log_probs: torch.Tensor, old_log_probs: torch.Tensor, advantages: torch.Tensor, clip: float
) -> torch.Tensor:
    """``-mean(min(r A, clip(r, 1 - ε, 1 + ε) A))`` with ``r = π(a|s) / π_old(a|s)``."""
    ratio = (log_probs - old_log_probs).exp()
    clipped = ratio.clamp(1.0 - clip, 1.0 + clip)
    return -torch.min(ratio * advantages, clipped * advantages).mean()


def value_loss(
    values: torch.Tensor, old_values: torch.Tensor, returns: torch.Tensor, clip: float | None
) -> torch.Tensor:
    """Mean squared error to the returns; with ``clip``, the pessimum of clipped and unclipped."""
    loss = (values - returns).pow(2)
    if clip is not None:
        clipped = old_values + (values - old_values).clamp(-clip, clip)
        loss = torch.max(loss, (clipped - returns).pow(2))
    return 0.5 * loss.mean()


@torch.no_grad()
def update_metrics(
    log_probs: torch.Tensor,
    values: torch.Tensor,
    entropy: torch.Tensor,
    minibatch: Mapping[str, torch.Tensor],
    advantages: torch.Tensor,
    clip: float,
    clip_vf: float | None,
) -> dict[str, float]:
    """A minibatch's losses, mean entropy, approximate KL to the rollout policy and the share
    of clipped ratios (what PPO logs after each update)."""
    log_ratio = log_probs - minibatch["log_probs"]
    ratio = log_ratio.exp()
    loss = clipped_surrogate_loss(log_probs, minibatch["log_probs"], advantages, clip)
    v_loss = value_loss(values, minibatch["values"], minibatch["returns"], clip_vf)
    return {
        "policy_loss": float(loss),
        "value_loss": float(v_loss),
        "entropy": float(entropy.mean()),
        "approx_kl": float((ratio - 1 - log_ratio).mean()),
        "clip_fraction": float(((ratio - 1).abs() > clip).float().mean()),
    }


class PPOGrads(NamedTuple):
    """d loss / d logits ``(B, n)`` and d loss / d values ``(B,)``, plus what the metrics need."""

    logits: torch.Tensor
    values: torch.Tensor
    log_probs: torch.Tensor  # of the taken actions under the current policy
    entropy: torch.Tensor  # per sample


@torch.no_grad()
def categorical_ppo_grads(
    logits: torch.Tensor,
    values: torch.Tensor,
    minibatch: Mapping[str, torch.Tensor],
    advantages: torch.Tensor,
    clip: float,
    clip_vf: float | None,
    vf_coef: float,
    ent_coef: float,
) -> PPOGrads:
    """Gradients of ``surrogate + vf_coef * value_loss - ent_coef * mean(entropy)``.

    ``minibatch`` holds the rollout's ``actions``, ``log_probs``, ``values``, ``returns`` and
    optionally ``masks``. Policy: with ``r = exp(log p(a) - log p_old(a))``,
    ``-mean(min(r A, clip(r) A))`` has derivative ``-r A / B`` in ``log p(a)`` where the
    unclipped term is the minimum (or ties with it), else 0; through ``log_softmax`` that is
    ``(onehot(a) - p) * d log p(a)``. Entropy: ``d H / d z = -p (log p + H)``. Invalid actions
    (``masks``) have ``p = 0`` and get 0.
    """
    masks, actions = minibatch.get("masks"), minibatch["actions"]
    old_log_probs = minibatch["log_probs"]
    batch = logits.shape[0]
    log_p = F.log_softmax(mask_invalid(logits, masks), dim=-1)
    p = log_p.exp()
    index = actions.long().unsqueeze(-1)
    log_prob = log_p.gather(-1, index).squeeze(-1)
    ratio = (log_prob - old_log_probs).exp()
    surrogate = ratio * advantages
    clipped = ratio.clamp(1.0 - clip, 1.0 + clip) * advantages
    d_log_prob = torch.where(surrogate <= clipped, surrogate, 0.0).mul_(-1.0 / batch)
    d_logits = (
        (p * d_log_prob.unsqueeze(-1)).neg_().scatter_add_(-1, index, d_log_prob.unsqueeze(-1))
    )
    plogp = p * log_p
    entropy = -plogp.sum(-1)
    if ent_coef:
        d_logits.add_((plogp + p * entropy.unsqueeze(-1)).mul_(ent_coef / batch))
    return PPOGrads(
        d_logits,
        value_grad(values, minibatch["values"], minibatch["returns"], clip_vf).mul_(
            vf_coef / batch
        ),
        log_prob,
        entropy,
    )


def value_grad(
    values: torch.Tensor, old_values: torch.Tensor, returns: torch.Tensor, clip: float | None
) -> torch.Tensor:
    """Per-sample derivative of ``0.5 * max((v - R)^2, (v_clipped - R)^2)`` (or of the plain
    squared error without ``clip``) in ``v``; ties split evenly, as autograd's ``max`` does."""
    error = values - returns
    if clip is None:
        return error
    delta = values - old_values
    clipped_error = old_values + delta.clamp(-clip, clip) - returns
    inside = (delta >= -clip) & (delta <= clip)
    unclipped_loss, clipped_loss = error.square(), clipped_error.square()
    clipped_grad = clipped_error * inside
    tie = (error + clipped_grad) * 0.5
    picked = torch.where(unclipped_loss > clipped_loss, error, clipped_grad)
    return torch.where(unclipped_loss == clipped_loss, tie, picked)


def gradients_by_hand(
    actor: PlainMLP,
    critic: PlainMLP,
    minibatch: Mapping[str, torch.Tensor],
    advantages: torch.Tensor,
    clip: float,
    clip_vf: float | None,
    vf_coef: float,
    ent_coef: float,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """PPO's ``loss.backward()`` for a plain categorical actor and a plain critic, without the
    autograd engine: :func:`categorical_ppo_grads` pushed back through both networks into their
    parameters' ``.grad``. Returns the log-probabilities, values and entropies."""
    actor_out, critic_out = actor.forward(minibatch["obs"]), critic.forward(minibatch["obs"])
    values = critic_out[-1].squeeze(-1)
    grads = categorical_ppo_grads(
        actor_out[-1], values, minibatch, advantages, clip, clip_vf, vf_coef, ent_coef
    )
    actor.backward(actor_out, grads.logits)
    critic.backward(critic_out, grads.values.unsqueeze(-1))
    return grads.log_probs, values, grads.entropy
