from __future__ import annotations

import numpy as np
import pytest

from prunerl.spaces.decision import (
    Judge,
    allowed_drop,
    decide,
    eliminate,
    elimination_order,
    keep_above,
    keep_top_k,
)
from prunerl.spaces.paired import Drop


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


def verdict_judge(needed: set[int], calls: list[list[int]] | None = None) -> Judge:
    """A judge that finds a removal negligible unless it removes an item of ``needed``."""

    def judge(keep: np.ndarray, current: np.ndarray) -> Drop:
        if calls is not None:
            calls.append(keep.tolist())
        ok = needed <= set(keep.tolist())
        return Drop(
            0.0 if ok else 400.0,
            0.0,
            0.0,
            10,
            500.0 if ok else 100.0,
            "negligible" if ok else "needed",
        )

    return judge


def eliminate_all(scores: np.ndarray, judge: Judge, **kwargs: object) -> tuple[np.ndarray, list]:
    order, bulk = elimination_order(scores, **kwargs)  # type: ignore[arg-type]
    return eliminate(len(scores), order, bulk, judge)


def test_backward_elimination_keeps_what_the_return_needs() -> None:
    scores = np.array([0.0, 9.0, 0.5, 0.4, 3.0])
    keep, trials = eliminate_all(scores, verdict_judge({1, 3}), bulk_fraction=None)
    assert keep.tolist() == [1, 3]
    assert [t.items for t in trials] == [[0], [3], [2], [4], [1]]
    assert [t.accepted for t in trials] == [True, False, True, True, False]
    assert [t.verdict for t in trials][:2] == ["negligible", "needed"]


def test_unclear_removals_are_undone() -> None:
    def judge(keep: np.ndarray, current: np.ndarray) -> Drop:
        unclear = 2 not in keep  # removing item 2 cannot be told apart from noise
        return Drop(
            3.0 if unclear else 0.0, -5.0, 11.0, 160, 497.0, "unclear" if unclear else "negligible"
        )

    keep, trials = eliminate_all(np.array([0.0, 5.0, 0.1]), judge, bulk_fraction=None)
    assert keep.tolist() == [2]  # kept because removing it stayed unclear
    assert [(t.items, t.accepted) for t in trials] == [([0], True), ([2], False), ([1], True)]
    assert trials[1].low == -5.0 and trials[1].high == 11.0 and trials[1].episodes == 160


def test_low_scores_are_tried_together_first() -> None:
    calls: list[list[int]] = []
    scores = np.array([0.0, 0.5, 0.001, 10.0, 2.0])
    keep, trials = eliminate_all(scores, verdict_judge({3}, calls), bulk_fraction=0.01)
    assert trials[0].items == [0, 2] and trials[0].accepted
    assert keep.tolist() == [3] and calls[0] == [1, 3, 4]
    assert len(calls) == 3  # bulk, then 1 and 4 one at a time; 3 stays as the last one
    keep, trials = eliminate_all(scores, verdict_judge({0, 1, 2, 3, 4}))
    assert keep.tolist() == [0, 1, 2, 3, 4] and trials[0].items == [0, 2]


def test_candidates_alone_are_tried_all_together_first() -> None:
    calls: list[list[int]] = []
    scores = np.array([0.3, 9.0, 0.2, 7.0, 0.1])
    order, bulk = elimination_order(scores, candidates=np.array([0, 4]))
    assert order.tolist() == [4, 0] and bulk.tolist() == [4, 0]
    keep, trials = eliminate(5, order, bulk, verdict_judge(set(), calls))
    assert keep.tolist() == [1, 2, 3] and len(trials) == 1  # 2 was not a candidate: kept
    keep, trials = decide(scores, verdict_judge({0}), candidates=np.array([0, 4]))
    assert keep.tolist() == [0, 1, 2, 3] and [t.items for t in trials] == [[4, 0], [4], [0]]


def test_elimination_stops_at_min_keep() -> None:
    order = np.arange(4)
    keep, trials = eliminate(4, order, order[:0], verdict_judge(set()), min_keep=2)
    assert keep.tolist() == [2, 3] and len(trials) == 2


def test_allowed_drop() -> None:
    assert allowed_drop(500.0, 0.05) == 25.0
    assert allowed_drop(-200.0, 0.1) == 20.0
    with pytest.raises(ValueError, match=r"tolerance must be in \[0, 1\)"):
        allowed_drop(1.0, 1.0)
