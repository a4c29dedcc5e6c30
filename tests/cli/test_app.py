"""The application itself: version, help, and the methods listing users read."""

from __future__ import annotations

from prunerl import __version__

from .helpers import invoke


def test_version_flag_prints_the_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"prunerl {__version__}"


def test_methods_listing_speaks_to_users() -> None:
    result = invoke("methods")
    assert result.exit_code == 0
    assert "gradient_rule" in result.stdout and "mission" not in result.stdout.lower()
