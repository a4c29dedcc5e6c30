"""Comparing two sets of returns: difference CI, pairing, probability of improvement."""

from __future__ import annotations

import math

import numpy as np
import pytest

from prunerl.evaluation import compare, probability_of_improvement


def test_probability_of_improvement_by_hand() -> None:
    # pairs (x, y): 1<2, 1<2, 2=2, 2=2, 3>2, 3>2 -> (0 + 0 + .5 + .5 + 1 + 1) / 6
    assert probability_of_improvement([1.0, 2.0, 3.0], [2.0, 2.0]) == pytest.approx(0.5)
    assert probability_of_improvement([3.0, 4.0], [1.0, 2.0]) == 1.0
    assert probability_of_improvement([1.0, 2.0], [3.0, 4.0]) == 0.0
    # 5 beats 1, 2, 4 and ties 5 -> (3 + 0.5) / 4; 0 beats nothing
    assert probability_of_improvement([5.0, 0.0], [1.0, 2.0, 4.0, 5.0]) == pytest.approx(3.5 / 8)


def test_probability_of_improvement_matches_brute_force() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 5, size=(3, 7)), rng.integers(0, 5, size=11)
    pairs = [(a > b) + 0.5 * (a == b) for a in x.ravel() for b in y]
    assert probability_of_improvement(x, y) == pytest.approx(np.mean(pairs))


def test_difference_and_relative_by_hand() -> None:
    result = compare([90.0, 100.0, 110.0], [200.0, 200.0, 200.0, 200.0], n_resamples=200)
    assert (result.candidate, result.reference) == (100.0, 200.0)
    assert result.difference == pytest.approx(-100.0)
    assert result.relative == pytest.approx(-0.5)
    assert result.prob_improvement == 0.0
    assert result.ci_low < -100.0 < result.ci_high
    assert "-100.0 (-50.0%)" in str(result)


def test_ci_of_difference_contains_truth_for_large_samples() -> None:
    rng = np.random.default_rng(1)
    dense, pruned = rng.normal(500.0, 20.0, 4000), rng.normal(490.0, 20.0, 4000)
    result = compare(pruned, dense, seed=2)
    assert result.ci_low < -10.0 < result.ci_high
    assert result.ci_high < 0.0  # the drop is detected


def test_pairing_removes_shared_episode_noise() -> None:
    rng = np.random.default_rng(2)
    episode_difficulty = rng.normal(0.0, 50.0, size=(2, 15))
    dense = 400.0 + episode_difficulty
    pruned = dense - 3.0 + rng.normal(0.0, 1.0, size=dense.shape)
    unpaired = compare(pruned, dense)
    paired = compare(pruned, dense, paired=True)
    assert paired.difference == unpaired.difference
    assert paired.ci_high - paired.ci_low < (unpaired.ci_high - unpaired.ci_low) / 10
    assert paired.ci_low < -3.0 < paired.ci_high < 0.0


@pytest.mark.parametrize("statistic", ["median", "iqm"])
def test_other_statistics(statistic: str) -> None:
    result = compare([1.0, 2.0, 3.0, 100.0], [1.0, 2.0, 3.0, 4.0], statistic=statistic)  # type: ignore[arg-type]
    assert result.statistic == statistic
    assert result.difference == pytest.approx(0.0)  # both ignore the outlier


def test_seeded_and_single_return() -> None:
    a, b = np.arange(10.0), np.arange(10.0) + 1
    assert compare(a, b, seed=4) == compare(a, b, seed=4)
    single = compare([5.0], b)
    assert math.isnan(single.ci_low) and single.difference == pytest.approx(-0.5)
    assert "CI n/a" in str(single)
    assert math.isnan(compare(a, [0.0]).relative)


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="same shape"):
        compare([1.0, 2.0, 3.0], [1.0, 2.0], paired=True)
    with pytest.raises(ValueError, match="candidate contains 1 non-finite"):
        compare([1.0, float("nan")], [1.0, 2.0])
    with pytest.raises(ValueError, match="reference is empty"):
        compare([1.0, 2.0], [])
    with pytest.raises(ValueError, match="reference is empty"):
        probability_of_improvement([1.0], [])
