from __future__ import annotations

import numpy as np
import pytest

from prunerl.spaces.decision import eliminate_within_floor, keep_above, keep_top_k, return_floor


def test_top_k_and_threshold() -> None:
    scores = np.array([0.1, 5.0, 2.0, 5.0, 0.0])
    assert keep_top_k(scores, 2).tolist() == [1, 3]
    assert keep_top_k(scores, 3).tolist() == [1, 2, 3]
    assert keep_above(scores, 0.3).tolist() == [1, 2, 3]
    with pytest.raises(ValueError, match=r"k must be in 1\.\.5"):
        keep_top_k(scores, 6)
    with pytest.raises(ValueError, match="threshold must be in"):
        keep_above(scores, 1.5)
    with pytest.raises(ValueError, match="every score is <= 0"):
        keep_above(np.zeros(3), 0.5)


def test_backward_elimination_keeps_what_the_return_needs() -> None:
    needed = {1, 3}

    def evaluate(keep: np.ndarray) -> float:
        return 500.0 if needed <= set(keep.tolist()) else 100.0

    scores = np.array([0.0, 9.0, 0.5, 0.4, 3.0])
    keep, trials = eliminate_within_floor(scores, evaluate, 475.0, bulk_fraction=None)
    assert keep.tolist() == [1, 3]
    assert [t.items for t in trials] == [[0], [3], [2], [4], [1]]
    assert [t.accepted for t in trials] == [True, False, True, True, False]


def test_low_scores_are_tried_together_first() -> None:
    calls = []

    def evaluate(keep: np.ndarray) -> float:
        calls.append(keep.tolist())
        return 500.0 if 3 in keep else 0.0

    scores = np.array([0.0, 0.5, 0.001, 10.0, 2.0])
    keep, trials = eliminate_within_floor(scores, evaluate, 475.0, bulk_fraction=0.01)
    assert trials[0].items == [0, 2] and trials[0].accepted
    assert keep.tolist() == [3] and calls[0] == [1, 3, 4]
    assert len(calls) == 3  # bulk, then 1 and 4 one at a time; 3 stays as the last one
    keep, trials = eliminate_within_floor(scores, lambda k: 0.0, 475.0)
    assert keep.tolist() == [0, 1, 2, 3, 4] and trials[0].items == [0, 2]


def test_elimination_stops_at_min_keep() -> None:
    keep, trials = eliminate_within_floor(np.arange(4.0), lambda k: 1.0, 0.0, min_keep=2)
    assert keep.tolist() == [2, 3] and len(trials) == 2


def test_return_floor() -> None:
    assert return_floor(500.0, 0.05) == 475.0
    assert return_floor(-200.0, 0.1) == -220.0
    with pytest.raises(ValueError, match=r"tolerance must be in \[0, 1\)"):
        return_floor(1.0, 1.0)
