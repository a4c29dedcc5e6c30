"""The acceptance test of a pruning step: its returns against the reference's, paired by seed."""

from __future__ import annotations

import numpy as np

from prunerl.evaluation import ReturnStats, ToleranceCheck, summarize, within_tolerance
from prunerl.loop.config import LoopConfig


def return_stats(returns: np.ndarray, config: LoopConfig) -> ReturnStats:
    """Mean, IQM and the bootstrap CI of the loop's statistic."""
    return summarize(returns, ci_statistic=config.statistic, confidence=config.confidence)  # type: ignore[arg-type]


def gate(returns: np.ndarray, reference: np.ndarray, config: LoopConfig) -> ToleranceCheck:
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
        confidence=config.confidence,
    )
