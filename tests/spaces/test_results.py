from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from prunerl.spaces import ActionPruning, ObservationPruning, load_spaces, save_spaces
from prunerl.spaces.decision import Trial
from prunerl.spaces.paired import Drop


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    obs = ObservationPruning(
        n=3,
        keep=[2, 0],
        method="saliency",
        rule="top_k",
        scores={"saliency": [1, 0, 2]},
        fill=[0.0, 1.0, 2.0],
    )
    obs.add_trials([Trial([1], 480.0, True)])
    acts = ActionPruning(n=4, keep=np.array([True, False, False, True]), method="usage", rule="k")
    assert obs.keep == [0, 2] and obs.dropped == [1] and obs.mask.tolist() == [True, False, True]
    assert acts.keep == [0, 3] and acts.names[1] == "action_1"
    path = save_spaces(tmp_path, obs)
    save_spaces(tmp_path, acts)  # updates the same file
    assert path == tmp_path / "spaces.json"
    loaded = load_spaces(tmp_path)
    assert isinstance(loaded["observation"], ObservationPruning)
    assert isinstance(loaded["actions"], ActionPruning)
    assert loaded["observation"] == obs and loaded["actions"] == acts
    assert json.loads(path.read_text())["observation"]["trials"][0]["items"] == [1]


def test_bad_results_name_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="feature mask has length 2 but there are 3"):
        ObservationPruning(n=3, keep=np.array([True, False]), method="m", rule="given")
    with pytest.raises(ValueError, match="removing every action"):
        ActionPruning(n=3, keep=[], method="m", rule="given")
    with pytest.raises(ValueError, match="scores 'x' has 2 values for 3"):
        ActionPruning(n=3, keep=[0], method="m", rule="given", scores={"x": [1.0, 2.0]})
    with pytest.raises(ValueError, match="verdicts has 1 values for 3"):
        ObservationPruning(n=3, keep=[0], method="m", rule="given", verdicts=["needed"])
    with pytest.raises(ValueError, match="intervals 'p' has 2 values for 3"):
        ObservationPruning(n=3, keep=[0], method="m", rule="r", intervals={"p": [[0, 1]] * 2})
    with pytest.raises(FileNotFoundError, match=r"no spaces\.json"):
        load_spaces(tmp_path)
    (tmp_path / "spaces.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_spaces(tmp_path)


def test_score_uncertainty_is_saved_and_loaded(tmp_path: Path) -> None:
    obs = ObservationPruning(n=2, keep=[0], method="permutation", rule="tolerance")
    obs.add_drops(
        {
            "permutation": [
                Drop(7.0, 6.0, 8.0, 10, 40.0, "needed"),
                Drop(0.0, float("nan"), float("nan"), 1, 47.0, "negligible"),
            ]
        }
    )
    assert obs.intervals == {"permutation": [[6.0, 8.0], [None, None]]}
    assert obs.score_episodes == {"permutation": [10, 1]}
    assert obs.verdicts == ["needed", "negligible"]
    save_spaces(tmp_path, obs)
    assert load_spaces(tmp_path)["observation"] == obs  # no NaN in the JSON either
    assert "NaN" not in (tmp_path / "spaces.json").read_text()
    other = ObservationPruning(n=2, keep=[0], method="saliency", rule="tolerance")
    other.add_drops({"permutation": [Drop(1.0, 0.0, 2.0, 10, 1.0, "needed")] * 2})
    assert other.verdicts == [] and other.intervals["permutation"][0] == [0.0, 2.0]
