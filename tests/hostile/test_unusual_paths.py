"""Paths an operator's system hands the engine: names with glob characters, names that are not UTF-8, an output
folder that is a mount point, a state reached through a symbolic link, very long names, a full disk.

Each is either read as named or refused before any work with the documented exit code, naming the path; none
is an internal error (exit 70) found after the run's work.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

import screening
from screening.cli import main
from screening.result import OUTPUTS
from screening.screener import screen_files_in_batches

from ..conftest import OUTPUT_FILES, SAMPLE, US_PACK

SAMPLE_10K = SAMPLE / "manifest_10k.parquet"


def _write(frame: pl.DataFrame, path: Path) -> Path:
    if path.suffix == ".csv":
        frame.write_csv(path)
    elif path.suffix == ".ndjson":
        frame.write_ndjson(path)
    else:
        frame.write_parquet(path)
    return path


def _lines(manifest: Callable[..., pl.DataFrame], count: int, prefix: str) -> pl.DataFrame:
    return manifest(*({"package_id": f"{prefix}{n}"} for n in range(count)))


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".ndjson"])
def test_an_existing_file_with_brackets_in_its_name_is_read_as_written(
    tmp_path: Path, manifest: Callable[..., pl.DataFrame], us_pack: screening.RulePack, suffix: str
) -> None:
    """``hour[09].parquet`` was taken for a pattern: with ``hour9.parquet`` beside it, the run screened that
    file instead (exit 0), and alone it was refused as "no file matches this pattern"."""
    named = _write(_lines(manifest, 3, "B"), tmp_path / f"hour[09]{suffix}")
    _write(_lines(manifest, 1, "N"), tmp_path / f"hour9{suffix}")
    result = screening.screen(str(named), rules=us_pack)
    assert [entry["source"] for entry in result.summary["inputs"]] == [str(named)]
    assert sorted(result.packages["package_id"]) == ["B0", "B1", "B2"]
    (tmp_path / f"hour9{suffix}").unlink()
    alone = screening.screen(str(named), rules=us_pack)
    assert alone.summary["counts"]["input_rows"] == 3


def test_a_bracketed_file_is_read_as_written_in_batches(
    tmp_path: Path, manifest: Callable[..., pl.DataFrame]
) -> None:
    named = _write(_lines(manifest, 3, "B"), tmp_path / "hour[09].parquet")
    _write(_lines(manifest, 1, "N"), tmp_path / "hour9.parquet")
    summary, _ = screen_files_in_batches([str(named)], out=tmp_path / "out", batch_size=2, rules=US_PACK)
    assert summary["counts"]["input_rows"] == 3
    assert sorted(pl.read_parquet(tmp_path / "out" / "packages.parquet")["package_id"]) == ["B0", "B1", "B2"]


def test_a_folder_with_brackets_in_its_name_is_read_as_a_folder(
    tmp_path: Path, manifest: Callable[..., pl.DataFrame], us_pack: screening.RulePack
) -> None:
    folder = tmp_path / "br[1]"
    folder.mkdir()
    _write(_lines(manifest, 2, "F"), folder / "a.parquet")
    result = screening.screen(str(folder), rules=us_pack)
    assert result.summary["counts"]["input_rows"] == 2


def test_a_pattern_that_names_no_existing_path_is_still_expanded(
    tmp_path: Path, manifest: Callable[..., pl.DataFrame], us_pack: screening.RulePack
) -> None:
    _write(_lines(manifest, 1, "N"), tmp_path / "hour9.parquet")
    _write(_lines(manifest, 2, "T"), tmp_path / "hour10.parquet")
    result = screening.screen(str(tmp_path / "hour[09].parquet"), rules=us_pack)
    assert [entry["source"] for entry in result.summary["inputs"]] == [str(tmp_path / "hour9.parquet")]
    with pytest.raises(screening.InputSchemaError, match="no file matches this pattern"):
        screening.screen(str(tmp_path / "hour[78].parquet"), rules=us_pack)


def _undecodable(folder: Path, name: bytes) -> Path:
    """``folder/name`` for a ``name`` that is not UTF-8 (as Python holds it: surrogate escapes)."""
    return folder / os.fsdecode(name)


def test_an_input_whose_name_is_not_utf8_is_refused_naming_it(
    tmp_path: Path, manifest: Callable[..., pl.DataFrame], capsys: pytest.CaptureFixture[str]
) -> None:
    """A file named in Latin-1 (``Zoll\\xfc.parquet``) crashed the run with exit 70 (UnicodeEncodeError)."""
    path = _undecodable(tmp_path, b"Zoll\xfc.parquet")
    with path.open("wb") as handle:  # polars takes no such name
        _lines(manifest, 1, "Z").write_parquet(handle)
    for spec in (path, tmp_path):  # named, and found in its folder
        with pytest.raises(SystemExit) as stopped:
            main.main(["run", str(spec), "--rules", str(US_PACK), "--out", str(tmp_path / "out"), "-q"])
        assert stopped.value.code == 3
        message = " ".join(capsys.readouterr().err.split())
        assert "Zoll\\xfc.parquet" in message
        assert "not UTF-8" in message
    assert not (tmp_path / "out").exists()


def test_an_output_folder_whose_name_is_not_utf8_is_refused_before_any_work(
    tmp_path: Path, manifest: Callable[..., pl.DataFrame], capsys: pytest.CaptureFixture[str]
) -> None:
    """The run crashed with exit 70 (UnicodeEncodeError) writing its first output."""
    source = _write(_lines(manifest, 1, "Z"), tmp_path / "day.parquet")
    out = _undecodable(tmp_path, b"Zoll\xfc")
    for batches in ([], ["--batch-size", "10"]):
        with pytest.raises(SystemExit) as stopped:
            main.main(["run", str(source), "--rules", str(US_PACK), "--out", str(out), "-q", *batches])
        assert stopped.value.code == 2
        message = " ".join(capsys.readouterr().err.split())
        assert "Zoll\\xfc" in message
        assert "not UTF-8" in message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["day.parquet"]


def _history_folder(tmp_path: Path, manifest: Callable[..., pl.DataFrame], name: bytes) -> Path:
    """An earlier run's output folder, renamed to ``name``."""
    source = _write(_lines(manifest, 2, "E"), tmp_path / "earlier.parquet")
    screening.screen_to_folder(str(source), tmp_path / "earlier", rules=US_PACK)
    return (tmp_path / "earlier").rename(_undecodable(tmp_path, name))


@pytest.mark.parametrize("options", [[], ["--batch-size", "10"]])
def test_a_history_whose_path_is_not_utf8_is_refused_naming_it(
    tmp_path: Path,
    manifest: Callable[..., pl.DataFrame],
    capsys: pytest.CaptureFixture[str],
    options: list[str],
) -> None:
    """A ``--history`` folder or packages file named in Latin-1 crashed the run with exit 70 (polars'
    "TypeError: Object does not have a .read() method"), naming nothing."""
    folder = _history_folder(tmp_path, manifest, b"fr\xfcher")
    packages = (folder / "packages.parquet").rename(_undecodable(tmp_path, b"Pakete-fr\xfcher.parquet"))
    (folder / "packages.parquet").write_bytes(packages.read_bytes())
    source = _write(_lines(manifest, 1, "Z"), tmp_path / "day.parquet")
    out = tmp_path / "out"
    for history, shown in ((folder, "fr\\xfcher"), (packages, "Pakete-fr\\xfcher.parquet")):
        args = ["run", str(source), "--rules", str(US_PACK), "--out", str(out), "--history", str(history)]
        with pytest.raises(SystemExit) as stopped:
            main.main([*args, "-q", *options])
        assert stopped.value.code == 3
        message = " ".join(capsys.readouterr().err.split())
        assert shown in message
        assert "--history" in message
        assert "not UTF-8" in message
        assert "Traceback" not in message
    assert not out.exists()


def test_the_python_api_refuses_a_history_whose_path_is_not_utf8(
    tmp_path: Path, manifest: Callable[..., pl.DataFrame], us_pack: screening.RulePack
) -> None:
    """``screen(..., history=[...])`` and ``Screener(history=[...])`` raised polars' internal TypeError."""
    folder = _history_folder(tmp_path, manifest, b"fr\xfcher")
    day = _lines(manifest, 1, "Z")
    for call in (
        lambda: screening.screen(day, rules=us_pack, history=[folder]),
        lambda: screening.Screener(us_pack, history=[folder]),
    ):
        with pytest.raises(screening.InputSchemaError, match=r"fr\\xfcher'?: .*not UTF-8") as refused:
            call()
        assert refused.value.exit_code == 3


def test_a_rule_pack_whose_path_is_not_utf8_is_refused_naming_it(
    tmp_path: Path, manifest: Callable[..., pl.DataFrame], capsys: pytest.CaptureFixture[str]
) -> None:
    """A ``--rules`` folder named in Latin-1 crashed every command that loads it with exit 70 (polars'
    "TypeError: Object does not have a .read() method" reading the pack's tables), naming nothing."""
    pack = _undecodable(tmp_path, b"Regeln-\xfc")
    pack.symlink_to(US_PACK, target_is_directory=True)
    source = _write(_lines(manifest, 1, "Z"), tmp_path / "day.parquet")
    out = tmp_path / "out"
    for args in (
        ["run", str(source), "--rules", str(pack), "--out", str(out), "-q"],
        ["run", str(source), "--rules", str(pack), "--out", str(out), "-q", "--batch-size", "10"],
        ["rules", "check", str(pack)],
        ["rules", "show", str(pack), "--date", "2025-06-10"],
    ):
        with pytest.raises(SystemExit) as stopped:
            main.main(args)
        assert stopped.value.code == 4, args
        message = " ".join(capsys.readouterr().err.split())
        assert "Regeln-\\xfc" in message
        assert "--rules" in message
        assert "not UTF-8" in message
        assert "Traceback" not in message
    assert not out.exists()
    with pytest.raises(screening.RulePackError, match="not UTF-8"):
        screening.load_rules(pack)


def test_explain_refuses_a_run_folder_whose_path_is_not_utf8(
    tmp_path: Path, manifest: Callable[..., pl.DataFrame], capsys: pytest.CaptureFixture[str]
) -> None:
    """``screen explain --run`` on an output folder renamed in Latin-1 crashed with exit 70 (polars'
    "TypeError: Object does not have a .read() method" reading its packages)."""
    folder = _history_folder(tmp_path, manifest, b"Lauf-\xfc")
    with pytest.raises(SystemExit) as stopped:
        main.main(["explain", "E0", "--run", str(folder)])
    assert stopped.value.code == 2
    message = " ".join(capsys.readouterr().err.split())
    assert "Lauf-\\xfc" in message
    assert "--run" in message
    assert "not UTF-8" in message


def test_the_import_and_generate_commands_refuse_paths_that_are_not_utf8(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``rules import-sdn`` and ``rules import-hts`` given an export, and ``import-sdn`` and ``generate`` given an
    ``--out``, whose path is not UTF-8 crashed with exit 70 (polars' "TypeError: Object does not have a .read()
    method")."""
    folder = _undecodable(tmp_path, b"Daten-\xfc")
    folder.mkdir()
    good_sdn = tmp_path / "sdn.csv"  # never read: the --out path is refused first
    good_sdn.write_text("")
    for args, code in (
        (["rules", "import-sdn", str(folder / "sdn.csv"), "--out", str(tmp_path / "list.csv")], 4),
        (["rules", "import-sdn", str(good_sdn), "--out", str(folder / "list.csv")], 2),
        (
            [
                "rules",
                "import-hts",
                str(folder / "hts.json"),
                "--revision",
                "r",
                "--effective-from",
                "2026-01-01",
            ],
            4,
        ),
        (["generate", "--rows", "5", "--out", str(folder / "m.parquet")], 2),
    ):
        with pytest.raises(SystemExit) as stopped:
            main.main(args)
        assert stopped.value.code == code, args
        message = " ".join(capsys.readouterr().err.split())
        assert "Daten-\\xfc" in message, args
        assert "not UTF-8" in message, args
        assert "Traceback" not in message


def test_a_state_and_a_mapping_whose_paths_are_not_utf8_are_used_as_named(
    tmp_path: Path, manifest: Callable[..., pl.DataFrame]
) -> None:
    """Python's own file calls take such names (unlike polars' and pyarrow's readers): a ``--state`` is saved,
    locked and resumed under its own bytes, and a ``--mapping`` is read."""
    state = _undecodable(tmp_path, b"Tag-\xfc.state")
    mapping = _undecodable(tmp_path, b"Zuordnung-\xfc.toml")
    mapping.write_text('[columns]\npackage_id = "Sendung"\n', encoding="utf-8")
    summaries = []
    for hour in range(2):
        day = _lines(manifest, 2, f"S{hour}-").rename({"package_id": "Sendung"})
        source = _write(day, tmp_path / f"h{hour}.parquet")
        summary, _ = screen_files_in_batches(
            [source],
            out=tmp_path / f"out{hour}",
            batch_size=1,
            rules=US_PACK,
            state_path=state,
            mapping=mapping,
        )
        assert summary["counts"]["input_rows"] == 2
        summaries.append(summary["options"])
    assert summaries[0]["resumed_state"] == "none (a new state)"
    assert summaries[1]["resumed_batches"] == summaries[0]["batches"]
    assert summaries[1]["resumed_rows"] == "2"
    assert sorted(os.listdir(os.fsencode(tmp_path))) == sorted(
        [
            b".Tag-\xfc.state.lock",
            b"Tag-\xfc.state",
            b"Zuordnung-\xfc.toml",
            b"h0.parquet",
            b"h1.parquet",
            b"out0",
            b"out1",
        ]
    )
    assert screening.Screener.restore(state, US_PACK, mapping=mapping).totals().height >= 1


def test_an_output_folder_that_is_a_mount_point_is_refused_before_any_work(
    tmp_path: Path, manifest: Callable[..., pl.DataFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A container's volume given as ``--out`` failed only after the whole run (exit 70: renaming a mount
    point is "Device or resource busy")."""
    source = _write(_lines(manifest, 1, "M"), tmp_path / "day.parquet")
    volume = tmp_path / "volume"
    volume.mkdir()
    mounted = os.path.ismount
    monkeypatch.setattr(os.path, "ismount", lambda path: Path(path) == volume or mounted(path))
    with pytest.raises(screening.UsageError, match=r"is a mount point.*name a folder inside it"):
        screening.screen_to_folder(str(source), volume, rules=US_PACK)
    with pytest.raises(screening.UsageError, match="is a mount point"):
        screen_files_in_batches([source], out=volume, batch_size=10, rules=US_PACK)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["day.parquet", "volume"]
    assert not any(volume.iterdir())


def test_a_state_reached_through_a_link_is_locked_and_replaced_as_its_file(tmp_path: Path) -> None:
    """The lock was named from the link (``.current.state.lock``), so a run naming the link and one naming the
    file both took the state; and a save replaced the link by a file."""
    from screening.io.state_file import state_lock

    real = tmp_path / "day-0610.state"
    screening.Screener(US_PACK).save_state(real)
    link = tmp_path / "current.state"
    link.symlink_to(real.name)
    for held, taken in ((link, real), (real, link)):
        with state_lock(held), pytest.raises(screening.UsageError, match="another run is using this state"):
            screen_files_in_batches(
                [SAMPLE_10K], out=tmp_path / "out", batch_size=10, rules=US_PACK, state_path=taken
            )
    assert not (tmp_path / "out").exists()
    screening.Screener(US_PACK).save_state(link)
    assert link.is_symlink()
    assert os.readlink(link) == real.name
    assert sorted(p.name for p in tmp_path.iterdir()) == [".day-0610.state.lock", "current.state", real.name]
    screening.Screener.restore(link, US_PACK)


def _full_disk(*_args: object, **_kwargs: object) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _full_disk_in_polars(*_args: object, **_kwargs: object) -> None:
    raise pl.exceptions.ComputeError(
        "parquet: File out of specification: underlying IO error: No space left on device (os error 28)"
    )


@pytest.mark.parametrize(
    ("options", "writer", "fault"),
    [
        ([], "screening.io.writers.write_frame", _full_disk),
        (["--format", "csv"], "screening.io.writers.write_frame", _full_disk),
        (["--batch-size", "10"], "screening.io.streaming_output.StreamingOutput._write_batch", _full_disk),
        (["--batch-size", "10"], "screening.screener.write_sorted", _full_disk_in_polars),
        (["--part-lines", "2"], "screening.folder_run.write_sorted", _full_disk_in_polars),
    ],
)
def test_a_full_disk_while_writing_outputs_exits_2_naming_the_folder(
    tmp_path: Path,
    manifest: Callable[..., pl.DataFrame],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    options: list[str],
    writer: str,
    fault: Callable[..., None],
) -> None:
    """A full disk while the outputs were written was an internal error (exit 70), where the README gives
    exit 2 for an output folder that cannot be written."""
    source = _write(_lines(manifest, 4, "D"), tmp_path / "day.parquet")
    monkeypatch.setattr(writer, fault)
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as stopped:
        main.main(["run", str(source), "--rules", str(US_PACK), "--out", str(out), "-q", *options])
    assert stopped.value.code == 2
    message = " ".join(capsys.readouterr().err.split())
    assert f"{out}: the output folder cannot be written: No space left on device" in message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["day.parquet"]  # no staging left


#: What polars says when the disk fills while it writes a Parquet file's footer: no reason named.
_UNNAMED = "parquet: File out of specification: Invalid thrift: transport error"


def _unnamed_write_failure(*_args: object, **_kwargs: object) -> None:
    raise pl.exceptions.ComputeError(_UNNAMED)


def _file_system(*, free_blocks: int, read_only: bool = False) -> os.statvfs_result:
    """What ``os.statvfs`` says of a file system of 4 KiB blocks with ``free_blocks`` free."""
    flag = os.ST_RDONLY if read_only else 0
    return os.statvfs_result((4096, 4096, 100_000, free_blocks, free_blocks, 1000, 900, 900, flag, 255))


@pytest.mark.parametrize(
    ("options", "writer"),
    [
        ([], "screening.io.writers.write_frame"),
        (["--part-lines", "2"], "screening.folder_run.write_sorted"),
        (["--part-lines", "2"], "polars.LazyFrame.sink_parquet"),  # the validation pass's temporary files
        (["--batch-size", "10"], "screening.screener.write_sorted"),
    ],
)
@pytest.mark.parametrize(
    ("system", "reason"),
    [
        (_file_system(free_blocks=0), "No space left on device"),
        (_file_system(free_blocks=10**6, read_only=True), "Read-only file system"),
    ],
)
def test_a_full_disk_whose_error_names_no_reason_exits_2(
    tmp_path: Path,
    manifest: Callable[..., pl.DataFrame],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    options: list[str],
    writer: str,
    system: os.statvfs_result,
    reason: str,
) -> None:
    """Polars filling the disk as it wrote a Parquet footer said only "Invalid thrift: transport error": the
    run was an internal error (exit 70) in 7 runs of 10, not exit 2 naming the output folder."""
    source = _write(_lines(manifest, 4, "D"), tmp_path / "day.parquet")
    monkeypatch.setattr(writer, _unnamed_write_failure)
    monkeypatch.setattr(os, "statvfs", lambda _path: system)
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as stopped:
        main.main(["run", str(source), "--rules", str(US_PACK), "--out", str(out), "-q", *options])
    assert stopped.value.code == 2
    message = " ".join(capsys.readouterr().err.split())
    assert f"cannot be written: {reason}" in message
    assert message.startswith(
        (f"error: {out}: ", f"error: {tmp_path}/.out.staging-")
    )  # or its temporary files
    assert sorted(p.name for p in tmp_path.iterdir()) == ["day.parquet"]  # no staging left


def test_a_failed_write_with_room_left_stays_an_internal_error(
    tmp_path: Path,
    manifest: Callable[..., pl.DataFrame],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The disk is looked at only to tell why a write failed: with room on it, the failure is not called a
    full disk."""
    source = _write(_lines(manifest, 4, "D"), tmp_path / "day.parquet")
    monkeypatch.setattr("screening.io.writers.write_frame", _unnamed_write_failure)
    monkeypatch.setattr(os, "statvfs", lambda _path: _file_system(free_blocks=10**6))
    with pytest.raises(SystemExit) as stopped:
        main.main(["run", str(source), "--rules", str(US_PACK), "--out", str(tmp_path / "out"), "-q"])
    assert stopped.value.code == 70
    assert _UNNAMED in " ".join(capsys.readouterr().err.split())


def test_the_disk_is_looked_at_before_a_sort_removes_its_temporary_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sort that fails removes its spilled chunks, which makes room again: the disk is looked at first."""
    from screening.io.appending import AppendingFiles
    from screening.io.sorting import write_sorted

    source = tmp_path / "rows.parquet"
    pl.DataFrame({"key": [3, 1, 2, 5, 4]}).write_parquet(source)

    def full_while_spilled(path: str | Path) -> os.statvfs_result:
        spilled = any(".sorting-" in p.name for p in Path(path).iterdir()) if Path(path).is_dir() else False
        return _file_system(free_blocks=0 if spilled else 10**6)

    monkeypatch.setattr(AppendingFiles, "append", _unnamed_write_failure)
    monkeypatch.setattr(os, "statvfs", full_while_spilled)
    with pytest.raises(OSError, match="No space left on device") as raised:
        write_sorted([source], tmp_path / "sorted", "parquet", ["key"], groups=1, chunk_rows=2, whole_rows=0)
    assert raised.value.errno == errno.ENOSPC
    assert not [p for p in tmp_path.iterdir() if ".sorting-" in p.name]


def test_a_full_disk_while_saving_a_state_exits_2_and_keeps_the_previous_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "day.state"
    screening.Screener(US_PACK).save_state(state)
    before = state.read_bytes()
    monkeypatch.setattr(os, "fsync", _full_disk)
    with pytest.raises(screening.UsageError, match=f"{state}: the state cannot be written: No space left"):
        screening.Screener(US_PACK).save_state(state)
    assert state.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["day.state"]


def test_a_long_output_folder_name_is_written_and_replaced(
    tmp_path: Path, manifest: Callable[..., pl.DataFrame]
) -> None:
    """A 230-character folder name (255 are allowed) was refused "File name too long": the staging folder's
    name added about 40 characters to it."""
    out = tmp_path / ("o" * 230)
    state = tmp_path / ("s" * 250)
    for hour in range(2):  # written, then replaced
        source = _write(_lines(manifest, 2, f"L{hour}-"), tmp_path / f"hour{hour}.parquet")
        screening.screen_to_folder(str(source), out, rules=US_PACK, part_lines=1)
        assert {p.name for p in out.iterdir()} == OUTPUT_FILES
        screen_files_in_batches([source], out=out, batch_size=1, rules=US_PACK, state_path=state)
        assert {p.name for p in out.iterdir()} == OUTPUT_FILES
    assert not [p.name for p in tmp_path.iterdir() if ".staging-" in p.name]


def test_long_names_get_staging_names_of_their_own_that_a_later_run_cleans_up(tmp_path: Path) -> None:
    from screening.io.writers import remove_stale_staging, staging_name

    first, second = "x" * 240 + "-first", "x" * 240 + "-second"
    assert staging_name(first)[:200] != staging_name(second)[:200]
    assert max(len(staging_name(first)), len(staging_name(second))) <= 255
    # Copies left by an ended process (no process has an id past Linux's limit, 4194304).
    leftover = tmp_path / staging_name(first).replace(f"-{os.getpid()}-", "-4194305-")
    leftover.mkdir()
    kept = tmp_path / staging_name(second).replace(f"-{os.getpid()}-", "-4194305-")
    kept.mkdir()
    assert remove_stale_staging(tmp_path, first) == [leftover]
    assert [p.name for p in tmp_path.iterdir()] == [kept.name]


@pytest.mark.parametrize("options", [[], ["--format", "csv"], ["--batch-size", "2"], ["--part-lines", "2"]])
def test_an_output_folder_with_brackets_in_its_name_is_written(
    tmp_path: Path, manifest: Callable[..., pl.DataFrame], options: list[str]
) -> None:
    """Polars took the run's own files in ``.o[1].staging-…`` for glob patterns: the batch run stopped with
    exit 70 ("expanded paths were empty"), a run in parts with exit 3 blaming the input."""
    source = _write(_lines(manifest, 4, "O"), tmp_path / "day.parquet")
    out = tmp_path / "o[1]"
    with pytest.raises(SystemExit) as stopped:
        main.main(["run", str(source), "--rules", str(US_PACK), "--out", str(out), "-q", *options])
    assert stopped.value.code == 0
    fmt = "csv" if "csv" in options else "parquet"
    assert {p.name for p in out.iterdir()} == {f"{n}.{fmt}" for n in OUTPUTS} | {"summary.json"}


def test_a_run_folder_and_a_pack_with_brackets_in_their_names_are_read_as_named(
    tmp_path: Path, manifest: Callable[..., pl.DataFrame], capsys: pytest.CaptureFixture[str]
) -> None:
    """``screen explain --run``, ``--history`` and a pack's own tables were read through polars' glob
    expansion: a folder named ``o[1]`` or ``rules[2]`` matched nothing and was reported missing or damaged."""
    source = _write(_lines(manifest, 2, "H"), tmp_path / "day.parquet")
    pack = tmp_path / "rules[2]"
    pack.symlink_to(US_PACK, target_is_directory=True)
    out = tmp_path / "o[1]"
    later = tmp_path / "later"
    for args in (
        ["run", str(source), "--rules", str(pack), "--out", str(out), "-q"],
        ["run", str(source), "--rules", str(pack), "--out", str(later), "--history", str(out), "-q"],
        ["explain", "H0", "--run", str(out)],
    ):
        with pytest.raises(SystemExit) as stopped:
            main.main(args)
        assert stopped.value.code == 0, args
    assert "H0" in capsys.readouterr().out
    assert screening.load_rules(pack).content_hash == screening.load_rules(US_PACK).content_hash


def _path_cases(tmp_path: Path) -> dict[str, Path]:
    """Paths the system refuses to look up: a name over 255 bytes, a path over 4,096 bytes, a loop of links."""
    (tmp_path / "loopA").symlink_to("loopB")
    (tmp_path / "loopB").symlink_to("loopA")
    return {
        "long_name": tmp_path / ("n" * 300),
        "long_path": tmp_path.joinpath(*["d" * 250] * 17) / "out",
        "link_loop": tmp_path / "loopA",
    }


@pytest.mark.parametrize("case", ["long_name", "long_path", "link_loop"])
@pytest.mark.parametrize(
    ("role", "code"),
    [("out", 2), ("out_in_batches", 2), ("state", 2), ("input", 3), ("history", 3), ("rules", 4), ("run", 2)],
)
def test_a_path_the_system_cannot_look_up_exits_with_its_code_naming_it(
    tmp_path: Path,
    manifest: Callable[..., pl.DataFrame],
    capsys: pytest.CaptureFixture[str],
    case: str,
    role: str,
    code: int,
) -> None:
    """A name over 255 bytes (or a path over 4,096) was an internal error (exit 70, ``OSError: File name too
    long``) wherever it was given, and a loop of symbolic links as ``--out`` or ``--state`` one too
    (``RuntimeError: Symlink loop``): the output and state are exit 2, an input and the history 3, the pack 4."""
    source = _write(_lines(manifest, 2, "P"), tmp_path / "day.parquet")
    path = _path_cases(tmp_path)[case]
    out = tmp_path / "out"
    run = ["run", str(source), "--rules", str(US_PACK), "--out", str(out), "-q"]
    args = {
        "out": ["run", str(source), "--rules", str(US_PACK), "--out", str(path), "-q"],
        "out_in_batches": ["run", str(source), "--out", str(path), "--batch-size", "1", "-q"],
        "state": [*run, "--batch-size", "1", "--state", str(path)],
        "input": ["run", str(path), "--rules", str(US_PACK), "--out", str(out), "-q"],
        "history": [*run, "--history", str(path)],
        "rules": ["run", str(source), "--rules", str(path), "--out", str(out), "-q"],
        "run": ["explain", "P0", "--run", str(path)],
    }[role]
    with pytest.raises(SystemExit) as stopped:
        main.main(args)
    message = " ".join(capsys.readouterr().err.split())
    assert stopped.value.code == code, message
    assert "internal error" not in message
    assert str(path)[:40] in message
    if case != "link_loop" or role in ("out", "out_in_batches", "state"):
        reason = "Too many levels of symbolic links" if case == "link_loop" else "File name too long"
        assert reason in message
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["day.parquet", "loopA", "loopB"])


def test_the_python_api_refuses_output_and_state_paths_the_system_cannot_look_up(tmp_path: Path) -> None:
    """``screen_to_folder``, ``Result.write``, ``Screener.save_state`` and a batch run: a ``UsageError`` naming
    the path, not an ``OSError`` or ``RuntimeError``."""
    result = screening.screen(SAMPLE_10K, rules=US_PACK)
    for path in _path_cases(tmp_path).values():
        with pytest.raises(screening.UsageError, match="cannot be used"):
            result.write(path)
        with pytest.raises(screening.UsageError, match="cannot be used"):
            screening.screen_to_folder(SAMPLE_10K, path, rules=US_PACK)
        with pytest.raises(screening.UsageError, match="cannot be used"):
            screening.Screener(US_PACK).save_state(path)
        with pytest.raises(screening.UsageError, match="cannot be used"):
            screen_files_in_batches([SAMPLE_10K], out=path, batch_size=5000, rules=US_PACK)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["loopA", "loopB"]


def test_an_output_or_state_below_a_file_is_refused_naming_the_file(
    tmp_path: Path, manifest: Callable[..., pl.DataFrame], capsys: pytest.CaptureFixture[str]
) -> None:
    """``--out afile/sub`` said "output folder cannot be created: File exists", and ``--state afile/day.state``
    "the state's folder does not exist": the file in the way is named."""
    source = _write(_lines(manifest, 2, "P"), tmp_path / "day.parquet")
    blocker = tmp_path / "afile"
    blocker.write_text("not a folder")
    for extra in (
        ["--out", str(blocker / "sub")],
        ["--out", str(blocker / "sub" / "deeper")],
        ["--out", str(tmp_path / "out"), "--batch-size", "1", "--state", str(blocker / "day.state")],
    ):
        with pytest.raises(SystemExit) as stopped:
            main.main(["run", str(source), "--rules", str(US_PACK), "-q", *extra])
        assert stopped.value.code == 2
        message = " ".join(capsys.readouterr().err.split())
        assert f"{blocker} is a file, not a folder" in message, message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "day.parquet"]


def _no_larger_files(limit: int) -> None:
    """In a child: writing a file past ``limit`` bytes fails with ``File too large`` (``ulimit -f``), not a
    signal."""
    import resource
    import signal

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


@pytest.mark.parametrize("options", [[], ["--format", "csv"], ["--batch-size", "5000"]])
def test_a_file_size_limit_while_writing_outputs_exits_2_naming_the_folder(
    tmp_path: Path, options: list[str]
) -> None:
    """``ulimit -f 200`` was an internal error (exit 70, ``File too large (os error 27)``) whole-day, in CSV and
    with ``--batch-size`` (exit 2 in parts): a disk that takes no more, as a full one."""
    import subprocess
    import sys

    from ..conftest import ROOT

    out = tmp_path / "out"
    command = [sys.executable, "-m", "screening", "run", str(SAMPLE_10K), "--rules", str(US_PACK)]
    done = subprocess.run(
        [*command, "--out", str(out), "-q", *options],
        cwd=ROOT,
        capture_output=True,
        text=True,
        preexec_fn=lambda: _no_larger_files(150_000),
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert f"{out}: the output folder cannot be written: File too large" in " ".join(done.stderr.split())
    assert list(tmp_path.iterdir()) == []


def test_a_file_size_limit_while_saving_a_state_exits_2_and_keeps_the_previous_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "day.state"
    screening.Screener(US_PACK).save_state(state)
    before = state.read_bytes()

    def too_large(*_args: object) -> None:
        raise OSError(errno.EFBIG, os.strerror(errno.EFBIG))

    monkeypatch.setattr(os, "fsync", too_large)
    with pytest.raises(screening.UsageError, match=f"{state}: the state cannot be written: File too large"):
        screening.Screener(US_PACK).save_state(state)
    assert state.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["day.state"]
