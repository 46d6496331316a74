"""Crash safety, for real: SIGKILL ``screen run`` at several points of writing its outputs.

README: "a crash leaves the previous set or none, never a mix". Each test starts the CLI on a SYNTHETIC
200,000-row manifest and watches the file system: it sends SIGKILL the moment the run reaches a point of
writing (the hidden staging folder appears beside ``--out``; a given file appears in it; the output folder
is swapped for the new set). Afterwards the output folder must hold exactly the previous complete set
(byte for byte), or no folder where there was none; after the swap, exactly the new complete set, and a
rerun writes the same bytes. Staging leftovers may stay beside the output, hidden; they are never it, and
the next run into the same output removes them.

The runs use a private copy of the rule pack, so edits to ``rules/us`` during the test change nothing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import screening
from screening.generate import generate_manifest

from ..conftest import OUTPUT_FILES, ROOT, SAMPLE, US_PACK

SAMPLE_MANIFEST = SAMPLE / "manifest_10k.parquet"

ROWS = 200_000
TIMEOUT = 600.0

#: A point of a run: called with the output folder, true once the run has reached it.
Point = Callable[[Path], bool]


def staging_folders(parent: Path) -> list[Path]:
    return [p for p in parent.iterdir() if ".staging-" in p.name]


def staging_created(out: Path) -> bool:
    return bool(staging_folders(out.parent))


def staged(name: str) -> Point:
    """The run has begun writing ``name`` into its staging folder (so every file before it is complete)."""

    def reached(out: Path) -> bool:
        for folder in staging_folders(out.parent):
            try:
                if name in os.listdir(folder):
                    return True
            except FileNotFoundError:
                continue
        return False

    return reached


def swapped(inode: int) -> Point:
    """The output folder is no longer the one that was there (the new set has been published)."""

    def reached(out: Path) -> bool:
        try:
            return os.stat(out).st_ino != inode
        except FileNotFoundError:
            return False

    return reached


def command(manifest: Path, pack: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "screening", "run", str(manifest), "--rules", str(pack), "--out", str(out)]


def run(manifest: Path, pack: Path, out: Path) -> None:
    done = subprocess.run(
        [*command(manifest, pack, out), "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=TIMEOUT,
    )
    assert done.returncode == 0, done.stderr[-2000:]


def kill_at(manifest: Path, pack: Path, out: Path, point: Point | float) -> bool:
    """Run the CLI and SIGKILL it as soon as ``point`` is reached (a number: seconds after the start).

    Returns whether the process was still running when killed.
    """
    started = time.monotonic()
    proc = subprocess.Popen(
        [*command(manifest, pack, out), "--quiet"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while proc.poll() is None:
            elapsed = time.monotonic() - started
            assert elapsed < TIMEOUT, "the run neither reached the point nor ended"
            if point(out) if callable(point) else elapsed >= point:
                break
            time.sleep(0.0005)
        alive = proc.poll() is None
        if alive:
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        return alive and proc.returncode == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def assert_complete_set(out: Path, want: dict[str, bytes]) -> None:
    assert out.is_dir()
    assert all(p.is_file() for p in out.iterdir()), "a folder inside the output"
    got = snapshot(out)
    assert set(got) == OUTPUT_FILES, f"output holds {sorted(got)}"
    assert got == want, "the output is not the expected complete set (a mix, a partial set or other bytes)"


def assert_nothing_else_visible(parent: Path, out: Path) -> None:
    visible = [p.name for p in parent.iterdir() if not p.name.startswith(".") and p != out]
    assert not visible, f"leftovers visible beside the output: {visible}"


# --- Fixtures ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the U.S. pack (the runs of one test must see the same pack bytes)."""
    target = tmp_path_factory.mktemp("pack") / "us"
    shutil.copytree(US_PACK, target, ignore=shutil.ignore_patterns("scenarios"))
    return target


def _codes(pack: Path) -> list[str]:
    return sorted(code.ljust(10, "0") for code in screening.load_rules(pack).mfn["hts"].unique().to_list())


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory, pack: Path) -> Path:
    path = tmp_path_factory.mktemp("crash") / "manifest_200k.parquet"
    assert generate_manifest(path, rows=ROWS, seed=20250829, hts_codes=_codes(pack)) == ROWS
    return path


@pytest.fixture(scope="module")
def previous(tmp_path_factory: pytest.TempPathFactory, pack: Path) -> Path:
    """A complete earlier result (of another, smaller manifest) that a new run replaces."""
    folder = tmp_path_factory.mktemp("previous")
    small = folder / "manifest_2k.parquet"
    generate_manifest(small, rows=2_000, seed=7, hts_codes=_codes(pack))
    run(small, pack, folder / "out")
    assert {p.name for p in (folder / "out").iterdir()} == OUTPUT_FILES
    return folder / "out"


# --- Tests ---------------------------------------------------------------------------------------------------

#: Kills before the swap: the previous set must survive byte for byte. (The writing itself is also cut
#: at its start in the test without a previous set, and during the removal of the old set after the swap.)
BEFORE_THE_SWAP = [
    pytest.param(1.0, id="before_writing"),
    pytest.param(staged("packages.parquet"), id="lines_written_packages_begun"),
]


@pytest.mark.parametrize("point", BEFORE_THE_SWAP)
def test_sigkill_while_writing_leaves_the_previous_complete_set(
    manifest: Path, pack: Path, previous: Path, tmp_path: Path, point: Point | float
) -> None:
    out = tmp_path / "out"
    shutil.copytree(previous, out)
    before = snapshot(out)
    assert kill_at(manifest, pack, out, point), "the run ended before it could be killed"
    assert_complete_set(out, before)
    assert_nothing_else_visible(tmp_path, out)


def test_sigkill_while_writing_without_a_previous_set_leaves_none(
    manifest: Path, pack: Path, previous: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    assert kill_at(manifest, pack, out, staged("lines.parquet"))
    assert not out.exists(), "a partial output folder appeared"
    assert_nothing_else_visible(tmp_path, out)
    assert staging_folders(tmp_path), "the killed run left no staging folder to clean up"
    run(previous.parent / "manifest_2k.parquet", pack, out)  # the next run removes the killed run's folder
    assert not staging_folders(tmp_path)
    assert {p.name for p in out.iterdir()} == OUTPUT_FILES


def test_sigkill_after_the_swap_then_rerun_gives_the_same_bytes(
    manifest: Path, pack: Path, previous: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    shutil.copytree(previous, out)
    old_inode = os.stat(out).st_ino
    killed = kill_at(manifest, pack, out, swapped(old_inode))
    # The new set is published by renaming its folder into place, never by copying files over the old set
    # (which a kill would leave half old, half new): the output is another folder now.
    assert os.stat(out).st_ino != old_inode, "the output folder was written in place, not swapped"
    # Killed while removing the old set (or just done): the output is the complete new set.
    published = snapshot(out)
    assert set(published) == OUTPUT_FILES
    assert published != snapshot(previous)
    assert_nothing_else_visible(tmp_path, out)
    run(manifest, pack, out)
    assert_complete_set(out, published)
    assert_nothing_else_visible(tmp_path, out)
    if not killed:  # the run ended on its own before the kill: it must have cleaned up after itself
        assert not staging_folders(tmp_path)


def _no_larger_files(limit: int) -> None:
    """In a child: writing a file past ``limit`` bytes fails as on a full disk (EFBIG, not a signal)."""
    import resource

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def test_a_temporary_file_that_cannot_be_written_is_no_input_error(tmp_path: Path) -> None:
    """A full disk while validation writes its files was reported as a malformed manifest (exit 3)."""
    manifest = tmp_path / "day.parquet"
    generate_manifest(manifest, rows=20_000, seed=7, hts_codes=_codes(US_PACK))
    out = tmp_path / "out"
    done = subprocess.run(
        [
            *(sys.executable, "-m", "screening", "run", str(manifest), "--rules", str(US_PACK)),
            *("--out", str(out), "--part-lines", "5000", "--quiet"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        preexec_fn=lambda: _no_larger_files(64_000),
        check=False,
    )
    assert done.returncode == 2, done.stderr
    message = " ".join(done.stderr.split())
    assert "the run's temporary files cannot be written" in message
    assert "File too large" in message
    assert "day.parquet" not in message
    assert not out.exists()
    assert staging_folders(tmp_path) == []


def test_a_state_another_run_holds_is_refused_before_any_work(tmp_path: Path) -> None:
    from screening.io.state_file import state_lock
    from screening.screener import screen_files_in_batches

    state = tmp_path / "day.state"
    out = tmp_path / "out"
    with state_lock(state), pytest.raises(screening.UsageError, match="another run is using this state"):
        screen_files_in_batches([SAMPLE_MANIFEST], out=out, batch_size=5_000, rules=US_PACK, state_path=state)
    assert not out.exists()
    assert not state.exists()


def test_a_state_that_cannot_be_written_is_refused_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found after publishing (a read-only folder), the run's outputs had no state saved, with exit 70."""
    from screening.screener import screen_files_in_batches

    def refuse(self: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "touch", refuse)
    out = tmp_path / "out"
    with pytest.raises(screening.UsageError, match="the state cannot be written there: Permission denied"):
        screen_files_in_batches(
            [SAMPLE_MANIFEST], out=out, batch_size=5_000, rules=US_PACK, state_path=tmp_path / "day.state"
        )
    assert not out.exists()


def test_a_state_save_killed_midway_leaves_a_copy_the_next_save_removes(tmp_path: Path) -> None:
    from screening.io.writers import staging_name

    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    dead_pid = int(ended.stdout)
    # A copy named as a save of that (ended) process names it: this machine's id, then its pid.
    name = staging_name("day.state").replace(f"-{os.getpid()}-", f"-{dead_pid}-")
    leftover = tmp_path / name
    leftover.write_bytes(b"half a state")
    screening.Screener(US_PACK).save_state(tmp_path / "day.state")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["day.state"]


def test_ctrl_c_during_a_cleanup_does_not_cut_it(tmp_path: Path) -> None:
    """One Ctrl-C in a polars query raises twice: the second cut the cleanup the first had started. It is
    raised once the cleanup is done."""
    from screening.io.writers import interrupts_held

    done = []

    def cleanup() -> None:
        with interrupts_held():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
            done.append(True)

    with pytest.raises(KeyboardInterrupt):
        cleanup()
    assert done == [True]


@contextlib.contextmanager
def _host_handlers(log: list[str]) -> Iterator[None]:
    """A host's own SIGINT and SIGTERM handlers (a service's graceful shutdown), noting each signal in
    ``log``; the previous ones put back afterwards."""
    previous = {
        number: signal.signal(number, lambda n, _f: log.append(signal.Signals(n).name))
        for number in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@pytest.mark.parametrize("order", [("SIGTERM", "SIGINT"), ("SIGINT", "SIGTERM")])
def test_a_signal_during_a_cleanup_reaches_the_host_s_handler_after_it(order: tuple[str, str]) -> None:
    """A SIGTERM that arrived while the engine removed a staging folder was ignored, lost: a service's graceful
    shutdown never ran. Signals that arrive in the block reach the handlers in force before it once it ends,
    each kind once, in the order they came; the host's handlers are in force again."""
    from screening.io.writers import interrupts_held

    log: list[str] = []
    with _host_handlers(log):
        handlers = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
        with interrupts_held():
            for name in (*order, order[0]):
                os.kill(os.getpid(), getattr(signal, name))
                time.sleep(0.02)
            log.append("cleanup done")
        assert log == ["cleanup done", *order]
        assert {number: signal.getsignal(number) for number in handlers} == handlers


def test_a_sigterm_during_a_failed_write_s_cleanup_reaches_the_host_s_handler(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As the reviewer's service saw it: ``Result.write`` stopped by Ctrl-C, a SIGTERM while it removed its
    staging folder. The host's handler runs, after the staging folder is gone, and the Ctrl-C still reaches the
    caller."""
    import screening.result as result_module
    from screening.io import writers

    result = screening.screen(SAMPLE_MANIFEST, rules=US_PACK)
    removing = shutil.rmtree

    def rmtree_signalled(path: Path, *args: Any, **kwargs: Any) -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.05)
        log.append("staging removed")
        removing(path, *args, **kwargs)

    def stopped(*_args: Any, **_kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(writers.shutil, "rmtree", rmtree_signalled)
    monkeypatch.setattr(result_module, "write_frames", stopped)
    log: list[str] = []
    with _host_handlers(log), pytest.raises(KeyboardInterrupt):
        result.write(tmp_path / "out")
    assert log == ["staging removed", "SIGTERM"]
    assert list(tmp_path.iterdir()) == []


def test_a_cleanup_on_the_way_out_drops_a_signal() -> None:
    """The command's exit after Ctrl-C or SIGTERM (and the process's) removes its staging copies with signals
    dropped: the process is stopping already, with its exit code (130 or 143)."""
    from screening.io.writers import discard_unfinished, interrupts_held

    log: list[str] = []
    with _host_handlers(log):
        with interrupts_held(deliver=False):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)
        discard_unfinished()
        time.sleep(0.05)
    assert log == []
