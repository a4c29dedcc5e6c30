"""Paired drops: CIs over the same episodes, verdicts against the allowed drop, more episodes
only while unclear, and the step-wise judge that never spends a gain on a needed item."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from prunerl.spaces.decision import eliminate, elimination_order, stepwise_judge
from prunerl.spaces.paired import PairedEvidence, paired_drop
from prunerl.spaces.rollout import Episodes

Returns = Callable[[np.ndarray], np.ndarray]


class FakeRunner:
    """Plays a "policy" that is a function of episode numbers to returns; counts episodes."""

    def __init__(self, episodes: int = 10) -> None:
        self.episodes = episodes
        self.played = 0

    def run(
        self, policy: Returns, transform: object = None, episodes: range = range(0)
    ) -> Episodes:
        self.played += len(episodes)
        return Episodes(np.asarray(policy(np.asarray(episodes)), dtype=np.float64))


def base(e: np.ndarray) -> np.ndarray:
    return 100.0 + 10.0 * np.sin(e)  # returns differ from episode to episode


def evidence(runner: FakeRunner, allowed: float | None = 2.0, cap: int = 160) -> PairedEvidence:
    return PairedEvidence(runner, base, base(np.arange(10)), allowed, cap)  # type: ignore[arg-type]


def test_paired_drop_cancels_episode_noise_and_judges() -> None:
    b = base(np.arange(10))
    same = paired_drop(b, b.copy(), allowed=1.0)
    assert (same.mean, same.low, same.high, same.verdict) == (0.0, 0.0, 0.0, "negligible")
    harmful = paired_drop(b, b - 5.0 + 0.1 * np.cos(np.arange(10)), allowed=1.0)
    assert harmful.low > 1.0 and harmful.verdict == "needed"
    borderline = paired_drop(b, b - 1.0 + 2.0 * (-1.0) ** np.arange(10), allowed=1.0)
    assert borderline.low < 1.0 < borderline.high and borderline.verdict == "unclear"
    assert paired_drop(b, b).verdict == ""  # no allowed drop: no verdict
    assert np.isnan(paired_drop(b[:1], b[:1]).low)


def test_unclear_drops_get_more_episodes_until_clear() -> None:
    runner = FakeRunner()
    ev = evidence(runner)
    noisy: Returns = lambda e: base(e) - 1.0 - 3.0 * (-1.0) ** e  # noqa: E731  mean drop 1, sd 3
    drop = ev.measure(lambda eps: runner.run(noisy, episodes=eps).returns)
    assert drop.verdict == "negligible" and drop.episodes > 10 and drop.high <= 2.0
    assert drop.episodes in (20, 40, 80, 160)
    # every episode of each version was played once: baseline and change, to drop.episodes
    assert runner.played == 2 * drop.episodes - 10  # the first 10 baseline ones were given
    edge: Returns = lambda e: base(e) - 2.0 - 3.0 * (-1.0) ** e  # noqa: E731  mean drop = allowed
    stuck = ev.measure(lambda eps: runner.run(edge, episodes=eps).returns)
    assert stuck.verdict == "unclear" and stuck.episodes == 160


def test_a_large_apparent_gain_is_confirmed_on_more_episodes() -> None:
    """A gain whose CI still reaches -allowed is not settled (on few episodes it is mostly a
    re-roll of unlucky baseline episodes): more episodes, until the CI clears -allowed."""
    runner = FakeRunner()
    ev = evidence(runner)
    gain: Returns = lambda e: base(e) + 5.0 + 10.0 * (-1.0) ** e  # noqa: E731  mean gain 5
    drop = ev.measure(lambda eps: runner.run(gain, episodes=eps).returns)
    assert drop.verdict == "negligible" and drop.high < -2.0 and drop.episodes > 10
    steady: Returns = lambda e: base(e) + 5.0  # noqa: E731  no noise: settled at once
    assert ev.measure(lambda eps: runner.run(steady, episodes=eps).returns).episodes == 10


def test_without_an_allowed_drop_nothing_is_extended() -> None:
    runner = FakeRunner()
    drop = evidence(runner, allowed=None).measure(
        lambda eps: runner.run(lambda e: base(e) - 3.0 * (-1.0) ** e, episodes=eps).returns
    )
    assert drop.episodes == 10 and drop.verdict == "" and runner.played == 10


def test_bad_settings_name_the_fix() -> None:
    with pytest.raises(ValueError, match=r"max_episodes \(5\) must be >= episodes \(10\)"):
        evidence(FakeRunner(), cap=5)
    with pytest.raises(ValueError, match="at least 2 episodes"):
        evidence(FakeRunner(episodes=1))
    with pytest.raises(ValueError, match="confidence must be in"):
        PairedEvidence(FakeRunner(), base, base(np.arange(10)), 1.0, 10, confidence=1.0)  # type: ignore[arg-type]


@pytest.mark.parametrize("stepwise", [True, False])
def test_a_gain_is_never_spent_on_a_needed_item(stepwise: bool) -> None:
    """Removing item 0 (harmful noise) gains 5; removing item 1 then costs 3 > the allowed 2,
    yet stays within 2 of the baseline: only the step-wise test keeps item 1."""
    runner = FakeRunner()
    ev = evidence(runner)
    effect = {0: +5.0, 1: -3.0, 2: -50.0}

    def play_of(keep: np.ndarray) -> Callable[[range], np.ndarray]:
        gain = sum(v for i, v in effect.items() if i not in keep.tolist())
        return lambda eps: runner.run(lambda e: base(e) + gain, episodes=eps).returns

    judge = stepwise_judge(ev, play_of, 3)
    if not stepwise:  # the baseline test alone
        judge = lambda cand, cur: ev.measure(play_of(cand))  # noqa: E731
    order, bulk = elimination_order(np.array([0.0, 0.1, 9.0]))
    keep, trials = eliminate(3, order, bulk, judge)
    assert keep.tolist() == ([1, 2] if stepwise else [2])
    if stepwise:
        assert trials[1].items == [1] and trials[1].against == "previous step"
        assert trials[1].drop == pytest.approx(3.0) and trials[1].verdict == "needed"
