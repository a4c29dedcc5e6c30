"""``prunerl methods``: list every registered method, criterion, schedule and distribution."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from prunerl.cli.app import app, console
from prunerl.core import criteria, distributions, methods, schedules


@app.command("methods")
def list_methods() -> None:
    """List pruning methods, criteria, schedules and distributions with one-line descriptions."""
    for title, registry in (
        ("methods", methods),
        ("criteria", criteria),
        ("schedules", schedules),
        ("distributions", distributions),
    ):
        table = Table(title=title, title_justify="left", show_header=False, box=None)
        for name, doc in registry.describe().items():
            table.add_row(f"[bold]{name}[/]", escape(doc))
        console.print(table)
        console.print()
