"""RunConfig: validation errors name the key and the fix; defaults; --set overrides; YAML."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from experiments.double import DoubleAgent, tiny
from prunerl.experiments.algos import agent_class, agent_hyperparameters
from prunerl.experiments.config import (
    apply_overrides,
    build_config,
    load_yaml,
    shipped_configs,
)
from prunerl.experiments.runner import build_agent


def test_unknown_top_level_key_lists_valid_keys() -> None:
    with pytest.raises(ValueError, match=r"unknown config key 'evaluation'.*eval, checkpoint"):
        build_config(tiny(evaluation={"episodes": 3}))


def test_unknown_nested_key_names_its_section() -> None:
    with pytest.raises(ValueError, match=r"'eval\.epsiodes'; valid keys here: episodes, every"):
        build_config(tiny(eval={"epsiodes": 3}))


def test_unknown_pruning_option_lists_valid_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown pruning option\(s\) \['spars'\].*networks"):
        build_config(tiny(pruning={"spars": 0.5}))


@pytest.mark.parametrize("sparsity", [1.0, 1.5, -0.1])
def test_sparsity_out_of_range_is_refused(sparsity: float) -> None:
    with pytest.raises(ValueError, match=r"sparsity must be in \[0, 1\)"):
        build_config(tiny(pruning={"method": "gmp", "sparsity": sparsity}))


def test_missing_and_invalid_values_are_one_message() -> None:
    with pytest.raises(ValueError, match="'total_steps' is required") as err:
        build_config({"env_id": "CartPole-v1", "algo": "dqn"})
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match=r"total_steps: .*greater than 0"):
        build_config(tiny(total_steps=0))


def test_gradual_pruning_defaults_to_20_to_75_percent_every_1000() -> None:
    cfg = build_config(tiny(total_steps=50_000, pruning={"method": "gmp", "sparsity": 0.9}))
    assert cfg.pruning is not None
    assert (cfg.pruning["begin_step"], cfg.pruning["end_step"]) == (10_000, 37_500)
    assert cfg.pruning["update_every"] == 1000
    plain = build_config({"env_id": "CartPole-v1", "algo": "dqn", "total_steps": 50_000})
    assert plain.eval.every == 5000 and plain.checkpoint.every == 5000
    assert plain.logging.every == 500 and plain.eval.episodes == 20


def test_explicit_pruning_steps_are_kept_and_short_runs_update_more_often() -> None:
    explicit = {"method": "gmp", "sparsity": 0.5, "begin_step": 5, "end_step": 50}
    cfg = build_config(tiny(pruning=explicit))
    assert cfg.pruning is not None and cfg.pruning["begin_step"] == 5
    short = build_config(tiny(total_steps=1000, pruning={"method": "gmp"}))
    assert short.pruning is not None and short.pruning["update_every"] == 55  # (750-200)//10


def test_pruning_that_ends_after_the_run_is_refused() -> None:
    with pytest.raises(ValueError, match="end_step 900 is beyond total_steps 400"):
        build_config(tiny(pruning={"method": "gmp", "end_step": 900}))
    with pytest.raises(ValueError, match="begin_step 500 is beyond"):
        build_config(tiny(pruning={"method": "magnitude", "begin_step": 500}))


def test_null_pruning_steps_take_this_runs_defaults() -> None:
    """A shipped config's fixed window is undone with ``--set pruning.end_step=null``."""
    fixed = {"method": "gmp", "begin_step": 10_000, "end_step": 37_500, "update_every": 1000}
    data = apply_overrides(
        {**tiny(total_steps=4000), "pruning": fixed},
        ["pruning.begin_step=null", "pruning.end_step=null", "pruning.update_every=null"],
    )
    cfg = build_config(data)
    assert cfg.pruning is not None
    assert (cfg.pruning["begin_step"], cfg.pruning["end_step"]) == (800, 3000)
    with pytest.raises(ValueError, match=r"--set pruning.end_step=null"):
        build_config({**tiny(total_steps=4000), "pruning": fixed})


def test_per_network_targets_and_networks_list() -> None:
    cfg = build_config(tiny(pruning={"method": "gmp", "sparsity": {"actor": 0.95, "critic": 0.8}}))
    pruning = cfg.pruning_config()
    assert pruning is not None and pruning.sparsity == {"actor": 0.95, "critic": 0.8}
    cfg = build_config(tiny(pruning={"method": "magnitude", "networks": "policy"}))
    assert cfg.prune_networks() == ["policy"]


def test_set_overrides_parse_yaml_values_and_create_sections() -> None:
    data = apply_overrides(
        tiny(), ["eval.episodes=7", "agent.hidden=[8, 8]", "pruning.sparsity=0.8", "seed=11"]
    )
    assert data["eval"]["episodes"] == 7 and data["seed"] == 11
    assert data["agent"]["hidden"] == [8, 8] and data["pruning"] == {"sparsity": 0.8}
    assert tiny()["eval"]["episodes"] == 3  # the input is not modified


@pytest.mark.parametrize("bad", ["novalue", "=3", "seed.x=1"])
def test_bad_set_overrides_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="--set"):
        apply_overrides(tiny(), [bad])


def test_resolved_config_round_trips_through_yaml(tmp_path: Path) -> None:
    cfg = build_config(tiny(pruning={"method": "gmp", "sparsity": 0.7}))
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(cfg.to_dict()))
    assert build_config(load_yaml(path)) == cfg


def test_load_yaml_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="shipped config: dqn_cartpole_gmp90"):
        load_yaml(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("env_id: [unclosed")
    with pytest.raises(ValueError, match="not valid YAML"):
        load_yaml(bad)
    bad.write_text("- a list")
    with pytest.raises(ValueError, match="mapping"):
        load_yaml(bad)


def test_agent_hyperparameters_start_from_for_env_and_check_keys() -> None:
    cls = agent_class("double")
    assert cls is DoubleAgent
    hyper = agent_hyperparameters(cls, "CartPole-v1", {"learning_rate": 1, "hidden": [4]})
    assert hyper.hidden == (4,) and hyper.learning_rate == 1.0  # for_env base, coerced types
    assert agent_hyperparameters(cls, "Acrobot-v1", {}).hidden == (16,)
    with pytest.raises(ValueError, match=r"unknown double hyperparameter\(s\) \['lr'\]"):
        agent_hyperparameters(cls, "CartPole-v1", {"lr": 0.1})
    with pytest.raises(ValueError, match=r"agent\.learning_rate must be a float"):
        agent_hyperparameters(cls, "CartPole-v1", {"learning_rate": "fast"})


def test_unknown_algorithm_lists_registered_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown algorithm 'dqm'.*Did you mean 'dqn'"):
        agent_class("dqm")


@pytest.mark.parametrize("name", shipped_configs())
def test_shipped_configs_validate_and_build_their_agent(name: str) -> None:
    config = build_config(load_yaml(name))  # found by name, like `--config NAME`
    resolved, agent = build_agent(config)
    assert agent.pruner is not None and agent.algo == config.algo
    assert set(resolved.agent) == {f for f in agent.config.__dataclass_fields__}
    if isinstance(config.pruning and config.pruning["sparsity"], dict):
        assert set(agent.pruner.networks) == {"actor", "critic"}
