"""Return statistics: IQM, summaries and seeded bootstrap CIs against hand-computed values."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from prunerl.evaluation import ReturnStats, bootstrap_ci, iqm, summarize


def test_iqm_matches_hand_computation() -> None:
    # sorted: 0 0 1 2 3 4 5 100 -> cut 2 from each end -> mean(1, 2, 3, 4) = 2.5
    assert iqm([5, 0, 3, 100, 1, 0, 4, 2]) == pytest.approx(2.5)
    # 10 values: int(2.5) = 2 cut from each end -> mean(3..8) = 5.5
    assert iqm(np.arange(1, 11)) == pytest.approx(5.5)


def test_iqm_of_matrix_pools_all_runs() -> None:
    matrix = [[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 80.0]]
    assert iqm(matrix) == pytest.approx(np.mean([3.0, 4.0, 5.0, 6.0]))


def test_summary_fields_by_hand() -> None:
    returns = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    stats = summarize(returns, n_resamples=500)
    assert stats.mean == pytest.approx(3.5)
    assert stats.std == pytest.approx(math.sqrt(17.5 / 5))  # ddof=1
    assert stats.median == pytest.approx(3.5)
    assert stats.iqm == pytest.approx(3.5)  # mean(2, 3, 4, 5)
    assert (stats.n, stats.n_runs) == (6, 2)
    assert stats.ci_low < stats.mean < stats.ci_high


def test_ci_contains_true_mean_and_shrinks_with_n() -> None:
    rng = np.random.default_rng(1)
    small = rng.normal(100.0, 10.0, size=50)
    large = rng.normal(100.0, 10.0, size=5000)
    low_s, high_s = bootstrap_ci(small, seed=3)
    low_l, high_l = bootstrap_ci(large, seed=3)
    assert low_l < 100.0 < high_l
    assert high_l - low_l < (high_s - low_s) / 5  # width ~ 1/sqrt(n): 10x more precise
    assert high_l - low_l == pytest.approx(2 * 1.96 * 10.0 / math.sqrt(5000), rel=0.15)


def test_bootstrap_is_deterministic_given_seed() -> None:
    values = np.random.default_rng(2).normal(size=40)
    assert bootstrap_ci(values, seed=7) == bootstrap_ci(values, seed=7)
    assert bootstrap_ci(values, seed=7) != bootstrap_ci(values, seed=8)
    assert summarize(values, seed=7) == summarize(values, seed=7)


@pytest.mark.parametrize("statistic", ["mean", "median", "iqm"])
@pytest.mark.parametrize("method", ["percentile", "BCa"])
def test_ci_brackets_the_point_estimate(statistic: str, method: str) -> None:
    values = np.random.default_rng(3).exponential(10.0, size=(4, 30))
    low, high = bootstrap_ci(values, statistic, method=method, n_resamples=1000)  # type: ignore[arg-type]
    points: dict[str, Callable[[np.ndarray], float]] = {
        "mean": lambda v: float(np.mean(v)),
        "median": lambda v: float(np.median(v)),
        "iqm": iqm,
    }
    point = points[statistic](values)
    assert low < point < high


def test_resampling_runs_captures_seed_spread() -> None:
    # Runs differ a lot (offsets 0, 50, 100) while episodes within a run barely vary: resampling
    # episodes within runs keeps every run's weight, so only resampling runs sees the seed spread.
    noise = np.random.default_rng(4).normal(0.0, 1.0, size=(3, 20))
    returns = noise + np.array([[0.0], [50.0], [100.0]])
    low_s, high_s = bootstrap_ci(returns, resample="stratified")
    low_r, high_r = bootstrap_ci(returns, resample="runs")
    assert high_s - low_s < 2.0
    assert high_r - low_r > 30.0


def test_single_return_has_no_ci_and_constant_returns_a_point() -> None:
    single = summarize([3.0])
    assert math.isnan(single.ci_low) and math.isnan(single.ci_high)
    assert "CI n/a" in str(single)
    constant = summarize([[2.0, 2.0], [2.0, 2.0]], method="BCa")
    assert (constant.ci_low, constant.ci_high) == (2.0, 2.0)


def test_one_episode_per_run_bootstraps_over_runs() -> None:
    column = np.array([[1.0], [2.0], [3.0], [10.0]])
    assert bootstrap_ci(column, seed=0) == bootstrap_ci(column.ravel(), seed=0)


def test_str_and_to_dict() -> None:
    stats = ReturnStats(487.3, 12.1, 490.0, 495.0, 470.2, 498.9, n=20, n_runs=1)
    assert str(stats) == "487.3 ± 12.1 (IQM 495.0, 95% CI [470.2, 498.9], n=20)"
    data = stats.to_dict()
    assert data["iqm"] == 495.0 and data["n"] == 20 and data["ci_statistic"] == "mean"


@pytest.mark.parametrize(
    ("returns", "message"),
    [
        ([], "empty"),
        (np.zeros((2, 0)), "empty"),
        ([1.0, float("nan"), 2.0], "non-finite"),
        ([1.0, float("inf")], "non-finite"),
        (np.zeros((2, 2, 2)), "1-D or 2-D"),
        ([[1.0, 2.0], [3.0]], "different lengths"),
        (["a", "b"], "non-numbers"),
    ],
)
def test_bad_returns_raise_clear_errors(returns: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        summarize(returns)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"confidence": 1.0}, "confidence must be in"),
        ({"confidence": 0.0}, "confidence must be in"),
        ({"ci_statistic": "max"}, "statistic must be one of"),
        ({"method": "basic"}, "method must be one of"),
        ({"resample": "episodes"}, "resample must be one of"),
        ({"n_resamples": 5}, "n_resamples must be"),
    ],
)
def test_bad_options_raise_clear_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        summarize([1.0, 2.0, 3.0], **kwargs)  # type: ignore[arg-type]


def test_bca_corrects_for_skew() -> None:
    skewed = np.random.default_rng(5).exponential(10.0, size=(3, 30))
    low_p, high_p = bootstrap_ci(skewed, method="percentile")
    low_b, high_b = bootstrap_ci(skewed, method="BCa")
    assert low_b > low_p and high_b > high_p  # right skew shifts the BCa interval up
