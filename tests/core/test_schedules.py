"""Schedules equal their formulas; update points fire exactly once, even for strided steps."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from prunerl import Pruner
from prunerl.core.schedules import Constant, Iterative, OneShot, Polynomial

from .nets import mlp

fast = settings(max_examples=60, deadline=None)


@st.composite
def polynomials(draw: st.DrawFn) -> tuple[Polynomial, float, float, int, int, int]:
    s_f = draw(st.floats(0.0, 0.99))
    s_i = draw(st.floats(0.0, s_f))
    t0 = draw(st.integers(0, 500))
    t1 = t0 + draw(st.integers(1, 2000))
    every = draw(st.integers(1, 700))
    return Polynomial(s_f, t0, t1, every, s_i), s_i, s_f, t0, t1, every


@fast
@given(polynomials(), st.integers(0, 3000))
def test_polynomial_equals_zhu_gupta(sched, t):
    schedule, s_i, s_f, t0, t1, _ = sched
    if t < t0:
        expected = 0.0
    elif t >= t1:
        expected = s_f
    else:
        expected = s_f + (s_i - s_f) * (1 - (t - t0) / (t1 - t0)) ** 3
    assert schedule.sparsity_at(t) == pytest.approx(expected, abs=1e-12)


@fast
@given(polynomials())
def test_polynomial_updates_every_delta_t_from_t0_to_t1(sched):
    schedule, _, _, t0, t1, every = sched
    expected = list(range(t0, t1 + 1, every))
    if expected[-1] != t1:
        expected.append(t1)  # the final sparsity is always reached at t1
    assert schedule.update_points() == expected


@fast
@given(polynomials(), st.integers(1, 900), st.integers(0, 50))
@example((Polynomial(0.5, 0, 1, 1, 0.0), 0.0, 0.5, 0, 1, 1), 24, 49)  # start past t1
def test_strided_step_calls_lose_no_update(sched, stride, start):
    """A caller advancing by ``stride`` gets one update per stride that passes a point."""
    schedule, _, s_f, t0, t1, every = sched
    pruner = Pruner(
        mlp(),
        method="gmp",
        sparsity=s_f,
        begin_step=t0,
        end_step=t1,
        update_every=every,
        initial_sparsity=schedule.initial_sparsity,
    )
    points = schedule.update_points()
    prev, fired = -1, 0
    # Start may lie past t1: the first call then passes every point and must fire once.
    for step in range(start, max(start, t1) + 2 * stride, stride):
        before = pruner.num_updates
        pruner.step(step)
        due = any(prev < p <= step for p in points)
        assert pruner.num_updates - before == int(due)
        fired += int(due)
        prev = step
    assert fired == pruner.num_updates
    assert pruner.target_sparsity() == pytest.approx(s_f)
    for name, layer in pruner.layer_sparsity().items():
        n = pruner.masks[name].numel()
        assert abs(layer - s_f) * n <= 0.5 + 1e-6


def test_gmp_pruner_follows_the_schedule_at_every_update():
    pruner = Pruner(mlp((4, 64, 64, 2)), method="gmp", sparsity=0.9, end_step=100, update_every=10)
    schedule = pruner.schedules[0]
    for step in range(0, 130):
        if pruner.step(step) or step in schedule.update_points():
            total = sum(t.numel for t in pruner.targets)
            assert pruner.sparsity() == pytest.approx(schedule.sparsity_at(step), abs=3 / total)
    assert pruner.num_updates == 11
    assert pruner.sparsity() == pytest.approx(0.9, abs=1e-3)


@fast
@given(st.floats(0.0, 0.99), st.integers(0, 100), st.integers(1, 10), st.integers(0, 500))
def test_iterative_rounds_remove_the_same_fraction_of_survivors(s, t0, k, extra):
    t1 = t0 + k + extra
    schedule = Iterative(s, t0, t1, rounds=k)
    points = schedule.update_points()
    assert len(points) == k and points == sorted(set(points))
    assert points[-1] == t1 and points[0] > t0  # nothing pruned while weights are untrained
    assert points == [t0 + round(i * (t1 - t0) / k) for i in range(1, k + 1)]
    assert schedule.sparsity_at(points[0] - 1) == 0.0
    for i, (p, following) in enumerate(zip(points, [*points[1:], t1 + 99], strict=True), 1):
        assert schedule.sparsity_at(p) == pytest.approx(1 - (1 - s) ** (i / k))
        assert schedule.sparsity_at(following - 1) == schedule.sparsity_at(p)  # flat in between


def test_iterative_pruner_keeps_a_constant_fraction_per_round():
    pruner = Pruner(
        mlp((4, 100, 100, 2)),
        method="magnitude",
        schedule="iterative",
        sparsity=0.9,
        end_step=50,
        rounds=5,
    )
    kept = []
    for step in range(60):
        if pruner.step(step):
            kept.append(sum(t.nonzero for t in pruner.targets))
    total = sum(t.numel for t in pruner.targets)
    ratios = [b / a for a, b in zip([total, *kept[:-1]], kept, strict=True)]
    assert len(kept) == 5
    assert ratios == pytest.approx([0.1 ** (1 / 5)] * 5, abs=0.01)


def test_one_shot_prunes_once_at_its_step():
    schedule = OneShot(0.7, begin_step=30)
    assert schedule.update_points() == [30]
    assert schedule.sparsity_at(29) == 0.0
    assert schedule.sparsity_at(30) == schedule.sparsity_at(10**6) == 0.7
    pruner = Pruner(mlp(), method="magnitude", sparsity=0.7, begin_step=30)
    fired = [step for step in range(100) if pruner.step(step)]
    assert fired == [30] and pruner.num_updates == 1
    assert pruner.sparsity() == pytest.approx(0.7, abs=2e-3)


def test_constant_holds_sparsity_and_updates_every_delta_t():
    schedule = Constant(0.8, begin_step=10, end_step=55, update_every=15)
    assert schedule.update_points() == [10, 25, 40, 55]
    assert {schedule.sparsity_at(t) for t in (0, 10, 33, 55, 10**6)} == {0.8}
