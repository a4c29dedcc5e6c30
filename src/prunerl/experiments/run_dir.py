"""The run directory: its layout, its state, and atomic writes of the files in it.

RUN/config.yaml      fully resolved, re-runnable with ``prunerl train --config``
RUN/summary.json     the machine-readable result; present only once the run finished
RUN/metrics.csv      env step, returns, loss, sparsity, steps/s over time
RUN/checkpoints/     last.pt + last.json (+ last.buffer.npz), best.pt + best.json
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import yaml

RUN_FILES = ("config.yaml", "summary.json", "metrics.csv", "checkpoints")
_UMASK = os.umask(0)
os.umask(_UMASK)


@contextmanager
def atomic_open(path: Path, mode: str = "w") -> Iterator[IO[Any]]:
    """Write to a temporary file beside ``path``, then ``os.replace`` it: all or nothing.

    A crash (or an exception) while writing leaves the previous file untouched.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, newline=None if "b" in mode else "") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes files private; give them the usual mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write(path: Path, write: Callable[[IO[Any]], None], binary: bool = False) -> None:
    """Call ``write(file)`` on a temporary file and move it over ``path`` when it succeeded."""
    with atomic_open(path, "wb" if binary else "w") as f:
        write(f)


def write_json(path: Path, data: Any) -> None:
    atomic_write(path, lambda f: json.dump(data, f, indent=2, sort_keys=False))


def write_yaml(path: Path, data: Any) -> None:
    atomic_write(path, lambda f: yaml.safe_dump(data, f, sort_keys=False))


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


class RunDir:
    """Paths and state of one run directory (the directory is the truth about a run)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    @property
    def config(self) -> Path:
        return self.path / "config.yaml"

    @property
    def summary(self) -> Path:
        return self.path / "summary.json"

    @property
    def metrics(self) -> Path:
        return self.path / "metrics.csv"

    @property
    def checkpoints(self) -> Path:
        return self.path / "checkpoints"

    def checkpoint(self, name: str = "last") -> Path:
        return self.checkpoints / f"{name}.pt"

    def is_run(self) -> bool:
        return self.config.is_file()

    def is_finished(self) -> bool:
        return self.summary.is_file()

    @classmethod
    def create(cls, path: str | Path, overwrite: bool = False) -> RunDir:
        """A fresh run directory; an existing run is replaced only with ``overwrite``.

        A non-empty directory that is not a run is never touched, even with ``overwrite``.
        """
        run = cls(path)
        if run.path.exists() and not run.path.is_dir():
            raise ValueError(f"--out {str(run.path)!r} is a file; choose a directory path")
        if run.path.is_dir() and any(run.path.iterdir()):
            if not run.is_run():
                raise ValueError(
                    f"--out {str(run.path)!r} exists and is not a prunerl run directory; "
                    "choose an empty or new directory"
                )
            if not overwrite:
                raise ValueError(
                    f"--out {str(run.path)!r} already holds a run; pass --overwrite to replace it, "
                    f"--resume {str(run.path)!r} to continue it, or choose another --out"
                )
            run.clear()
        run.checkpoints.mkdir(parents=True, exist_ok=True)
        return run

    @classmethod
    def open(cls, path: str | Path) -> RunDir:
        """An existing run directory (for resume and evaluate)."""
        run = cls(path)
        if not run.path.is_dir():
            raise FileNotFoundError(f"run directory {str(run.path)!r} does not exist")
        if not run.is_run():
            raise ValueError(
                f"{str(run.path)!r} is not a prunerl run directory (no config.yaml); "
                "give a directory written by `prunerl train`"
            )
        return run

    def clear(self) -> None:
        """Remove the files a run writes (and nothing else)."""
        for name in RUN_FILES:
            target = self.path / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()


def default_out(env_id: str, algo: str, seed: int, tag: str = "", root: str = "runs") -> Path:
    """``runs/<env>_<algo>[_<tag>]_s<seed>``, numbered ``-2``, ``-3``… when it exists."""
    safe_env = env_id.replace("/", "-").replace(":", "-")
    stem = "_".join(p for p in (safe_env, algo, tag, f"s{seed}") if p)
    path, n = Path(root) / stem, 1
    while path.exists():
        n += 1
        path = Path(root) / f"{stem}-{n}"
    return path


def truncate_metrics(path: Path, step: int) -> None:
    """Drop metrics.csv rows written after the checkpoint a run resumes from."""
    if not path.is_file():
        return
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    kept = rows[:1] + [r for r in rows[1:] if r and int(float(r[0])) <= step]
    atomic_write(path, lambda f: csv.writer(f).writerows(kept))
