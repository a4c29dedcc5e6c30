from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from prunerl.cli.main import app
from prunerl.spaces import ActionPruning, ObservationPruning, load_spaces, save_spaces
from prunerl.spaces.decision import Trial


def write_run(run_dir: Path) -> None:
    obs = ObservationPruning(
        n=4,
        keep=[2, 3],
        method="permutation",
        rule="tolerance",
        scores={"permutation": [0.0, 1.0, 300.0, 480.0], "saliency": [0.1, 0.2, 0.9, 1.5]},
        names=["x", "x_dot", "theta", "theta_dot"],
        baseline_return=500.0,
        pruned_return=498.0,
        fill=[0.0, 0.0, 0.0, 0.0],
        intervals={"permutation": [[0.0, 0.0], [-2.0, 3.5], [250.0, 350.0], [None, None]]},
        score_episodes={"permutation": [10, 40, 10, 160]},
        verdicts=["negligible", "negligible", "needed", "unclear"],
        allowed_drop=25.0,
        confidence=0.9,
    )
    obs.add_trials(
        [
            Trial([0], 500.0, True, 0.0, 0.0, 0.0, 10, "negligible"),
            Trial([1], 498.0, True, 2.0, -1.0, 4.0, 20, "negligible"),
            Trial([2], 40.0, False, 460.0, 440.0, 480.0, 10, "needed", "previous step"),
        ]
    )
    acts = ActionPruning(
        n=3, keep=[0, 1], method="usage", rule="top_k", scores={"usage": [0.5, 0.5, 0.0]}
    )
    save_spaces(run_dir, obs, acts)


def test_explain_prints_tables_and_writes_bar_charts(tmp_path: Path) -> None:
    write_run(tmp_path)
    result = CliRunner().invoke(app, ["explain", str(tmp_path)], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    out = result.output
    assert "kept 2 of 4 features (removed 2)" in out and "return 500.0 -> 498.0" in out
    assert "removed: x, x_dot" in out and "no: needed (vs previous step)" in out
    assert out.index("theta_dot") < out.index("x_dot")  # most important first
    assert "allowed drop 25" in out and "90% CI" in out and "[-2, 3.5]" in out
    assert "kept: needed" in out and "kept: unclear" in out and "n/a" in out
    assert "[440, 480]" in out  # a trial's CI
    assert "kept 2 of 3 actions" in out
    for kind in ("observation", "actions"):
        png = tmp_path / f"spaces_{kind}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_explain_top_and_no_plot(tmp_path: Path) -> None:
    write_run(tmp_path)
    result = CliRunner().invoke(app, ["explain", str(tmp_path), "--top", "1", "--no-plot"])
    assert result.exit_code == 0, result.output
    assert not list(tmp_path.glob("*.png"))


def test_explain_without_spaces_file_is_a_clear_error(tmp_path: Path) -> None:
    runner = CliRunner(env={"COLUMNS": "300"})
    result = runner.invoke(app, ["explain", str(tmp_path)])
    assert result.exit_code == 2
    assert "no spaces.json" in result.output and "--prune observations" in result.output
    missing = runner.invoke(app, ["explain", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "does not exist" in missing.output


def test_explain_prunes_a_trained_run_first(tmp_path: Path) -> None:
    from prunerl.experiments import build_config, train

    config = build_config(
        {
            "env_id": "prunerl/CartPoleDistractors-v0",
            "env_kwargs": {"n_distractors": 2},
            "algo": "ppo",
            "total_steps": 2048,
            "eval": {"episodes": 2},
            "logging": {"quiet": True},
        }
    )
    run_dir = tmp_path / "run"
    train(config, out=run_dir, quiet=True)
    args = ["explain", str(run_dir), "--prune", "both", "--tolerance", "0.5", "--episodes", "2"]
    args += ["--max-episodes", "4", "--confidence", "0.8"]
    result = CliRunner(env={"COLUMNS": "200"}).invoke(app, [*args, "--no-plot"])
    assert result.exit_code == 0, result.output
    assert "of 6 features" in result.output and "of 2 actions" in result.output
    assert "80% CI" in result.output  # the permutation scores' intervals are shown
    saved = load_spaces(run_dir)["observation"]
    assert saved.confidence == 0.8 and max(saved.score_episodes["permutation"]) <= 4
    help_text = CliRunner(env={"COLUMNS": "200"}).invoke(app, ["explain", "--help"]).output
    assert "--max-episodes" in help_text and "--confidence" in help_text
    bad = CliRunner().invoke(app, ["explain", str(run_dir), "--prune", "all"])
    assert bad.exit_code == 2 and "--prune must be one of" in bad.output
