"""Entry point: imports every command module so each registers itself on the app."""

from __future__ import annotations

from prunerl.cli import demo, explain, methods  # noqa: F401  (commands register on import)
from prunerl.cli.app import app

__all__ = ["app"]

if __name__ == "__main__":
    app()
