"""Run directories: atomic writes, refusing to clobber runs or foreign directories."""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

import pytest

from prunerl.experiments.run_dir import RunDir, atomic_write, default_out, read_json, write_json


def test_crash_mid_write_leaves_the_old_file_intact(tmp_path: Path) -> None:
    path = tmp_path / "summary.json"
    write_json(path, {"v": 1})

    def half_then_crash(f: IO[Any]) -> None:
        f.write('{"v": 2, "trunc')
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(path, half_then_crash)
    assert read_json(path) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]  # no temp file left


def test_atomic_write_replaces_and_keeps_usual_permissions(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    write_json(path, [1])
    write_json(path, [2])
    assert read_json(path) == [2]
    assert path.stat().st_mode & 0o044  # readable by others like a normal file, not 0600


def _make_run(path: Path) -> RunDir:
    run = RunDir.create(path)
    run.config.write_text("env_id: x\n")
    run.summary.write_text("{}")
    return run


def test_existing_run_is_refused_without_overwrite(tmp_path: Path) -> None:
    _make_run(tmp_path / "r")
    with pytest.raises(ValueError, match="already holds a run; pass --overwrite"):
        RunDir.create(tmp_path / "r")
    assert (tmp_path / "r" / "summary.json").read_text() == "{}"


def test_overwrite_clears_only_run_files(tmp_path: Path) -> None:
    run = _make_run(tmp_path / "r")
    (run.path / "notes.txt").write_text("mine")
    RunDir.create(run.path, overwrite=True)
    assert not run.summary.exists() and not run.config.exists()
    assert (run.path / "notes.txt").read_text() == "mine"
    assert run.checkpoints.is_dir()


def test_foreign_directory_is_never_touched(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "x.csv").write_text("1")
    for overwrite in (False, True):
        with pytest.raises(ValueError, match="not a prunerl run directory"):
            RunDir.create(tmp_path / "data", overwrite=overwrite)
    assert (tmp_path / "data" / "x.csv").read_text() == "1"
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="is a file"):
        RunDir.create(tmp_path / "file")


def test_open_needs_a_run(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        RunDir.open(tmp_path / "nope")
    with pytest.raises(ValueError, match=r"no config\.yaml"):
        RunDir.open(tmp_path)


def test_default_out_numbers_existing_names(tmp_path: Path) -> None:
    first = default_out("ALE/Pong-v5", "dqn", 1, "gmp90", root=str(tmp_path))
    assert first.name == "ALE-Pong-v5_dqn_gmp90_s1"
    first.mkdir()
    assert default_out("ALE/Pong-v5", "dqn", 1, "gmp90", root=str(tmp_path)).name.endswith("-2")
