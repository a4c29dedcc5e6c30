"""The gated loop's state machine on a fake subject with known behaviour (fast, exact)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from loop.fake import FakeSubject
from prunerl.loop import GatedPruner, History, LoopConfig, StepRecord


def config(**changes: Any) -> LoopConfig:
    base: dict[str, Any] = {"target": 0.9, "eval_episodes": 6, "finetune_steps": 100}
    return LoopConfig(**{**base, **changes})


def run(subject: FakeSubject, **changes: Any) -> tuple[GatedPruner, Any]:
    loop = GatedPruner(subject, config(**changes))
    return loop, loop.run()


def attempts(result: Any) -> list[StepRecord]:
    """The records of prune attempts (accepted or rolled back)."""
    return [r for r in result.history if r.action in ("accept", "rollback")]


def test_accepts_every_step_until_the_target() -> None:
    subject = FakeSubject(target=0.9)
    _, result = run(subject, step=0.5)
    prunes = attempts(result)
    # each step removes half of the remaining weights, the last one is capped at the target
    assert [round(r.sparsity, 4) for r in prunes] == [0.5, 0.75, 0.875, 0.9]
    assert all(r.accepted for r in prunes)
    assert result.stop_reason == "target_reached" and result.succeeded
    assert result.sparsity == pytest.approx(0.9)
    assert result.rollbacks == 0 and subject.restores == 0
    # a prune that holds is accepted before any fine-tuning (eval_before_finetune)
    assert all(r.finetune_steps == 0 for r in prunes) and result.env_steps == 0


def test_rollback_restores_and_retries_with_a_smaller_step() -> None:
    subject = FakeSubject(target=0.9, limit=0.6)
    _, result = run(subject, step=0.5, min_step=0.05, train_longer=0)
    tried = attempts(result)
    actions = [(r.action, round(r.step, 4), round(r.sparsity, 4)) for r in tried]
    assert actions[:3] == [
        ("accept", 0.5, 0.5),
        ("rollback", 0.5, 0.75),
        ("rollback", 0.25, 0.625),
    ]
    assert actions[3] == ("accept", 0.125, 0.5625)
    # every rollback went back to the last accepted point and halved the step
    for before, after in itertools.pairwise(tried):
        if before.action == "rollback":
            assert after.sparsity_before == pytest.approx(
                max(r.sparsity for r in tried[: tried.index(after)] if r.accepted)
            )
            assert after.step == pytest.approx(before.step * 0.5)
    assert result.stop_reason == "min_step"
    assert all(r.sparsity <= 0.6 + 1e-9 for r in result.history.accepted())
    assert result.sparsity <= 0.6 and subject.sparsity() == result.sparsity
    assert result.final.mean > 490 and "within tolerance" not in result.history[2].reason
    assert (
        "below tolerance" in result.history[2].reason and "step shrinks" in result.history[2].reason
    )


def test_fine_tuning_recovers_a_step_that_breaks_at_first() -> None:
    subject = FakeSubject(target=0.9, limit=0.6, skill_per_step=0.001)
    _, result = run(subject, step=0.5, finetune_steps=200, finetune_chunks=2)
    second = result.history[2]
    assert second.accepted and second.sparsity == pytest.approx(0.75)
    assert second.finetune_steps == 200  # 0 steps failed, 100 failed (skill 0.1), 200 passed
    assert result.stop_reason == "target_reached"


def test_train_longer_before_shrinking() -> None:
    subject = FakeSubject(target=0.8, limit=0.5, skill_per_step=0.0006)
    _, result = run(subject, step=0.6, finetune_steps=100, train_longer=1, longer=3.0)
    first, second = result.history[1], result.history[2]
    assert first.action == "rollback" and "longer recovery" in first.reason
    assert first.finetune_steps == 100
    assert second.step == first.step and second.finetune_steps == 300
    assert second.accepted  # skill 0.18 after 300 steps: 0.6 <= 0.5 + 0.18


def test_budget_stops_the_loop_and_keeps_the_best_point() -> None:
    subject = FakeSubject(target=0.99, limit=0.3, skill_per_step=1e-5)
    _, result = run(subject, step=0.5, budget=350, eval_before_finetune=False, distill_steps=0)
    assert result.stop_reason == "budget"
    assert result.env_steps <= 350
    assert "budget" in result.message
    assert all(
        r.sparsity <= 0.3 + result.env_steps * 1e-5 + 1e-9 for r in result.history.accepted()
    )


def test_a_spent_budget_caps_fine_tuning_but_distillation_goes_on() -> None:
    subject = FakeSubject(target=0.9, limit=0.3)
    subject.skill_per_distill_step = 0.0002  # distillation alone recovers 0.2 per attempt
    _, result = run(subject, step=0.5, budget=100, finetune_steps=100, distill_steps=1000)
    assert result.env_steps <= 100 and result.stop_reason == "target_reached"
    assert [r.finetune_steps for r in result.history if r.action == "rollback"][1:] == [0] * (
        result.rollbacks - 1
    )


def test_threshold_trains_first_then_prunes() -> None:
    subject = FakeSubject(target=0.5, limit=-1.0, skill_per_step=0.004)
    _, result = run(subject, threshold=450.0, finetune_steps=100)
    actions = [r.action for r in result.history]
    assert actions[:4] == ["reference", "train", "train", "train"]
    assert result.history[3].return_mean > 450  # skill 1.2 > 1.0: the policy now holds at 0
    assert result.stop_reason == "target_reached"


def test_threshold_never_reached_ends_cleanly_and_keeps_the_history() -> None:
    subject = FakeSubject(target=0.5, limit=-1.0)
    _, result = run(subject, threshold=450.0, budget=300, finetune_steps=100)
    assert result.stop_reason == "threshold_not_reached"
    assert "did not reach the threshold 450" in result.message
    assert [r.action for r in result.history] == ["reference", "train", "train", "train"]
    assert result.env_steps == 300 and subject.trained == 300
    assert result.sparsity == 0.0


def test_threshold_without_budget_stops_at_max_iterations() -> None:
    subject = FakeSubject(target=0.5, limit=-1.0)
    _, result = run(subject, threshold=450.0, finetune_steps=100, max_iterations=4)
    assert result.stop_reason == "threshold_not_reached" and "max_iterations" in result.message
    assert result.env_steps == 400


def test_separate_targets_per_group() -> None:
    subject = FakeSubject(target={"actor": 0.9, "critic": 0.5})
    _, result = run(subject, target={"actor": 0.9, "critic": 0.5}, step=0.5)
    assert result.group_sparsity == pytest.approx({"actor": 0.9, "critic": 0.5})
    first = result.history[1]
    assert first.groups == pytest.approx({"actor": 0.5, "critic": 0.5})


def test_stalls_when_a_step_removes_nothing() -> None:
    class Stuck(FakeSubject):
        def prune_to(self, sparsity: dict[str, float]) -> None:
            pass

    _, result = run(Stuck(target=0.9))
    assert result.stop_reason == "stalled"


def test_target_below_current_sparsity_is_rejected() -> None:
    with pytest.raises(
        ValueError, match=r"target sparsity 0\.5 is below the current sparsity 0\.8"
    ):
        GatedPruner(FakeSubject(target=0.5, start=0.8), config(target=0.5))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"tolerance": -0.1}, "tolerance must be >= 0"),
        ({"target": 1.2}, "target"),
        ({"step": 0.0}, r"step must be in \(0, 1\)"),
        ({"min_step": 0.6, "step": 0.5}, "min_step"),
        ({"mode": "percent"}, "mode must be one of"),
        ({"evidence": "hope"}, "evidence must be one of"),
        ({"finetune_steps": -1}, "finetune_steps"),
        ({"evidence": "non_inferiority", "eval_episodes": 1}, "eval_episodes >= 2"),
        ({"target": {}}, "target dict is empty"),
    ],
)
def test_bad_loop_options(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        config(**changes)


def test_unknown_loop_option_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown loop option.*valid options"):
        LoopConfig.from_dict({"target": 0.9, "tolerence": 0.1})


def test_resume_after_interruption_gives_the_same_result() -> None:
    changes = {"step": 0.5, "finetune_steps": 100, "eval_before_finetune": False}
    whole = run(FakeSubject(target=0.9, limit=0.6, skill_per_step=0.0005), **changes)[1]

    subject = FakeSubject(target=0.9, limit=0.6, skill_per_step=0.0005, train_fails_at=3)
    saved: dict[str, Any] = {}

    def checkpoint(loop: GatedPruner, record: StepRecord) -> None:
        saved["loop"], saved["subject"] = loop.state_dict(), subject.snapshot()

    with pytest.raises(KeyboardInterrupt):
        GatedPruner(subject, config(**changes), on_record=checkpoint).run()
    fresh = FakeSubject(target=0.9, limit=0.6, skill_per_step=0.0005)
    fresh.restore(saved["subject"])
    loop = GatedPruner(fresh, config(**changes))
    loop.load_state_dict(saved["loop"])
    resumed = loop.run()
    for r in (*resumed.history, *whole.history):
        r.wall_s = 0.0
    assert resumed.history.to_csv() == whole.history.to_csv()
    assert resumed.sparsity == whole.sparsity and resumed.stop_reason == whole.stop_reason


def test_history_round_trips_through_csv(tmp_path: Any) -> None:
    _, result = run(FakeSubject(target=0.9, limit=0.6), step=0.5)
    path = tmp_path / "history.csv"
    result.history.write_csv(path)
    back = History.read_csv(path)
    assert back.to_csv() == result.history.to_csv()
    assert [r.accepted for r in back] == [r.accepted for r in result.history]
    header = path.read_text().splitlines()[0].split(",")
    for column in ("sparsity", "return_mean", "ci_low", "ci_high", "accepted", "reason"):
        assert column in header
