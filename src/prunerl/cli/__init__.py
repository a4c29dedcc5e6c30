"""The command line: one thin typer command per verb (``prunerl --help``)."""
