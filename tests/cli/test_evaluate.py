"""``prunerl evaluate``: reload a run's policy and report its return."""

from __future__ import annotations

import json
from pathlib import Path

from cli.helpers import error_line, invoke


def test_evaluate_prints_and_json(tmp_path: Path) -> None:
    out = tmp_path / "r"
    args = ("--env", "CartPole-v1", "--algo", "double", "--steps", "100", "-q")
    assert invoke("train", *args, "--set", "eval.episodes=2", "--out", str(out)).exit_code == 0
    result = invoke("evaluate", str(out), "--episodes", "3")
    assert result.exit_code == 0, result.output
    assert "over 3 episodes" in result.output and "last checkpoint, step 100" in result.output
    result = invoke("evaluate", str(out), "-n", "2", "--checkpoint", "best", "--json")
    data = json.loads(result.stdout)
    assert data["checkpoint"] == "best" and len(data["returns"]) == 2


def test_evaluate_errors(tmp_path: Path) -> None:
    result = invoke("evaluate", str(tmp_path / "missing"))
    assert result.exit_code == 2 and "does not exist" in error_line(result)
    result = invoke("evaluate", str(tmp_path))
    assert result.exit_code == 2 and "not a prunerl run directory" in error_line(result)
    result = invoke("evaluate", str(tmp_path), "--episodes", "0")
    assert result.exit_code == 2 and "--episodes must be positive" in error_line(result)
