"""The acceptance test of a pruning step: paired with the reference, sequential, on rotating seeds.

The reference (dense) policy is evaluated once on a pool of ``max_eval_episodes`` episode seeds.
A candidate is evaluated on a window of that pool (each gate starts where the last one did not,
so no decision is fitted to a fixed handful of episodes), and compared episode by episode with
the reference on the same seeds. While the evidence is unclear (the CI of the difference holds
the threshold) the gate looks again with twice the episodes, up to the whole pool; it accepts
once the CI's lower end clears the threshold and rejects once even its upper end misses it, or
when the pool is spent without a clear answer. Bimodal returns (CartPole: 500 or a short
failure) make one failed episode in 20 look alarming; 40 or 80 episodes tell a rare failure
from a broken policy. The per-look confidence is Bonferroni-corrected for the number of looks.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from prunerl.evaluation import ReturnStats, ToleranceCheck, summarize, within_tolerance
from prunerl.loop.config import LoopConfig

#: evaluate(episodes, first_seed) -> returns of episodes with seeds first_seed + i
Evaluate = Callable[[int, int], np.ndarray]


def return_stats(returns: np.ndarray | None, config: LoopConfig) -> ReturnStats:
    """Mean, IQM and the bootstrap CI of the loop's statistic (all NaN for no returns)."""
    if returns is None:
        nan = math.nan
        return ReturnStats(nan, nan, nan, nan, nan, nan, 0, 0, config.confidence, config.statistic)
    return summarize(returns, ci_statistic=config.statistic, confidence=config.confidence)  # type: ignore[arg-type]


def look_sizes(config: LoopConfig) -> list[int]:
    """Episodes at each look: eval_episodes, doubling, ending at max_eval_episodes ("point"
    evidence has no uncertainty to resolve: one look)."""
    first, cap = config.eval_episodes, config.max_eval_episodes
    if config.evidence == "point":
        return [first]
    sizes = [first]
    while sizes[-1] < cap:
        sizes.append(min(2 * sizes[-1], cap))
    return sizes


def gate(
    returns: np.ndarray, reference: np.ndarray, config: LoopConfig, confidence: float | None = None
) -> ToleranceCheck:
    """Does a candidate stay within the tolerance of the reference (truthy when it does)?

    Both were evaluated on the same episode seeds, so the comparison is paired: with
    ``evidence="non_inferiority"`` the lower CI bound of the per-episode differences must stay
    above ``-drop``, a non-inferiority test that accounts for evaluation noise.
    """
    return within_tolerance(
        returns,
        reference,
        config.tolerance,
        mode=config.mode,  # type: ignore[arg-type]
        statistic=config.statistic,  # type: ignore[arg-type]
        evidence=config.evidence,  # type: ignore[arg-type]
        paired=True,
        confidence=config.confidence if confidence is None else confidence,
    )


@dataclass(frozen=True)
class GateResult:
    """A gate's verdict with the evidence of its last look."""

    check: ToleranceCheck
    returns: np.ndarray  # the candidate's returns over the episodes the gate used
    first_seed_index: int  # where in the pool its window started
    looks: int

    @property
    def accepted(self) -> bool:
        return self.check.passed

    @property
    def episodes(self) -> int:
        return int(self.returns.shape[-1])

    def reason(self) -> str:
        """The check in words, and why a rejection was final."""
        if self.check.passed or self.check.clearly_below:
            return f"{self.check} on {self.episodes} episodes"
        return f"{self.check}; still unclear after {self.episodes} episodes (all the pool)"


def evaluate_window(
    evaluate: Evaluate, first_seed: int, pool: int, start: int, begin: int, end: int
) -> np.ndarray:
    """Returns of window positions [begin, end) of a pool window starting at ``start``: seeds
    ``first_seed + (start + i) % pool``, fetched as at most two contiguous runs."""
    parts, i = [], begin
    while i < end:
        index = (start + i) % pool
        run = min(end - i, pool - index)
        parts.append(evaluate(run, first_seed + index))
        i += run
    return np.concatenate(parts, axis=-1)


def sequential_gate(
    evaluate: Evaluate, reference: np.ndarray, start: int, config: LoopConfig
) -> GateResult:
    """Evaluate a candidate on a window of the reference's episode pool, looking again with
    twice the episodes while the paired test is unclear (see the module docstring)."""
    pool = reference.shape[-1]
    sizes = look_sizes(config)
    level = 1.0 - (1.0 - config.confidence) / len(sizes)
    order = (start + np.arange(pool)) % pool
    parts: list[np.ndarray] = []
    have, looks = 0, 0
    check: ToleranceCheck | None = None
    for n in sizes:
        parts.append(evaluate_window(evaluate, config.eval_seed, pool, start, have, n))
        have, looks = n, looks + 1
        check = gate(np.concatenate(parts, axis=-1), reference[..., order[:n]], config, level)
        if check.passed or check.clearly_below:
            break
    assert check is not None
    return GateResult(check, np.concatenate(parts, axis=-1), start, looks)
