"""Privacy: names, addresses and ids of people never appear in logs, progress output, errors or summary.json.

Outputs that are data (``lines``, ``rejects``) carry them by design; everything a run prints or logs, and
the summary, must not. Each test screens SYNTHETIC lines of invented people with unmistakable names and
searches everything else for them, in any letter case and in the engine's normalised spelling.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import pty
import select
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import screening

from ..conftest import BASE_LINE, ROOT, US_PACK

PEOPLE = (
    {
        "consignee_name": "Zebulon Quixmarm",
        "consignee_address": "742 Vexillum Terrace",
        "consignee_id": "ZQ-991177",
    },
    {"consignee_name": "Ottoline Brackwater", "consignee_address": "9 Hushwood Mews", "consignee_id": None},
)
#: What must never be printed, logged or summarised (checked case-insensitively).
SECRETS = tuple(
    text
    for person in PEOPLE
    for text in (
        person["consignee_name"],
        person["consignee_address"],
        person["consignee_id"],
        *(person["consignee_name"] or "").split(),
    )
    if text
)


def manifest_rows() -> list[dict[str, str | None]]:
    rows = []
    for i, person in enumerate(PEOPLE):
        rows.append({**BASE_LINE, **person, "package_id": f"P{i + 1}", "declared_value": "900.00"})
        # A rejected line of the same person: its name is in the reject, never in what is printed.
        rows.append({**BASE_LINE, **person, "package_id": f"X{i + 1}", "arrival_date": "2025-02-30"})
    return rows


def write_manifest(path: Path) -> Path:
    rows = manifest_rows()
    pl.DataFrame(rows, schema=dict.fromkeys(rows[0], pl.String())).write_csv(path)
    return path


def leaks(text: str) -> list[str]:
    lowered = text.lower()
    return [s for s in SECRETS if s.lower() in lowered]


def test_the_manifest_really_carries_the_names(tmp_path: Path, us_pack: screening.RulePack) -> None:
    """A guard for the tests below: the names reach the engine (and its data outputs)."""
    result = screening.screen(write_manifest(tmp_path / "m.csv"), rules=us_pack)
    assert result.lines.height == 2
    assert result.rejects.height == 2
    assert leaks(result.lines.write_ndjson())
    assert leaks(result.rejects.write_csv())


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_summary_and_logs_hold_no_names_or_addresses(
    tmp_path: Path,
    us_pack: screening.RulePack,
    fmt: str,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    stages: list[str] = []
    with caplog.at_level(logging.DEBUG):
        result = screening.screen(write_manifest(tmp_path / "m.csv"), rules=us_pack, on_stage=stages.append)
        out = result.write(tmp_path / "out", fmt="csv" if fmt == "csv" else "parquet")
    printed = capsys.readouterr()
    assert stages, "no progress was reported"
    assert not leaks("\n".join(stages)), "progress"
    assert not leaks(caplog.text), "logs"
    assert not leaks(printed.out + printed.err), "printed output"
    assert not leaks(json.dumps(result.summary)), "summary"
    assert not leaks((out / "summary.json").read_text(encoding="utf-8")), "summary.json"


def run_in_terminal(args: list[str], timeout: float = 120) -> tuple[int, str]:
    """Run the CLI with stdout and stderr on a pseudo-terminal (so progress is shown); return code and text."""
    master, slave = pty.openpty()
    env = {**os.environ, "COLUMNS": "200", "TERM": "xterm-256color"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "screening", *args],
        cwd=ROOT,
        stdout=slave,
        stderr=slave,
        stdin=subprocess.DEVNULL,
        env=env,
    )
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:
                    break
                if not data:
                    break
                chunks.append(data)
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    return code, b"".join(chunks).decode("utf-8", errors="replace")


def test_cli_progress_and_summary_on_a_terminal_hold_no_names(tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path / "m.csv")
    code, text = run_in_terminal(
        ["run", str(manifest), "--rules", str(US_PACK), "--out", str(tmp_path / "out")]
    )
    assert code == 0, text
    assert "screened" in text
    assert any(
        stage in text for stage in ("reading and validating", "assessing duties", "writing outputs")
    ), text
    assert not leaks(text)
    assert not leaks((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))


def test_cli_json_output_holds_no_names(tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path / "m.csv")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "screening",
            "run",
            str(manifest),
            "--rules",
            str(US_PACK),
            "--out",
            str(tmp_path / "o"),
            "--json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["counts"]["input_rows"] == 4
    assert not leaks(done.stdout + done.stderr)


def _header() -> str:
    return ",".join([*BASE_LINE, "consignee_address"])


def _csv_line(sep: str = ",", **overrides: str) -> str:
    row = {**BASE_LINE, "consignee_address": "", **overrides}
    return sep.join(row.values())


#: A person's row, for the files without a header row below.
_PERSON = {"consignee_name": "Zebulon Quixmarm", "consignee_address": "742 Vexillum Terrace"}
#: A column mapping whose headers none of the files below have.
_MAPPING = '[columns]\npackage_id = "HAWB"\nconsignee_name = "Receiver"\n\n[defaults]\nmode = "express"\n'


@pytest.mark.parametrize(
    ("lines", "mapped"),
    [
        pytest.param(
            [
                _header(),
                _csv_line(package_id="P1"),
                _csv_line(package_id="P2", shipper_name='"Acme', consignee_name="Zebulon Quixmarm"),
            ],
            False,
            id="unterminated_quote",
        ),
        pytest.param(
            [
                _header(),
                _csv_line(package_id="P1", consignee_name="Zebulon Quixmarm") + ",742 Vexillum Terrace,extra",
            ],
            False,
            id="ragged_row",
        ),
        # A file without its header row, separated by other than commas: its first row, whole, was the one
        # "header" the message listed.
        pytest.param([_csv_line(";", package_id="P1", **_PERSON)], False, id="semicolon_no_header"),
        pytest.param([_csv_line(";", package_id="P1", **_PERSON)], True, id="semicolon_no_header_mapped"),
        pytest.param([_csv_line("\t", package_id="P1", **_PERSON)], False, id="tab_no_header"),
        pytest.param([_csv_line("|", package_id="P1", **_PERSON)], True, id="pipe_no_header_mapped"),
        # A first row of text only: no number or date among it to tell it from a header row.
        pytest.param(["Zebulon Quixmarm,742 Vexillum Terrace,Acme"], False, id="text_row_no_header"),
        pytest.param(["Zebulon Quixmarm,Vexillum Terrace,Acme"], False, id="letters_row_no_header"),
        pytest.param(["Zebulon Quixmarm,Vexillum Terrace,Acme"], True, id="letters_row_no_header_mapped"),
        pytest.param(["Zebulon Quixmarm,Zebulon Quixmarm,Acme"], False, id="repeated_name_no_header"),
    ],
)
def test_error_messages_hold_no_names(
    tmp_path: Path, us_pack: screening.RulePack, lines: list[str], mapped: bool
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join([*lines, ""]), encoding="utf-8")
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(_MAPPING, encoding="utf-8")
    done = _run(bad, "--out", tmp_path / "o", *(["--mapping", mapping] if mapped else []))
    # Whatever the engine makes of the file (a malformed-row reject), what it prints must not quote the people in it.
    assert not leaks(done.stdout + done.stderr), done.stderr
    # The Python API refuses the same files: its errors must not quote them either.
    if done.returncode == 0:
        screening.screen(bad, rules=us_pack, mapping=mapping if mapped else None)
        return
    with pytest.raises(screening.ScreeningError) as refused:
        screening.screen(bad, rules=us_pack, mapping=mapping if mapped else None)
    assert not leaks(str(refused.value)), str(refused.value)


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "screening", "run", *map(str, args), "--rules", str(US_PACK)]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)


@pytest.mark.parametrize("line_end", ["\n", "\r"], ids=["no_header_row", "cr_line_ends"])
def test_a_file_whose_first_row_is_data_is_refused_without_quoting_it(tmp_path: Path, line_end: str) -> None:
    """A manifest written without its header row was refused with its first row as the "headers" it has:
    a consignee's name and address in the message. With CR line ends the whole file was one header row."""
    rows = [
        _csv_line(
            package_id="P1", consignee_name="Zebulon Quixmarm", consignee_address="742 Vexillum Terrace"
        ),
        _csv_line(
            package_id="P2", consignee_name="Zebulon Quixmarm", consignee_address="742 Vexillum Terrace"
        ),
    ]
    bad = tmp_path / "bad.csv"
    body = rows if line_end != "\r" else [_header(), *rows]
    bad.write_bytes(line_end.join(body).encode() + b"\n")
    done = _run(bad, "--out", tmp_path / "o")
    assert done.returncode == 3, done.stderr
    assert "looks like data" in done.stderr
    assert not leaks(done.stdout + done.stderr), done.stderr
    mapping = tmp_path / "m.toml"
    mapping.write_text('[columns]\npackage_id = "tracking"\n', encoding="utf-8")
    mapped = _run(bad, "--out", tmp_path / "o", "--mapping", mapping)
    assert mapped.returncode == 3, mapped.stderr
    assert not leaks(mapped.stdout + mapped.stderr), mapped.stderr


def test_a_one_row_file_without_its_header_is_refused_without_quoting_it(tmp_path: Path) -> None:
    """One data row alone: the values it repeats (the name as shipper and consignee, the country) were shown as
    "repeated column headers", judged data-like by themselves only."""
    row = _csv_line(
        package_id="P1", consignee_name="Zebulon Quixmarm", shipper_name="Zebulon Quixmarm", quantity="3"
    )
    bad = tmp_path / "bad.csv"
    bad.write_text(row + "\n", encoding="utf-8")
    done = _run(bad, "--out", tmp_path / "o")
    assert done.returncode == 3, done.stderr
    assert "repeated column headers" in done.stderr
    assert "looks like data" in done.stderr
    assert not leaks(done.stdout + done.stderr), done.stderr


def test_a_file_with_headers_still_lists_them(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("package_id,tracking,amount\nA1,T1,10\n", encoding="utf-8")
    done = _run(bad, "--out", tmp_path / "o")
    assert done.returncode == 3
    assert "it has ['amount', 'tracking', 'package_id']" in done.stderr  # the ones to map first


def test_a_file_naming_no_known_column_shows_the_headers_spelt_like_one(tmp_path: Path) -> None:
    """Headers of letters only, none a column the engine knows, may be a row of names: counted, but for those
    spelt like a canonical column (``Package ID``) or a header the mapping names (``hawb``), which a user renames
    or maps."""
    bad = tmp_path / "bad.csv"
    bad.write_text("Package ID,hawb,Receiver\nA1,T1,10\n", encoding="utf-8")
    done = _run(bad, "--out", tmp_path / "o")
    assert done.returncode == 3
    assert (
        "it has 3 headers, none a column the engine knows: ['Package ID'] spelt like one, 2 more not shown"
        in (done.stderr)
    )
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(_MAPPING.replace("Receiver", "Recipient"), encoding="utf-8")
    mapped = _run(bad, "--out", tmp_path / "o", "--mapping", mapping)
    assert mapped.returncode == 3
    assert (
        "(its headers: 3 headers, none a column the engine knows: ['Package ID', 'hawb'] spelt like one, 1 more"
        in (mapped.stderr)
    )


def _misspelt_frame(extra: str) -> pl.DataFrame:
    """A person's line, ``declared_value`` misspelt ``declard_value``, with one more column ``extra``."""
    row = {**BASE_LINE, **_PERSON, extra: "x"}
    row["declard_value"] = row.pop("declared_value")
    return pl.DataFrame([row], schema=dict.fromkeys(row, pl.String()))


def test_column_names_of_parquet_arrow_ndjson_and_frames_are_listed(tmp_path: Path) -> None:
    """Parquet, Arrow, NDJSON and in-memory column names are names, never a row: a column ``invoice_2024`` beside a
    misspelt ``declard_value`` hid them all behind "the file's first row looks like data", with --mapping too."""
    frame = _misspelt_frame("invoice_2024")
    frame.write_parquet(tmp_path / "m.parquet")
    frame.write_ipc(tmp_path / "m.arrow")
    frame.write_ndjson(tmp_path / "m.ndjson")
    mapping = tmp_path / "mapping.toml"
    mapping.write_text('[columns]\ndeclared_value = "Declared Value"\n', encoding="utf-8")
    for source in (
        frame,
        frame.to_arrow(),
        tmp_path / "m.parquet",
        tmp_path / "m.arrow",
        tmp_path / "m.ndjson",
    ):
        with pytest.raises(screening.ScreeningError) as refused:
            screening.screen(source, rules=US_PACK)
        message = str(refused.value)
        assert (
            "missing required columns ['declared_value']; it has ['declard_value', 'invoice_2024'," in message
        )
        assert "'declard_value'" in message
        assert "looks like data" not in message
        # The advice names the option of either way in (it named the command line's only).
        assert message.endswith(
            "Map your headers with --mapping (mapping= in Python; see README, 'Column mapping')."
        )
    with pytest.raises(screening.ScreeningError) as mapped:
        screening.screen(tmp_path / "m.parquet", rules=US_PACK, mapping=mapping)
    assert "(its headers: ['package_id', 'line_no'" in str(mapped.value)
    assert "looks like data" not in str(mapped.value)


@pytest.mark.parametrize(
    "extra",
    [
        "invoice_2024",
        "value 2024",
        "Incoterms 2020",
        "Contact @ consignee",
        "seller|marketplace",
        "Currency (ISO 4217)",
    ],
)
def test_a_header_row_is_listed_less_its_headers_that_look_like_data(tmp_path: Path, extra: str) -> None:
    """A real header row with one header holding 3 digits, ``@`` or ``|`` was hidden whole (the misspelt
    ``declard_value`` with it): it is listed, the misspelt header first, that header alone counted."""
    bad = tmp_path / "bad.csv"
    frame = _misspelt_frame(extra)
    frame.write_csv(bad)
    with pytest.raises(screening.ScreeningError) as refused:
        screening.screen(bad, rules=US_PACK)
    message = str(refused.value)
    assert "it has ['declard_value', 'arrival_date', " in message, message
    assert "and 1 header not shown, as it looks like data" in message
    assert extra not in message
    assert "may be separated" not in message
    assert not leaks(message), message
    mapping = tmp_path / "mapping.toml"
    bad.write_text(bad.read_text(encoding="utf-8").replace("package_id", "HAWB", 1), encoding="utf-8")
    mapping.write_text(
        '[columns]\npackage_id = "HAWB"\ndeclared_value = "Declared Value"\n', encoding="utf-8"
    )
    with pytest.raises(screening.ScreeningError) as mapped:
        screening.screen(bad, rules=US_PACK, mapping=mapping)
    message = str(mapped.value)
    assert "(its headers: ['declard_value', 'HAWB', 'line_no', " in message, message
    assert "and 1 header not shown, as it looks like data" in message
    assert extra not in message
    assert not leaks(message), message


def test_a_row_like_data_shows_the_headers_spelt_like_a_column(tmp_path: Path) -> None:
    """A first row that looks like data (a house number) and names no known column is counted, but its headers
    spelt like one (``Package ID``) are shown, as where no header looks like data."""
    bad = tmp_path / "bad.csv"
    bad.write_text("Package ID,Zebulon Quixmarm,742 Vexillum Terrace\nA1,T1,10\n", encoding="utf-8")
    with pytest.raises(screening.ScreeningError) as refused:
        screening.screen(bad, rules=US_PACK)
    message = str(refused.value)
    assert "3 headers not shown, as the file's first row looks like data" in message, message
    assert "; spelt like a column the engine knows: ['Package ID']" in message
    assert not leaks(message), message


def test_a_semicolon_separated_file_with_its_header_row_is_told_to_save_it_with_commas(
    tmp_path: Path,
) -> None:
    """The hint said the file may be separated by ';' and to map its headers with --mapping: no option reads
    another separator and a mapping cannot help. It says to save the file comma-separated."""
    bad = tmp_path / "semi.csv"
    bad.write_text(_header().replace(",", ";") + "\n" + _csv_line(";", **_PERSON) + "\n", encoding="utf-8")
    with pytest.raises(screening.ScreeningError) as refused:
        screening.screen(bad, rules=US_PACK)
    message = str(refused.value)
    assert message.endswith(
        "a header holds ';': the file may be separated by it, not by commas: save it comma-separated (no other "
        "separator is read)."
    ), message
    assert "--mapping" not in message
    tabbed = tmp_path / "tab.csv"
    tabbed.write_text(_header().replace(",", "\t") + "\n", encoding="utf-8")
    with pytest.raises(screening.ScreeningError) as tab:
        screening.screen(tabbed, rules=US_PACK)
    assert "name a tab-separated file .tsv (it is read as such), or save it comma-separated." in str(
        tab.value
    )
    assert "--mapping" not in str(tab.value)
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(_MAPPING, encoding="utf-8")
    with pytest.raises(screening.ScreeningError) as mapped:
        screening.screen(bad, rules=US_PACK, mapping=mapping)
    assert "save it comma-separated" in str(mapped.value)
    assert "fix the mapping" not in str(mapped.value)


#: A private sampling seed (``--seed-env``): it must appear in nothing a run prints or writes.
PRIVATE_SEED = "Vg4-private-sampling-seed-Xq81"


def _stored_texts(path: Path) -> list[bytes]:
    """A file's bytes, and the text inside it as stored before compression: each member of a state file
    (a zip), each Parquet file's rows."""
    texts = [path.read_bytes()]
    if path.suffix == ".parquet":
        texts.append(pl.read_parquet(path).write_ndjson().encode())
    elif zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            texts += [archive.read(name) for name in archive.namelist()]
    return texts


def _seed_runs(root: Path, manifests: list[Path], private: bool) -> list[subprocess.CompletedProcess[str]]:
    """A whole-day run of ``manifests``, and a batched day over them resumed from its state file (the first
    with ``--json``), with the seed given by ``--seed-env`` when ``private``, else by ``--seed``."""
    given = ["--seed-env", "SCREEN_TEST_SEED"] if private else ["--seed", PRIVATE_SEED]
    env = {**os.environ, "SCREEN_TEST_SEED": PRIVATE_SEED} if private else dict(os.environ)
    state = ["--batch-size", "3000", "--state", str(root / "day.state")]
    runs = [
        [*map(str, manifests), "--out", str(root / "whole")],
        [str(manifests[0]), "--out", str(root / "morning"), *state, "--json"],
        [str(manifests[1]), "--out", str(root / "afternoon"), *state],
    ]
    done = []
    for args in runs:
        command = [sys.executable, "-m", "screening", "run", *args, "--rules", str(US_PACK), *given]
        done.append(subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False))
        assert done[-1].returncode == 0, done[-1].stderr
    return done


def _as_if_public(summary: dict[str, Any]) -> dict[str, Any]:
    """A private-seed run's summary with the seed's record as a ``--seed`` run has it (and no state digest)."""
    record = {"seed_private", "seed_id"}
    options = {k: v for k, v in summary["options"].items() if k not in record and k != "resumed_state"}
    sample = {k: v for k, v in summary["risk"]["random_sample"].items() if k not in record}
    options["seed"] = sample["seed"] = PRIVATE_SEED
    return {**summary, "options": options, "risk": {**summary["risk"], "random_sample": sample}}


def test_a_private_seed_appears_in_no_output_and_samples_as_the_same_public_seed(tmp_path: Path) -> None:
    """``--seed-env``: stdout (the printed summary and ``--json``), stderr, every output file and the state file
    hold the seed's fingerprint, never the seed; the outputs are those of ``--seed`` with the same value."""
    sample = pl.read_parquet(ROOT / "sample_data" / "manifest_10k.parquet")
    ids = sample["package_id"].unique().sort()
    morning = sample["package_id"].is_in(ids.head(ids.len() // 2).implode())
    manifests = [tmp_path / "morning.parquet", tmp_path / "afternoon.parquet"]
    sample.filter(morning).write_parquet(manifests[0])
    sample.filter(~morning).write_parquet(manifests[1])
    private = _seed_runs(tmp_path / "private", manifests, private=True)
    public = _seed_runs(tmp_path / "public", manifests, private=False)
    fingerprint = hmac.new(PRIVATE_SEED.encode(), b"screening seed id", hashlib.sha256).hexdigest()[:16]
    printed = "".join(run.stdout + run.stderr for run in private)
    assert PRIVATE_SEED not in printed
    assert f"private seed, id {fingerprint}" in private[0].stdout
    assert f"seed {PRIVATE_SEED}" in public[0].stdout  # a public seed is shown as before
    files = [path for path in (tmp_path / "private").rglob("*") if path.is_file()]
    assert {path.name for path in files} >= {
        "day.state",
        "summary.json",
        "packages.parquet",
        "queues.parquet",
    }
    for path in files:
        assert not [text for text in _stored_texts(path) if PRIVATE_SEED.encode() in text], path
    for out in ("whole", "morning", "afternoon"):
        mine, theirs = tmp_path / "private" / out, tmp_path / "public" / out
        for path in mine.glob("*.parquet"):
            assert path.read_bytes() == (theirs / path.name).read_bytes(), f"{out}/{path.name}"
        summary = json.loads((mine / "summary.json").read_text())
        assert (
            summary["options"]["seed_private"] == summary["risk"]["random_sample"]["seed_private"] == "true"
        )
        assert summary["options"]["seed_id"] == summary["risk"]["random_sample"]["seed_id"] == fingerprint
        expected = json.loads((theirs / "summary.json").read_text())
        expected["options"].pop("resumed_state", None)  # the digest of the state file each run went on from
        assert _as_if_public(summary) == expected, out
    assert json.loads(private[1].stdout)["options"]["seed_id"] == fingerprint
    assert "state: resumed" in private[2].stdout
    assert sum(pl.read_parquet(tmp_path / "private" / "whole" / "packages.parquet")["random_sample"]) > 0
