"""The sequential paired gate, its rotating windows, held-out verification and divergence."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from loop.fake import HOLDOUT, FakeSubject
from prunerl.loop import GatedPruner, LoopConfig
from prunerl.loop.gate import look_sizes, sequential_gate


def config(**changes: Any) -> LoopConfig:
    base: dict[str, Any] = {"target": 0.9, "eval_episodes": 20, "finetune_steps": 100}
    return LoopConfig(**{**base, **changes})


def bimodal(fail_every: int) -> Any:
    """An evaluator whose every ``fail_every``-th seed is a short failure (150), else 500."""

    def evaluate(n: int, seed: int) -> np.ndarray:
        seeds = np.arange(seed, seed + n)
        return np.where(seeds % fail_every == 0, 150.0, 500.0) if fail_every else np.full(n, 500.0)

    return evaluate


def test_look_sizes_double_up_to_the_pool() -> None:
    assert look_sizes(config()) == [20, 40, 80]
    assert look_sizes(config(max_eval_episodes=50)) == [20, 40, 50]
    assert look_sizes(config(max_eval_episodes=20)) == [20]
    assert look_sizes(config(evidence="point")) == [20]


def test_a_rare_failure_gets_more_episodes_and_is_accepted() -> None:
    """One failure in 20 leaves the CI of the mean over the 5% threshold unclear: the gate
    looks again and, with one failure in 80 (mean drop 4.4 < 25), accepts."""
    reference = np.full(80, 500.0)
    result = sequential_gate(bimodal(80), reference, 0, config())
    assert result.accepted and result.looks == 3 and result.episodes == 80
    single = sequential_gate(bimodal(80), reference, 0, config(max_eval_episodes=20))
    assert not single.accepted  # what the old fixed 20-episode gate decided


def test_a_broken_policy_is_rejected_at_the_first_look() -> None:
    reference = np.full(80, 500.0)
    result = sequential_gate(bimodal(2), reference, 0, config())
    assert not result.accepted and result.check.clearly_below and result.looks == 1


def test_a_policy_that_fails_often_enough_is_rejected() -> None:
    """Failures in 1 of 8 episodes (a mean drop of 44 > 25) never pass, however many looks."""
    reference = np.full(80, 500.0)
    result = sequential_gate(bimodal(8), reference, 0, config())
    assert not result.accepted


def test_windows_rotate_over_the_pool_and_wrap() -> None:
    seen: list[tuple[int, int]] = []

    def evaluate(n: int, seed: int) -> np.ndarray:
        seen.append((n, seed))
        return np.full(n, 500.0)

    sequential_gate(evaluate, np.full(80, 500.0), 70, config(evidence="point"))
    assert seen == [(10, 10_070), (10, 10_000)]  # positions 70..79, then 0..9


def test_gates_start_at_different_places_in_the_pool() -> None:
    subject = FakeSubject(target=0.9)
    GatedPruner(subject, config(step=0.5)).run()
    starts = [seed for n, seed in subject.evaluated if seed < HOLDOUT][1:]  # after the reference
    assert len(set(starts)) == len(starts) >= 3


def test_the_final_policy_is_verified_on_held_out_episodes() -> None:
    subject = FakeSubject(target=0.9)
    result = GatedPruner(subject, config(step=0.5)).run()
    assert result.status == "verified" and result.succeeded
    check = result.verification
    assert check is not None and check.first_seed == HOLDOUT and check.episodes == 50
    assert result.history[-1].action == "verify"
    held_out = [seed for _, seed in subject.evaluated if seed >= HOLDOUT]
    assert held_out == [HOLDOUT, HOLDOUT]  # the reference at the start, the result at the end


def test_a_policy_that_fails_held_out_falls_back_to_one_that_holds() -> None:
    """The gate accepts up to 90% on its episodes, but held-out episodes break above 60%:
    the loop hands back the most compressed accepted point that holds there, and says so."""
    subject = FakeSubject(target=0.9, holdout_limit=0.6)
    result = GatedPruner(subject, config(step=0.5)).run()
    assert result.stop_reason == "target_reached" and not result.succeeded
    assert result.status == "fell_back"
    check = result.verification
    assert check is not None
    assert [t["passed"] for t in check.tried] == [False, False, False, True]
    assert [t["sparsity"] for t in check.tried] == pytest.approx([0.9, 0.875, 0.75, 0.5])
    assert subject.sparsity() == pytest.approx(0.5) == result.sparsity
    assert "fell back" in str(check) and check.mean >= check.threshold


def test_a_fine_tuning_that_diverges_is_a_rejected_step() -> None:
    subject = FakeSubject(target=0.9, limit=0.6, train_diverges_at=1)
    result = GatedPruner(subject, config(step=0.5)).run()
    rollbacks = [r for r in result.history if r.action == "rollback"]
    assert "recovery diverged" in rollbacks[0].reason and "NaN" in rollbacks[0].reason
    assert result.stop_reason == "min_step" and result.status == "verified"


def test_distillation_runs_after_every_prune() -> None:
    subject = FakeSubject(target=0.9)
    result = GatedPruner(subject, config(step=0.5, distill_steps=7)).run()
    prunes = [r for r in result.history if r.action in ("accept", "rollback")]
    assert subject.recovering and subject.distilled == 7 * len(prunes)


def test_distillation_that_recovers_saves_the_rl_fine_tuning() -> None:
    subject = FakeSubject(target=0.9, limit=0.6)
    subject.skill_per_distill_step = 0.001
    result = GatedPruner(subject, config(step=0.5, distill_steps=200)).run()
    assert result.stop_reason == "target_reached" and result.env_steps == 0
