"""DQN's TD loss pieces: bootstrap values, the regression loss, and its gradient step.

The loss's derivative, written out, lets a plain Q-network (``rl.plain_mlp``,
``rl.plain_dueling``) take its gradient step without autograd; it is the same arithmetic as
``smooth_l1_loss`` / ``mse_loss``'s backward, so the gradients are bit-identical (tested).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from prunerl.rl.masking import Masks
from prunerl.rl.plain_dueling import PlainQ
from prunerl.spaces.action_mask import masked_argmax, masked_max

LOSS_FUNCTIONS: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "huber": F.smooth_l1_loss,  # smooth L1 with beta 1, mean over the batch
    "mse": F.mse_loss,
}


def next_value(
    next_q: torch.Tensor, next_q_online: torch.Tensor | None, masks: Masks = None
) -> torch.Tensor:
    """``max_a Q_target(s', a)``, or ``Q_target(s', argmax_a Q_online(s', a))`` (double),
    over the valid actions ``masks`` (``(..., n)``) only when given."""
    if next_q_online is None:
        return masked_max(next_q, masks)
    best = masked_argmax(next_q_online, masks).unsqueeze(-1)
    return next_q.gather(-1, best).squeeze(-1)


def loss_grad(error: torch.Tensor, loss: str) -> torch.Tensor:
    """d loss / d Q(s, a) for ``error = Q(s, a) - target`` (overwritten): Huber's
    ``clamp(error, -1, 1) / B`` or the squared error's ``2 error / B``, with the mean's ``1 / B``
    as those losses' backward multiplies it."""
    if loss == "huber":
        return error.clamp_(-1.0, 1.0).mul_(1.0 / error.numel())
    return error.mul_(2.0 / error.numel())


def td_gradients(
    net: nn.Module,
    plain: PlainQ | None,
    x: torch.Tensor,
    actions: torch.Tensor,
    target: torch.Tensor,
    loss: str,
) -> torch.Tensor:
    """Gradients of the TD loss of ``Q(x, actions)`` accumulated in ``.grad``; returns ``Q(x, a)``.

    With ``plain``, ``net``'s plain view (``rl.plain_dueling.plain_q_network``), the same
    gradients come without the autograd engine: :func:`loss_grad` pushed back through the layers.
    """
    index = actions[:, None]
    if plain is None or not plain.accepts(x):
        q_taken = net(x).gather(1, index).squeeze(1)
        LOSS_FUNCTIONS[loss](q_taken, target).backward()
        return q_taken.detach()
    outputs = plain.forward(x)
    q_taken = outputs[-1].gather(1, index).squeeze(1)
    grad = loss_grad(q_taken - target, loss)
    plain.backward(outputs, torch.zeros_like(outputs[-1]).scatter_(1, index, grad[:, None]))
    return q_taken
