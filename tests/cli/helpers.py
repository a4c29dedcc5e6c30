"""Invoke the CLI in-process and read its one-line errors."""

from __future__ import annotations

from typer.testing import CliRunner, Result

from prunerl.cli.main import app


def invoke(*args: str) -> Result:
    """Run ``prunerl ARGS`` with a wide terminal, so a message is never wrapped."""
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "1000"})


def error_line(result: Result) -> str:
    """The single line a failed command printed (asserting it is one line, no traceback)."""
    text = result.stderr.strip()
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert len(text.splitlines()) == 1, text
    assert text.startswith("error: ")
    return text
