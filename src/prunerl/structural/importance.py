"""Neuron/channel importance: one score per channel of each group, higher = more important.

A registry like core's criteria (``importances.get("l2")``); add your own by registering a
subclass of :class:`Importance`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import torch
from torch import nn

from prunerl.registry import Registry
from prunerl.structural.groups import Group
from prunerl.structural.handlers import handler_for

DIRECTIONS = ("incoming", "outgoing", "both")


class Importance:
    """Scores the channels of groups; ``needs_observations`` criteria get a batch of them."""

    needs_observations: ClassVar[bool] = False

    def scores(
        self, model: nn.Module, groups: Sequence[Group], observations: torch.Tensor | None
    ) -> list[torch.Tensor]:
        raise NotImplementedError


importances: Registry[type[Importance]] = Registry("neuron importance")


def channel_weights(model: nn.Module, group: Group, direction: str) -> torch.Tensor:
    """All weights of each channel, one row per channel: incoming rows, outgoing columns."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    parts = []
    for m in group.members:
        roles = {"incoming": ("out",), "outgoing": ("in",), "both": ("out", "in")}[direction]
        if m.role not in roles:
            continue
        w = model.get_submodule(m.module).weight
        assert isinstance(w, torch.Tensor)
        w = w.detach()
        if m.role == "in":
            w = w.transpose(0, 1).reshape(group.size, m.repeat, -1)
        parts.append(w.reshape(group.size, -1))
    if not parts:  # e.g. outgoing weights of a group nothing reads: fall back to incoming
        return channel_weights(model, group, "incoming")
    return torch.cat(parts, dim=1)


class _Norm(Importance):
    p: ClassVar[float] = 1.0

    def __init__(self, direction: str = "both") -> None:
        if direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
        self.direction = direction

    def scores(
        self, model: nn.Module, groups: Sequence[Group], observations: torch.Tensor | None
    ) -> list[torch.Tensor]:
        return [
            channel_weights(model, g, self.direction).float().norm(p=self.p, dim=1) for g in groups
        ]


@importances.register("l1")
class L1(_Norm):
    """L1 norm of a neuron's weights (incoming, outgoing or both; Li et al. 2017)."""

    p = 1.0


@importances.register("l2")
class L2(_Norm):
    """L2 norm of a neuron's weights (incoming, outgoing or both)."""

    p = 2.0


def channel_values(
    model: nn.Module, groups: Sequence[Group], observations: torch.Tensor
) -> list[torch.Tensor]:
    """Each group's channel values on ``observations``, shape (channels, samples).

    Read at the inputs of the layers that consume the group (after the activation); a group
    nothing reads is read at its producers' outputs.
    """
    found: list[list[torch.Tensor]] = [[] for _ in groups]
    handles = []
    for i, g in enumerate(groups):
        readers = g.by_role("in")
        for m in readers or g.by_role("out"):
            module = model.get_submodule(m.module)
            pre, post = _recorder(found[i], g.size, m.repeat)
            if readers:
                handles.append(module.register_forward_pre_hook(pre))
            else:
                handles.append(module.register_forward_hook(post))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(observations)
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return [torch.cat(v, dim=1) for v in found]


def _recorder(out: list[torch.Tensor], size: int, repeat: int) -> tuple[Any, Any]:
    """Hooks storing a layer's input (pre) or output (post) as (channels, samples) in ``out``."""

    def record(module: nn.Module, x: torch.Tensor) -> None:
        handler = handler_for(module)
        assert handler is not None
        v = x.detach().movedim(handler.axis(module, x.dim()), 0).reshape(size, repeat, -1)
        out.append(v.reshape(size, -1))

    def pre(module: nn.Module, args: tuple[torch.Tensor, ...]) -> None:
        record(module, args[0])

    def post(module: nn.Module, args: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        record(module, output)

    return pre, post


class _Observed(Importance):
    needs_observations = True

    def scores(
        self, model: nn.Module, groups: Sequence[Group], observations: torch.Tensor | None
    ) -> list[torch.Tensor]:
        if observations is None:
            raise ValueError(
                f"importance {type(self).__name__} is measured on real observations: pass "
                "observations=<a batch of observations, e.g. from the replay buffer>"
            )
        return [self.reduce(v.float()) for v in channel_values(model, groups, observations)]

    def reduce(self, values: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


@importances.register("activation")
class MeanActivation(_Observed):
    """Mean |activation| of a neuron over observations (Molchanov et al. 2017, baseline)."""

    def reduce(self, values: torch.Tensor) -> torch.Tensor:
        return values.abs().mean(dim=1)


@importances.register("apoz")
class APoZ(_Observed):
    """1 - Average Percentage of Zeros of a neuron's outputs (Hu et al. 2016); for ReLU nets."""

    def __init__(self, eps: float = 0.0) -> None:
        self.eps = float(eps)

    def reduce(self, values: torch.Tensor) -> torch.Tensor:
        return (values.abs() > self.eps).float().mean(dim=1)


def taylor_terms(model: nn.Module, group: Group) -> torch.Tensor:
    """Per channel, the sum of weight x gradient over its parameters (one gradient sample)."""
    total = torch.zeros(group.size, dtype=torch.float64)
    for m in group.members:
        if m.role == "in":
            continue
        module = model.get_submodule(m.module)
        handler = handler_for(module)
        assert handler is not None
        for name, dim in handler.slices[m.role]:
            p = getattr(module, name, None)
            if not isinstance(p, nn.Parameter):
                continue
            if p.grad is None:
                raise ValueError(
                    f"importance 'taylor' needs gradients, but {m.module}.{name} has none: call "
                    "loss.backward() before scoring (or pruner.observe_gradients() each step)"
                )
            wg = (p.detach() * p.grad.detach()).movedim(dim, 0).reshape(group.size, -1)
            total += wg.sum(dim=1).double().cpu()
    return total


@importances.register("taylor")
class Taylor(Importance):
    """First-order Taylor: (sum of w*g over a neuron's parameters)^2 (Molchanov et al. 2019).

    Averaged over the gradient samples given to :meth:`observe`, or taken from the current
    ``.grad`` when none were observed.
    """

    def __init__(self) -> None:
        self.sums: list[torch.Tensor] | None = None
        self.count = 0

    def observe(self, model: nn.Module, groups: Sequence[Group]) -> None:
        """Accumulate one gradient sample (call after ``loss.backward()``)."""
        terms = [taylor_terms(model, g) ** 2 for g in groups]
        self.sums = (
            terms if self.sums is None else [a + b for a, b in zip(self.sums, terms, strict=True)]
        )
        self.count += 1

    def reset(self) -> None:
        self.sums, self.count = None, 0

    def scores(
        self, model: nn.Module, groups: Sequence[Group], observations: torch.Tensor | None
    ) -> list[torch.Tensor]:
        if self.sums is not None and self.count > 0:
            return [s / self.count for s in self.sums]
        return [taylor_terms(model, g) ** 2 for g in groups]


@importances.register("random")
class Random(Importance):
    """Random scores: the baseline any criterion must beat."""

    def __init__(self, seed: int = 0) -> None:
        self.generator = torch.Generator().manual_seed(seed)

    def scores(
        self, model: nn.Module, groups: Sequence[Group], observations: torch.Tensor | None
    ) -> list[torch.Tensor]:
        return [torch.rand(g.size, generator=self.generator) for g in groups]


def build_importance(name: str | Importance, **kwargs: object) -> Importance:
    """An importance instance from a registered name (with kwargs) or an instance as is."""
    if isinstance(name, Importance):
        return name
    cls = importances.get(name)
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ValueError(f"bad options {kwargs} for importance {name!r}: {exc}") from None
