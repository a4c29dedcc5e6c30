"""Decision quality of a pruned policy against a reference on a fixed set of states.

Return alone hides how much a policy changed; comparing decisions state by state shows it:
the share of identical greedy actions, the distance between continuous actions, and the KL
divergence between action distributions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import torch
from numpy.typing import ArrayLike

from prunerl.evaluation._torch import as_input, inference

PolicyFn = Callable[[torch.Tensor], Any]


@dataclass(frozen=True)
class Divergence:
    """Mean and max of a per-state distance or divergence over ``n`` states."""

    mean: float
    max: float
    n: int

    def to_dict(self) -> dict[str, Any]:
        """Plain fields, ready for JSON or a metrics logger."""
        return asdict(self)


def _to_tensor(output: Any, name: str, n: int) -> torch.Tensor:
    tensor = torch.as_tensor(output).detach().cpu()
    if tensor.dim() == 0 or tensor.shape[0] != n:
        raise ValueError(
            f"{name} must return one output per state (first axis {n}), got shape "
            f"{tuple(tensor.shape)}"
        )
    if tensor.is_floating_point() and not torch.isfinite(tensor).all():
        raise ValueError(f"{name} returned NaN or inf outputs; check the network for divergence")
    return tensor


def _run(fn: PolicyFn, states: ArrayLike | torch.Tensor) -> tuple[Any, int]:
    batch = as_input(fn, states, "states")
    with inference(fn):
        return fn(batch), batch.shape[0]


def _pair(
    reference: PolicyFn, candidate: PolicyFn, states: ArrayLike | torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Outputs of both policies on ``states``, checked to have the same shape."""
    ref, n = _run(reference, states)
    cand, _ = _run(candidate, states)
    ref_t, cand_t = _to_tensor(ref, "reference", n), _to_tensor(cand, "candidate", n)
    if ref_t.shape != cand_t.shape:
        raise ValueError(
            f"reference and candidate outputs differ in shape: {tuple(ref_t.shape)} vs "
            f"{tuple(cand_t.shape)}; both must map the states to the same action space"
        )
    return ref_t, cand_t


def _summary(values: torch.Tensor) -> Divergence:
    return Divergence(float(values.mean()), float(values.max()), int(values.numel()))


def _actions(output: torch.Tensor, name: str) -> torch.Tensor:
    if output.dim() == 2:
        return output.argmax(dim=-1)
    if output.dim() != 1:
        raise ValueError(
            f"{name} must return (n, actions) scores or (n,) actions for discrete agreement, "
            f"got shape {tuple(output.shape)}"
        )
    return output


def action_agreement(
    reference: PolicyFn, candidate: PolicyFn, states: ArrayLike | torch.Tensor
) -> float:
    """Fraction of states where both pick the same discrete action.

    Each output may be (n, actions) scores (Q-values or logits, compared by argmax) or the (n,)
    chosen actions, so a network can be compared with an ``agent.predict``-style callable.
    """
    ref, n = _run(reference, states)
    cand, _ = _run(candidate, states)
    ref_a = _actions(_to_tensor(ref, "reference", n), "reference")
    cand_a = _actions(_to_tensor(cand, "candidate", n), "candidate")
    return float((ref_a.long() == cand_a.long()).double().mean())


def action_distance(
    reference: PolicyFn, candidate: PolicyFn, states: ArrayLike | torch.Tensor
) -> Divergence:
    """Mean and max L2 distance between continuous actions, per state."""
    ref, cand = _pair(reference, candidate, states)
    diff = (ref.double() - cand.double()).reshape(ref.shape[0], -1)
    return _summary(torch.linalg.vector_norm(diff, dim=-1))


def categorical_kl(
    reference: PolicyFn, candidate: PolicyFn, states: ArrayLike | torch.Tensor
) -> Divergence:
    """KL(reference || candidate) between categorical policies given as (n, actions) logits."""
    ref, cand = _pair(reference, candidate, states)
    if ref.dim() != 2:
        raise ValueError(f"categorical outputs must be (n, actions) logits, got {tuple(ref.shape)}")
    log_p = torch.log_softmax(ref.double(), dim=-1)
    log_q = torch.log_softmax(cand.double(), dim=-1)
    kl = (log_p.exp() * (log_p - log_q)).sum(dim=-1)
    return _summary(kl.clamp_min(0.0))  # rounding can give -1e-17 for identical policies


def _gaussian(output: Any, name: str, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    if not isinstance(output, tuple | list) or len(output) != 2:
        raise ValueError(f"{name} must return a (mean, log_std) pair for a Gaussian policy")
    mean = _to_tensor(output[0], f"{name} mean", n).double()
    log_std = torch.as_tensor(output[1]).detach().cpu().double()
    try:
        log_std = log_std.expand_as(mean)  # a state-independent log_std parameter broadcasts
    except RuntimeError:
        raise ValueError(
            f"{name} log_std of shape {tuple(log_std.shape)} does not broadcast to the mean's "
            f"shape {tuple(mean.shape)}"
        ) from None
    if not torch.isfinite(log_std).all():
        raise ValueError(f"{name} returned NaN or inf log_std; check the network for divergence")
    return mean, log_std


def gaussian_kl(
    reference: PolicyFn, candidate: PolicyFn, states: ArrayLike | torch.Tensor
) -> Divergence:
    """KL(reference || candidate) between diagonal Gaussians given as (mean, log_std) outputs.

    Per state, summed over action dimensions:
    log(s_q/s_p) + (s_p^2 + (m_p - m_q)^2) / (2 s_q^2) - 1/2.
    """
    ref, n = _run(reference, states)
    cand, _ = _run(candidate, states)
    m_p, ls_p = _gaussian(ref, "reference", n)
    m_q, ls_q = _gaussian(cand, "candidate", n)
    if m_p.shape != m_q.shape:
        raise ValueError(
            f"reference and candidate means differ in shape: {tuple(m_p.shape)} vs "
            f"{tuple(m_q.shape)}; both must map the states to the same action space"
        )
    var_ratio = torch.exp(2 * (ls_p - ls_q))
    terms = (ls_q - ls_p) + 0.5 * (var_ratio + (m_p - m_q) ** 2 * torch.exp(-2 * ls_q)) - 0.5
    return _summary(terms.reshape(n, -1).sum(dim=-1).clamp_min(0.0))
