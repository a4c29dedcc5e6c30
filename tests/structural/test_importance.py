"""Neuron importance: each criterion ranks a hand-built network as it should."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from prunerl.structural import importances, make_plan, prunable_groups

from .nets import mlp


def hand_built() -> nn.Sequential:
    """4-3-2 MLP: hidden neuron 0 has big incoming weights, 1 big outgoing, 2 is dead."""
    net = mlp((4, 3, 2))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[3.0, 3, 3, 3], [0.1, 0.1, 0.1, 0.1], [0, 0, 0, 0]]))
        net[0].bias.copy_(torch.tensor([0.0, 0.5, -1.0]))  # neuron 2 never fires
        net[2].weight.copy_(torch.tensor([[0.1, 5.0, 1.0], [0.1, -5.0, 1.0]]))
    return net


def scores(name: str, obs: torch.Tensor | None = None, **kwargs: object) -> torch.Tensor:
    net = hand_built()
    groups = prunable_groups(net)
    return importances.get(name)(**kwargs).scores(net, groups, obs)[0]


def test_weight_norms_by_direction() -> None:
    incoming = scores("l1", direction="incoming")
    assert torch.allclose(incoming, torch.tensor([12.0, 0.4, 0.0]))
    outgoing = scores("l1", direction="outgoing")
    assert torch.allclose(outgoing, torch.tensor([0.2, 10.0, 2.0]))
    both = scores("l2", direction="both")
    expected = torch.tensor([(36 + 0.02) ** 0.5, (0.04 + 50) ** 0.5, 2**0.5])
    assert torch.allclose(both, expected)
    with pytest.raises(ValueError, match="direction must be one of"):
        importances.get("l1")(direction="sideways")


def test_activation_and_apoz_measured_on_observations() -> None:
    obs = torch.rand(64, 4)  # positive: neuron 0 and 1 fire, neuron 2 is always 0
    act = scores("activation", obs)
    assert act[2] == 0 and act[0] > act[1] > 0
    apoz = scores("apoz", obs)
    assert torch.equal(apoz, torch.tensor([1.0, 1.0, 0.0]))
    with pytest.raises(ValueError, match="observations=<a batch"):
        scores("apoz")


def test_taylor_needs_gradients_then_ranks_by_weight_times_gradient() -> None:
    net = hand_built()
    groups = prunable_groups(net)
    taylor = importances.get("taylor")()
    with pytest.raises(ValueError, match=r"needs gradients.*loss.backward\(\)"):
        taylor.scores(net, groups, None)
    net(torch.rand(8, 4)).pow(2).sum().backward()
    s = taylor.scores(net, groups, None)[0]
    by_hand = (net[0].weight * net[0].weight.grad).sum(1) + net[0].bias * net[0].bias.grad
    assert torch.allclose(s, by_hand.detach().double() ** 2)
    assert s[2] == 0  # dead neuron: no gradient


def test_random_is_seeded_and_unknown_names_list_the_choices() -> None:
    assert torch.equal(scores("random", seed=3), scores("random", seed=3))
    assert not torch.equal(scores("random", seed=3), scores("random", seed=4))
    with pytest.raises(ValueError, match=r"unknown neuron importance 'l3'.*l1, l2"):
        importances.get("l3")


def test_plan_keeps_the_most_important_neurons() -> None:
    net = hand_built()
    plan = make_plan(net, 0.5, "activation", observations=torch.rand(32, 4))
    assert plan.keep[0].tolist() == [0, 1]
    plan = make_plan(net, 0.6, "l1", importance_kwargs={"direction": "outgoing"})
    assert plan.keep[0].tolist() == [1]
    plan = make_plan(mlp((4, 10, 10, 2)), {"2": 0.5})
    assert [len(k) for k in plan.keep] == [10, 5]
