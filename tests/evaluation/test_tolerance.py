"""The accept/roll-back test: is the candidate within a tolerance of the reference?"""

from __future__ import annotations

import numpy as np
import pytest

from prunerl.evaluation import allowed_drop, within_tolerance


def test_relative_threshold_by_hand() -> None:
    dense = [100.0, 100.0]
    assert within_tolerance([95.0, 95.0], dense, 0.05).passed  # threshold exactly 95
    check = within_tolerance([94.0, 94.0], dense, 0.05)
    assert not check and check.threshold == pytest.approx(95.0) and check.value == 94.0
    assert "below tolerance" in str(check)


def test_absolute_threshold_by_hand() -> None:
    assert within_tolerance([491.0], [500.0], 10.0, mode="absolute")
    assert not within_tolerance([489.0], [500.0], 10.0, mode="absolute")


def test_negative_returns_use_the_magnitude() -> None:
    # Pendulum-like: dense -200, 10% tolerance allows down to -220 (not up to -180).
    assert allowed_drop(-200.0, 0.1) == pytest.approx(20.0)
    assert within_tolerance([-215.0], -200.0, 0.1)
    assert not within_tolerance([-225.0], -200.0, 0.1)


def test_zero_tolerance_needs_no_drop() -> None:
    assert within_tolerance([10.0, 12.0], [11.0], 0.0)
    assert not within_tolerance([10.0, 11.8], [11.0], 0.0)


def test_lower_bound_is_stricter_than_point() -> None:
    rng = np.random.default_rng(0)
    noisy = 98.0 + rng.normal(0.0, 20.0, size=10)  # mean near 98, wide CI
    noisy += 98.0 - noisy.mean()
    assert within_tolerance(noisy, 100.0, 0.05).passed
    check = within_tolerance(noisy, 100.0, 0.05, evidence="lower_bound")
    assert not check.passed and check.value < 95.0
    precise = np.full(10, 98.0) + np.linspace(-0.5, 0.5, 10)
    assert within_tolerance(precise, 100.0, 0.05, evidence="lower_bound")


def test_non_inferiority_accounts_for_reference_noise() -> None:
    rng = np.random.default_rng(1)
    dense = 100.0 + rng.normal(0.0, 10.0, size=20)
    pruned = dense - 1.0  # same episodes, one point lower
    point = within_tolerance(pruned, dense, 0.05)
    paired = within_tolerance(pruned, dense, 0.05, evidence="non_inferiority", paired=True)
    assert point and paired
    assert paired.value == pytest.approx(dense.mean() - 1.0)  # constant difference: tight CI
    unpaired = within_tolerance(pruned, dense, 0.02, evidence="non_inferiority")
    assert not unpaired  # independent noise on both sides hides a 1-point drop within 2%


def test_check_is_reproducible_and_serialisable() -> None:
    values = np.random.default_rng(2).normal(50.0, 5.0, size=12)
    a = within_tolerance(values, 50.0, 0.1, evidence="lower_bound", seed=3)
    assert a == within_tolerance(values, 50.0, 0.1, evidence="lower_bound", seed=3)
    assert a.to_dict()["evidence"] == "lower_bound"


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (([1.0], [1.0], -0.1), {}, "tolerance must be a finite number >= 0"),
        (([1.0], [1.0], float("nan")), {}, "tolerance must be a finite number >= 0"),
        (([1.0], [1.0], 0.1), {"mode": "percent"}, "mode must be one of"),
        (([1.0], [1.0], 0.1), {"evidence": "vibes"}, "evidence must be one of"),
        (([1.0, 2.0], 1.0, 0.1), {"evidence": "non_inferiority"}, "at least 2 candidate"),
        (([1.0], [1.0, 2.0], 0.1), {"evidence": "lower_bound"}, "at least 2 returns"),
        (([], [1.0], 0.1), {}, "candidate is empty"),
        (([1.0], [float("nan")], 0.1), {}, "reference contains"),
    ],
)
def test_bad_input(args: tuple[object, ...], kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        within_tolerance(*args, **kwargs)  # type: ignore[arg-type]
