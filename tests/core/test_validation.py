"""Bad input raises one ValueError that names the value and the fix; nothing is clamped."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

import prunerl
from prunerl import Pruner, PruningConfig

from .nets import mlp


@pytest.mark.parametrize("bad", [1.5, -0.1, 1.0, math.nan, "lots"])
def test_sparsity_outside_zero_one_is_rejected(bad):
    with pytest.raises(ValueError, match=r"sparsity must be .*\[0, 1\)"):
        PruningConfig(sparsity=bad)
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        prunerl.prune(mlp(), sparsity=bad)
    with pytest.raises(ValueError, match=r"sparsity\['actor'\] must be"):
        PruningConfig(sparsity={"actor": bad})
    with pytest.raises(ValueError, match=r"initial_sparsity must be"):
        PruningConfig(method="gmp", end_step=10, initial_sparsity=bad)
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        Pruner(mlp()).update_masks(sparsity=bad)


@pytest.mark.parametrize(
    ("option", "listed"),
    [
        (
            {"method": "magnitud"},
            ["gmp", "rigl", "magnitude", "taylor", "Did you mean 'magnitude'"],
        ),
        ({"criterion": "gradiant"}, ["gradient_rule", "magnitude", "threshold"]),
        ({"schedule": "cubic"}, ["iterative", "one_shot", "polynomial", "constant"]),
        ({"distribution": "er"}, ["erk", "uniform"]),
        ({"scope": "everything"}, ["layer", "global"]),
    ],
)
def test_unknown_names_list_the_valid_ones(option, listed):
    with pytest.raises(ValueError) as err:
        PruningConfig(**option)
    assert all(name in str(err.value) for name in listed), str(err.value)


def test_unknown_options_list_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown pruning option\(s\) \['sparsty'\].*sparsity"):
        Pruner(mlp(), sparsty=0.5)
    with pytest.raises(ValueError, match=r"bad criterion_kwargs .*theta"):
        PruningConfig(method="threshold", criterion_kwargs={"theta": 0.1, "tau": 1})


def test_include_patterns_and_sparsity_keys_that_match_nothing():
    nets = {"actor": mlp(), "critic": mlp()}
    with pytest.raises(
        ValueError, match=r"include pattern\(s\) \['policy\.\*'\] match no .*'actor'"
    ):
        Pruner(nets, include=["actor.*", "policy.*"])
    with pytest.raises(ValueError, match=r"sparsity key\(s\) \['qf'\] match no .*'critic'"):
        Pruner(nets, sparsity={"actor": 0.9, "qf": 0.5})
    with pytest.raises(ValueError, match=r"sparsity key\(s\) \['actor\.0\.weight'\]"):
        Pruner(nets, sparsity={"actor": 0.9, "actor.0.weight": 0.5})  # shadowed by 'actor'
    with pytest.raises(ValueError, match=r"no parameters selected .*module_types"):
        Pruner(nets, module_types=["LSTM"])


def test_following_a_copy_of_another_architecture_is_rejected_before_any_change():
    pruner = Pruner({"q": mlp((4, 32, 32, 2))}, sparsity=0.5)
    wider = mlp((4, 32, 64, 2))
    with pytest.raises(ValueError, match=r"must have the architecture of network 'q'"):
        pruner.follow(wider, source="q")
    assert not any(n.endswith("_mask") for n, _ in wider.named_buffers())  # nothing half-done
    with pytest.raises(ValueError, match=r"must have the architecture"):
        pruner.follow(nn.Sequential(nn.Linear(4, 2)), source="q")
    with pytest.raises(ValueError, match=r"unknown source network 'pi'; known: \['q'\]"):
        pruner.follow(mlp(), source="pi")


def test_loading_a_pruner_state_from_another_architecture():
    state = prunerl.prune(mlp((4, 32, 32, 2)), sparsity=0.5).state_dict()
    shallow = Pruner(mlp((4, 32, 2)))
    with pytest.raises(ValueError, match=r"missing masks .*architecture it was saved from"):
        shallow.load_state_dict({**state, "masks": {"0.weight": state["masks"]["0.weight"]}})
    with pytest.raises(ValueError, match=r"unexpected \['4.weight'\]"):
        shallow.load_state_dict(state)
    wider = Pruner(mlp((4, 32, 64, 2)))
    with pytest.raises(ValueError, match=r"mask '2.weight' has shape \(32, 32\).*\(64, 32\)"):
        wider.load_state_dict(state)
    assert wider.sparsity() == 0.0  # a failed load changes nothing


@pytest.mark.parametrize("schedule", ["polynomial", "iterative", "constant"])
@pytest.mark.parametrize("end", [100, 50])
def test_end_step_must_come_after_begin_step(schedule, end):
    with pytest.raises(ValueError, match=r"end_step \(\d+\) must be greater than begin_step"):
        PruningConfig(method="magnitude", schedule=schedule, begin_step=100, end_step=end)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"method": "gmp"}, r"'polynomial' schedule needs end_step"),
        ({"method": "gmp", "end_step": 10, "update_every": 0}, r"update_every must be a positive"),
        ({"begin_step": -1}, r"begin_step must be a non-negative integer, got -1"),
        ({"method": "lottery", "end_step": 3, "rounds": 5}, r"rounds \(5\) must be at most"),
        ({"method": "set", "drop_fraction": 1.5}, r"drop_fraction must be in \[0, 1\], got 1.5"),
        (
            {"method": "gmp", "end_step": 9, "sparsity": 0.5, "initial_sparsity": 0.6},
            r"initial_sparsity \(0.6\) must not exceed",
        ),
        ({"scope": "global", "distribution": "erk"}, r"use scope='layer' with it"),
        ({"method": "rigl", "scope": "global"}, r"does not apply to it: use scope='layer'"),
        ({"method": "threshold", "criterion_kwargs": {"theta": -1}}, r"theta must be >= 0"),
        ({"sparsity": {}}, r"sparsity dict is empty"),
    ],
)
def test_other_bad_options(options, message):
    with pytest.raises(ValueError, match=message):
        PruningConfig(**options)


def test_networks_must_be_modules():
    with pytest.raises(TypeError, match=r"network 'q' must be an nn.Module"):
        Pruner({"q": torch.zeros(3)})  # type: ignore[dict-item]
