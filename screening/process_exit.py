"""End a command-line process without tearing down native thread pools.

Arrow's C++ thread pools (and DuckDB's) can still hold a live worker when CPython finalises the interpreter:
the process then aborts in ``std::terminate`` (``terminate called without an active exception``, exit -6)
after its work is done and its exit code chosen, now and then (apache/arrow#34314). A command-line process
runs its exit handlers, flushes its streams and leaves with :func:`os._exit`, which skips that teardown.
Only for a process's own entry point: never call it from a library function.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
from typing import NoReturn


def exit_code_of(exc: SystemExit) -> int:
    """The exit status :class:`SystemExit` ``exc`` stands for, as the interpreter would give it (a message
    printed to stderr and status 1 for text)."""
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def exit_process(code: int) -> NoReturn:
    """Run the exit handlers, flush stdout and stderr, and end the process with ``code`` at once."""
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        # A closed stream, or a reader that went away: nothing more can be said on it.
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)
