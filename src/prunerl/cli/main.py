"""Entry point: imports every command module so each registers itself on the app."""

from __future__ import annotations

from prunerl.cli import (  # noqa: F401  (commands register on import)
    demo,
    evaluate,
    explain,
    export,
    methods,
    prune,
    train,
)
from prunerl.cli.app import app

__all__ = ["app"]

if __name__ == "__main__":
    app()
