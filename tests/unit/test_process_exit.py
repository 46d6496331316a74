"""A command-line process ends with its exit status, its exit handlers run and its streams flushed, without
the interpreter's teardown (where Arrow's thread pools can abort a finished run)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from screening.process_exit import exit_code_of

SCRIPT = """
import atexit, sys
from pathlib import Path
from screening.process_exit import exit_process
atexit.register(lambda: Path(sys.argv[1]).write_text("handler ran"))
sys.stdout.write("buffered out")
sys.stderr.write("buffered err")
exit_process(int(sys.argv[2]))
print("never printed")
"""


@pytest.mark.parametrize("code", [0, 2, 70])
def test_exit_process_runs_the_handlers_flushes_and_exits_with_the_code(tmp_path: Path, code: int) -> None:
    marker = tmp_path / "marker"
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(marker), str(code)], capture_output=True, text=True, check=False
    )
    assert done.returncode == code
    assert done.stdout == "buffered out"
    assert done.stderr == "buffered err"
    assert marker.read_text() == "handler ran"


def test_exit_code_of_reads_system_exit_as_the_interpreter_does(capsys: pytest.CaptureFixture[str]) -> None:
    assert exit_code_of(SystemExit()) == 0
    assert exit_code_of(SystemExit(None)) == 0
    assert exit_code_of(SystemExit(4)) == 4
    assert capsys.readouterr().err == ""
    assert exit_code_of(SystemExit("no manifest")) == 1
    assert capsys.readouterr().err == "no manifest\n"


def test_the_screen_command_still_exits_with_its_status() -> None:
    version = subprocess.run(
        [sys.executable, "-m", "screening", "--version"], capture_output=True, text=True, check=False
    )
    assert version.returncode == 0
    assert version.stdout.startswith("screening ")
    unknown = subprocess.run(
        [sys.executable, "-m", "screening", "no-such-command"], capture_output=True, text=True, check=False
    )
    assert unknown.returncode == 2
    assert "No such command" in unknown.stderr
