"""Atomic output: a complete new set of files, or the previous set, never a mix.

The new set is written to a hidden sibling folder, flushed to disk, then
swapped with the output folder in one ``renameat2(RENAME_EXCHANGE)`` call on
Linux (two renames elsewhere); the old set is removed afterwards.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import ctypes.util
import errno
import glob
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import stat
import threading
import uuid
import warnings
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final, Literal

import polars as pl
import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

from screening.errors import LeftoverWarning, UsageError
from screening.path_names import file_above, non_utf8_name, unusable_path

try:
    import fcntl
except ImportError:  # not POSIX
    fcntl = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from polars._typing import PolarsDataType

OutputFormat = Literal["parquet", "csv"]
#: Parquet outputs: zstd at its fastest level. On the engine's outputs it writes files within a few
#: per cent of the default level's size in about four fifths of the time (measured on the 1M sample).
PARQUET_CODEC: Final = "zstd"
PARQUET_LEVEL: Final = 1
#: The outputs of a run, each ``<name>.parquet`` or ``<name>.csv`` in the output folder beside ``summary.json``.
OUTPUTS: Final = ("lines", "packages", "components", "flags", "queues", "rejects")
#: Output files written at the same time.
_WRITERS = 3
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _process_space() -> str:
    """This machine's name and its process-id space (on Linux, the pid namespace: containers with one name
    but their own process ids differ), as text."""
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        namespace = ""
    return f"{platform.node()}|{namespace}"


#: Where process ids mean the same process, in staging folder names: runs on other machines (or in other
#: containers) sharing the disk keep their folders.
_HOST_ID: Final = hashlib.sha256(_process_space().encode()).hexdigest()[:8]


def write_frame(frame: pl.DataFrame, path: Path, fmt: OutputFormat) -> Path:
    """Write one frame as ``path.<fmt>``; CSV text that starts like a formula is prefixed with ``'``."""
    target = path.with_suffix(f".{fmt}")
    if fmt == "parquet":
        frame.write_parquet(
            target, compression=PARQUET_CODEC, compression_level=PARQUET_LEVEL, statistics=True
        )
    else:
        csv_ready(frame.lazy()).collect(engine="in-memory").write_csv(target)
    flush_to_disk(target)
    return target


def csv_ready(frame: pl.LazyFrame) -> pl.LazyFrame:
    """``frame`` as CSV holds it: binary columns as lower-case hex, durations as ISO 8601 text (``P1DT2H``),
    decimals as text with every digit of their scale (``210.20``), nested columns (lists, arrays, structs,
    maps) as JSON text (a null one as an empty cell), categories as text, and text (headers too) that starts
    like a spreadsheet formula prefixed with ``'``.

    Decimals are text before they reach the CSV and JSON writers, which follow the process's display
    setting ``pl.Config.set_trim_decimal_zeros`` (``210.2``, ``0``): a host's setting changed the files."""
    schema = frame.collect_schema()
    decimals = [c for c, t in schema.items() if isinstance(t, pl.Decimal)]
    texts = {
        c: as_text
        for c, t in schema.items()
        if c not in decimals and (as_text := _textable(pl.col(c), t)) is not None
    }
    frame = frame.with_columns(as_text.alias(c) for c, as_text in texts.items())
    schema = frame.collect_schema()
    flat = frame.with_columns(
        _as_json(c) for c, t in schema.items() if isinstance(t, pl.List | pl.Array | pl.Struct | pl.Map)
    )
    flat = flat.with_columns(
        pl.col(c).cast(pl.String()) for c, t in schema.items() if isinstance(t, pl.Enum | pl.Categorical)
    )
    neutral = flat.with_columns(
        pl.when(_formula_like(pl.col(c))).then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c)).alias(c)
        for c, t in flat.collect_schema().items()
        if t == pl.String()
    )
    # After the formula check: a negative amount (``-1.50``) is a number, not text that starts like a formula.
    neutral = neutral.with_columns(pl.col(c).cast(pl.String()) for c in decimals)
    # A header is a cell too: an input column named like a formula passes through to the outputs.
    return neutral.rename({c: f"'{c}" for c in neutral.collect_schema().names() if _FORMULA.match(c)})


def write_frames(frames: Mapping[str, pl.DataFrame], folder: Path, fmt: OutputFormat) -> list[Path]:
    """Write each frame as ``folder/<name>.<fmt>``, several at once.

    Encoding one file leaves cores idle (a frame's columns compress in parallel only so far);
    writing the outputs side by side keeps them busy. Each file's bytes are the same as written alone.
    """
    with ThreadPoolExecutor(max_workers=_WRITERS) as pool:
        futures = [pool.submit(write_frame, frame, folder / name, fmt) for name, frame in frames.items()]
        return [future.result() for future in futures]


def _textable(value: pl.Expr, dtype: PolarsDataType) -> pl.Expr | None:
    """``value`` with what neither CSV nor JSON text holds turned into text, at any depth: binary as hex,
    durations as ISO 8601, decimals as text (their writers follow a display setting), map keys other than text
    as text (JSON object keys are text); None when ``value`` needs no change."""
    if isinstance(dtype, pl.Binary | pl.Duration | pl.Decimal):
        return _scalar_text(value, dtype)
    if isinstance(dtype, pl.List | pl.Array):
        return _textable_items(value, dtype)
    if isinstance(dtype, pl.Struct):
        return _textable_fields(value, dtype)
    if isinstance(dtype, pl.Map):
        return _textable_map(value, dtype)
    return None


def _scalar_text(value: pl.Expr, dtype: pl.Binary | pl.Duration | pl.Decimal) -> pl.Expr:
    if isinstance(dtype, pl.Binary):
        return value.bin.encode("hex")
    if isinstance(dtype, pl.Duration):
        return value.dt.to_string("iso")
    return value.cast(pl.String())  # every digit of the scale, whatever pl.Config says


def _textable_items(value: pl.Expr, dtype: pl.List | pl.Array) -> pl.Expr | None:
    inner = _textable(pl.element(), dtype.inner)
    if inner is None:
        return None
    return value.list.eval(inner) if isinstance(dtype, pl.List) else value.arr.eval(inner)


def _textable_fields(value: pl.Expr, dtype: pl.Struct) -> pl.Expr | None:
    fields = {f.name: e for f in dtype.fields if (e := _textable(pl.field(f.name), f.dtype)) is not None}
    return value.struct.with_fields(e.alias(name) for name, e in fields.items()) if fields else None


def _textable_map(value: pl.Expr, dtype: pl.Map) -> pl.Expr | None:
    key = None if _text_keys(dtype) else _as_json_text(pl.field("key"), dtype.key)
    item = _textable(pl.field("value"), dtype.value)
    if key is None and item is None:
        return None
    changed = [e.alias(name) for name, e in (("key", key), ("value", item)) if e is not None]
    entries = value.map.entries().list.eval(pl.element().struct.with_fields(changed))
    return entries.cast(_texted(dtype))


def _as_json_text(value: pl.Expr, dtype: PolarsDataType) -> pl.Expr:
    """A map key as text: nested keys as JSON, others as their text."""
    value = texted if (texted := _textable(value, dtype)) is not None else value
    if isinstance(dtype, pl.List | pl.Array | pl.Struct | pl.Map):
        return _json_text(value)
    return value.cast(pl.String())


def _texted(dtype: PolarsDataType) -> PolarsDataType:
    """The type of :func:`_textable`'s result."""
    if isinstance(dtype, pl.Binary | pl.Duration | pl.Decimal):
        return pl.String()
    if isinstance(dtype, pl.List):
        return pl.List(_texted(dtype.inner))
    if isinstance(dtype, pl.Array):
        return pl.Array(_texted(dtype.inner), dtype.shape)
    if isinstance(dtype, pl.Struct):
        return pl.Struct({f.name: _texted(f.dtype) for f in dtype.fields})
    if isinstance(dtype, pl.Map):
        return pl.Map(dtype.key if _text_keys(dtype) else pl.String(), _texted(dtype.value))
    return dtype


def _text_keys(dtype: pl.Map) -> bool:
    """Whether JSON takes the map's keys as they are (object keys are text)."""
    return isinstance(dtype.key, pl.String | pl.Categorical | pl.Enum)


def _as_json(column: str) -> pl.Expr:
    """A nested column as JSON text (CSV holds no nested data); a null as an empty cell, as every null."""
    value = pl.col(column)
    return pl.when(value.is_not_null()).then(_json_text(value)).alias(column)


def _json_text(value: pl.Expr) -> pl.Expr:
    """``value`` (nested) as JSON text."""
    wrapped = pl.struct(value.alias("v")).struct.json_encode()
    return wrapped.str.strip_prefix('{"v":').str.strip_suffix("}")


#: Text a spreadsheet would take for a formula starts with one of these characters.
FORMULA_START_CHARS: Final = r"[=+\-@\t\r]"
#: Text written with a ``'`` before it: a formula, and text that starts with ``'`` and then a formula character
#: (so that taking one ``'`` off always gives the original back).
_FORMULA_START = rf"^'*{FORMULA_START_CHARS}"
_FORMULA = re.compile(_FORMULA_START)


#: A cell (or header) :func:`csv_ready` prefixed with ``'``: a ``'`` or more, then a formula character.
NEUTRALISED: Final = rf"^'+{FORMULA_START_CHARS}"


def _formula_like(text: pl.Expr) -> pl.Expr:
    return text.str.contains(_FORMULA_START)


def csv_cell(text: pl.Expr) -> pl.Expr:
    """A text cell of a CSV output as the frame held it: the ``'`` that :func:`csv_ready` put before text that
    starts like a formula taken off (``'-123`` is ``-123``, ``''=x`` is ``'=x``); other text as it is."""
    return pl.when(text.str.contains(NEUTRALISED)).then(text.str.slice(1)).otherwise(text)


def write_json(data: Mapping[str, Any], path: Path) -> Path:
    """Write JSON with sorted keys (byte-stable for equal data)."""
    path.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
    flush_to_disk(path)
    return path


def flush_to_disk(path: Path) -> None:
    """Flush a file's (or a folder's entries') bytes to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def output_folder(out: Path) -> Path:
    """``out`` resolved (its symbolic links followed), once it is a path an output folder can have.

    Raises:
        UsageError: the path is not UTF-8 text (which the Parquet and CSV writers cannot take), the system cannot
            look it up (a name over 255 bytes, a path over 4,096, a loop of symbolic links), or a file stands
            where a folder above it must be (``afile/out``).
    """
    if (shown := non_utf8_name(out)) is not None:
        raise UsageError(f"{shown}: the output folder's path is not UTF-8 text: name another folder")
    return usable_resolved(out, "the output folder's path", "name an output folder below a folder")


def usable_resolved(path: Path, what: str, instead: str) -> Path:
    """``path`` resolved (its symbolic links followed), once the system can look it up.

    Raises:
        UsageError: naming ``path`` as ``what`` where the system cannot look it up (a name over 255 bytes, a path
            over 4,096, a loop of symbolic links), or with ``instead`` where a file stands where a folder above it
            must be.
    """
    if (reason := unusable_path(path)) is not None:
        raise UsageError(f"{path}: {what} cannot be used: {reason}")
    if (blocker := file_above(path)) is not None:
        raise UsageError(f"{path}: {blocker} is a file, not a folder: {instead}")
    try:
        return path.resolve()
    except (OSError, RuntimeError) as exc:  # changed since it was looked at (RuntimeError: a loop of links)
        raise UsageError(f"{path}: {what} cannot be used: {exc}") from exc


def check_replaceable(out: Path) -> None:
    """Raise :class:`UsageError` unless ``out`` is absent, an empty folder or an earlier output set
    (``summary.json`` and output files, each a regular file): a run replaces its output folder whole, so a
    folder holding anything else (the manifests, a folder named like an output, ``lines.parquet/`` as a
    dataset, the current folder) is refused before any work, and nothing in it is touched. So is a folder
    that is a mount point (a container's volume), which cannot be swapped with the new set, the current folder
    (the shell would be left in a removed one), and a path that is no output folder's
    (:func:`output_folder`)."""
    output_folder(out)
    if not out.exists():
        return
    if out.is_dir() and os.path.ismount(out):
        raise UsageError(
            f"{out}: the output folder is a mount point, which a run cannot replace (it writes the new set "
            f"beside the folder, then swaps the two): name a folder inside it, e.g. {out / 'screening'}"
        )
    if not out.is_dir():
        raise UsageError(f"{out}: exists and is not a folder")
    if out.resolve() == Path.cwd().resolve():
        raise UsageError(
            f"{out}: the output folder is the current folder, which the run would replace with the new set and "
            f"leave the shell in a removed folder: name a folder inside it (e.g. {out / 'screening'}) or run "
            "from its parent"
        )
    try:
        entries = sorted(out.iterdir())
    except OSError as exc:
        raise UsageError(f"{out}: the output folder cannot be read: {exc.strerror or exc}") from exc
    known = {"summary.json", *(f"{name}.{ext}" for name in OUTPUTS for ext in ("parquet", "csv"))}
    others = [entry.name for entry in entries if entry.name not in known]
    others += [f"{entry.name} ({kind})" for entry in entries if (kind := _not_a_file(entry, known))]
    names = [entry.name for entry in entries]
    if names and (others or "summary.json" not in names):
        shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "") if others else "no summary.json"
        raise UsageError(
            f"{out}: folder exists and is not an earlier output set ({shown}); its files would be replaced: "
            "name a new or empty folder"
        )


def _not_a_file(entry: Path, known: set[str]) -> str | None:
    """What ``entry``, named like an output, is when it is not a regular file (``a folder``); None otherwise."""
    if entry.name not in known:
        return None
    mode = entry.lstat().st_mode
    if stat.S_ISREG(mode):
        return None
    return "a folder" if stat.S_ISDIR(mode) else "a symbolic link" if stat.S_ISLNK(mode) else "not a file"


def refuse_inputs_inside(out: Path, inputs: Sequence[Path], history: Sequence[Path] = ()) -> None:
    """Raise :class:`UsageError` if one of the files ``inputs`` (manifests), or ``history`` (the packages files
    of the history the run read), lies inside the output folder ``out``, which the run replaces whole (an input
    named like an output, ``lines.csv``, would be lost; an earlier day's outputs read as history, replaced by
    this day's)."""
    folder = output_folder(out)
    for what, files in (("input", inputs), ("history", history)):
        inside = [path for path in files if path.resolve().is_relative_to(folder)]
        if inside:
            raise UsageError(
                f"{out}: the output folder holds the {what} {inside[0]}; each run replaces the folder whole: "
                "name another folder"
            )


@contextlib.contextmanager
def output_lock(out: Path, inputs: Sequence[Path] = (), history: Sequence[Path] = ()) -> Iterator[None]:
    """Hold output folder ``out``'s lock while a run writes and publishes its new set: an advisory lock on a
    ``.<name>.lock`` file beside the folder (never in it), taken once ``out`` is found replaceable
    (:func:`check_replaceable`) and free of the ``inputs`` and ``history`` (:func:`refuse_inputs_inside`), and
    removed when the block ends. A file left by a run killed meanwhile is not held: the next run takes it.

    Two runs into one folder each publish a complete set, and the last to finish would replace the other's
    without a word, although it may have started first (yesterday's manifest over today's): the second run
    is refused instead. Where file locks are not available (off POSIX), nothing is locked.

    Raises:
        UsageError: ``out`` cannot be replaced, holds one of ``inputs`` or ``history``, its folder cannot be made,
            or another run holds its lock.
    """
    real = output_folder(out)
    refuse_inputs_inside(out, inputs, history)
    check_replaceable(real)
    if fcntl is None:
        yield
        return
    lock = real.parent / hidden_name(real.name, "lock")
    try:
        real.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{out}: output folder cannot be created: {exc.strerror or exc}") from exc
    try:
        handle = held_lock(lock)
    except BlockingIOError as exc:
        raise UsageError(
            f"{out}: another run is writing this output folder (locked); let it finish, or name another folder"
        ) from exc
    try:
        yield
    finally:
        # Removed while held: a run that opened this file meanwhile finds it gone once it has the lock, and
        # takes the lock of the file there now (held_lock), so that two runs never hold two files' locks.
        with contextlib.suppress(OSError):
            lock.unlink()
        handle.close()


def held_lock(lock: Path) -> IO[bytes]:
    """The open file ``lock`` (made when absent, ``0666`` less the process's umask, so that the other users a
    shared folder's umask lets read it are refused while it is held, not left unable to open it), holding its
    exclusive advisory lock: closing it releases the lock. A file removed by the run that held it, after this one opened
    it, is opened again where it is now. It is opened for reading, which a lock needs (a file left by another
    user, or made read-only, locks as well), and never through a symbolic link (one planted there would have
    the run make or open the file it points to).

    Raises:
        BlockingIOError: another process (or another open of the file) holds the lock.
        UsageError: the file cannot be made or opened (naming it and why), or it is a symbolic link, a folder or
            anything but a file.
    """
    assert fcntl is not None, "file locks are POSIX"
    flags = os.O_RDONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    while True:
        try:
            handle = os.fdopen(os.open(lock, flags, 0o666), "rb")
        except OSError as exc:
            raise UsageError(f"{lock}: the lock file cannot be opened: {_lock_trouble(lock, exc)}") from exc
        try:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise UsageError(f"{lock}: the lock file is not a file: remove it once no run uses it")
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            with contextlib.suppress(FileNotFoundError):
                if os.path.samestat(os.fstat(handle.fileno()), os.lstat(lock)):
                    return handle
        except BaseException:
            handle.close()
            raise
        handle.close()


def _lock_trouble(lock: Path, exc: OSError) -> str:
    """Why lock file ``lock`` could not be opened (``exc``), and what to do."""
    if exc.errno == errno.ELOOP and lock.is_symlink():
        return "it is a symbolic link, which no run makes: remove it once no run uses it"
    reason = exc.strerror or str(exc)
    if exc.errno in (errno.EACCES, errno.EPERM):
        return (
            f"{reason}: another user's run may hold it (or it was made unreadable); remove it only once no run "
            "uses it"
        )
    return reason


def staging_dir(out: Path, inputs: Sequence[Path] = (), history: Sequence[Path] = ()) -> Path:
    """A fresh hidden folder beside ``out`` to write the new set into (``out`` must be replaceable:
    :func:`check_replaceable`, and hold none of the ``inputs`` and ``history``: :func:`refuse_inputs_inside`).

    Its name holds this machine's and process's ids, so that the next run into ``out`` can remove the staging
    folders that runs killed before their cleanup left behind (:func:`remove_stale_staging`).
    """
    real = output_folder(out)
    refuse_inputs_inside(out, inputs, history)
    check_replaceable(real)
    parent = real.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        remove_stale_staging(parent, out.name)
        staging = parent / staging_name(out.name)
        staging.mkdir()
        track_staging(staging)
        if real.is_dir():  # the new set is as closed to others as the one it replaces, from its first byte
            keep_access(staging, real.stat(), folder=True)
    except OSError as exc:
        raise UsageError(f"{out}: output folder cannot be created: {exc.strerror or exc}") from exc
    return staging


#: Staging copies (folders or files) this process made and has neither published nor discarded: removed by
#: :func:`discard_unfinished` (on Ctrl-C, and at exit).
_UNFINISHED: set[Path] = set()


def track_staging(path: Path) -> None:
    """Count ``path`` (a staging copy being written) among the unfinished ones until :func:`discard` or
    :func:`finished` is called on it."""
    _UNFINISHED.add(path)


def finished(path: Path) -> None:
    """``path`` is no longer an unfinished staging copy (renamed into place)."""
    _UNFINISHED.discard(path)


def discard_unfinished() -> None:
    """Remove every staging copy this process left unfinished: a Ctrl-C can land in the middle of a cleanup (one
    Ctrl-C during a polars query raises twice), and this runs once more on the way out (the command's exit after
    Ctrl-C or SIGTERM, and the process's), where a signal that arrives meanwhile is dropped: the process is
    stopping already, with its exit code."""
    with interrupts_held(deliver=False):
        for path in sorted(_UNFINISHED):
            discard(path)


atexit.register(discard_unfinished)


def staging_name(name: str) -> str:
    """A fresh hidden name for the staging copy of ``name`` (a folder or a file), holding this machine's and
    process's ids (:func:`remove_stale_staging`)."""
    return f"{_staging_prefix(name)}{_HOST_ID}-{os.getpid()}-{uuid.uuid4().hex[:12]}"


#: The most bytes of a name kept in the hidden names made from it (staging copies, a state's lock): with what
#: they add (up to about 50 bytes) they stay within the 255 bytes a file name may have.
_NAME_KEPT: Final = 180


def hidden_name(name: str, role: str) -> str:
    """The hidden name ``.<name>.<role>`` of a file or folder made for ``name`` (its staging copy, its lock). A
    name longer than :data:`_NAME_KEPT` bytes is cut there and followed by ``~`` and a digest of the whole, so
    that two long names sharing their start still get names of their own."""
    encoded = name.encode("utf-8", "surrogateescape")
    if len(encoded) > _NAME_KEPT:
        digest = hashlib.sha256(encoded).hexdigest()[:12]
        name = f"{encoded[:_NAME_KEPT].decode('utf-8', 'ignore')}~{digest}"
    return f".{name}.{role}"


def remove_stale_staging(parent: Path, name: str) -> list[Path]:
    """Remove the staging copies (folders or files) of ``name`` in ``parent`` left by runs on this machine
    whose process has ended (killed during their cleanup); the paths removed. A live run's, another
    machine's (on a shared disk) and one of an unknown name are left alone."""
    removed = []
    prefix = _staging_prefix(name)
    for path in sorted(parent.glob(f"{glob.escape(prefix)}*")):
        host, _, rest = path.name.removeprefix(prefix).partition("-")
        pid = rest.partition("-")[0]
        if host == _HOST_ID and pid.isdigit() and not _process_alive(int(pid)):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(path)
    return removed


@contextlib.contextmanager
def interrupts_held(*, deliver: bool = True) -> Iterator[None]:
    """Ctrl-C and SIGTERM held off inside the block (a cleanup), in the main thread; elsewhere, nothing changes.

    One Ctrl-C during a polars query raises twice (from the query, then from the signal still pending):
    the second one cut the cleanup that the first had started, and left its staging folder behind. A signal
    that arrives in the block is noted, and delivered to the handler that was in force before it once the
    block ends (each kind once, in the order they came, as the system keeps a pending signal), so that a
    host's own handler (a service's graceful shutdown) still runs. ``deliver=False``: dropped instead, for
    a cleanup on the way out of the process, which is stopping already. A signal whose handler was not set
    from Python (:func:`signal.getsignal` is None) is left alone: it could not be put back.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    arrived: list[int] = []

    def note(number: int, _frame: object) -> None:
        if number not in arrived:
            arrived.append(number)

    numbers = [n for n in (signal.SIGINT, signal.SIGTERM) if signal.getsignal(n) is not None]
    previous = {number: signal.signal(number, note if deliver else signal.SIG_IGN) for number in numbers}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        _deliver(arrived)


def _deliver(numbers: Sequence[int]) -> None:
    """Raise each signal of ``numbers`` in this process in turn (its handler runs before this returns), each
    even if an earlier one's handler raised (Ctrl-C's does)."""
    if not numbers:
        return
    try:
        signal.raise_signal(numbers[0])
    finally:
        _deliver(numbers[1:])


def _staging_prefix(name: str) -> str:
    return hidden_name(name, "staging-")


def _process_alive(pid: int) -> bool:
    """Whether a process ``pid`` runs on this machine (one we may not signal runs too; off POSIX, where a
    signal 0 is not a probe, every process counts as running)."""
    if os.name != "posix":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def publish(staging: Path, out: Path) -> None:
    """Make ``staging`` the output folder ``out`` atomically, then remove the previous set.

    The new folder and files keep the permissions and group of those they replace (:func:`keep_access`). Once
    the new set is in place, a previous set that cannot be removed (a folder made read-only) is left as it is,
    hidden beside the folder, with a :class:`~screening.errors.LeftoverWarning` naming it: the run published.
    """
    out = output_folder(out)
    check_replaceable(out)  # again: something may have appeared there while the run worked
    if not out.exists():
        os.rename(staging, out)
        finished(staging)
        flush_to_disk(out.parent)
        return
    _keep_set_access(staging, out)
    if _exchange(staging, out):
        _remove_replaced(staging, out)  # the previous set, now at the staging path
        finished(staging)
    else:
        retired = out.parent / f"{hidden_name(out.name, 'retired-')}{uuid.uuid4().hex[:12]}"
        os.rename(out, retired)
        os.rename(staging, out)
        finished(staging)
        _remove_replaced(retired, out)
    flush_to_disk(out.parent)


def keep_access(path: Path, replaced: os.stat_result, *, folder: bool = False) -> None:
    """Give ``path`` (a staging copy) the group and permissions of what it replaces (``replaced``: its
    ``os.stat``), so that an operator's restriction of who may read the outputs or the state (``chmod 600``,
    ``700``) outlives the run. A folder keeps its owner's read, write and search, which the next run needs to
    remove its files. A group the process may not give is left as made."""
    if os.stat(path).st_gid != replaced.st_gid:
        with contextlib.suppress(OSError):
            os.chown(path, -1, replaced.st_gid)
    mode = stat.S_IMODE(replaced.st_mode)
    os.chmod(path, mode | stat.S_IRWXU if folder else mode & 0o777)


def _keep_set_access(staging: Path, out: Path) -> None:
    """The new set in ``staging`` as closed as the set in ``out``: the folder as ``out``, each file as the file
    of its name there (a file with none is closed by the folder)."""
    keep_access(staging, out.stat(), folder=True)
    for new in staging.iterdir():
        with contextlib.suppress(FileNotFoundError):
            old = (out / new.name).lstat()
            if stat.S_ISREG(old.st_mode):
                keep_access(new, old)


def _remove_replaced(previous: Path, out: Path) -> None:
    """Remove the set that the new one in ``out`` replaced (now at ``previous``); one that cannot be removed is
    left there with a :class:`~screening.errors.LeftoverWarning`: the new set is in place."""
    try:
        shutil.rmtree(previous)
    except OSError as exc:
        warnings.warn(
            f"{out}: the new set is in place, but the previous one could not be removed "
            f"({exc.strerror or exc}): it is left at {previous}; remove it by hand",
            LeftoverWarning,
            stacklevel=3,
        )


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically with renameat2 (Linux); False where unsupported."""
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return bool(result == 0)


#: The system's errors that say a disk takes no more: full, over quota, made read-only, or a file at the size
#: limit a process may write (``ulimit -f``).
_NO_ROOM: Final = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG)
#: A file system with less free space than this (to an unprivileged writer) counts as full when a write to it
#: fails: a write that fails for want of room leaves a few blocks at most (none on tmpfs, ext4 or XFS).
FULL_BELOW_BYTES: Final = 1 << 20


@contextlib.contextmanager
def refused_when_full(where: Path, what: str) -> Iterator[None]:
    """Writing files for ``where`` (``what`` it is, for the message), with a full disk reported as the
    :class:`UsageError` it is (exit 2, as an unwritable folder is) naming ``where`` and the system's reason,
    instead of an internal error. It is recognised in an :class:`OSError`'s errno, and in the text of the
    errors polars and pyarrow raise for it (``No space left on device (os error 28)``), at any depth of
    their causes; or, for an error of the system, polars or pyarrow that names no reason (polars writing a
    Parquet footer on a full disk says ``Invalid thrift: transport error``), by ``where``'s file system
    being full or read-only as the error arrives (:func:`full_file_system`), before the caller removes its
    staging copy, as after any failure.
    """
    try:
        yield
    except UsageError:
        raise
    except Exception as exc:
        reason = _no_room(exc)
        if reason is None and (number := _unnamed_full(exc, where)) is not None:
            reason = os.strerror(number)
        if reason is None:
            raise
        raise UsageError(f"{where}: {what} cannot be written: {reason}") from exc


@contextlib.contextmanager
def full_disk_named(where: Path) -> Iterator[None]:
    """Inside the block, an error of the system, polars or pyarrow that names no reason is raised again as
    the :class:`OSError` of a full (or read-only) disk, from it, when ``where``'s file system is so as the error
    arrives (:func:`full_file_system`). For a block that frees room as it fails (one that removes its
    temporary files on the way out), around the writes and inside that removal."""
    try:
        yield
    except Exception as exc:
        if _no_room(exc) is None and (number := _unnamed_full(exc, where)) is not None:
            raise OSError(number, os.strerror(number), str(where)) from exc
        raise


def full_file_system(where: Path) -> int | None:
    """``errno.ENOSPC`` when the file system that holds ``where`` (a file or folder, or the nearest folder
    above it that exists) is full: less than :data:`FULL_BELOW_BYTES` free to an unprivileged writer, or no
    free inode; ``errno.EROFS`` when it is mounted read-only; None otherwise, or where that cannot be told."""
    place = where
    while not place.exists() and place.parent != place:
        place = place.parent
    try:
        system = os.statvfs(place)
    except (OSError, AttributeError):  # AttributeError: no statvfs (off POSIX)
        return None
    if system.f_flag & os.ST_RDONLY:
        return errno.EROFS
    if system.f_bavail * system.f_frsize < FULL_BELOW_BYTES or (system.f_files and not system.f_favail):
        return errno.ENOSPC
    return None


def _unnamed_full(exc: BaseException, where: Path) -> int | None:
    """For an error of the system, polars or pyarrow (as a failed write raises; not one of the engine's own, even
    if raised from one of theirs: a broken invariant stays an internal error), what :func:`full_file_system` says
    of ``where``; None for any other error."""
    if not isinstance(exc, OSError | pl.exceptions.PolarsError | pa.ArrowException):
        return None
    return full_file_system(where)


def _no_room(exc: BaseException) -> str | None:
    """The system's words when ``exc``, or an error it was raised from, says the disk takes no more."""
    seen: set[int] = set()
    error: BaseException | None = exc
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, OSError) and error.errno in _NO_ROOM:
            return os.strerror(error.errno)
        text = str(error)
        for number in _NO_ROOM:
            if os.strerror(number) in text or f"os error {number})" in text:
                return os.strerror(number)
        error = error.__cause__ or error.__context__
    return None


def discard(staging: Path) -> None:
    """Remove an unfinished staging folder or file (after a failure), whatever Ctrl-C says meanwhile."""
    with interrupts_held():
        if staging.is_dir():
            shutil.rmtree(staging, ignore_errors=True)
        else:
            staging.unlink(missing_ok=True)
        _UNFINISHED.discard(staging)
