"""The `screen` command on the bundled sample data: outputs, conservation, determinism, exit codes."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

import screening
from screening.errors import RulePackError
from screening.explain import explain_package
from screening.explain_text import render_text
from screening.io.digests import history_digest
from screening.result import engine_build, tree_digest
from screening.rulepack.loader import load_rules, unmatched_scope

from ..conftest import BASE_LINE, OUTPUT_FILES, ROOT, SAMPLE, US_PACK

SAMPLE_PARQUET = SAMPLE / "manifest_10k.parquet"


def screen(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "screening", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run") / "out"
    done = screen("run", SAMPLE_PARQUET, "--rules", US_PACK, "--out", out, "--quiet")
    assert done.returncode == 0, done.stderr
    return out


def test_run_writes_every_output(sample_run: Path) -> None:
    assert {p.name for p in sample_run.iterdir()} == OUTPUT_FILES


def test_lines_plus_rejects_equal_the_input(sample_run: Path) -> None:
    rows = pl.scan_parquet(SAMPLE_PARQUET).select(pl.len()).collect().item()
    lines = pl.read_parquet(sample_run / "lines.parquet").height
    rejects = pl.read_parquet(sample_run / "rejects.parquet").height
    summary = json.loads((sample_run / "summary.json").read_text())
    assert rows == 10_000
    assert lines + rejects == rows
    assert summary["counts"]["input_rows"] == rows
    assert summary["counts"]["lines"] == lines
    assert summary["counts"]["rejected"] == rejects > 0


def test_second_run_writes_byte_identical_files(sample_run: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    done = screen("run", SAMPLE_PARQUET, "--rules", US_PACK, "--out", again, "--quiet")
    assert done.returncode == 0, done.stderr
    for name in OUTPUT_FILES:
        assert (again / name).read_bytes() == (sample_run / name).read_bytes(), name


def test_smaller_parts_write_the_same_outputs(sample_run: Path, tmp_path: Path) -> None:
    """``--part-lines``: the day in parts of about 2,000 lines, each judged on the whole day's totals."""
    parts = tmp_path / "parts"
    done = screen(
        "run", SAMPLE_PARQUET, "--rules", US_PACK, "--out", parts, "--quiet", "--part-lines", "2000"
    )
    assert done.returncode == 0, done.stderr
    for name in sorted(OUTPUT_FILES - {"summary.json"}):
        assert pl.read_parquet(parts / name).equals(pl.read_parquet(sample_run / name)), name


def test_csv_and_parquet_samples_give_the_same_packages(sample_run: Path, tmp_path: Path) -> None:
    done = screen(
        "run", SAMPLE / "manifest_10k.csv", "--rules", US_PACK, "--out", tmp_path / "csv", "--quiet"
    )
    assert done.returncode == 0, done.stderr
    from_csv = pl.read_parquet(tmp_path / "csv" / "packages.parquet")
    from_parquet = pl.read_parquet(sample_run / "packages.parquet")
    # The CSV sample also carries invalid dates (a Parquet date column cannot hold them): packages with a line
    # rejected in one file and not the other are screened in one run only, and count toward no consignee-day
    # total in the other, so the other packages of those consignee-days are judged on different totals.
    day = ["consignee_key", "arrival_date"]
    dropped = pl.concat(
        [
            from_parquet.join(from_csv.select("package_id"), on="package_id", how="anti").select(day),
            from_csv.join(from_parquet.select("package_id"), on="package_id", how="anti").select(day),
        ]
    )
    touched = from_parquet.join(dropped.unique(), on=day, how="semi")
    common = from_parquet.join(from_csv.select("package_id"), on="package_id", how="semi").join(
        touched.select("package_id"), on="package_id", how="anti"
    )
    assert from_csv.filter(pl.col("package_id").is_in(common["package_id"].implode())).equals(common)
    assert from_csv.height >= from_parquet.height - 60
    assert common.height >= from_parquet.height - 100


def test_summary_carries_provenance_and_no_person_names(sample_run: Path) -> None:
    text = (sample_run / "summary.json").read_text()
    summary = json.loads(text)
    assert summary["rules"]["content_hash"].startswith("sha256:")
    assert summary["inputs"][0]["sha256"].startswith("sha256:")
    assert summary["dates_resolved"] == ["2025-05-01", "2025-05-02", "2025-08-28", "2025-08-29"]
    names = (
        pl.read_parquet(SAMPLE_PARQUET, columns=["consignee_name"])["consignee_name"].drop_nulls().unique()
    )
    assert not [n for n in names.to_list() if n in text]


def test_json_flag_prints_the_summary(tmp_path: Path) -> None:
    done = screen("run", SAMPLE / "handchecked" / "manifest.csv", "--out", tmp_path / "o", "--json")
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert printed["counts"]["input_rows"] == 35
    assert printed["counts"]["rejected"] == 3


def test_missing_required_columns_exit_3_naming_file_and_columns(tmp_path: Path) -> None:
    bad = tmp_path / "not_a_manifest.csv"
    bad.write_text("tracking,amount\nA1,10\n")
    done = screen("run", bad, "--out", tmp_path / "o")
    assert done.returncode == 3
    assert "not_a_manifest.csv" in done.stderr
    assert "package_id" in done.stderr
    assert "declared_value" in done.stderr
    assert not (tmp_path / "o").exists()


def test_missing_file_exits_3(tmp_path: Path) -> None:
    done = screen("run", tmp_path / "nope.parquet", "--out", tmp_path / "o")
    assert done.returncode == 3
    assert "nope.parquet" in done.stderr


def test_broken_rule_pack_exits_4(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "pack.toml").write_text("[pack\n")
    done = screen("run", SAMPLE / "handchecked" / "manifest.csv", "--rules", pack, "--out", tmp_path / "o")
    assert done.returncode == 4
    assert "pack.toml" in done.stderr


def test_usage_error_exits_2(tmp_path: Path) -> None:
    assert screen("run", "--out", tmp_path / "o").returncode == 2
    assert screen("run", SAMPLE_PARQUET, "--out", tmp_path / "o", "--format", "xlsx").returncode == 2


def screen_with(env: dict[str, str], *args: str | Path) -> subprocess.CompletedProcess[str]:
    """``screen`` with ``env`` added to the environment."""
    return subprocess.run(
        [sys.executable, "-m", "screening", *map(str, args)],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "extra", "says"),
    [
        pytest.param({}, [], "environment variable SCREEN_TEST_SEED holds no seed", id="unset"),
        pytest.param(
            {"SCREEN_TEST_SEED": ""}, [], "environment variable SCREEN_TEST_SEED holds no seed", id="empty"
        ),
        pytest.param(
            {"SCREEN_TEST_SEED": "Hj2-seed"}, ["--seed", "Hj2-seed"], "--seed and --seed-env", id="both"
        ),
    ],
)
def test_seed_env_unset_empty_or_beside_seed_is_a_usage_error(
    tmp_path: Path, env: dict[str, str], extra: list[str], says: str
) -> None:
    environment = {k: v for k, v in os.environ.items() if k != "SCREEN_TEST_SEED"}
    args = ["run", str(SAMPLE / "handchecked" / "manifest.csv"), "--out", str(tmp_path / "o"), "--quiet"]
    done = subprocess.run(
        [sys.executable, "-m", "screening", *args, "--seed-env", "SCREEN_TEST_SEED", *extra],
        cwd=ROOT,
        env={**environment, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert says in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "o").exists()


def test_a_state_resumed_with_another_private_seed_is_refused_naming_neither(tmp_path: Path) -> None:
    manifest = pl.read_csv(SAMPLE / "handchecked" / "manifest.csv", infer_schema=False)
    ids = manifest["package_id"].unique().sort()
    morning, afternoon = tmp_path / "morning.csv", tmp_path / "afternoon.csv"
    manifest.filter(pl.col("package_id").is_in(ids.head(ids.len() // 2).implode())).write_csv(morning)
    manifest.filter(~pl.col("package_id").is_in(ids.head(ids.len() // 2).implode())).write_csv(afternoon)
    state = tmp_path / "day.state"

    def run(seed: str, manifest: Path, out: str) -> subprocess.CompletedProcess[str]:
        args = [manifest, "--out", tmp_path / out, "--batch-size", "10", "--state", state, "--quiet"]
        return screen_with({"SCREEN_TEST_SEED": seed}, "run", *args, "--seed-env", "SCREEN_TEST_SEED")

    first = run("Rt5-morning-seed", morning, "morning")
    assert first.returncode == 0, first.stderr
    saved = state.read_bytes()
    refused = run("Rt5-other-seed", afternoon, "afternoon")
    assert refused.returncode == 2
    assert "another seed" in refused.stderr
    assert "a private seed (id " in refused.stderr
    assert "Rt5-" not in refused.stdout + refused.stderr
    assert not (tmp_path / "afternoon").exists()
    assert state.read_bytes() == saved
    again = run("Rt5-morning-seed", afternoon, "afternoon")
    assert again.returncode == 0, again.stderr


def test_rules_check_passes_on_the_us_pack() -> None:
    done = screen_with({"COLUMNS": "600"}, "rules", "check", US_PACK)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 failed" in done.stdout
    assert "New York keeps" not in done.stdout  # every EST or EDT fits its date (s232-wood-kr's did not)


def test_rules_check_warns_of_list_codes_that_match_no_tariff_line(tmp_path: Path) -> None:
    """A measure listing codes of no tariff line beside codes that match loads (real annexes list codes of
    older revisions), but nothing said so: ``rules check`` prints a warning line per measure with the count
    and the first codes, and still passes."""
    pack = tmp_path / "us"
    shutil.copytree(US_PACK, pack, ignore=shutil.ignore_patterns("scenarios"))
    measure = (
        '[[measures]]\nid = "{id}"\ncomponent = "test"\nheading = "{heading}"\norigins = ["DE"]\nrate = "0.10"\n'
        'stacking_group = "s301"\npriority = {priority}\nhts_include = [{codes}]\neffective_from = 2026-03-01\n'
        'citation = {{ instrument = "Hypothetical instrument for tests" }}\n'
    )
    (pack / "measures" / "extra.toml").write_text(
        measure.format(
            id="test-partial",
            heading="9903.99.99",
            priority=100,
            codes='"61091000", "39072000", "9503000073", "870120"',
        )
        + measure.format(id="test-whole", heading="9903.99.98", priority=101, codes='"6109", "95030000"'),
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-m", "screening", "rules", "check", str(pack)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": "400"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    warnings = [line.strip() for line in done.stdout.splitlines() if line.strip().startswith("warning")]
    assert (
        "warning measures/extra.toml test-partial: HTS codes that match no tariff line of its dates: 2 of the 4 "
        "it covers (39072000, 870120)"
    ) in warnings
    # One line per measure or gap, each naming its file and id.
    assert all(re.match(r"warning \S+\.toml [a-z0-9.-]+: HTS codes that match", line) for line in warnings)
    assert "test-whole" not in done.stdout


def test_rules_check_warns_of_an_eastern_time_label_that_does_not_fit_its_date(tmp_path: Path) -> None:
    """s232-wood-kr took effect on 2025-12-05 at "12:01 a.m. EDT", when New York keeps standard time, and no
    check said so. ``rules check`` warns of a label that does not fit its date (the date written after it, else
    effective_from before ``to`` and effective_to after it); on the days the clocks change either fits. (The
    U.S. pack has none: :func:`test_rules_check_passes_on_the_us_pack`.)"""
    pack = tmp_path / "us"
    shutil.copytree(US_PACK, pack, ignore=shutil.ignore_patterns("scenarios"))
    measure = (
        '[[measures]]\nid = "{id}"\ncomponent = "test"\nheading = "{heading}"\norigins = ["DE"]\nrate = "0.10"\n'
        'stacking_group = "s301"\npriority = {priority}\neffective_from = {start}\neffective_to = {end}\n'
        'effective_time = "{time}"\ncitation = {{ instrument = "Hypothetical instrument for tests" }}\n'
    )
    measures = [
        ("test-wrong", "2026-01-05", "2026-07-01", "12:01 a.m. EDT to 12:00 a.m. EST"),
        (
            "test-written",
            "2026-07-01",
            "2026-12-24",
            "12:01 a.m. EDT on 2026-07-01 to 12:00 a.m. EDT on 2026-12-24",
        ),
        ("test-changing", "2026-03-08", "2026-11-01", "12:01 a.m. EST to 12:00 a.m. EDT"),
        ("test-right", "2026-03-09", "2026-11-02", "12:01 a.m. EDT to 12:00 a.m. EST"),
    ]
    (pack / "measures" / "labels.toml").write_text(
        "".join(
            measure.format(
                id=mid, heading=f"9903.99.{90 + n}", priority=100 + n, start=start, end=end, time=text
            )
            for n, (mid, start, end, text) in enumerate(measures)
        ),
        encoding="utf-8",
    )
    done = screen_with({"COLUMNS": "600"}, "rules", "check", pack)
    assert done.returncode == 0, done.stdout + done.stderr
    warnings = [line.strip() for line in done.stdout.splitlines() if "New York keeps" in line]
    season = "(daylight time from the second Sunday of March to the first Sunday of November)"
    assert warnings == [
        "warning measures/labels.toml measures[0] (id test-wrong): effective_time '12:01 a.m. EDT to 12:00 a.m. "
        f"EST' says EDT on 2026-01-05, when New York keeps EST {season}",
        "warning measures/labels.toml measures[0] (id test-wrong): effective_time '12:01 a.m. EDT to 12:00 a.m. "
        f"EST' says EST on 2026-07-01, when New York keeps EDT {season}",
        "warning measures/labels.toml measures[1] (id test-written): effective_time '12:01 a.m. EDT on 2026-07-01 "
        f"to 12:00 a.m. EDT on 2026-12-24' says EDT on 2026-12-24, when New York keeps EST {season}",
    ]


def test_rules_check_warns_of_a_rule_split_with_days_between_its_parts(tmp_path: Path) -> None:
    """The CN fentanyl duty split in two with the usual off-by-one (the first part's effective_to 2026-01-31, the
    second from 2026-02-01) loaded and passed ``rules check``: the 10 % duty dropped on 2026-01-31 unseen. Real
    measures end, so it still passes, with a warning naming both parts and the day."""
    pack = tmp_path / "us"
    shutil.copytree(US_PACK, pack, ignore=shutil.ignore_patterns("scenarios"))
    tariff = pack / "tariff.toml"
    text = tariff.read_text(encoding="utf-8")
    old = "effective_from = 2025-11-10\neffective_to = 2026-02-24\n"
    assert text.count(old) == 1
    tariff.write_text(text.replace(old, "effective_from = 2025-11-10\neffective_to = 2026-01-31\n"), "utf-8")
    (pack / "measures" / "split.toml").write_text(
        '[[measures]]\nid = "ieepa-fentanyl-cn-10-feb"\ncomponent = "ieepa_fentanyl"\nheading = "9903.01.24"\n'
        'origins = ["CN", "HK"]\nrate = "0.10"\nstacking_group = "ieepa_fentanyl"\neffective_from = 2026-02-01\n'
        'effective_to = 2026-02-24\ncitation = { instrument = "Hypothetical split for tests [draft]" }\n',
        encoding="utf-8",
    )
    done = screen_with({"COLUMNS": "600"}, "rules", "check", pack)
    assert done.returncode == 0, done.stdout + done.stderr
    warnings = [line.strip() for line in done.stdout.splitlines() if "day with neither" in line]
    assert warnings == [
        "warning tariff.toml measures (9903.01.24/CN): 1 day with neither ieepa-fentanyl-cn-10-nov (effective_to "
        "2026-01-31) nor ieepa-fentanyl-cn-10-feb (from 2026-02-01), uncovered: 2026-01-31 only. effective_to is "
        "the first day a rule no longer holds: if ieepa-fentanyl-cn-10-feb goes on from ieepa-fentanyl-cn-10-nov, "
        "either date may be the mistake: ieepa-fentanyl-cn-10-nov's end (effective_to = 2026-02-01 would meet the "
        "other) or ieepa-fentanyl-cn-10-feb's start (effective_from = 2026-01-31)"
    ]


def test_rules_show_prints_bracketed_pack_text_as_written(tmp_path: Path) -> None:
    """rich read pack text in square brackets as markup and dropped it: "[on mail: replaced by postal regime
    …]" vanished from a measure's line, and a citation "WHAT-IF proclamation [draft]", pinpoint "sec. 2[a][i]",
    printed as "WHAT-IF proclamation  on VN sweaters; sec. 2"."""
    mail = screen_with(
        {"COLUMNS": "400"},
        *("rules", "show", US_PACK, "--date", "2026-03-01", "--origin", "VN", "--mode", "postal"),
        *("--hts", "6110.20.20"),
    )
    assert mail.returncode == 0, mail.stderr
    assert "or s232_wood [on mail: replaced by postal regime postal-all-s122, in lieu of other duties;" in (
        mail.stdout
    )
    pack = tmp_path / "us"
    shutil.copytree(US_PACK, pack, ignore=shutil.ignore_patterns("scenarios"))
    (pack / "measures" / "whatif.toml").write_text(
        '[[measures]]\nid = "whatif-vn-sweaters"\ncomponent = "whatif_vn"\nheading = "9903.99.01"\n'
        'origins = ["VN"]\nrate = "0.10"\nstacking_group = "s122"\npriority = 999\nhts_include = ["6110"]\n'
        'effective_from = 2026-01-01\nnote = "[bold]not bold[/]"\n'
        'citation = { instrument = "WHAT-IF proclamation [draft] on VN sweaters", pinpoint = "sec. 2[a][i]" }\n',
        encoding="utf-8",
    )
    shown = screen_with({"COLUMNS": "400"}, "rules", "show", pack, "--date", "2026-03-01", "--origin", "VN")
    assert shown.returncode == 0, shown.stderr
    assert "    WHAT-IF proclamation [draft] on VN sweaters; sec. 2[a][i]\n" in shown.stdout


def test_rules_show_gives_a_measure_s_origins_modes_and_hts_codes(tmp_path: Path) -> None:
    """Without --origin and --hts a measure printed as "whatif_vn 9903.99.01: 0.10": where it applies was in
    neither the text nor --json (a suspension's origins and modes were)."""
    pack = tmp_path / "us"
    shutil.copytree(US_PACK, pack, ignore=shutil.ignore_patterns("scenarios"))
    codes = ", ".join(f'"{c}"' for c in ("6101", "6102", "6103", "6104", "6105", "6106", "6110"))
    (pack / "measures" / "whatif.toml").write_text(
        '[[measures]]\nid = "whatif-knits"\ncomponent = "whatif"\nheading = "9903.99.01"\norigins = ["*"]\n'
        'origins_exclude = ["CN", "HK"]\nmodes = ["express", "postal"]\nrate = "0.10"\nstacking_group = "s301"\n'
        f'priority = 999\nhts_include = [{codes}]\nhts_exclude = ["610120"]\neffective_from = 2026-01-01\n'
        'citation = { instrument = "Hypothetical instrument for tests" }\n',
        encoding="utf-8",
    )
    base = ("rules", "show", pack, "--date", "2026-03-01")
    printed = screen_with({"COLUMNS": "400"}, *base)
    assert printed.returncode == 0, printed.stderr
    (line,) = [
        line for line in printed.stdout.splitlines() if line.startswith("    whatif 9903.99.01: 0.10;")
    ]
    assert line.endswith(
        "; for every origin but CN, HK; by express, postal; HTS 6101, 6102, 6103, 6104, 6105, … (7 codes) "
        "except 610120"
    )
    entries = {e["rule_id"]: e for e in json.loads(screen(*base, "--json").stdout)}
    assert entries["whatif-knits"]["charge"]["scope"] == {
        "origins": ["*"],
        "origins_exclude": ["CN", "HK"],
        "modes": ["express", "postal"],
        "hts_include": ["6101", "6102", "6103", "6104", "6105"],
        "hts_include_count": 7,
        "hts_exclude": ["610120"],
        "hts_exclude_count": 1,
    }
    # What was asked for is not repeated: the origin, the mode, the code.
    asked = screen_with(
        {"COLUMNS": "400"}, *base, "--origin", "VN", "--mode", "express", "--hts", "6110.20.20"
    )
    (line,) = [line for line in asked.stdout.splitlines() if line.startswith("    whatif 9903.99.01: 0.10")]
    assert not re.search("origin|express|HTS", line)


def test_generate_writes_a_seeded_manifest(tmp_path: Path) -> None:
    first, second = tmp_path / "a.parquet", tmp_path / "b.parquet"
    assert screen("generate", "--rows", "2000", "--seed", "7", "--out", first).returncode == 0
    assert screen("generate", "--rows", "2000", "--seed", "7", "--out", second).returncode == 0
    assert first.read_bytes() == second.read_bytes()
    assert pl.read_parquet(first).height == 2000


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".arrow", ".ndjson", ".parquet"])
def test_every_input_format_screens_to_the_same_packages(tmp_path: Path, suffix: str) -> None:
    frame = pl.read_csv(SAMPLE / "handchecked" / "manifest.csv", infer_schema=False)
    path = tmp_path / f"manifest{suffix}"
    writers = {
        ".csv": lambda: frame.write_csv(path),
        ".tsv": lambda: frame.write_csv(path, separator="\t"),
        ".arrow": lambda: frame.write_ipc(path),
        ".ndjson": lambda: frame.write_ndjson(path),
        ".parquet": lambda: frame.write_parquet(path),
    }
    writers[suffix]()
    done = screen("run", path, "--out", tmp_path / "o", "--quiet")
    assert done.returncode == 0, done.stderr
    reference = screen("run", SAMPLE / "handchecked" / "manifest.csv", "--out", tmp_path / "ref", "--quiet")
    assert reference.returncode == 0
    got = pl.read_parquet(tmp_path / "o" / "packages.parquet")
    assert got.equals(pl.read_parquet(tmp_path / "ref" / "packages.parquet"))


def test_a_file_that_is_not_a_manifest_at_all_exits_3(tmp_path: Path) -> None:
    bad = tmp_path / "photo.parquet"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    done = screen("run", bad, "--out", tmp_path / "o")
    assert done.returncode == 3, done.stderr
    assert "photo.parquet" in done.stderr


def test_a_truncated_parquet_file_exits_3(tmp_path: Path) -> None:
    data = SAMPLE_PARQUET.read_bytes()
    bad = tmp_path / "truncated.parquet"
    bad.write_bytes(data[: len(data) // 2])
    done = screen("run", bad, "--out", tmp_path / "o")
    assert done.returncode == 3, done.stderr
    assert "truncated.parquet" in done.stderr


def test_a_backfill_s_summary_says_the_screening_list_is_later_than_its_goods(tmp_path: Path) -> None:
    """A 2020 arrival screened against a list published in 2024 printed '-1584 days before the latest arrival'."""
    manifest = tmp_path / "old.csv"
    pl.DataFrame([{**BASE_LINE, "arrival_date": "2020-01-01", "currency": "USD"}]).write_csv(manifest)
    done = screen("run", manifest, "--out", tmp_path / "o")
    assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    listing = summary["risk"]["screening_list"]
    published = dt.date.fromisoformat(listing["published"])
    assert listing["age_days_at_latest_arrival"] == (dt.date(2020, 1, 1) - published).days < 0
    after = (published - dt.date(2020, 1, 1)).days
    assert f"({after} days after the latest arrival: a later list than the goods had)" in " ".join(
        done.stdout.split()
    )


def test_rules_show_lists_what_is_in_force_with_citations() -> None:
    done = screen("rules", "show", US_PACK, "--date", "2025-05-02", "--origin", "CN", "--json")
    assert done.returncode == 0, done.stderr
    entries = {e["rule_id"]: e for e in json.loads(done.stdout)}
    assert entries["eo14256-cn-hk"]["kind"] == "suspension"
    assert "Executive Order 14256" in entries["eo14256-cn-hk"]["citation"]
    assert entries["threshold-800"]["confidence"] == "confirmed"
    assert "eo14324-all" not in entries  # starts 2025-08-29


def test_rules_show_says_which_currencies_the_exchange_rates_convert_on_the_date(
    us_pack: screening.RulePack,
) -> None:
    """`rules show --date 2026-11-09` listed every rule and said nothing of exchange rates, though on that date
    every line in another currency is rejected missing-fx-rate (the bundled rates end on 2026-10-30). It now
    gives the table's coverage first: the currencies converted and the date of their rates, those without a
    rate and why, and the table's last rate, in the text and in --json (the `fx-rates` entry's `fx`)."""
    from screening.rulepack.fx_coverage import FxCoverage
    from screening.rules_show import rules_in_force

    def coverage(day: dt.date) -> FxCoverage:
        (entry,) = [e for e in rules_in_force(us_pack, day, origin="BG") if e.kind == "fx-rates"]
        assert (entry.rule_id, entry.confidence) == ("fx/usd_rates.parquet", "unconfirmed")
        assert entry.fx is not None
        return entry.fx

    late = coverage(dt.date(2026, 11, 9))
    assert (late.converted, late.last_rate_date, late.past_last_rate, late.days_past) == (
        (),
        "2026-10-30",
        True,
        10,
    )
    assert late.summary().startswith("no currency but USD converts: no rate on or before 2026-11-09")
    last_day = coverage(dt.date(2026, 11, 6))
    assert (last_day.rate_dates, last_day.past_last_rate, len(last_day.converted)) == (
        ("2026-10-30",),
        True,
        29,
    )
    assert "(from 2026-11-07 only USD converts)" in last_day.summary()
    after_bgn = coverage(dt.date(2026, 1, 8))
    assert "BGN (last rate 2025-12-31)" in after_bgn.not_converted
    assert "EUR" in after_bgn.converted
    assert "BGN" not in after_bgn.converted
    early = coverage(dt.date(2017, 3, 6))
    assert early.not_converted == ("ISK (first rate 2018-02-01)",)
    assert (len(early.converted), early.past_last_rate) == (31, False)
    done = screen("rules", "show", US_PACK, "--date", "2026-11-09", "--json")
    assert done.returncode == 0, done.stderr
    first = json.loads(done.stdout)[0]
    assert (first["kind"], first["fx"]["last_rate_date"], first["fx"]["past_last_rate"]) == (
        "fx-rates",
        "2026-10-30",
        True,
    )
    text = screen_with({"COLUMNS": "400"}, "rules", "show", US_PACK, "--date", "2026-11-09")
    assert text.stdout.splitlines()[1] == "fx-rates fx/usd_rates.parquet unconfirmed"
    assert "no currency but USD converts" in text.stdout


def test_rules_show_json_says_on_stderr_that_the_date_is_after_the_pack_s_facts() -> None:
    """The text said a date after ``facts_as_of`` is decided by the law as known then; ``--json`` dropped the
    note. Its stdout stays the list of rules, and the note goes to stderr."""
    as_of = screening.load_rules(US_PACK).meta.facts_as_of
    assert as_of is not None
    later = as_of + dt.timedelta(days=8)
    done = screen("rules", "show", US_PACK, "--date", later.isoformat(), "--origin", "CN", "--json")
    assert done.returncode == 0, done.stderr
    assert isinstance(json.loads(done.stdout), list)
    assert done.stderr.strip() == (
        f"note: the pack's facts are as of {as_of}, 8 days before {later}: a later change of law is not in it"
    )
    before = screen("rules", "show", US_PACK, "--date", as_of.isoformat(), "--origin", "CN", "--json")
    assert before.returncode == 0, before.stderr
    assert before.stderr == ""


def test_rules_show_says_risk_rules_are_not_filtered_by_origin_hts_or_mode() -> None:
    """``--mode express`` still listed ``hts-code-short-postal`` and ``--origin DE`` ``transshipment-cn-hk``, with
    nothing saying so, while every other listed kind was filtered: a risk rule carries no mode or origin, only a
    condition, so the help and the text now say risk rules are not filtered."""
    helped = screen("rules", "show", "--help")
    assert "Risk rules are listed whatever they are" in " ".join(helped.stdout.split())
    assert " ".join(helped.stdout.split()).count("risk rules are not filtered") == 3
    args = ("rules", "show", US_PACK, "--date", "2026-08-03")
    filtered = screen_with({"COLUMNS": "400"}, *args, "--origin", "DE", "--mode", "express")
    assert filtered.returncode == 0, filtered.stderr
    lines = filtered.stdout.splitlines()
    note = lines.index(
        "note: risk rules are all those in force, not filtered by --origin or --mode: each one's condition "
        "decides where it fires"
    )
    assert lines[note + 1].startswith("risk ")
    assert "risk hts-code-short-postal " in filtered.stdout
    assert "risk transshipment-cn-hk " in filtered.stdout
    assert "note: risk rules" not in screen_with({"COLUMNS": "400"}, *args).stdout


def test_rules_show_prints_each_rule_s_last_day_not_its_exclusive_end() -> None:
    """The text printed `2025-05-02 → 2025-05-14` for the 120% postal regime whose last day is 2025-05-13 (DOMAIN.md
    1a: `2025-05-02 → 05-13`), and `2025-04-09 → 2025-04-10` for a rate of one day: it now prints the days in
    force, both inclusive. `--json` keeps `period` (the end exclusive, as the pack writes it) and adds `last_day`."""
    printed = screen_with(
        {"COLUMNS": "400"}, "rules", "show", US_PACK, "--date", "2025-05-13", "--origin", "CN"
    )
    assert printed.returncode == 0, printed.stderr
    assert "postal postal-cn-hk-120  2025-05-02 to 2025-05-13 (last day)" in printed.stdout
    assert "threshold threshold-800  from 2016-08-26, no end date" in printed.stdout
    assert "→" not in printed.stdout
    one_day = screen_with(
        {"COLUMNS": "400"}, "rules", "show", US_PACK, "--date", "2025-04-09", "--origin", "VN"
    )
    assert "ieepa-reciprocal-72-2025-04-09 conflict  2025-04-09 only (one day)" in one_day.stdout
    as_json = screen("rules", "show", US_PACK, "--date", "2025-05-13", "--origin", "CN", "--json")
    entries = {e["rule_id"]: e for e in json.loads(as_json.stdout)}
    postal = entries["postal-cn-hk-120"]
    assert (postal["period"], postal["last_day"]) == ("2025-05-02 → 2025-05-14", "2025-05-13")
    assert (entries["threshold-800"]["period"], entries["threshold-800"]["last_day"]) == (
        "2016-08-26 → open",
        None,
    )
    refused = screen("rules", "show", US_PACK, "--date", "2010-01-01")
    assert "outside the dates pack us covers (from 2016-03-10, no end date)" in refused.stderr


def test_rules_show_for_an_origin_honours_exclusions_modes_and_gifts(us_pack: screening.RulePack) -> None:
    from screening.rules_show import rules_in_force

    canada = {e.rule_id: e for e in rules_in_force(us_pack, dt.date(2025, 6, 1), origin="CA")}
    assert "ieepa-reciprocal-baseline" not in canada  # CA is excluded from the reciprocal regime
    assert canada["gift-100"].kind == "gift"
    insular = {e.rule_id: e for e in rules_in_force(us_pack, dt.date(2025, 6, 1), origin="VI")}
    assert "$200" in insular["gift-100"].summary


def test_rules_show_prints_a_measure_s_assumption_a_gap_s_place_and_the_chapter_99_entry_limit(
    us_pack: screening.RulePack,
) -> None:
    """A broker checking one code saw neither the metals duty's caveat nor which duty a gap is owed in place
    of; the entry limit read "informal up to $2500.00" on days its Chapter 99 clause applied."""
    from screening.rules_show import rules_in_force

    laptop = {
        e.rule_id: e for e in rules_in_force(us_pack, dt.date(2026, 11, 15), origin="CN", hts="8471.30.0100")
    }
    assert "assumption: charged on the full value" in laptop["s232-metals-1b-25"].summary
    oil = {
        e.rule_id: e for e in rules_in_force(us_pack, dt.date(2025, 6, 1), origin="CA", hts="2709.00.2000")
    }
    assert "owed in place of the ieepa_ca_mx duty" in oil["gap-ieepa-ca-energy-potash"].summary
    limits = {
        e.rule_id: e.summary for e in rules_in_force(us_pack, dt.date(2025, 4, 29)) if e.kind == "entry-limit"
    }
    assert limits == {
        "informal-limit-2500": "informal up to $2500.00; up to $250.00 of articles charged under Chapter 99 "
        "headings 9903, 9904"
    }
    later = {
        e.rule_id: e.summary for e in rules_in_force(us_pack, dt.date(2025, 4, 30)) if e.kind == "entry-limit"
    }
    assert later["informal-limit-2500-ch99-clause-suspended"].endswith(
        "is suspended (packages over it stay informal)"
    )
    perfume = {
        e.rule_id: e for e in rules_in_force(us_pack, dt.date(2025, 3, 20), origin="FR", hts="3303.00.30.00")
    }
    assert perfume["excise-perfume-alcohol"].summary.endswith("not for a package worth $5.00 or less")


def test_rules_show_for_a_code_without_a_mode_still_applies_the_code_s_scope(
    us_pack: screening.RulePack,
) -> None:
    """Without --mode, --hts was ignored: a CN t-shirt listed 33 measures and gaps (steel, aluminum
    extrusions, ...), not the 3 that apply to it."""
    from screening.rules_show import rules_in_force

    def measures(**kwargs: str) -> set[str]:
        entries = rules_in_force(us_pack, dt.date(2025, 6, 1), origin="CN", hts="6109.10.00.12", **kwargs)
        return {e.rule_id for e in entries if e.kind in ("measure", "gap")}

    assert measures() == measures(mode="express") | measures(mode="postal") | measures(mode="cargo")
    assert len(measures()) < 10


def test_rules_show_for_a_code_without_an_origin_applies_the_code_s_scope_and_says_what_it_leaves_open(
    us_pack: screening.RulePack,
) -> None:
    """Without --origin, --hts was ignored: live horses listed every measure in force (steel, autos, every
    AD/CVD gap). A measure the short code leaves open was listed as plainly in force."""
    from screening.rules_show import rules_in_force

    day = dt.date(2025, 6, 1)
    horses = {
        e.rule_id for e in rules_in_force(us_pack, day, hts="0101.21.00") if e.kind in ("measure", "gap")
    }
    assert horses
    assert not [r for r in horses if r.startswith(("s232-", "gap-adcvd-"))]
    from_cn = {e.rule_id for e in rules_in_force(us_pack, day, origin="CN", hts="0101.21.00")}
    assert {r for r in from_cn if r.startswith("ieepa-")} <= horses
    nails = {e.rule_id: e.summary for e in rules_in_force(us_pack, day, origin="CN", hts="7317.00")}
    assert "the longer code decides" in nails["s301-list3-25"]
    trout = {e.rule_id: e.summary for e in rules_in_force(us_pack, day, origin="CN", hts="0302.11")}
    assert "the longer code decides" not in trout["s301-list3-25"]
    # A subheading whose one tariff line is in a never-eligible class is in it, as a run judges it.
    honey = {e.rule_id: e for e in rules_in_force(us_pack, day, origin="CN", hts="0409.00")}
    assert honey["adcvd-cn-honey"].kind == "never-eligible"
    assert "04090000" in honey["adcvd-cn-honey"].summary
    assert "in part" not in honey["adcvd-cn-honey"].summary


def test_rules_show_lists_a_never_eligible_class_that_covers_a_short_code_in_part(
    us_pack: screening.RulePack,
) -> None:
    """``rules show --hts 0406.90 --origin DE`` did not list quota-trq, though most lines of the subheading are in
    it and a run leaves such a package's eligibility open (``--hts 0406.90.84`` listed it)."""
    from screening.rules_show import rules_in_force

    day = dt.date(2025, 6, 1)
    cheese = {e.rule_id: e for e in rules_in_force(us_pack, day, origin="DE", hts="0406.90")}
    assert cheese["quota-trq"].kind == "never-eligible"
    assert cheese["quota-trq"].summary.startswith("dm-excluded-quota: HTS 04069006, 04069008")
    assert "covers 0406.90 in part: whether these goods are in the class depends on the longer code" in (
        cheese["quota-trq"].summary
    )
    line = {e.rule_id: e for e in rules_in_force(us_pack, day, origin="DE", hts="0406.90.84")}
    assert "in part" not in line["quota-trq"].summary
    # 0406.90.05.00 is outside the class: not listed.
    assert "quota-trq" not in {
        e.rule_id for e in rules_in_force(us_pack, day, origin="DE", hts="0406.90.05.00")
    }


@pytest.mark.parametrize(
    ("day", "origin", "hts", "says"),
    [
        ("2010-01-01", "DE", "6109.10.00", "outside the dates"),
        ("2025-06-01", "ZZ", "6109.10.00", "not an assigned"),
        ("2025-06-01", "DE", "abc", "must have 6, 8 or 10 digits"),
        ("2025-06-01", "DE", "6109.1", "must have 6, 8 or 10 digits"),
    ],
)
def test_rules_show_refuses_what_a_run_would_reject(day: str, origin: str, hts: str, says: str) -> None:
    done = screen("rules", "show", US_PACK, "--date", day, "--origin", origin, "--hts", hts)
    assert done.returncode == 2
    assert says in done.stderr


def test_rules_show_for_one_line_names_its_tariff_line_and_measures() -> None:
    done = screen(
        "rules",
        "show",
        US_PACK,
        "--date",
        "2026-03-10",
        "--origin",
        "DE",
        "--hts",
        "6109.10.00.12",
        "--mode",
        "express",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    entries = {e["rule_id"]: e for e in json.loads(done.stdout)}
    assert entries["mfn"]["summary"].startswith("61091000: 16.5%")
    assert entries["mfn"]["summary"].endswith("statistical units doz., kg")
    assert entries["s122-surcharge"]["kind"] == "measure"


@pytest.mark.parametrize(
    ("hts", "says"),
    [
        ("0407.11.00.00", "charged on quantity as a count of items (divided by 12)"),  # 2.8¢/doz.
        ("0409.00.00", "charged on gross_weight_kg"),  # 1.9¢/kg
        ("0711.20.18.00", "charged on quantity in kg-drained-weight"),
    ],
)
def test_rules_show_says_what_a_specific_rate_is_charged_on(
    us_pack: screening.RulePack, hts: str, says: str
) -> None:
    """It printed "units of quantity doz." for eggs, whose rate the engine charges on a count of eggs / 12."""
    from screening.rules_show import rules_in_force

    entries = {e.rule_id: e for e in rules_in_force(us_pack, dt.date(2025, 6, 1), origin="DE", hts=hts)}
    assert entries["mfn"].summary.endswith(says)


def test_rules_show_for_mail_says_what_a_postal_regime_replaces(us_pack: screening.RulePack) -> None:
    """Mail under a flat postal regime pays the regime's rate in lieu of other duties: `rules show` listed the
    measures and MFN rate as in force and the origin-rate regime without the origin's rate."""
    from screening.rules_show import rules_in_force

    def shown(day: dt.date, **kwargs: str) -> dict[str, str]:
        return {e.rule_id: e.summary for e in rules_in_force(us_pack, day, **kwargs)}

    mail = shown(dt.date(2025, 9, 15), origin="CN", hts="6109.10.00.12", mode="postal")
    assert mail["postal-all-ieepa-rate"] == (
        "origin-rate 0.30 for CN; or per item by the origin's rate (--postal-method specific): $80.00 under 0.16,"
        " $160.00 up to 0.25, $200.00 over 0.25: $200.00 for CN"
    )
    assert "replaced by postal regime postal-all-ieepa-rate" in mail["s301-list4a"]
    assert "replaced by postal regime postal-all-ieepa-rate" in mail["mfn"]
    assert mail["dutiable-mail-postal-regime"] == "dutiable_mail $0.00 on postal (postal)"
    express = shown(dt.date(2025, 9, 15), origin="CN", hts="6109.10.00.12", mode="express")
    assert "replaced" not in express["s301-list4a"] + express["mfn"]
    german = shown(dt.date(2025, 9, 15), origin="DE", mode="postal")
    assert german["postal-all-ieepa-rate"].startswith(
        "origin-rate: no rate for DE in the pack (duty not computable); not for AD/CVD or quota goods"
    )
    # From 2026-07-24 mail pays every duty: nothing is replaced; its fees are owed but not known.
    entry = shown(dt.date(2026, 7, 24), origin="CN", hts="6109.10.00.12", mode="postal")
    assert "replaced" not in entry["mfn"]
    assert entry["postal-informal-entry-fees"].startswith("postal_entry_fees of unknown amount")
    # A regime for some origins says whose mail it is, where no origin is asked for (it read as every mail's).
    any_origin = shown(dt.date(2025, 6, 1), hts="6109.10.00.12", mode="postal")
    assert "replaced by postal regime postal-cn-hk-54 (mail from CN, HK)" in any_origin["mfn"]
    # Goods barred from the postal method (AD/CVD honey from CN) pay their duties: nothing is replaced.
    honey = shown(dt.date(2025, 6, 1), origin="CN", hts="0409.00.00", mode="postal")
    assert "replaced" not in honey["mfn"]
    # Fees say the modes they are charged on (the mail fee and the informal MPF read alike), and which mail.
    assert any_origin["dutiable-mail-fy2025"] == (
        "dutiable_mail $7.20 on informal (postal) for mail with no postal regime in force"
    )
    assert any_origin["mpf-informal-mail-fy2025"] == (
        "mpf_informal $2.62 on informal (postal) for mail barred from the postal regime in force (AD/CVD, quota goods)"
    )


def test_rules_show_says_when_the_pack_has_no_tariff_lines_for_the_date(us_pack: screening.RulePack) -> None:
    """Before the tariff table starts, `rules show` said 'no tariff line' (confirmed) where a run says the
    duty is not computable."""
    from screening.rules_show import rules_in_force

    (line,) = [
        e for e in rules_in_force(us_pack, dt.date(2020, 1, 1), hts="6109.10.00.12") if e.rule_id == "mfn"
    ]
    assert (
        line.summary
        == "the pack has no tariff lines on 2020-01-01 (they start 2025-01-01): duty not computable"
    )
    assert line.confidence == us_pack.tariff.mfn.confidence


def test_rules_show_names_the_ad_cvd_order_and_quota_class_of_a_line() -> None:
    def shown(origin: str, hts: str) -> dict[str, dict[str, str]]:
        done = screen(
            "rules", "show", US_PACK, "--date", "2025-03-10", "--origin", origin, "--hts", hts, "--json"
        )
        assert done.returncode == 0, done.stderr
        return {e["rule_id"]: e for e in json.loads(done.stdout)}

    honey = shown("CN", "0409.00.00.35")
    assert honey["adcvd-cn-honey"]["summary"] == "dm-excluded-adcvd from CN: HTS 04090000"
    assert honey["adcvd-cn-honey"]["confidence"] == "unconfirmed"
    assert "66 FR 63670" in honey["adcvd-cn-honey"]["citation"]
    assert "adcvd-cn-honey" not in shown("VN", "0409.00.00.35")  # the order covers China only
    cheese = shown("FR", "0406.90.12.00")["quota-trq"]["summary"]
    assert cheese == "dm-excluded-quota: HTS 04069012 … (430 prefixes)"


@pytest.fixture
def pack_copy(tmp_path: Path) -> Path:
    """A private copy of the U.S. pack, for commands that rewrite its tables."""
    import shutil

    copy = tmp_path / "us"
    shutil.copytree(US_PACK, copy)
    return copy


def test_import_hts_merges_a_revision_into_the_table(tmp_path: Path, pack_copy: Path) -> None:
    """A partial export (two lines) would end every other open line of the table: refused unless the
    dropped chapters are allowed, and then the ended lines are counted. Dated after every measure of the pack
    begins: a measure beginning under the two-line revision (gap-s232-wood-2027) would match no line of it,
    and the import be refused (:func:`test_import_hts_refuses_a_revision_that_renumbers_a_lists_codes`)."""
    export = tmp_path / "export.json"
    export.write_text(
        json.dumps(
            [
                {"htsno": "6109.10.00", "general": "12%", "special": "Free (S)", "indent": "1"},
                {"htsno": "9503.00.00", "general": "Free", "special": "", "indent": "1"},
            ]
        )
    )
    before = pl.read_csv(pack_copy / "tariff" / "mfn.csv", infer_schema=False)
    args = [
        "rules",
        "import-hts",
        export,
        "--revision",
        "test-rev",
        "--effective-from",
        "2031-01-01",
        "--pack",
        pack_copy,
    ]
    refused = screen(*args)
    assert refused.returncode == 4, refused.stdout + refused.stderr
    assert "a partial export would end all their lines" in " ".join(refused.stderr.split())
    assert pl.read_csv(pack_copy / "tariff" / "mfn.csv", infer_schema=False).equals(before)
    done = screen(*args, "--allow-dropped-chapters")
    assert done.returncode == 0, done.stdout + done.stderr
    printed = " ".join(done.stdout.split())
    assert "2 of 2 parsed (100.00%): 2 computable" in printed
    still_open = before.filter(pl.col("effective_to").is_null() & (pl.col("hts") != "95030000")).height
    assert f"{still_open:,} open lines end on 2031-01-01" in printed
    table = pl.read_csv(pack_copy / "tariff" / "mfn.csv", infer_schema=False).filter(
        pl.col("hts") == "61091000"
    )
    assert table.select("effective_from", "effective_to", "general").rows() == [
        ("2025-01-01", "2031-01-01", "16.5%"),
        ("2031-01-01", None, "12%"),
    ]
    again = screen(*[a if a != "2031-01-01" else "2031-06-01" for a in args], "--allow-dropped-chapters")
    assert again.returncode == 4
    assert "this revision is already in the table" in again.stderr


#: A 2027 revision that renumbers the codes of the wood gap beginning that day (9401.61 and 9403.40; the codes
#: are made up for the test), with one line under the merge test's code.
RENUMBERED_WOOD = [
    {"htsno": "6109.10.00", "general": "12%", "special": "Free (S)", "indent": "1"},
    {"htsno": "9401.62.00", "general": "Free", "special": "", "indent": "1"},
    {"htsno": "9403.41.00", "general": "Free", "special": "", "indent": "1"},
]


def _import_2027(export: Path, pack: Path) -> subprocess.CompletedProcess[str]:
    return screen(
        "rules", "import-hts", export, "--revision", "r2027", "--effective-from", "2027-01-01",
        "--pack", pack, "--allow-dropped-chapters",
    )  # fmt: skip


def _wood_gap_codes(pack: Path, codes: str) -> None:
    """Set the HTS list of the U.S. pack's gap-s232-wood-2027 (from 2027-01-01) to ``codes``."""
    file = pack / "measures" / "s232.toml"
    text = file.read_text(encoding="utf-8")
    start = text.index('id = "gap-s232-wood-2027"')
    listed = text.index('hts_include = ["940161", "940340"]', start)
    end = listed + len('hts_include = ["940161", "940340"]')
    file.write_text(f"{text[:listed]}hts_include = [{codes}]{text[end:]}", encoding="utf-8")


def test_import_hts_refuses_a_revision_that_renumbers_a_lists_codes(tmp_path: Path, pack_copy: Path) -> None:
    """A revision renumbering the codes of a gap that begins on its date was imported (exit 0), and the merged
    table left the gap matching no line: every command then refused the pack (exit 4), import-hts included.
    Now nothing is written and the message names the gap, its file and codes, and how to go on; with the new
    codes added to the list first the import goes through, and warns of the old codes that now match nothing."""
    export = tmp_path / "export.json"
    export.write_text(json.dumps(RENUMBERED_WOOD))
    table = pack_copy / "tariff" / "mfn.csv"
    before = table.read_bytes()
    refused = _import_2027(export, pack_copy)
    assert refused.returncode == 4, refused.stdout + refused.stderr
    message = " ".join(refused.stderr.split())
    assert (
        "merged as r2027 from 2027-01-01, the tariff table would have no line in force on their dates that "
        "matches a code of these lists: coverage gap gap-s232-wood-2027 in measures/s232.toml (hts_include: "
        "940161, 940340)."
    ) in message
    assert "nothing was written" in message
    assert "Add the codes this revision gives those goods to each list first" in message
    assert table.read_bytes() == before
    assert not (table.parent / ".mfn.csv.staging").exists()
    _wood_gap_codes(pack_copy, '"940161", "940340", "940162", "940341"')
    done = _import_2027(export, pack_copy)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (
        "warning measures/s232.toml gap-s232-wood-2027: HTS codes that match no tariff line of its dates: 2 of "
        "the 4 it covers (940161, 940340)"
    ) in " ".join(done.stdout.split())
    merged = pl.read_csv(table, infer_schema=False).filter(pl.col("hts").str.starts_with("9401"))
    assert merged.filter(pl.col("effective_to").is_null())["hts"].to_list() == ["94016200"]
    load_rules(pack_copy)  # the pack loads


def test_import_hts_repairs_a_pack_whose_only_fault_is_a_list_matching_nothing(
    tmp_path: Path, pack_copy: Path
) -> None:
    """A pack whose gap lists only the codes of a revision not yet imported is refused by every command; it
    refused the import of that revision too (exit 4), the one command that would repair it."""
    _wood_gap_codes(pack_copy, '"940162", "940341"')
    with pytest.raises(RulePackError, match="coverage gap gap-s232-wood-2027: none of the 2 HTS codes"):
        load_rules(pack_copy)
    export = tmp_path / "export.json"
    export.write_text(json.dumps(RENUMBERED_WOOD))
    done = _import_2027(export, pack_copy)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "gap-s232-wood-2027" not in done.stdout  # both its codes match a line now
    assert (
        unmatched_scope(load_rules(pack_copy)).filter(pl.col("measure_id") == "gap-s232-wood-2027").is_empty()
    )


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[]", "no row has an `htsno`"),
        ('["a", "b"]', "expected a list of rows (JSON objects)"),
        ('[{"hts_number": "6109.10.00"}]', "no row has an `htsno`"),
    ],
)
def test_import_hts_refuses_an_export_not_in_its_layout(
    tmp_path: Path, pack_copy: Path, text: str, says: str
) -> None:
    """`[]` was imported (exit 0) and ended all 11,414 open lines; a list of strings was exit 70."""
    export = tmp_path / "export.json"
    export.write_text(text)
    done = screen(
        "rules",
        "import-hts",
        export,
        "--revision",
        "r",
        "--effective-from",
        "2027-01-01",
        "--pack",
        pack_copy,
    )
    assert done.returncode == 4, done.stdout + done.stderr
    assert says in done.stderr
    assert (pack_copy / "tariff" / "mfn.csv").read_bytes() == (US_PACK / "tariff" / "mfn.csv").read_bytes()


def test_outputs_are_sorted_by_their_keys(sample_run: Path) -> None:
    lines = pl.read_parquet(sample_run / "lines.parquet", columns=["package_id", "line_no"])
    assert lines.equals(lines.sort("package_id", "line_no"))
    packages = pl.read_parquet(sample_run / "packages.parquet", columns=["package_id"])
    assert packages.equals(packages.sort("package_id"))
    rejects = pl.read_parquet(sample_run / "rejects.parquet", columns=["source", "row"])
    assert rejects.equals(rejects.sort("source", "row"))
    components = pl.read_parquet(
        sample_run / "components.parquet", columns=["package_id", "line_no", "component", "measure_id"]
    )
    assert components.height > packages.height  # duties and fees of most packages
    assert components.equals(components.sort(components.columns, nulls_last=True))
    flags = pl.read_parquet(sample_run / "flags.parquet", columns=["package_id", "rule_id"])
    assert flags["rule_id"].n_unique() > 3
    assert flags["package_id"].is_duplicated().any()  # packages with several flags, ordered by rule id
    assert flags.equals(flags.sort("package_id", "rule_id"))
    queues = pl.read_parquet(
        sample_run / "queues.parquet", columns=["queue", "port_of_entry", "arrival_date", "queue_rank"]
    )
    assert queues.height > 0
    assert queues.equals(queues.sort(queues.columns, nulls_last=True))


def test_explain_prints_the_decision_flags_queue_and_a_citation_url(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert screen("run", str(SAMPLE / "manifest_10k.parquet"), "--out", str(out), "--quiet").returncode == 0
    packages = pl.read_parquet(out / "packages.parquet")
    flagged = packages.filter(pl.col("queue").is_not_null()).sort(
        "risk_score", "package_id", descending=[True, False]
    )
    package_id = flagged["package_id"][0]
    done = screen("explain", package_id, "--run", str(out))
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert f"Package {package_id}" in text
    assert "https://" in text
    assert flagged["queue"][0] in text
    assert "why:" in text
    assert "source:" in text
    as_json = json.loads(screen("explain", package_id, "--run", str(out), "--json").stdout)
    assert as_json["queue"]["queue"] == flagged["queue"][0]
    assert {f["rule_id"] for f in as_json["flags"]} == set(flagged["risk_flags"][0])
    assert sum(f["weight"] for f in as_json["flags"]) == flagged["risk_score"][0]


def test_explain_of_an_unknown_package_is_a_usage_error(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert (
        screen("run", str(SAMPLE / "handchecked" / "manifest.csv"), "--out", str(out), "--quiet").returncode
        == 0
    )
    done = screen("explain", "NO-SUCH-PACKAGE", "--run", str(out))
    assert done.returncode == 2
    assert "NO-SUCH-PACKAGE" in done.stderr


def test_json_nested_too_deeply_is_refused_not_a_crash(tmp_path: Path) -> None:
    """A summary.json (explain) or USITC export (import-hts) nested 100,000 deep exited 70 (RecursionError)."""
    out = tmp_path / "out"
    assert screen("run", SAMPLE / "handchecked" / "manifest.csv", "--out", out, "--quiet").returncode == 0
    deep = "[" * 100_000 + "]" * 100_000
    (out / "summary.json").write_text(deep)
    explained = screen("explain", "P1", "--run", out)
    assert explained.returncode == 3, explained.stderr
    assert "summary.json" in explained.stderr
    export = tmp_path / "export.json"
    export.write_text(deep)
    pack = tmp_path / "pack"
    shutil.copytree(US_PACK, pack)
    imported = screen(
        "rules", "import-hts", export, "--revision", "r", "--effective-from", "2027-01-01", "--pack", pack
    )
    assert imported.returncode == 4, imported.stderr
    assert "export.json" in imported.stderr


def test_explain_reads_csv_outputs_too(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run = screen(
        "run", str(SAMPLE / "handchecked" / "manifest.csv"), "--out", str(out), "--format", "csv", "--quiet"
    )
    assert run.returncode == 0
    package_id = pl.read_csv(out / "packages.csv", infer_schema=False)["package_id"][0]
    done = screen("explain", package_id, "--run", str(out))
    assert done.returncode == 0, done.stderr
    assert "DECISION" in done.stdout


def test_explain_of_a_csv_run_says_what_the_parquet_run_says(tmp_path: Path) -> None:
    """A CSV run gave strings for every typed field (``"eligible": "false"`` is truthy), and a package id or text
    the CSV writer had neutralised (``'-P1``) was not found, or shown with its ``'``."""
    lines = [
        {**BASE_LINE, "package_id": "-P1", "description": "=cmd|' /C calc'!A0", "declared_value": "900"},
        {**BASE_LINE, "package_id": "-P1", "line_no": "2", "declared_value": "5", "description": "'=quoted"},
    ]
    result = screening.screen(pl.DataFrame(lines), rules=US_PACK)
    result.write(tmp_path / "parquet")
    result.write(tmp_path / "csv", fmt="csv")
    from_parquet = explain_package(tmp_path / "parquet", "-P1")
    from_csv = explain_package(tmp_path / "csv", "-P1")
    assert from_csv == from_parquet
    assert from_csv["decision"]["eligible"] is False
    assert [line["description"] for line in from_csv["lines"]] == ["=cmd|' /C calc'!A0", "'=quoted"]
    text = render_text(from_csv)
    assert "None" not in text
    assert text == render_text(from_parquet)


def test_explain_shows_every_part_of_a_package_screened_in_two_batches(tmp_path: Path) -> None:
    """A package whose lines came in two batches has two package rows (each its own entry): the explanation
    showed the first part's figures beside both parts' lines and fees, which did not add up."""
    lines = [
        {**BASE_LINE, "package_id": "A1", "declared_value": "1500"},
        {**BASE_LINE, "package_id": "B1", "declared_value": "100", "consignee_name": "Bob Keller"},
        {**BASE_LINE, "package_id": "A1", "line_no": "2", "declared_value": "1500"},
    ]
    manifest = tmp_path / "split.csv"
    pl.DataFrame(lines).write_csv(manifest)
    done = screen("run", manifest, "--out", tmp_path / "out", "--batch-size", "2", "--quiet")
    assert done.returncode == 0, done.stderr
    explained = explain_package(tmp_path / "out", "A1")
    assert [part["package"]["lines"] for part in explained["parts"]] == [1, 1]
    text = render_text(explained)
    assert "screened in 2 parts" in text
    assert text.count("DECISION (part 1 of 2: line 1)") == text.count("DECISION (part 2 of 2: line 2)") == 1


def test_import_sdn_converts_the_ofac_layout(tmp_path: Path) -> None:
    """The report counts the entries by SDN type and says how many the pack never matches names against (its
    ``[denied_parties] party_types``: the U.S. pack's leave out vessels and aircraft), which it did not say."""
    target = tmp_path / "list.csv"
    sdn = ROOT / "tests" / "fixtures" / "ofac_sdn_sample.csv"
    done = screen("rules", "import-sdn", str(sdn), "--out", str(target))
    assert done.returncode == 0, done.stderr
    listing = pl.read_csv(target)
    assert {"entry_id", "name", "aliases", "program"} <= set(listing.columns)
    assert "ofac-sdn-306" in listing["entry_id"].to_list()
    report = " ".join(done.stdout.split())
    assert "imported 13 entries" in report
    assert "entries by SDN type: 2 individual, 3 vessel, 1 aircraft, 7 entity" in report
    assert (
        "pack rules/us matches individual, entity ([denied_parties] party_types): 9 entries; 4 not matched "
        "(3 vessel, 1 aircraft)"
    ) in report
    # The count follows the pack named: one that matches vessels too leaves out the aircraft only.
    pack = tmp_path / "pack"
    shutil.copytree(US_PACK, pack)
    risk = (pack / "risk.toml").read_text(encoding="utf-8")
    wide = risk.replace(
        'party_types = ["individual", "entity"]', 'party_types = ["individual", "entity", "vessel"]'
    )
    assert wide != risk
    (pack / "risk.toml").write_text(wide, encoding="utf-8")
    done = screen("rules", "import-sdn", str(sdn), "--out", str(target), "--pack", str(pack))
    assert done.returncode == 0, done.stderr
    assert (
        "matches individual, entity, vessel ([denied_parties] party_types): 12 entries; 1 not matched (1 aircraft)"
    ) in " ".join(done.stdout.split())


def test_import_sdn_writes_the_list_a_pack_names_before_reading_the_pack(tmp_path: Path) -> None:
    """import-sdn loaded the whole pack first, only for the report: when risk.toml already named the list being
    written (the natural order when replacing it) or the pack failed to load, it exited 4 and wrote nothing.
    The list is written first, and only risk.toml's [denied_parties] is read; where even that fails, the counts
    per type are printed with a note."""
    sdn = ROOT / "tests" / "fixtures" / "ofac_sdn_sample.csv"
    pack = tmp_path / "pack"
    shutil.copytree(US_PACK, pack)
    risk = pack / "risk.toml"
    text = risk.read_text(encoding="utf-8")
    named = text.replace('file = "screening/ofac_sdn_2024-05-03.csv"', 'file = "screening/sdn_new.csv"')
    assert named != text
    risk.write_text(named, encoding="utf-8")
    (pack / "tariff.toml").write_text("not = [toml", encoding="utf-8")  # and the pack does not load
    target = pack / "screening" / "sdn_new.csv"
    done = screen("rules", "import-sdn", sdn, "--out", target, "--pack", pack)
    assert done.returncode == 0, done.stdout + done.stderr
    assert pl.read_csv(target).height == 13
    assert (
        "matches individual, entity ([denied_parties] party_types): 9 entries; 4 not matched (3 vessel, 1 aircraft)"
    ) in " ".join(done.stdout.split())
    assert f"pack{pack}matches" in "".join(done.stdout.split())  # a long path is folded across lines
    # A [denied_parties] table that does not validate: the counts per type, and a note in place of the match.
    risk.write_text(named.replace("threshold = 0.8", "threshold = 8"), encoding="utf-8")
    target.unlink()
    done = screen("rules", "import-sdn", sdn, "--out", target, "--pack", pack)
    assert done.returncode == 0, done.stdout + done.stderr
    assert pl.read_csv(target).height == 13
    report = " ".join(done.stdout.split())
    assert "entries by SDN type: 2 individual, 3 vessel, 1 aircraft, 7 entity" in report
    assert "note: the pack could not be read, so the entries it matches are not counted:" in report
    assert f"{pack / 'risk.toml'}[denied_parties.threshold]" in "".join(done.stdout.split())
    assert " matches individual" not in report


def test_import_sdn_into_a_pack_says_to_remove_the_previous_list(tmp_path: Path) -> None:
    """README's recipe (import into the pack's screening/ folder, point risk.toml at it) left the pack unloadable,
    exit 4 "no entry of the pack names this table", on the previous list, which nothing said to remove. The
    closing message says the pack will not load until risk.toml names the new list and the previous one is
    gone; following it, the pack loads and screens against the new list."""
    sdn = ROOT / "tests" / "fixtures" / "ofac_sdn_sample.csv"
    pack = tmp_path / "pack"
    shutil.copytree(US_PACK, pack)
    target = pack / "screening" / "sdn_new.csv"
    done = screen("rules", "import-sdn", sdn, "--out", target, "--pack", pack)
    assert done.returncode == 0, done.stdout + done.stderr
    said = " ".join(done.stdout.split())
    assert "this list is in the pack" in said, said
    assert 'file = "screening/sdn_new.csv"' in said, said
    assert (
        "remove the previous list, screening/ofac_sdn_2024-05-03.csv, or move it out of the pack" in said
    ), said
    risk = pack / "risk.toml"
    text = risk.read_text(encoding="utf-8")
    risk.write_text(
        text.replace('file = "screening/ofac_sdn_2024-05-03.csv"', 'file = "screening/sdn_new.csv"'),
        encoding="utf-8",
    )
    assert screen("rules", "check", pack).returncode == 4  # the previous list is still there
    (pack / "screening" / "ofac_sdn_2024-05-03.csv").unlink()
    assert screening.load_rules(pack).risk.denied_parties is not None
    # Once risk.toml names it, only the publication date is left to set.
    done = screen("rules", "import-sdn", sdn, "--out", target, "--pack", pack)
    assert "the pack's risk.toml names this list" in " ".join(done.stdout.split())
    # Written outside the pack: copy it in, name it, and remove the previous list.
    done = screen("rules", "import-sdn", sdn, "--out", tmp_path / "list.csv")
    said = " ".join(done.stdout.split())
    assert "copy it into the pack" in said, said
    assert (
        "remove the previous list, screening/ofac_sdn_2024-05-03.csv, or move it out of the pack" in said
    ), said


def test_import_sdn_into_a_pack_naming_it_already_says_to_remove_the_previous_list(tmp_path: Path) -> None:
    """With risk.toml already naming the new list, import-sdn said only to set ``published``; the previous list
    left in screening/ made the pack unloadable (exit 4, "no entry of the pack names this table"). Every branch
    names the other tables of the pack's screening/ folder to remove; following the message, the pack loads."""
    sdn = ROOT / "tests" / "fixtures" / "ofac_sdn_sample.csv"
    pack = tmp_path / "pack"
    shutil.copytree(US_PACK, pack)
    risk = pack / "risk.toml"
    text = risk.read_text(encoding="utf-8")
    named = text.replace('file = "screening/ofac_sdn_2024-05-03.csv"', 'file = "screening/sdn_new.csv"')
    assert named != text
    risk.write_text(named, encoding="utf-8")
    (pack / "screening" / "old_list.parquet").write_bytes(b"")
    target = pack / "screening" / "sdn_new.csv"
    done = screen("rules", "import-sdn", sdn, "--out", target, "--pack", pack)
    assert done.returncode == 0, done.stdout + done.stderr
    said = " ".join(done.stdout.split())
    assert (
        "the pack's risk.toml names this list: set [denied_parties] published to the date OFAC published it, and "
        "remove the previous lists, screening/ofac_sdn_2024-05-03.csv, screening/old_list.parquet, or move them "
        "out of the pack (a pack refuses a table no entry names): the pack will not load before"
    ) in said, said
    assert screen("rules", "check", pack).returncode == 4
    (pack / "screening" / "ofac_sdn_2024-05-03.csv").unlink()
    (pack / "screening" / "old_list.parquet").unlink()
    assert screening.load_rules(pack).risk.denied_parties is not None
    # Once they are gone, only the publication date is left to set.
    done = screen("rules", "import-sdn", sdn, "--out", target, "--pack", pack)
    said = " ".join(done.stdout.split())
    assert said.endswith(
        "the pack's risk.toml names this list: set [denied_parties] published to the date OFAC published it"
    ), said


@pytest.mark.parametrize(
    "command",
    [
        ("import-hts", "--revision", "r", "--effective-from", "2027-01-01", "--pack", US_PACK),
        ("import-sdn", "--out", "list.csv"),
    ],
)
@pytest.mark.parametrize("missing", ["absent.json", "."])
def test_an_import_of_a_missing_export_is_a_rule_data_error(
    tmp_path: Path, command: tuple[str, ...], missing: str
) -> None:
    export = tmp_path / missing
    done = screen("rules", command[0], export, *command[1:], cwd=tmp_path)
    assert done.returncode == 4, done.stdout + done.stderr
    assert str(export) in done.stderr
    assert not (tmp_path / "list.csv").exists()


def test_explain_shows_the_rejected_lines_of_a_package_and_unsettled_sources(tmp_path: Path) -> None:
    rows = [
        {**BASE_LINE, "arrival_date": "2025-09-02"},
        {**BASE_LINE, "arrival_date": "2025-09-02", "line_no": "2", "hts_code": "12"},
        {**BASE_LINE, "arrival_date": "2025-09-02", "package_id": "P2"},
        {**BASE_LINE, "arrival_date": "2025-09-02", "package_id": "P2"},
    ]
    frame = pl.DataFrame(rows, schema=dict.fromkeys(BASE_LINE, pl.String()))
    screening.screen(frame, rules=US_PACK).write(tmp_path / "out")
    # A package with a rejected line is not screened: both its lines are listed with their codes.
    rejected = explain_package(tmp_path / "out", "P1")
    assert [(r["line_no"], r["code"]) for r in rejected["rejected"]] == [
        ("1", "package-incomplete"),
        ("2", "invalid-hts"),
    ]
    assert "Package P1: rejected, not screened" in render_text(rejected)
    # A screened package lists the copies of its lines that were rejected.
    explained = explain_package(tmp_path / "out", "P2")
    assert [(r["line_no"], r["code"]) for r in explained["rejected_lines"]] == [("1", "duplicate-line")]
    text = render_text(explained)
    assert "a copy of line 1, ignored (duplicate-line)" in text
    unsettled = {c["measure_id"] for c in explained["components"] if c["confidence"] != "confirmed"}
    assert unsettled, "the case needs a component the pack does not hold settled"
    assert "(confidence: unconfirmed)" in text


@pytest.mark.parametrize("target", ["x.arrow", "no_such_folder/x.parquet", "a_folder.parquet"])
def test_generate_names_an_unwritable_output_as_a_usage_error(tmp_path: Path, target: str) -> None:
    (tmp_path / "a_folder.parquet").mkdir()
    done = screen("generate", "--rows", "5", "--out", tmp_path / target)
    assert done.returncode == 2, done.stderr
    assert target in done.stderr
    assert "internal error" not in done.stderr


def test_explain_names_a_damaged_run_file_with_exit_3(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert screen("run", SAMPLE / "handchecked" / "manifest.csv", "--out", out, "--quiet").returncode == 0
    package_id = pl.read_parquet(out / "packages.parquet")["package_id"][0]
    (out / "summary.json").write_text("{\n")
    done = screen("explain", package_id, "--run", out)
    assert done.returncode == 3, done.stderr
    assert "summary.json" in done.stderr


def test_the_printed_summary_of_a_run_without_packages_reads_plainly(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text(",".join(BASE_LINE) + "\n")
    done = screen("run", empty, "--out", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    assert "None" not in done.stdout
    assert "; ;" not in done.stdout


def test_the_summary_counts_packages_whose_fees_or_total_are_unknown(tmp_path: Path) -> None:
    """A postal package from 2026-07-24 owes fees of unknown amount: its total is empty, and the printed and
    saved totals (sums of known amounts) say so rather than showing $0.00 due without a word."""
    lines = [
        {
            **BASE_LINE,
            "package_id": "POST",
            "mode": "postal",
            "arrival_date": "2026-08-10",
            "currency": "USD",
        },
        {
            **BASE_LINE,
            "package_id": "EXPR",
            "arrival_date": "2026-08-10",
            "currency": "USD",
            "consignee_name": "B",
        },
    ]
    manifest = tmp_path / "m.csv"
    pl.DataFrame(lines).write_csv(manifest)
    done = screen("run", manifest, "--out", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    money = json.loads((tmp_path / "out" / "summary.json").read_text())["money"]
    packages = pl.read_parquet(tmp_path / "out" / "packages.parquet")
    post = packages.filter(pl.col("package_id") == "POST").row(0, named=True)
    assert (post["fee_status"], post["fees_usd"], post["total_due_usd"]) == ("fees-unknown", None, None)
    assert (money["packages_with_unknown_fees"], money["packages_with_unknown_total"]) == (1, 1)
    assert money["packages_with_unknown_duty"] == 0
    assert money["total_due_usd"] == f"{packages['total_due_usd'].drop_nulls().sum():.2f}"
    assert "1 packages have no total due" in done.stdout


@pytest.mark.parametrize(
    ("signal_name", "code", "says"), [("SIGINT", 130, "interrupted"), ("SIGTERM", 143, "terminated")]
)
def test_a_stopped_run_exits_with_its_signal_s_code_and_leaves_no_staging(
    tmp_path: Path, signal_name: str, code: int, says: str
) -> None:
    """A real SIGINT (Ctrl-C) to a running batched job: exit 130 (it was 1, click's "Aborted!"); SIGTERM, as a
    scheduler or ``timeout`` sends: exit 143 (it killed the process where it stood, leaving its staging
    folder). Neither leaves staging behind."""
    import signal
    import time

    day = tmp_path / "day.parquet"
    pl.concat([pl.read_parquet(SAMPLE_PARQUET)] * 8).write_parquet(day)
    command = [sys.executable, "-m", "screening", "run", str(day), "--rules", str(US_PACK)]
    running = subprocess.Popen(
        [*command, "--out", str(tmp_path / "o"), "--batch-size", "2000", "--quiet"],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".o.staging-*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)
    running.send_signal(getattr(signal, signal_name))
    _, stderr = running.communicate(timeout=120)
    assert running.returncode == code, stderr
    assert says in stderr
    assert not (tmp_path / "o").exists()
    assert list(tmp_path.glob(".o.staging-*")) == []


def test_explain_shows_what_a_specific_rate_was_charged_on(tmp_path: Path) -> None:
    """Every specific rate read "$0.019 per unit" with neither the unit nor the weight it was charged on."""
    honey = {
        **BASE_LINE,
        "arrival_date": "2025-06-01",
        "hts_code": "0409.00.00",
        "description": "natural honey",
        "gross_weight_kg": "2.5",
        "declared_value": "900",  # over $800: dutiable
    }
    frame = pl.DataFrame([honey], schema=dict.fromkeys(honey, pl.String()))
    screening.screen(frame, rules=US_PACK).write(tmp_path / "out")
    text = render_text(explain_package(tmp_path / "out", "P1"))
    assert "gross kg 2.5" in text
    specific = next(line for line in text.splitlines() if "mfn_specific" in line)
    assert specific.endswith("2.5 kg (gross_weight_kg) x $0.019 = $0.0475 -> $0.05")  # 1.9¢/kg, half up


def test_arrivals_after_the_pack_s_facts_are_reported_as_decided_by_the_law_as_known_then(
    tmp_path: Path,
) -> None:
    """Today's arrivals are past the day the U.S. pack's law was last checked: the summary and the run say so
    (open rules simply stayed in force, silently)."""
    as_of = screening.load_rules(US_PACK).meta.facts_as_of
    assert as_of is not None
    rows = [
        {**BASE_LINE, "package_id": "OLD", "consignee_name": "A", "arrival_date": str(as_of)},
        {
            **BASE_LINE,
            "package_id": "NEW",
            "consignee_name": "B",
            "arrival_date": str(as_of + dt.timedelta(days=12)),
        },
    ]
    manifest = tmp_path / "m.parquet"
    pl.DataFrame(rows, schema=dict.fromkeys(BASE_LINE, pl.String())).write_parquet(manifest)
    done = screen("run", manifest, "--out", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    rules = json.loads((tmp_path / "out" / "summary.json").read_text())["rules"]
    assert rules["facts_as_of"] == str(as_of)
    assert (rules["arrival_dates_after_facts"], rules["latest_arrival_days_after_facts"]) == (1, 12)
    assert "1 arrival date(s) after the pack's facts" in " ".join(done.stdout.split())
    shown = screen("rules", "show", US_PACK, "--date", str(as_of + dt.timedelta(days=3)))
    assert f"facts are as of {as_of}, 3 days before" in " ".join(shown.stdout.split())
    before = screen("rules", "show", US_PACK, "--date", str(as_of))
    assert "facts are as of" not in before.stdout


def test_sigterm_caught_and_rewrapped_by_a_library_still_exits_as_terminated() -> None:
    """CI saw SIGTERM land inside a polars callback, which turned Terminated into a TypeError: exit 70 (an
    internal error) instead of 143, the staging folder's cleanup path skipped."""
    import os
    import signal
    import time

    from screening.cli import EXIT_INTERNAL, EXIT_TERMINATED, exits_cleanly
    from screening.errors import Terminated

    @exits_cleanly
    def stopped_inside_a_library() -> None:
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
        except Terminated:
            raise TypeError("'<unprintable str object>' is not a Polars data type") from None

    @exits_cleanly
    def failing() -> None:
        raise TypeError("a real bug")

    with pytest.raises(SystemExit) as stopped:
        stopped_inside_a_library()
    assert stopped.value.code == EXIT_TERMINATED
    with pytest.raises(SystemExit) as failed:  # a later command's own error is still internal
        failing()
    assert failed.value.code == EXIT_INTERNAL


@pytest.mark.parametrize(
    ("first", "second", "code"),
    [("SIGTERM", "SIGINT", "EXIT_TERMINATED"), ("SIGINT", "SIGTERM", "EXIT_INTERRUPTED")],
)
def test_the_first_signal_decides_the_exit_code_when_a_second_lands_in_the_cleanup(
    tmp_path: Path, first: str, second: str, code: str
) -> None:
    """A SIGTERM that stopped a run, then a Ctrl-C while its staging folder was removed, exited 130
    "interrupted": the cleanup hands the second signal on after it (for a host's handlers), and it replaced the
    first as the exception unwinding. The first signal decides, as before; the staging folder is removed."""
    import os
    import signal
    import time

    from screening import cli
    from screening.io import writers

    @cli.exits_cleanly
    def stopped_then_signalled_in_the_cleanup() -> None:
        staging = tmp_path / "staging"
        staging.mkdir()
        try:
            os.kill(os.getpid(), getattr(signal, first))
            time.sleep(5)
        except KeyboardInterrupt:
            with writers.interrupts_held():
                os.kill(os.getpid(), getattr(signal, second))
                time.sleep(0.05)
                staging.rmdir()
            raise

    with pytest.raises(SystemExit) as stopped:
        stopped_then_signalled_in_the_cleanup()
    assert stopped.value.code == getattr(cli, code)
    assert list(tmp_path.iterdir()) == []


def test_the_summary_records_the_code_history_and_mapping_that_made_it(tmp_path: Path) -> None:
    """Two runs of one file and pack gave different answers under another history or column mapping (or
    another build of one version), and their summaries could not tell why: each is now recorded."""
    manifest = tmp_path / "m.csv"
    pl.read_csv(SAMPLE / "handchecked" / "manifest.csv", infer_schema=False).drop("mode").write_csv(manifest)
    summaries = {}
    for name, mode in (("express", "express"), ("cargo", "cargo")):
        mapping = tmp_path / f"{name}.toml"
        mapping.write_text(f'[defaults]\nmode = "{mode}"\n', encoding="utf-8")
        done = screen("run", manifest, "--out", tmp_path / name, "--mapping", mapping, "--json")
        assert done.returncode == 0, done.stderr
        summaries[name] = json.loads(done.stdout)
    history = screen(
        "run",
        manifest,
        "--out",
        tmp_path / "with_history",
        "--mapping",
        tmp_path / "express.toml",
        "--history",
        tmp_path / "cargo",
        "--json",
    )
    assert history.returncode == 0, history.stderr
    summaries["history"] = json.loads(history.stdout)
    express, cargo, with_history = summaries["express"], summaries["cargo"], summaries["history"]
    assert express["engine"]["build"] == engine_build()
    assert express["engine"]["build"].startswith("sha256:")
    assert express["options"]["mapping"] != cargo["options"]["mapping"]
    assert express["options"]["mapping"].startswith("sha256:")
    assert (express["options"]["history"], with_history["options"]["history"]) == (
        "none",
        history_digest([tmp_path / "cargo"]),
    )
    assert with_history["options"]["mapping"] == express["options"]["mapping"]


def test_a_build_digest_follows_every_file_of_the_code(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("x = 1\n")
    before = tree_digest(tmp_path / "pkg")
    (tmp_path / "pkg" / "__pycache__").mkdir()
    (tmp_path / "pkg" / "__pycache__" / "a.pyc").write_bytes(b"cache")
    assert tree_digest(tmp_path / "pkg") == before
    (tmp_path / "pkg" / "a.py").write_text("x = 2\n")
    assert tree_digest(tmp_path / "pkg") != before


def test_the_build_is_that_of_the_code_imported_not_of_files_installed_after(tmp_path: Path) -> None:
    """The build digest was hashed from the files on disk at its first use: a long-running process that had
    imported the code, then had a newer version installed over it, named the newer files' build in its
    summaries and saved states. The files are hashed when the package is imported."""
    package = tmp_path / "screening"
    shutil.copytree(ROOT / "screening", package, ignore=shutil.ignore_patterns("__pycache__"))
    script = (
        "import pathlib, sys, screening\n"
        "from screening.result import engine_build, tree_digest\n"
        "package = pathlib.Path(screening.__file__).parent\n"
        "assert package == pathlib.Path(sys.argv[1]), package  # the copy, never the checkout\n"
        "imported = tree_digest(package)\n"
        "(package / 'explain.py').write_text('# a newer version of the file\\n')\n"
        "assert tree_digest(package) != imported\n"
        "print(engine_build() == imported)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(package)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"


@pytest.mark.parametrize("batch", [[], ["--batch-size", "100"]], ids=["whole-day", "batches"])
def test_an_empty_public_seed_is_a_usage_error(tmp_path: Path, batch: list[str]) -> None:
    # `--seed "$SEED"` with SEED unset: a sample anyone can draw again, recorded as if chosen.
    done = screen_with(
        {},
        "run",
        SAMPLE / "handchecked" / "manifest.csv",
        "--out",
        tmp_path / "o",
        "-q",
        "--seed",
        "",
        *batch,
    )
    assert done.returncode == 2, done.stderr
    assert "the seed is empty" in done.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("seed", [b"42", 4.5, 42])
def test_a_seed_that_is_not_text_is_refused(seed: object) -> None:
    # bytes b"42" drew another sample than "42" and was recorded as "b'42'".
    with pytest.raises(screening.UsageError, match=r"the seed must be a text or a screening\.PrivateSeed"):
        screening.screen(SAMPLE / "handchecked" / "manifest.csv", seed=seed)  # type: ignore[arg-type]
    with pytest.raises(screening.UsageError, match="the seed must be a text"):
        screening.Screener(US_PACK, seed=seed)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["rules", "show", US_PACK, "--date", "2025-05-13", "--origin", "CN"], id="rules-show"),
        pytest.param(["run", SAMPLE / "handchecked" / "manifest.csv", "--out", "{out}", "-q"], id="run"),
        pytest.param(
            ["run", SAMPLE / "handchecked" / "manifest.csv", "--out", "{out}", "--json"], id="run-json"
        ),
    ],
)
def test_a_reader_that_stops_reading_stdout_is_not_a_failure(tmp_path: Path, args: list[str | Path]) -> None:
    # `screen run ... | head -1` under `set -o pipefail`: exit 1 said the run failed, its outputs published.
    out = tmp_path / "o"
    command = [str(a).replace("{out}", str(out)) for a in args]
    process = subprocess.Popen(
        [sys.executable, "-m", "screening", *command],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    process.stdout.close()  # before the interpreter has started: every write meets a closed pipe
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=300) == 0, stderr
    assert "Traceback" not in stderr
    assert "error" not in stderr
    if args[0] == "run":
        assert {p.name for p in out.iterdir()} == OUTPUT_FILES


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full to stand for a full disk")
@pytest.mark.parametrize(
    ("args", "full", "code"),
    [
        pytest.param(["run", "{manifest}", "--out", "{out}"], "stdout", 0, id="run-stdout"),
        pytest.param(["run", "{manifest}", "--out", "{out}", "--json"], "stdout", 0, id="run-json-stdout"),
        pytest.param(["run", "{manifest}", "--out", "{out}"], "both", 0, id="run-both"),
        pytest.param(
            ["run", "{manifest}", "--out", "{out}", "--batch-size", "5"], "both", 0, id="batches-both"
        ),
        pytest.param(["run", "{missing}", "--out", "{out}"], "both", 3, id="missing-input-both"),
    ],
)
def test_a_log_on_a_full_disk_drops_its_text_and_the_run_keeps_its_exit_code(
    tmp_path: Path, args: list[str], full: str, code: int
) -> None:
    """A cron job writing `>> log 2>&1` to a full /var: stdout full was an internal error (exit 70) after the
    outputs were published, and stdout and stderr full exited 1 (the "internal error" print itself failed)."""
    out = tmp_path / "o"
    values = {"{manifest}": str(SAMPLE / "handchecked" / "manifest.csv"), "{out}": str(out)}
    values["{missing}"] = str(tmp_path / "missing.csv")
    command = [values.get(a, a) for a in args]
    with open("/dev/full", "wb") as disk_full:
        done = subprocess.run(
            [sys.executable, "-m", "screening", *command],
            cwd=ROOT,
            stdout=disk_full,
            stderr=disk_full if full == "both" else subprocess.PIPE,
            check=False,
        )
    assert done.returncode == code, done.stderr
    if full == "stdout":
        stderr = done.stderr.decode()
        assert "Traceback" not in stderr
        assert "error" not in stderr
        assert "stdout cannot be written (No space left on device): the rest of its text is dropped" in stderr
    if code == 0:
        assert {p.name for p in out.iterdir()} == OUTPUT_FILES
    else:
        assert not out.exists()


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full to stand for a full disk")
@pytest.mark.parametrize("json_flag", [[], ["--json"]], ids=["text", "json"])
@pytest.mark.parametrize("command", ["explain", "rules-show"])
def test_a_command_whose_output_is_its_text_fails_when_stdout_is_full(
    tmp_path: Path, command: str, json_flag: list[str]
) -> None:
    """explain and rules show give their text and nothing else: lost on a full disk, the command failed (exit 2,
    saying so), where a run's text only reports on outputs it published."""
    if command == "explain":
        run = tmp_path / "run"
        assert screen("run", SAMPLE / "handchecked" / "manifest.csv", "--out", run, "-q").returncode == 0
        package = pl.read_parquet(run / "packages.parquet")["package_id"][0]
        args = ["explain", package, "--run", str(run), *json_flag]
    else:
        args = ["rules", "show", str(US_PACK), "--date", "2026-01-05", *json_flag]
    done = _screen_into_a_full_stdout(args)
    stderr = done.stderr.decode()
    assert done.returncode == 2, stderr
    assert "Traceback" not in stderr
    assert "error: stdout cannot be written: the command's output is lost" in stderr


def _screen_into_a_full_stdout(args: list[str]) -> subprocess.CompletedProcess[bytes]:
    """``screen *args`` run with its stdout on /dev/full (a full disk), its stderr captured."""
    with open("/dev/full", "wb") as disk_full:
        return subprocess.run(
            [sys.executable, "-m", "screening", *args],
            cwd=ROOT,
            stdout=disk_full,
            stderr=subprocess.PIPE,
            check=False,
        )


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full to stand for a full disk")
@pytest.mark.parametrize("args", [["--help"], ["--version"], ["run", "--help"]], ids=" ".join)
def test_click_s_own_text_on_a_full_stdout_is_one_error_line(args: list[str]) -> None:
    """`screen --help > /dev/full` printed a traceback (OSError: No space left on device) and exited 1: it fails
    as `screen explain` does when its text is lost."""
    done = _screen_into_a_full_stdout(args)
    stderr = done.stderr.decode()
    assert done.returncode == 2, stderr
    assert stderr == "error: stdout cannot be written: the command's output is lost\n"
    if args == ["--help"]:
        # A usage error whose message stderr cannot take: its exit code, no more.
        with open("/dev/full", "wb") as disk_full:
            usage = subprocess.run(
                [sys.executable, "-m", "screening", "run"], cwd=ROOT, stderr=disk_full, check=False
            )
        assert usage.returncode == 2


def test_the_current_folder_is_refused_as_the_output_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The swap left the shell in a removed folder, where `ls` shows nothing.
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "screening",
            "run",
            str(SAMPLE / "handchecked" / "manifest.csv"),
            "--out",
            ".",
            "-q",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "the output folder is the current folder" in done.stderr
    assert work.is_dir()
    assert not any(work.iterdir())
