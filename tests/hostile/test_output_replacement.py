"""Replacing an output set and a state on an operator's system: a previous set that cannot be removed, folders
named like outputs, permissions an operator set, lock files left by other users or planted as links.

Each case publishes the new set (or refuses before any work, exit 2, naming what is in the way) and never ends
as an internal error (exit 70). Cases that need file modes to apply run ``screen`` in a child process, as root
without the capabilities that bypass them (``setpriv``).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import screening
from screening.cli import main
from screening.screener import screen_files_in_batches

from ..conftest import ROOT, US_PACK


def _day(manifest: Callable[..., pl.DataFrame], path: Path, prefix: str, count: int = 2) -> Path:
    manifest(*({"package_id": f"{prefix}{n}"} for n in range(count))).write_parquet(path)
    return path


def _packages(out: Path) -> list[str]:
    return sorted(pl.read_parquet(out / "packages.parquet")["package_id"])


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _screen(*args: str) -> subprocess.CompletedProcess[str]:
    """``screen ARGS`` in a child process with file modes applied (as root: without the capabilities that
    bypass them)."""
    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("as root, file modes apply only without CAP_DAC_OVERRIDE: setpriv is not installed")
        prefix = [setpriv, "--bounding-set", "-dac_override,-dac_read_search"]
    command = [*prefix, sys.executable, "-m", "screening", *args, "--rules", str(US_PACK), "-q"]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)


def _rmtree_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """The previous set's removal after the swap fails as in a folder made read-only (``chmod 555``); the
    cleanups that ignore errors run as they do."""
    remove = shutil.rmtree

    def refuse(path: Any, ignore_errors: bool = False, **kwargs: Any) -> None:
        if ignore_errors:
            remove(path, ignore_errors=True, **kwargs)
            return
        raise PermissionError(13, "Permission denied", "rejects.parquet")

    monkeypatch.setattr("screening.io.writers.shutil.rmtree", refuse)


@pytest.mark.parametrize("exchange", [True, False], ids=["swapped", "renamed_aside"])
def test_a_run_replacing_a_set_leaves_nothing_beside_the_output_folder(
    tmp_path: Path,
    manifest: Callable[..., pl.DataFrame],
    monkeypatch: pytest.MonkeyPatch,
    exchange: bool,
) -> None:
    """A second ``screen run`` into one ``--out``: the replaced set (swapped to the staging path, or renamed to a
    ``.out.retired-*`` folder where the system cannot exchange two folders) and the lock file are removed."""
    if not exchange:
        monkeypatch.setattr("screening.io.writers._exchange", lambda _staging, _out: False)
    out = tmp_path / "out"
    for prefix in ("A", "B"):
        source = _day(manifest, tmp_path / f"{prefix}.parquet", prefix)
        with pytest.raises(SystemExit) as stopped:
            main.main(["run", str(source), "--rules", str(US_PACK), "--out", str(out), "-q"])
        assert stopped.value.code == 0
    assert _packages(out) == ["B0", "B1"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["A.parquet", "B.parquet", "out"]


def test_a_previous_set_that_cannot_be_removed_is_a_warning_once_the_new_set_is_in_place(
    tmp_path: Path,
    manifest: Callable[..., pl.DataFrame],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The new set was published, then the run exited 70 (``PermissionError: 'rejects.parquet'``): a scheduler
    took the hour for not published, and a batch run's state was not advanced with its outputs."""
    out = tmp_path / "out"
    screening.screen_to_folder(str(_day(manifest, tmp_path / "h1.parquet", "A")), out, rules=US_PACK)
    _rmtree_refused(monkeypatch)
    with pytest.warns(screening.LeftoverWarning, match="the new set is in place") as warned:
        screening.screen_to_folder(str(_day(manifest, tmp_path / "h2.parquet", "B")), out, rules=US_PACK)
    assert _packages(out) == ["B0", "B1"]
    leftover = [p for p in tmp_path.iterdir() if ".out.staging-" in p.name]
    assert len(leftover) == 1
    assert str(leftover[0]) in str(warned[0].message)
    assert _packages(leftover[0]) == ["A0", "A1"]  # the previous set, left whole

    with pytest.raises(SystemExit) as stopped:
        main.main(["run", str(tmp_path / "h1.parquet"), "--rules", str(US_PACK), "--out", str(out), "-q"])
    assert stopped.value.code == 0
    message = " ".join(capsys.readouterr().err.split())
    assert message.startswith(
        f"warning: {out}: the new set is in place, but the previous one could not be removed"
    )
    assert _packages(out) == ["A0", "A1"]

    state = tmp_path / "day.state"
    hour = _day(manifest, tmp_path / "h3.parquet", "C")
    with pytest.warns(screening.LeftoverWarning):
        screen_files_in_batches([hour], out=out, batch_size=1, rules=US_PACK, state_path=state)
    assert _packages(out) == ["C0", "C1"]
    with pytest.raises(screening.UsageError, match="already screened into"):  # the state advanced
        screen_files_in_batches([hour], out=tmp_path / "again", batch_size=1, rules=US_PACK, state_path=state)


def test_a_read_only_output_folder_is_replaced_with_a_warning(
    tmp_path: Path, manifest: Callable[..., pl.DataFrame]
) -> None:
    """``chmod 555`` on the output folder: its files cannot be removed once the new set is in place."""
    out = tmp_path / "day"
    screening.screen_to_folder(str(_day(manifest, tmp_path / "h1.parquet", "A")), out, rules=US_PACK)
    out.chmod(0o555)
    done = _screen("run", str(_day(manifest, tmp_path / "h2.parquet", "B")), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert (
        "the new set is in place, but the previous one could not be removed (Permission denied)"
        in " ".join(done.stderr.split())
    )
    assert _packages(out) == ["B0", "B1"]
    for left in tmp_path.glob(".day.staging-*"):
        left.chmod(0o755)  # for pytest's cleanup


@pytest.mark.parametrize(
    ("entry", "kind"),
    [("lines.parquet", "a folder"), ("rejects.csv", "a folder"), ("packages.parquet", "a symbolic link")],
)
def test_a_folder_holding_folders_named_like_outputs_is_no_earlier_output_set(
    tmp_path: Path,
    manifest: Callable[..., pl.DataFrame],
    capsys: pytest.CaptureFixture[str],
    entry: str,
    kind: str,
) -> None:
    """A folder with ``summary.json`` and a dataset folder ``lines.parquet/`` (Spark, pyarrow) counted as an
    earlier output set: the run replaced it, and the dataset's files were deleted with it."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text("{}")
    dataset = tmp_path / "dataset"
    dataset.mkdir()
    (dataset / "part-0.parquet").write_bytes(b"PAR1 rows PAR1")
    if kind == "a folder":
        shutil.copytree(dataset, out / entry)
    else:
        (out / entry).symlink_to(dataset / "part-0.parquet")
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    source = _day(manifest, tmp_path / "h1.parquet", "A")
    for options in ([], ["--batch-size", "1"]):
        with pytest.raises(SystemExit) as stopped:
            main.main(["run", str(source), "--rules", str(US_PACK), "--out", str(out), "-q", *options])
        assert stopped.value.code == 2
        message = " ".join(capsys.readouterr().err.split())
        assert f"is not an earlier output set ({entry} ({kind}))" in message
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before
    assert (dataset / "part-0.parquet").read_bytes() == b"PAR1 rows PAR1"


@pytest.mark.parametrize("options", [[], ["--format", "csv"], ["--part-lines", "1"], ["--batch-size", "1"]])
def test_a_run_keeps_the_permissions_an_operator_set_on_its_outputs_and_state(
    tmp_path: Path, manifest: Callable[..., pl.DataFrame], options: list[str]
) -> None:
    """Each run reset ``chmod 700`` on the output folder and ``chmod 600`` on its files and the state (which
    holds names and ZIPs in clear) to the umask's ``755`` and ``644``."""
    out = tmp_path / "out"
    state = ["--state", str(tmp_path / "day.state")] if "--batch-size" in options else []
    run = ["run", "--rules", str(US_PACK), "--out", str(out), "-q", *options, *state]
    for hour, modes in enumerate(({"summary.json": 0o600, "lines": 0o640}, {"summary.json": 0o400})):
        with pytest.raises(SystemExit) as stopped:
            main.main([*run, str(_day(manifest, tmp_path / f"h{hour}.parquet", f"H{hour}-"))])
        assert stopped.value.code == 0
        files = sorted(out.iterdir())
        out.chmod(0o710)
        for file in files:
            file.chmod(modes.get(file.name, modes.get(file.stem, 0o600)))
        if state:
            (tmp_path / "day.state").chmod(0o600)
    with pytest.raises(SystemExit) as stopped:
        main.main([*run, str(_day(manifest, tmp_path / "h2.parquet", "H2-"))])
    assert stopped.value.code == 0
    assert _mode(out) == 0o710
    assert {file.name: _mode(file) for file in out.iterdir()} == {
        file.name: modes.get(file.name, modes.get(file.stem, 0o600)) for file in files
    }
    if state:
        assert _mode(tmp_path / "day.state") == 0o600


def test_the_python_api_keeps_the_permissions_of_the_set_and_state_it_replaces(
    tmp_path: Path, manifest: Callable[..., pl.DataFrame], us_pack: screening.RulePack
) -> None:
    out = tmp_path / "out"
    result = screening.screen(_day(manifest, tmp_path / "h1.parquet", "A"), rules=us_pack)
    result.write(out)
    out.chmod(0o700)
    (out / "packages.parquet").chmod(0o600)
    result.write(out)
    assert (_mode(out), _mode(out / "packages.parquet"), _mode(out / "lines.parquet")) == (
        0o700,
        0o600,
        0o644 & ~_umask(),
    )
    result.write(out, fmt="csv")  # files of other names: closed by the folder
    assert _mode(out) == 0o700
    state = tmp_path / "day.state"
    screening.Screener(us_pack).save_state(state)
    state.chmod(0o600)
    screening.Screener(us_pack).save_state(state)
    assert _mode(state) == 0o600


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


def test_a_lock_file_made_unwritable_still_locks_and_an_unreadable_one_is_named(
    tmp_path: Path, manifest: Callable[..., pl.DataFrame]
) -> None:
    """A state's lock file left by another user's run (or made read-only) was an internal error on every later
    run (exit 70, ``PermissionError``): a lock needs the file open for reading only. One that cannot even be read
    is named, exit 2, as is a stale output lock (it was "output folder cannot be created: Permission denied")."""
    state_lock = tmp_path / ".day.state.lock"
    out_lock = tmp_path / ".out.lock"
    for lock in (state_lock, out_lock):
        lock.touch()
        lock.chmod(0o444)

    def run(hour: str) -> subprocess.CompletedProcess[str]:
        source = _day(manifest, tmp_path / f"{hour}.parquet", hour)
        out = ["--out", str(tmp_path / "out"), "--batch-size", "1", "--state", str(tmp_path / "day.state")]
        return _screen("run", str(source), *out)

    done = run("h1")
    assert done.returncode == 0, done.stderr
    assert _packages(tmp_path / "out") == ["h10", "h11"]
    for hour, lock in (("h2", state_lock), ("h3", out_lock)):
        lock.touch()
        lock.chmod(0o000)
        done = run(hour)
        assert done.returncode == 2, done.stderr
        message = " ".join(done.stderr.split())
        assert f"error: {lock}: the lock file cannot be opened: Permission denied" in message
        assert "another user's run may hold it" in message
        lock.unlink()
    assert _packages(tmp_path / "out") == ["h10", "h11"]


@pytest.mark.parametrize("locked", ["output", "state"])
def test_a_lock_file_planted_as_a_symbolic_link_is_refused_and_its_target_left_alone(
    tmp_path: Path, manifest: Callable[..., pl.DataFrame], locked: str
) -> None:
    """``ln -s /elsewhere/x .day.lock``: the run made ``/elsewhere/x`` (with its umask's mode) and locked it."""
    source = _day(manifest, tmp_path / "h1.parquet", "A")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    lock = tmp_path / (".out.lock" if locked == "output" else ".day.state.lock")
    lock.symlink_to(elsewhere / "x")
    with pytest.raises(
        screening.UsageError, match=f"{lock}: the lock file cannot be opened: it is a symbolic link"
    ):
        screen_files_in_batches(
            [source], out=tmp_path / "out", batch_size=1, rules=US_PACK, state_path=tmp_path / "day.state"
        )
    assert not (elsewhere / "x").exists()
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("umask", "mode"), [(0o002, 0o664), (0o022, 0o644), (0o077, 0o600)])
def test_the_output_lock_is_made_as_the_umask_allows_as_the_state_lock_is(
    tmp_path: Path, umask: int, mode: int
) -> None:
    """The output lock was made ``0600`` whatever the umask: operators sharing a group folder (``2775``, umask
    ``002``) could not open another's lock ("the lock file cannot be opened: Permission denied ... remove it"),
    and removing it let two runs write the same folder. It is made ``0666`` less the umask, as the state lock:
    every user who can read it is refused as the run holding it is ("another run is writing")."""
    from screening.io.writers import output_lock

    previous = os.umask(umask)
    try:
        with output_lock(tmp_path / "out"):
            assert _mode(tmp_path / ".out.lock") == mode
            with (
                pytest.raises(screening.UsageError, match="another run is writing this output folder"),
                output_lock(tmp_path / "out"),
            ):
                pass
    finally:
        os.umask(previous)
    assert sorted(p.name for p in tmp_path.iterdir()) == []
