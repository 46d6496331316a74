"""``screen_to_folder`` (what ``screen run`` does): the same files as ``screen(...).write(...)``, atomically."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

import screening
from screening import folder_run
from screening.io.writers import OutputFormat

from ..conftest import OUTPUT_FILES, SAMPLE


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_the_folder_holds_the_same_bytes_as_a_written_result(
    us_pack: screening.RulePack, tmp_path: Path, fmt: OutputFormat
) -> None:
    source = SAMPLE / "manifest_10k.parquet"
    screening.screen(source, rules=us_pack, pseudonymise_key="k").write(tmp_path / "result", fmt=fmt)
    summary, wall = screening.screen_to_folder(
        source,
        tmp_path / "folder",
        rules=us_pack,
        pseudonymise_key="k",
        fmt=fmt,
    )
    names = sorted(p.name for p in (tmp_path / "result").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "folder").iterdir())
    assert len(names) == len(OUTPUT_FILES)
    for name in names:
        assert (tmp_path / "result" / name).read_bytes() == (tmp_path / "folder" / name).read_bytes(), name
    assert json.loads((tmp_path / "folder" / "summary.json").read_text()) == json.loads(
        json.dumps(summary, default=str)
    )
    assert (
        summary["counts"]["input_rows"]
        == summary["counts"]["lines"] + summary["counts"]["rejected"]
        == 10_000
    )
    assert wall > 0


def test_a_failed_write_keeps_the_previous_set(
    us_pack: screening.RulePack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "summary.json").write_text('{"previous": true}')
    real = folder_run.write_frame

    def fail_on_packages(frame: pl.DataFrame, path: Path, fmt: OutputFormat) -> Path:
        if path.name == "packages":
            raise OSError("disk full")
        return real(frame, path, fmt)

    monkeypatch.setattr(folder_run, "write_frame", fail_on_packages)
    with pytest.raises(OSError, match="disk full"):
        screening.screen_to_folder(SAMPLE / "manifest_10k.parquet", out, rules=us_pack)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    assert json.loads((out / "summary.json").read_text()) == {"previous": True}
