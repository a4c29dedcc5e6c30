"""Paired, sequential evidence on return drops: is a change (a shuffled or removed feature, a
removed action) clearly harmless, clearly harmful, or not yet clear?

Every change is played on the same numbered episodes as the baseline (common random numbers,
:mod:`prunerl.spaces.rollout`), so the per-episode differences ``baseline - changed`` carry no
episode-to-episode noise: a change the policy cannot see gives exactly 0 on every episode. Their
mean gets a bootstrap CI (:func:`prunerl.evaluation.bootstrap_ci`); a change is *negligible*
when the CI's upper end is within the allowed drop, *needed* when its lower end is beyond it,
and *unclear* otherwise. More episodes are played (doubling, up to a cap) while the CI still
holds the allowed drop or its negative: a large apparent *gain* on few episodes is usually a
chaotic env re-rolling episodes that the shared baseline sample played unluckily, and every
change compared with that sample would look harmless at once, so it is confirmed first.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import numpy as np

from prunerl.evaluation import bootstrap_ci
from prunerl.spaces.policy import Policy
from prunerl.spaces.rollout import EpisodeRunner, Transform

NEGLIGIBLE, NEEDED, UNCLEAR = "negligible", "needed", "unclear"


@dataclass(frozen=True)
class Drop:
    """Mean of ``baseline - changed`` over ``episodes`` paired episodes, with its CI.

    ``verdict`` compares the CI with the allowed drop (empty when none was given); ``low`` and
    ``high`` are NaN for a single episode.
    """

    mean: float
    low: float
    high: float
    episodes: int
    changed: float  # mean return with the change, on the same episodes
    verdict: str = ""
    against: str = "baseline"  # what the change was compared with


def finite_or_none(x: float) -> float | None:
    """``x``, or None where it is NaN or infinite (JSON has no NaN)."""
    return float(x) if math.isfinite(x) else None


def paired_drop(
    baseline: np.ndarray,
    changed: np.ndarray,
    allowed: float | None = None,
    confidence: float = 0.95,
) -> Drop:
    """The drop of ``changed`` below ``baseline`` (returns of the same episodes), judged."""
    diffs = np.asarray(baseline, dtype=np.float64) - np.asarray(changed, dtype=np.float64)
    if len(diffs) >= 2:
        low, high = bootstrap_ci(diffs, "mean", confidence=confidence, seed=0)
    else:
        low = high = math.nan
    verdict = ""
    if allowed is not None:
        verdict = NEGLIGIBLE if high <= allowed else NEEDED if low > allowed else UNCLEAR
    mean = float(diffs.mean())
    return Drop(mean, low, high, len(diffs), float(np.mean(changed)), verdict)


Play = Callable[[range], np.ndarray]
"""Episode numbers -> returns of those episodes, for one version of the policy."""

BASELINE = "baseline"


class PairedEvidence:
    """Returns of versions of a policy on episodes ``0..n`` (each episode played once per
    version, more on demand), and sequential paired tests between versions.

    ``allowed`` is the largest acceptable mean drop; without it every change is played on
    ``runner.episodes`` episodes only. Otherwise a change gets twice the episodes while its CI
    holds ``allowed`` or ``-allowed`` (:meth:`settled`), until ``max_episodes`` were played;
    the verdict is then taken as it stands (still unclear: the caller keeps the item).
    Versions are named by a key, the unchanged policy by :data:`BASELINE`.
    """

    def __init__(
        self,
        runner: EpisodeRunner,
        policy: Policy,
        baseline: np.ndarray,
        allowed: float | None = None,
        max_episodes: int | None = None,
        confidence: float = 0.95,
    ) -> None:
        start = runner.episodes
        cap = start if max_episodes is None else max_episodes
        if cap < start:
            raise ValueError(
                f"max_episodes ({cap}) must be >= episodes ({start}); raise max_episodes or "
                "lower episodes"
            )
        if not 0.5 <= confidence < 1.0:
            raise ValueError(f"confidence must be in [0.5, 1), got {confidence}; e.g. 0.95")
        if allowed is not None and start < 2:
            raise ValueError(
                f"a confidence interval needs at least 2 episodes, got episodes={start}; "
                "pass episodes >= 2"
            )
        self.runner, self.policy = runner, policy
        self.allowed, self.cap, self.confidence = allowed, cap, confidence
        self._plays: dict[Hashable, Play] = {BASELINE: self.play(None)}
        self._returns: dict[Hashable, np.ndarray] = {
            BASELINE: np.asarray(baseline, dtype=np.float64)
        }

    def play(self, transform: Transform | None, policy: Policy | None = None) -> Play:
        """The version where ``policy`` (default: the baseline one) sees ``transform``-ed
        observations."""
        pol = policy or self.policy
        return lambda episodes: self.runner.run(pol, transform, episodes=episodes).returns

    def add(self, key: Hashable, play: Play) -> None:
        """Name version ``play`` ``key`` (no-op when ``key`` is already known)."""
        self._plays.setdefault(key, play)

    def returns(self, key: Hashable, n: int) -> np.ndarray:
        """Returns of version ``key`` on episodes ``0..n-1`` (plays the ones not played yet)."""
        have = self._returns.get(key, np.zeros(0))
        if n > len(have):
            more = np.asarray(self._plays[key](range(len(have), n)), dtype=np.float64)
            have = self._returns[key] = np.concatenate([have, more])
        return have[:n]

    def replays(self) -> bool:
        """Whether replaying the first episodes gives exactly the same returns (if not, the env
        draws random numbers the runner cannot reseed, and no-op changes will not score 0)."""
        again = self._plays[BASELINE](range(self.runner.episodes))
        return bool(np.array_equal(again, self.returns(BASELINE, self.runner.episodes)))

    def measure(
        self, play: Play, key: Hashable | None = None, against: Hashable = BASELINE
    ) -> Drop:
        """Drop of version ``play`` below version ``against``, with more episodes while unclear;
        under a ``key`` its returns are kept, to be compared against later."""
        name = object() if key is None else key
        self.add(name, play)
        n = self.runner.episodes
        drop = paired_drop(
            self.returns(against, n), self.returns(name, n), self.allowed, self.confidence
        )
        while not self.settled(drop) and n < self.cap:
            n = min(2 * n, self.cap)
            drop = paired_drop(
                self.returns(against, n), self.returns(name, n), self.allowed, self.confidence
            )
        if key is None:
            self.forget(name)
        return drop

    def settled(self, drop: Drop) -> bool:
        """Whether the CI is decisive: it holds neither ``allowed`` (harm unclear) nor
        ``-allowed`` (an apparent gain that few episodes cannot tell from luck)."""
        if self.allowed is None:
            return True
        a = self.allowed
        return not (drop.low <= a < drop.high or drop.low < -a <= drop.high)

    def measure_transform(self, transform: Transform | None, policy: Policy | None = None) -> Drop:
        """Drop below the baseline when ``policy`` (default: the baseline one) sees
        ``transform``-ed observations; nothing is kept."""
        return self.measure(self.play(transform, policy))

    def forget(self, key: Hashable) -> None:
        """Drop the kept returns of version ``key``."""
        self._plays.pop(key, None)
        self._returns.pop(key, None)
