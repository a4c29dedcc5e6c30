"""The typer application and the error boundary every command shares."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console

from prunerl.core.finite import NonFiniteError

app = typer.Typer(
    name="prunerl",
    help="Prune deep RL agents: train, prune, evaluate and export smaller policies.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)


def _print_version(value: bool) -> None:
    if value:
        from prunerl import __version__

        console.print(f"prunerl {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Prune deep RL agents: train, prune, evaluate and export smaller policies."""


F = TypeVar("F", bound=Callable[..., Any])


class UserError(Exception):
    """An error caused by the user's input: printed as one line, exit code 2, no traceback."""


DIVERGED_EXIT = 3  # training met a NaN or Inf (prunerl.core.finite.NonFiniteError)


def friendly_errors(func: F) -> F:
    """Turn ValueError/UserError/FileNotFoundError into one red line and exit code 2, and a
    divergence (NaN or Inf in training) into one red line and exit code 3."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except NonFiniteError as exc:
            err_console.print(f"[bold red]diverged:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(code=DIVERGED_EXIT) from None
        except (UserError, ValueError, FileNotFoundError, KeyError) as exc:
            message = exc.args[0] if exc.args else str(exc)
            err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
            raise typer.Exit(code=2) from None

    return wrapper  # type: ignore[return-value]
