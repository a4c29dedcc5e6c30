"""Stability of returns across episodes, seeds and env seeds, against hand computations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from prunerl.evaluation import coefficient_of_variation, stability


def test_two_seeds_by_hand() -> None:
    result = stability([[1.0, 2.0, 3.0], [4.0, 5.0, 9.0]])
    # seed means 2 and 6; within-seed stds 1 and sqrt(7); std of means = |6 - 2| / sqrt(2)
    assert result.seed_means == (2.0, 6.0)
    assert result.mean == pytest.approx(4.0)
    assert result.std_episodes == pytest.approx((1.0 + math.sqrt(7.0)) / 2)
    assert result.std_seeds == pytest.approx(4.0 / math.sqrt(2.0))
    assert (result.worst_seed, result.best_seed, result.worst_seed_index) == (2.0, 6.0, 0)
    assert result.worst_episode == 1.0
    all_std = np.std([1.0, 2.0, 3.0, 4.0, 5.0, 9.0], ddof=1)
    assert result.cv == pytest.approx(all_std / 4.0)
    assert (result.n_seeds, result.n_episodes) == (2, 3)
    assert result.std_env_seeds is None and result.worst_env_seed is None


def test_worst_seed_is_found_anywhere() -> None:
    returns = np.full((4, 5), 100.0)
    returns[2] = 10.0
    result = stability(returns)
    assert result.worst_seed_index == 2 and result.worst_seed == 10.0
    assert result.std_episodes == 0.0  # each seed is perfectly consistent


def test_env_seed_axis_by_hand() -> None:
    # (seeds=2, env_seeds=2, episodes=2)
    returns = np.array([[[1.0, 3.0], [5.0, 7.0]], [[2.0, 2.0], [6.0, 6.0]]])
    result = stability(returns)
    # cell means: seed0 [2, 6], seed1 [2, 6]; std over env seeds = 4/sqrt(2) for each seed
    assert result.std_env_seeds == pytest.approx(4.0 / math.sqrt(2.0))
    assert result.worst_env_seed == pytest.approx(2.0)
    # within-cell stds: sqrt(2), sqrt(2), 0, 0 -> mean sqrt(2)/2
    assert result.std_episodes == pytest.approx(math.sqrt(2.0) / 2)
    assert result.std_seeds == 0.0 and result.seed_means == (4.0, 4.0)
    assert result.n_env_seeds == 2
    assert "env seeds" in str(result)


def test_single_episode_and_single_seed_have_zero_spread() -> None:
    one_episode = stability([[3.0], [5.0]])
    assert one_episode.std_episodes == 0.0 and one_episode.std_seeds == pytest.approx(math.sqrt(2))
    one_seed = stability([[3.0, 5.0]])
    assert one_seed.std_seeds == 0.0 and one_seed.std_episodes == pytest.approx(math.sqrt(2))


def test_coefficient_of_variation_edge_cases() -> None:
    assert coefficient_of_variation([2.0, 4.0]) == pytest.approx(math.sqrt(2) / 3)
    assert coefficient_of_variation([-2.0, -4.0]) == pytest.approx(math.sqrt(2) / 3)
    assert coefficient_of_variation([0.0, 0.0]) == 0.0
    assert coefficient_of_variation([-1.0, 1.0]) == math.inf


def test_to_dict_is_plain() -> None:
    data = stability([[1.0, 2.0], [3.0, 4.0]]).to_dict()
    assert data["seed_means"] == [1.5, 3.5] and data["worst_seed_index"] == 0


@pytest.mark.parametrize(
    ("returns", "message"),
    [
        ([1.0, 2.0], "2-D or 3-D"),
        (np.zeros((0, 3)), "empty"),
        ([[1.0, float("nan")]], "non-finite"),
        ([[1.0, 2.0], [3.0]], "different lengths"),
    ],
)
def test_bad_input(returns: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        stability(returns)  # type: ignore[arg-type]
