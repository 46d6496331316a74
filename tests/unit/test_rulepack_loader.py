"""Tests of rule-pack loading: the bundled pack loads; hostile packs fail with RulePackError naming file and key."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import shutil
import tracemalloc
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from pydantic import ValidationError

import screening
from screening.errors import RulePackError
from screening.rulepack.loader import RulePack, content_hash, load_rules, rounded_fx_lines, unmatched_scope
from screening.rulepack.models import Fee
from screening.rules_show import rules_in_force
from screening.schema import FX_RATE, FX_RATE_LONG

from ..conftest import BASE_LINE, US_PACK, screen_without_permission_bypass

PACK = Path(__file__).resolve().parents[2] / "rules" / "us"

#: A suspension appended to de_minimis.toml by several tests (id, origins and start filled per test).
_SUSPENSION = """
[[suspensions]]
id = "{id}"
origins = {origins}
reason = "dm-suspended-origin"
effective_from = {start}
citation = {{ instrument = "Hypothetical order for tests" }}
"""


def copy_pack(tmp_path: Path) -> Path:
    """A private, editable copy of the bundled pack."""
    target = tmp_path / "us"
    shutil.copytree(PACK, target)
    return target


def edit(pack: Path, name: str, change: Callable[[str], str]) -> None:
    """Rewrite one file of ``pack`` with ``change`` (asserting that it changed something)."""
    file = pack / name
    before = file.read_text(encoding="utf-8")
    after = change(before)
    assert after != before, f"edit of {name} changed nothing"
    file.write_text(after, encoding="utf-8")


def replace(old: str, new: str, count: int = -1) -> Callable[[str], str]:
    def change(text: str) -> str:
        assert old in text, f"{old!r} not found"
        return text.replace(old, new, count)

    return change


def append(extra: str) -> Callable[[str], str]:
    return lambda text: text + "\n" + extra


def load_error(pack: Path) -> RulePackError:
    with pytest.raises(RulePackError) as info:
        load_rules(pack)
    assert info.value.exit_code == 4
    return info.value


# --- The bundled pack ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pack() -> RulePack:
    return load_rules(PACK)


def test_bundled_pack_loads(pack: RulePack) -> None:
    assert pack.meta.id == "us"
    assert pack.meta.jurisdiction == "US"
    assert pack.de_minimis.thresholds
    assert pack.mfn.height > 0
    assert pack.fx_rates.height > 0


def test_bundled_pack_loads_from_a_relative_string_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(PACK.parents[1])
    assert load_rules("rules/us").meta.id == "us"


def test_rule_ids_are_unique(pack: RulePack) -> None:
    ids = [rule.id for rule in pack.all_rules()]
    assert len(ids) == len(set(ids))
    assert "threshold-800" in ids


def test_content_hash_is_sha256(pack: RulePack) -> None:
    assert pack.content_hash.startswith("sha256:")
    assert len(pack.content_hash) == len("sha256:") + 64
    int(pack.content_hash.removeprefix("sha256:"), 16)


def test_content_hash_is_stable_across_loads(pack: RulePack, tmp_path: Path) -> None:
    assert load_rules(PACK).content_hash == pack.content_hash
    # The hash depends on contents and relative paths, not on where the pack lies.
    assert load_rules(copy_pack(tmp_path)).content_hash == pack.content_hash


def test_content_hash_changes_when_one_byte_changes(pack: RulePack, tmp_path: Path) -> None:
    copy = copy_pack(tmp_path)
    edit(copy, "fees.toml", replace("User fees", "User feeS", 1))
    changed = load_rules(copy)
    assert changed.content_hash.startswith("sha256:")
    assert changed.content_hash != pack.content_hash


def test_content_hash_changes_when_a_table_byte_changes(pack: RulePack, tmp_path: Path) -> None:
    copy = copy_pack(tmp_path)
    edit(
        copy,
        "tariff/mfn.csv",
        replace(
            "61091000,2025-01-01,,16.5%,computable,0.16500000",
            "61091000,2025-01-01,,16.6%,computable,0.16600000",
        ),
    )
    assert load_rules(copy).content_hash != pack.content_hash


def test_any_file_in_the_pack_folder_is_in_its_content_hash(pack: RulePack, tmp_path: Path) -> None:
    """README: any change to a file of the pack folder (a notes file the engine never reads too), or a file
    added, renamed or removed, changes the pack's version, and so makes its saved states unusable with it."""
    copy = copy_pack(tmp_path)
    (copy / "NOTES.md").write_text("why we changed nothing\n")
    assert content_hash(copy) != pack.content_hash
    (copy / "NOTES.md").rename(copy / "READ.md")
    renamed = content_hash(copy)
    (copy / "READ.md").unlink()
    assert content_hash(copy) == pack.content_hash != renamed


def test_hidden_files_leave_the_content_hash_alone(pack: RulePack, tmp_path: Path) -> None:
    """A .DS_Store or an editor's swap file changed the pack's version, and a saved state then refused to
    resume under the very same rules."""
    copy = copy_pack(tmp_path)
    (copy / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (copy / "tariff" / ".mfn.csv.swp").write_bytes(b"swap")
    assert load_rules(copy).content_hash == pack.content_hash


def test_a_hidden_table_the_pack_names_is_in_its_content_hash(tmp_path: Path) -> None:
    """``tariff.toml`` naming ``tariff/.mfn.csv``: the loader read its rates but the content hash left the
    hidden file out, so editing a rate kept the pack's version (and a state saved under the old rates
    resumed). What the pack names is hashed, hidden or not."""
    copy = copy_pack(tmp_path)
    (copy / "tariff" / "mfn.csv").rename(copy / "tariff" / ".mfn.csv")
    edit(copy, "tariff.toml", replace('file = "tariff/mfn.csv"', 'file = "tariff/.mfn.csv"', 1))
    before = load_rules(copy)
    edit(
        copy,
        "tariff/.mfn.csv",
        replace(
            "61091000,2025-01-01,,16.5%,computable,0.16500000",
            "61091000,2025-01-01,,16.6%,computable,0.16600000",
        ),
    )
    after = load_rules(copy)
    assert after.mfn.height == before.mfn.height
    assert after.content_hash != before.content_hash


def test_a_hidden_measures_file_is_not_read(tmp_path: Path) -> None:
    """``measures/*.toml`` took a hidden ``measures/.s122.toml`` too (its measures applied, while the content
    hash left it out), and an editor's lock file (``.#s122.toml``, a link to nowhere) failed the load."""
    copy = copy_pack(tmp_path)
    plain = load_rules(copy)
    (copy / "measures" / ".#s122.toml").symlink_to(copy / "nowhere")
    # A copy of a measures file, read, would repeat its ids (a load error).
    shutil.copy(copy / "measures" / "s122.toml", copy / "measures" / ".s122.toml")
    hidden = load_rules(copy)
    assert hidden.measure_files == plain.measure_files
    assert hidden.content_hash == plain.content_hash


def test_a_keyword_pattern_is_checked_by_the_regex_engine_that_runs_it(tmp_path: Path) -> None:
    """Keyword-family patterns run in polars (Rust regex) but were checked with Python's ``re``, which
    refused ``\\p{Han}`` (polars takes it): such a pattern now loads and flags its family."""
    copy = copy_pack(tmp_path)
    edit(
        copy,
        "risk.toml",
        replace(
            r"pattern = '\b(sneakers?|boots?|sandals?|slippers?|shoes?)\b'",
            r"pattern = '\b(shoes?|\p{Han}*鞋)\b'",
            1,
        ),
    )
    pack = load_rules(copy)
    line = {**BASE_LINE, "hts_code": "6109.10.00.12", "description": "运动鞋"}
    result = screening.screen(pl.DataFrame([line], schema=dict.fromkeys(line, pl.String())), rules=pack)
    assert result.rejects.is_empty()
    assert "hts-description-mismatch" in result.packages["risk_flags"].explode().to_list()


def test_a_tariff_rate_written_in_per_cent_is_refused(tmp_path: Path) -> None:
    """16.5 for 16.5 % charged $16,500 on a $1,000 t-shirt: table rates were not capped as TOML rates are."""
    copy = copy_pack(tmp_path)
    edit(
        copy,
        "tariff/mfn.csv",
        replace(
            "61091000,2025-01-01,,16.5%,computable,0.16500000", "61091000,2025-01-01,,16.5%,computable,16.5"
        ),
    )
    message = str(load_error(copy))
    assert "mfn.csv" in message
    assert "hts=61091000" in message
    assert "a rate written in per cent?" in message


def test_a_table_outside_the_pack_folder_is_refused(tmp_path: Path) -> None:
    # Its content would not be in the pack's hash: the rules could change under the same version.
    copy = copy_pack(tmp_path)
    shutil.copy(copy / "measures" / "s122_exempt.csv", tmp_path / "outside.csv")
    edit(copy, "measures/s122.toml", replace('"measures/s122_exempt.csv"', '"../outside.csv"'))
    with pytest.raises(RulePackError, match="table file outside the rule pack folder"):
        load_rules(copy)


def test_a_table_outside_the_pack_is_refused_from_a_relative_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = copy_pack(tmp_path)
    shutil.copy(copy / "measures" / "s122_exempt.csv", tmp_path / "outside.csv")
    edit(copy, "measures/s122.toml", replace('"measures/s122_exempt.csv"', '"../outside.csv"'))
    monkeypatch.chdir(copy)
    with pytest.raises(RulePackError, match="table file outside the rule pack folder"):
        load_rules(".")


@pytest.mark.parametrize(
    ("name", "old", "new", "says"),
    [
        ("de_minimis.toml", 'amount_usd = "800.00"', 'amount_usd = "1e30"', "too large"),
        ("tariff.toml", 'max_rate = "0.16"', "max_rate = 0.16", "as a decimal string"),
        ("queues.toml", 'rate = "0.005"', "rate = 0.005", "as a decimal string"),
    ],
)
def test_amounts_and_rates_that_are_not_exact_decimals_are_refused(
    tmp_path: Path, name: str, old: str, new: str, says: str
) -> None:
    copy = copy_pack(tmp_path)
    edit(copy, name, replace(old, new, 1))
    with pytest.raises(RulePackError, match=says):
        load_rules(copy)


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        ('chapter99_headings = ["9903", "9904"]\n', "", "given together or not at all"),
        ('chapter99_headings = ["9903", "9904"]', 'chapter99_headings = ["9903.88"]', "should match pattern"),
    ],
)
def test_a_chapter_99_entry_limit_needs_its_amount_and_four_digit_headings(
    tmp_path: Path, old: str, new: str, says: str
) -> None:
    copy = copy_pack(tmp_path)
    edit(copy, "de_minimis.toml", replace(old, new, 1))
    with pytest.raises(RulePackError, match=says):
        load_rules(copy)


def test_content_hash_covers_a_folder_linked_inside_the_pack(pack: RulePack, tmp_path: Path) -> None:
    copy = copy_pack(tmp_path)
    shutil.move(copy / "measures", copy / ".versions")
    (copy / "measures").symlink_to(Path(".versions"), target_is_directory=True)
    assert load_rules(copy).content_hash == pack.content_hash
    edit(copy, "measures/s122.toml", replace('rate = "0.10"', 'rate = "0.15"', 1))
    assert load_rules(copy).content_hash != pack.content_hash


def test_a_folder_linked_from_outside_the_pack_is_refused_before_it_is_walked(tmp_path: Path) -> None:
    """The walk followed every linked folder: ``ln -s / pack/notes/root`` walked the whole file system, then
    failed (exit 70) on a folder it could not list. A link out of the pack is refused, naming it (its files
    would change the pack unseen, as a table named outside it would); a hidden one is left alone, unwalked."""
    copy = copy_pack(tmp_path)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "notes.txt").write_text("not the pack's\n")
    (copy / ".cache").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    assert load_rules(copy).content_hash == load_rules(PACK).content_hash
    (copy / "notes").mkdir()
    (copy / "notes" / "root").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    error = load_error(copy)
    assert error.file == str(copy / "notes" / "root")
    assert "outside the rule pack folder" in str(error)


@pytest.mark.parametrize(
    ("name", "what"),
    [
        ("measures/s122_exempt.csv", "table file outside the rule pack folder (through a link)"),
        ("screening/ofac_sdn_2024-05-03.csv", "screening list outside the rule pack folder (through a link)"),
        ("fees.toml", "TOML file outside the rule pack folder (through a link)"),
    ],
)
def test_a_pack_file_that_links_out_of_the_pack_is_refused_unread(
    tmp_path: Path, name: str, what: str
) -> None:
    """The outside check compared paths as written: a table linked to a file elsewhere was read, and a line of
    it echoed in the error ("unknown columns ['secret-line-1', 'token=abc']"). Links are followed before the
    check, and nothing of the file is read."""
    copy = copy_pack(tmp_path)
    (tmp_path / "secret.csv").write_text("secret-line-1,token=abc\n")
    (copy / name).unlink()
    (copy / name).symlink_to(tmp_path / "secret.csv")
    error = load_error(copy)
    assert error.file == str(copy / name)
    assert what in str(error)
    assert "token" not in str(error)


def test_content_hash_reads_each_file_in_blocks(tmp_path: Path) -> None:
    """Each file was read whole: an 8 GB notes file in a pack failed the load with a MemoryError (exit 70). It
    is hashed in blocks, framed as before (a pack keeps its version: summaries and states record it)."""
    (tmp_path / "small").mkdir()
    (tmp_path / "small" / "x.csv").write_bytes(b"AAA")
    framed = (5).to_bytes(8, "big") + b"x.csv" + (3).to_bytes(8, "big") + b"AAA"
    assert content_hash(tmp_path / "small") == "sha256:" + hashlib.sha256(framed).hexdigest()
    with (tmp_path / "small" / "notes.txt").open("wb") as handle:
        handle.truncate(64 << 20)  # sparse: 64 MiB of zeros that take no disk
    tracemalloc.start()
    try:
        content_hash(tmp_path / "small")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, f"{peak:,} bytes held while hashing a 64 MiB file"


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("measures/PROVENANCE.md", "measures/PROVENANCE.md: cannot be read: Permission denied"),
        ("measures/s122_exempt.csv", "measures/s122_exempt.csv: unreadable table: Permission denied"),
        ("measures", "measures: folder cannot be read: Permission denied"),
    ],
)
def test_an_unreadable_pack_file_is_a_pack_error_naming_it(tmp_path: Path, name: str, says: str) -> None:
    """A pack file or folder that cannot be read was an internal error (PermissionError, exit 70), and an
    unreadable ``measures`` folder was read as empty (its measures gone: the pack loaded without them where no
    other check tripped). Each is a rule-pack error (exit 4) naming it and the system's reason."""
    copy = copy_pack(tmp_path)
    (copy / name).chmod(0)
    manifest = tmp_path / "day.csv"
    pl.DataFrame([BASE_LINE]).write_csv(manifest)
    try:
        ran = screen_without_permission_bypass("run", manifest, "--rules", copy, "--out", tmp_path / "out")
    finally:
        (copy / name).chmod(0o755)
    assert ran.returncode == 4, ran.stderr[-2000:]
    assert says in " ".join(ran.stderr.split()), ran.stderr
    assert "Traceback" not in ran.stderr


def test_content_hash_frames_each_file(tmp_path: Path) -> None:
    # Two files, or one file holding both with the separators: different packs, different hashes.
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.csv").write_bytes(b"AAA")
    (tmp_path / "a" / "y.csv").write_bytes(b"BBB")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "x.csv").write_bytes(b"AAA\0y.csv\0BBB")
    assert content_hash(tmp_path / "a") != content_hash(tmp_path / "b")


# --- Hostile packs ---------------------------------------------------------------------------------------


def test_malformed_toml(tmp_path: Path) -> None:
    copy = copy_pack(tmp_path)
    edit(copy, "de_minimis.toml", append("[[thresholds]\nid = 1\n"))
    exc = load_error(copy)
    assert "de_minimis.toml" in str(exc)
    assert "malformed TOML" in str(exc)


def test_unknown_key_in_a_suspension(tmp_path: Path) -> None:
    copy = copy_pack(tmp_path)
    edit(copy, "de_minimis.toml", replace('id = "eo14256-cn-hk"\n', 'id = "eo14256-cn-hk"\ncolour = "red"\n'))
    exc = load_error(copy)
    message = str(exc)
    assert "de_minimis.toml" in message
    assert "suspensions[" in message
    assert "colour" in message
    assert "eo14256-cn-hk" in message


def test_a_misspelt_required_key_is_named_with_the_key_it_is_missing(tmp_path: Path) -> None:
    """``orgins`` for ``origins`` read ``[measures[2].origins]: Field required (and 1 more)``: the key written
    was hidden behind the count. The unknown key is named, with the missing key it likely means."""
    copy = copy_pack(tmp_path)
    edit(
        copy,
        "tariff.toml",
        replace(
            'id = "ieepa-fentanyl-cn-10-nov"\ncomponent = "ieepa_fentanyl"\nheading = "9903.01.24"\norigins',
            'id = "ieepa-fentanyl-cn-10-nov"\ncomponent = "ieepa_fentanyl"\nheading = "9903.01.24"\norgins',
            1,
        ),
    )
    error = load_error(copy)
    assert error.file.endswith("tariff.toml")
    assert error.key_path == "measures[2].origins (id ieepa-fentanyl-cn-10-nov)"
    assert str(error).endswith("Field required; unknown key measures[2].orgins (did you mean origins?)")


def test_inverted_period(tmp_path: Path) -> None:
    copy = copy_pack(tmp_path)
    edit(
        copy,
        "de_minimis.toml",
        replace(
            "effective_from = 2025-05-02\neffective_to = 2025-08-29",
            "effective_from = 2025-05-02\neffective_to = 2025-04-01",
        ),
    )
    exc = load_error(copy)
    message = str(exc)
    assert "de_minimis.toml" in message
    assert "suspensions[" in message
    assert "eo14256-cn-hk" in message
    assert "effective_to" in message


def test_period_ending_on_its_first_day_is_inverted(tmp_path: Path) -> None:
    copy = copy_pack(tmp_path)
    edit(
        copy,
        "de_minimis.toml",
        replace(
            "effective_from = 2025-05-02\neffective_to = 2025-08-29",
            "effective_from = 2025-05-02\neffective_to = 2025-05-02",
        ),
    )
    assert "eo14256-cn-hk" in str(load_error(copy))


def test_two_thresholds_with_overlapping_periods(tmp_path: Path) -> None:
    copy = copy_pack(tmp_path)
    edit(
        copy,
        "de_minimis.toml",
        append(
            '[[thresholds]]\nid = "threshold-100"\namount_usd = "100.00"\neffective_from = 2025-01-01\n'
            'citation = { instrument = "Hypothetical act for tests" }\n'
        ),
    )
    exc = load_error(copy)
    message = str(exc)
    assert "de_minimis.toml" in message
    assert "thresholds" in message
    assert "threshold-800" in message
    assert "threshold-100" in message


def test_suspensions_for_one_origin_must_not_overlap(tmp_path: Path) -> None:
    copy = copy_pack(tmp_path)
    edit(
        copy,
        "de_minimis.toml",
        append(_SUSPENSION.format(id="extra-cn", origins='["CN"]', start="2025-06-01")),
    )
    message = str(load_error(copy))
    assert "de_minimis.toml" in message
    assert "suspensions" in message
    assert "extra-cn" in message


def _duplicate_id_pack(tmp_path: Path) -> Path:
    copy = copy_pack(tmp_path)
    # Same id as the first suspension; a period and origin that overlap nothing.
    edit(
        copy,
        "de_minimis.toml",
        append(_SUSPENSION.format(id="eo14195-cn-hk", origins='["DE"]', start="2030-01-01")),
    )
    return copy


def test_duplicate_id(tmp_path: Path) -> None:
    exc = load_error(_duplicate_id_pack(tmp_path))
    assert "eo14195-cn-hk" in str(exc)
    assert "duplicate id" in str(exc)


def test_duplicate_id_names_the_file_and_entry(tmp_path: Path) -> None:
    message = str(load_error(_duplicate_id_pack(tmp_path)))
    assert "de_minimis.toml" in message
    assert "suspensions[" in message
    assert "eo14195-cn-hk" in message


def test_duplicate_id_across_files(tmp_path: Path) -> None:
    copy = copy_pack(tmp_path)
    edit(copy, "fees.toml", replace('id = "dutiable-mail-fy2026"', 'id = "threshold-800"'))
    assert "threshold-800" in str(load_error(copy))


def test_measure_without_citation(tmp_path: Path) -> None:
    copy = copy_pack(tmp_path)
    line = (
        'citation = { instrument = "Executive Order 14195 (90 FR 9121)", '
        'url = "https://en.wikisource.org./wiki/Page:Executive_Order_14195.pdf/3", sources = ["S06", "S07"] }\n'
    )
    edit(copy, "tariff.toml", replace(line, ""))
    message = str(load_error(copy))
    assert "tariff.toml" in message
    assert "measures[0].citation" in message
    assert "ieepa-fentanyl-cn-10" in message


def test_rate_that_is_not_a_decimal(tmp_path: Path) -> None:
    copy = copy_pack(tmp_path)
    edit(copy, "tariff.toml", replace('rate = "0.10"', 'rate = "ten percent"', 1))
    message = str(load_error(copy))
    assert "tariff.toml" in message
    assert "measures[0].rate" in message
    assert "ieepa-fentanyl-cn-10" in message


def test_fee_rate_that_is_not_a_decimal(tmp_path: Path) -> None:
    copy = copy_pack(tmp_path)
    edit(copy, "fees.toml", replace('rate = "0.003464"', 'rate = "ten percent"', 1))
    message = str(load_error(copy))
    assert "fees.toml" in message
    assert "fees[1].rate" in message
    assert "mpf-formal-fy2025" in message


@pytest.mark.parametrize("code", ["Canada", "ca", "CAN", "C"])
def test_bad_country_code(tmp_path: Path, code: str) -> None:
    copy = copy_pack(tmp_path)
    edit(copy, "de_minimis.toml", replace('origins = ["CA"]', f'origins = ["{code}"]'))
    message = str(load_error(copy))
    assert "de_minimis.toml" in message
    assert "suspensions[1].origins" in message
    assert "eo14193-ca" in message
    assert code in message


def test_unassigned_country_code_is_rejected(tmp_path: Path) -> None:
    # Well-formed but not an ISO 3166-1 code (the United Kingdom is GB): it would silently match nothing.
    copy = copy_pack(tmp_path)
    edit(copy, "de_minimis.toml", replace('origins = ["CA"]', 'origins = ["UK"]'))
    message = str(load_error(copy))
    assert "de_minimis.toml" in message
    assert "eo14193-ca" in message
    assert "UK" in message


def test_unassigned_country_code_in_postal_rates_is_rejected(tmp_path: Path) -> None:
    copy = copy_pack(tmp_path)
    edit(copy, "tariff.toml", replace('BD = "0.20" }', 'BD = "0.20", XX = "0.10" }', 1))
    message = str(load_error(copy))
    assert "tariff.toml" in message
    assert "postal-all-ieepa-rate" in message
    assert "XX" in message


def test_mfn_row_with_a_bad_date(tmp_path: Path) -> None:
    copy = copy_pack(tmp_path)
    edit(copy, "tariff/mfn.csv", replace("61091000,2025-01-01", "61091000,2025-13-01"))
    message = str(load_error(copy))
    assert "mfn.csv" in message
    assert "effective_from" in message
    assert "2025-13-01" in message
    # The row is the line of the CSV file (header = line 1).
    line = next(
        n
        for n, text in enumerate((copy / "tariff/mfn.csv").read_text().splitlines(), start=1)
        if text.startswith("61091000,")
    )
    assert f"row {line}." in message


def test_missing_pack_toml(tmp_path: Path) -> None:
    copy = copy_pack(tmp_path)
    (copy / "pack.toml").unlink()
    message = str(load_error(copy))
    assert "pack.toml" in message
    assert "missing" in message


def test_missing_pack_folder(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    assert str(missing) in str(load_error(missing))


def test_never_eligible_prefixes_may_come_from_a_table(pack: RulePack) -> None:
    quota = next(r for r in pack.de_minimis.never_eligible if r.id == "quota-trq")
    assert quota.hts_prefixes_file == "never_eligible/quota_trq.csv"
    assert len(quota.hts_prefixes) == 430
    assert "04069012" in quota.hts_prefixes  # cheese, over-quota line


def test_a_never_eligible_table_may_not_date_its_prefixes(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    (pack / "never_eligible" / "quota_trq.csv").write_text("hts_prefix,effective_from\n04069012,2025-01-01\n")
    error = load_error(pack)
    assert "quota_trq.csv" in error.file
    assert "may not carry their own periods" in str(error)


def test_a_never_eligible_class_needs_some_prefixes(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    edit(pack, "de_minimis.toml", replace('hts_prefixes_file = "never_eligible/quota_trq.csv"\n', "", 1))
    assert "hts_prefixes" in str(load_error(pack))


def test_the_default_pack_is_the_one_here_else_the_installed_us_pack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no rules/us here: the U.S. pack that comes with the package
    assert load_rules("rules/us").content_hash == content_hash(PACK)
    edited = tmp_path / "rules" / "us"
    shutil.copytree(PACK, edited)
    edit(edited, "pack.toml", lambda text: text + "\n# edited here\n")
    local = load_rules("rules/us")  # a rules/us here is the one used
    assert local.root == Path("rules/us")
    assert local.content_hash == content_hash(edited) != content_hash(PACK)
    with pytest.raises(RulePackError, match="not found"):
        load_rules(tmp_path / "elsewhere" / "rules" / "us")  # only the default name falls back


def test_import_hts_never_writes_into_the_installed_pack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from screening.cli import main

    monkeypatch.chdir(tmp_path)
    export = tmp_path / "export.json"
    export.write_text("[]")
    done = CliRunner().invoke(
        main, ["rules", "import-hts", str(export), "--revision", "r", "--effective-from", "2026-01-01"]
    )
    assert done.exit_code == 2
    assert "rules/us: rule pack folder not found" in done.output


_MAIL_FEE = (
    '\n[[fees]]\nid = "{id}"\ncomponent = "dutiable_mail"\nkind = "flat"\namount_usd = "1.00"\n'
    'entry_types = {entry_types}\nmodes = ["postal"]\neffective_from = 2025-01-01\neffective_to = 2025-02-01\n'
    'citation = {{ instrument = "Hypothetical notice for tests" }}\n'
)


def test_fees_of_one_component_and_mode_overlap_only_on_a_shared_entry_type(tmp_path: Path) -> None:
    """A package has one entry type: mail fees for informal entries and for postal-regime items may share days.
    The same entry type on the same days is still refused."""
    disjoint = copy_pack(tmp_path / "disjoint")
    edit(disjoint, "fees.toml", append(_MAIL_FEE.format(id="mail-formal", entry_types='["formal"]')))
    fees = {f.id: f for f in load_rules(disjoint).fees.fees}
    assert fees["mail-formal"].entry_types == ("formal",)
    shared = copy_pack(tmp_path / "shared")
    edit(shared, "fees.toml", append(_MAIL_FEE.format(id="mail-both", entry_types='["formal", "informal"]')))
    message = str(load_error(shared))
    assert "dutiable_mail/postal/informal" in message
    assert "dutiable-mail-fy2025" in message
    assert "mail-both" in message


def test_a_fee_schedule_is_per_day_and_mode(tmp_path: Path) -> None:
    """Adding next year's mail fee alone made every express package of that year owe $0.00 in fees (the date
    counted as having a schedule), where the pack has no express fees for it."""
    pack = copy_pack(tmp_path)
    edit(
        pack,
        "fees.toml",
        lambda text: (
            text
            + '\n[[fees]]\nid = "dutiable-mail-fy2028"\ncomponent = "dutiable_mail"\nkind = "flat"\namount_usd = "7.50"\n'
            # Every entry type mail is charged a fee for (one left without is refused: fee_missing_in_a_new_fiscal_year).
            'entry_types = ["informal", "formal", "postal"]\nmodes = ["postal"]\neffective_from = 2027-10-01\n'
            # Postal entries were charged postal_entry_fees in place of this fee from 2026-07-24 (a gap refused
            # unless said: test_a_fee_missing_for_a_month_between_two_of_its_entries_is_refused).
            'effective_to = 2028-10-01\nresumes_after_gap = true\nnote = "after the postal entry fees"\n'
            'citation = { instrument = "Hypothetical FY2028 notice for tests" }\n'
        ),
    )
    line = {**BASE_LINE, "arrival_date": "2027-10-01", "currency": "USD", "declared_value": "100"}
    package = screening.screen(pl.DataFrame([line]), rules=pack).packages.row(0, named=True)
    assert (package["fee_status"], package["fees_usd"], package["total_due_usd"]) == (
        "no-fee-schedule",
        None,
        None,
    )


_EXPRESS_FY2027 = 'amount_usd = "1.34"\nentry_types = ["informal", "formal"]\nmodes = ["express"]\neffective_from = 2026-10-01\n'


def _express_fee_resuming_in_november(text: str) -> str:
    """``fees.toml`` with the FY2027 express consignment fee from 2026-11-01: none for October."""
    assert text.count(_EXPRESS_FY2027) == 1
    return text.replace(_EXPRESS_FY2027, _EXPRESS_FY2027.replace("2026-10-01", "2026-11-01"))


def test_a_fee_missing_for_a_month_between_two_of_its_entries_is_refused(tmp_path: Path) -> None:
    """``express-consignment-fy2027`` moved to 2026-11-01 passed ``rules check``: the express consignment fee
    silently disappeared for October (only gaps of 1 to 7 days were warned of, and each entry type kept some
    fee). A gap of any length between two entries of one component, mode and entry type is refused."""
    pack = copy_pack(tmp_path)
    edit(pack, "fees.toml", _express_fee_resuming_in_november)
    error = load_error(pack)
    assert error.file.endswith("fees.toml")
    assert error.key_path.endswith(".effective_from (id express-consignment-fy2027)")
    message = str(error)
    assert "31 days without the express_consignment fee for formal entries by express" in message
    assert "express-consignment-fy2026 (effective_to 2026-10-01)" in message
    assert "2026-10-01 to 2026-10-31" in message


def test_a_fee_not_charged_for_a_while_on_purpose_says_so(pack: RulePack, tmp_path: Path) -> None:
    """The refusal's way out: the entry that resumes the fee says so (``resumes_after_gap``, with a note why), and
    the days between charge no such fee; a fee that ends for good (every FY2027 fee ends 2027-10-01) loads as it
    is."""
    copy = copy_pack(tmp_path)
    edit(copy, "fees.toml", _express_fee_resuming_in_november)
    resumed = '\nid = "express-consignment-fy2027"\n'
    edit(copy, "fees.toml", replace(resumed, f"{resumed}resumes_after_gap = true\n", 1))  # it has a note
    line = {**BASE_LINE, "arrival_date": "2026-10-15", "country_of_origin": "DE", "declared_value": "100"}
    lapsed = screening.screen(pl.DataFrame([line]), rules=load_rules(copy)).packages["fees_usd"][0]
    charged = screening.screen(pl.DataFrame([line]), rules=pack).packages["fees_usd"][0]
    assert charged - lapsed == Decimal("1.34")
    fee = next(f for f in pack.fees.fees if f.id == "express-consignment-fy2027").model_dump()
    with pytest.raises(ValidationError, match="resumes_after_gap needs a note"):
        Fee.model_validate({**fee, "resumes_after_gap": True, "note": None})


def test_a_scenario_nested_too_deeply_is_a_pack_error_naming_its_file(tmp_path: Path) -> None:
    """Arrays nested 1,000 deep in a scenario file ended ``rules check`` in an internal RecursionError (exit 70)."""
    from screening.scenarios import load_scenarios

    pack = copy_pack(tmp_path)
    (pack / "scenarios" / "zz_deep.toml").write_text(
        "x = " + "[" * 1_000 + "]" * 1_000 + "\n", encoding="utf-8"
    )
    with pytest.raises(RulePackError, match=r"zz_deep\.toml: malformed TOML: .*nested too deeply") as caught:
        load_scenarios(load_rules(pack))
    assert caught.value.exit_code == 4


@pytest.mark.parametrize(
    ("line_key", "scenario_id", "message"),
    [
        ("usmca_clam", "hostile-scenario", "not manifest columns: ['usmca_clam']"),
        ("usmca_claim", "timeline-postal-informal-entry-2026-07-24", "is also the id in"),
    ],
    ids=["misspelt-column", "repeated-id"],
)
def test_a_scenario_with_a_misspelt_column_or_a_repeated_id_is_refused(
    tmp_path: Path, line_key: str, scenario_id: str, message: str
) -> None:
    """A misspelt line column was screened as an extra column (its value unused) and the scenario passed."""
    from screening.scenarios import load_scenarios

    pack = copy_pack(tmp_path)
    (pack / "scenarios" / "zz_hostile.toml").write_text(
        f'[scenario]\nid = "{scenario_id}"\ndescription = "test"\n\n[[lines]]\npackage_id = "P1"\n'
        f'{line_key} = "true"\n\n[[expect]]\npackage_id = "P1"\nentry_type = "informal"\n',
        encoding="utf-8",
    )
    with pytest.raises(RulePackError, match=re.escape(message)):
        load_scenarios(load_rules(pack))


def test_a_suspension_exception_names_suspensions_of_the_pack_and_shows_for_its_goods(tmp_path: Path) -> None:
    """An exception that names no suspension of the file would leave nothing out, silently: refused, naming it.
    ``rules show`` lists the U.S. exception for a book and not for a t-shirt."""
    day = dt.date(2025, 9, 1)
    shown = rules_in_force(load_rules(US_PACK), day, hts="4901.99.00.93")
    assert [r.rule_id for r in shown if r.kind == "suspension-exception"] == ["1702b-informational-materials"]
    shirt = rules_in_force(load_rules(US_PACK), day, hts="6109.10.00.12")
    assert not [r for r in shirt if r.kind == "suspension-exception"]
    copy = copy_pack(tmp_path)
    named = 'suspensions = ["eo14324-all", "eo-2026-02-20-all"]'
    edit(copy, "de_minimis.toml", replace(named, 'suspensions = ["eo14324-all", "eo-2026-02-20"]', 1))
    with pytest.raises(RulePackError, match=re.escape("no suspension has the id 'eo-2026-02-20'")):
        load_rules(copy)


def test_a_suspension_can_leave_origins_out_for_a_what_if(tmp_path: Path) -> None:
    """ "What if the all-country suspension had reached German goods a week later": a suspension could not
    leave an origin out (an unknown key), so the what-if needed a rule listing 248 other countries."""
    copy = copy_pack(tmp_path)
    everyone = 'id = "eo14324-all"\norigins = ["*"]\n'
    edit(copy, "de_minimis.toml", replace(everyone, everyone + 'origins_exclude = ["DE"]\n', 1))
    # A DE-only suspension from a week later: it does not overlap the one that leaves DE out.
    later = (
        '\n[[suspensions]]\nid = "what-if-de-later"\norigins = ["DE"]\nreason = "dm-suspended-all"\n'
        'effective_from = 2025-09-05\neffective_to = 2026-02-24\ncitation = { instrument = "what-if" }\n'
    )
    edit(copy, "de_minimis.toml", lambda text: text + later)
    pack = load_rules(copy)
    cases = (("DE1", "DE", "2025-09-02"), ("DE2", "DE", "2025-09-10"), ("FR1", "FR", "2025-09-02"))
    lines = [
        {**BASE_LINE, "package_id": p, "consignee_name": p, "country_of_origin": origin, "arrival_date": day}
        for p, origin, day in cases
    ]
    result = screening.screen(pl.DataFrame(lines), rules=pack)
    got = {
        r["package_id"]: (r["de_minimis_reason"], r["de_minimis_rule_id"]) for r in result.packages.to_dicts()
    }
    assert got["DE1"][0] == "dm-eligible"
    assert got["DE2"] == ("dm-suspended-all", "what-if-de-later")
    assert got["FR1"] == ("dm-suspended-all", "eo14324-all")
    shown = rules_in_force(pack, dt.date(2025, 9, 2), origin="DE")
    assert not [r for r in shown if r.kind == "suspension"]
    everyone_else = [r for r in rules_in_force(pack, dt.date(2025, 9, 2)) if r.rule_id == "eo14324-all"]
    assert "* but DE" in everyone_else[0].summary


def test_whose_goods_a_usmca_claim_covers_is_pack_data(tmp_path: Path) -> None:
    """The USMCA parties were a constant in the engine (CA, MX): a pack names them, with its citation, and a
    claim on goods of another origin counts for nothing."""
    copy = copy_pack(tmp_path)
    edit(copy, "tariff.toml", replace('parties = ["CA", "MX"]', 'parties = ["CA"]', 1))
    shipped, canada_only = load_rules(PACK), load_rules(copy)
    assert shipped.tariff.usmca is not None
    assert shipped.tariff.usmca.parties == ("CA", "MX")
    lines = [
        {
            **BASE_LINE,
            "package_id": origin,
            "consignee_name": origin,
            "country_of_origin": origin,
            "shipper_country": origin,
            "country_of_export": origin,
            "hts_code": "6109.10.00.12",
            "arrival_date": "2026-03-02",
            "declared_value": "900.00",
            "usmca_claim": "true",
        }
        for origin in ("CA", "MX")
    ]
    programs = {}
    for name, pack in (("shipped", shipped), ("canada_only", canada_only)):
        result = screening.screen(pl.DataFrame(lines), rules=pack)
        mfn = result.components.filter(pl.col("component") == "mfn")
        programs[name] = dict(mfn.select("package_id", "measure_id").iter_rows())
    assert programs["shipped"] == {"CA": "usmca", "MX": "usmca"}
    assert programs["canada_only"] == {"CA": "usmca", "MX": "mfn"}


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        # A computable rate with no amount was charged nothing and read "assessed".
        (
            "61091000,2025-01-01,,16.5%,computable,0.16500000,",
            "61091000,2025-01-01,,16.5%,computable,,",
            "status is computable but ad_valorem and specific_usd are empty",
        ),
        # A rate on parts that is not JSON passed the check and stopped the run with exit 70.
        (
            '2204300000,2025-01-01,,4.4¢/liter + 31.4¢/pf. liter,needs-part-values,,,,,,"[',
            '2204300000,2025-01-01,,4.4¢/liter + 31.4¢/pf. liter,needs-part-values,,,,,,"oops[',
            "parts is not a list of parts the engine reads",
        ),
    ],
    ids=["computable-without-rate", "parts-not-json"],
)
def test_a_tariff_line_the_engine_cannot_charge_is_refused_when_the_pack_loads(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    copy = copy_pack(tmp_path)
    edit(copy, "tariff/mfn.csv", replace(old, new, 1))
    with pytest.raises(RulePackError, match=re.escape(message)) as info:
        load_rules(copy)
    assert "mfn.csv" in str(info.value)


def _mfn_line(pack: Path, start: str) -> int:
    """The line of ``tariff/mfn.csv`` (1: the header) that starts with ``start``."""
    lines = (pack / "tariff" / "mfn.csv").read_text(encoding="utf-8").splitlines()
    return next(n for n, text in enumerate(lines, start=1) if text.startswith(start))


@pytest.mark.parametrize(
    ("old", "new", "column", "message"),
    [
        # A unit the engine does not know was charged on the line's quantity, not its weight.
        (
            "15092020,2025-01-01,,5¢/kg on contents and container,computable,,0.05000000,kg-contents-and-container,",
            "15092020,2025-01-01,,5¢/kg on contents and container,computable,,0.05000000,kgs,",
            "specific_unit",
            "unit 'kgs' (hts 15092020) is not one the engine knows",
        ),
        (
            "15092020,2025-01-01,,5¢/kg on contents and container,computable,,0.05000000,kg-contents-and-container,",
            "15092020,2025-01-01,,5¢/kg on contents and container,computable,,0.05000000,KG,",
            "specific_unit",
            "unit 'KG' (hts 15092020) is not one the engine knows",
        ),
        # screen rules show printed 16.5 %, a run charged 1.65 %.
        (
            "61091000,2025-01-01,,16.5%,computable,0.16500000,",
            "61091000,2025-01-01,,16.5%,computable,0.01650000,",
            "ad_valorem",
            "ad_valorem 0.0165 (hts 61091000) disagrees with general '16.5%', which the engine reads as "
            "ad_valorem 0.165",
        ),
        (
            "61091000,2025-01-01,,16.5%,computable,0.16500000,",
            "61091000,2025-01-01,,16.5%,not-computable,0.16500000,",
            "status",
            "status 'not-computable' (hts 61091000) disagrees with general '16.5%'",
        ),
        (
            "15092020,2025-01-01,,5¢/kg on contents and container,computable,,0.05000000,kg-contents-and-container,",
            "15092020,2025-01-01,,5¢/kg on contents and container,computable,,0.05000000,kg,",
            "specific_unit",
            "specific_unit 'kg' (hts 15092020) disagrees with general '5¢/kg on contents and container', which "
            "the engine reads as specific_unit 'kg-contents-and-container'",
        ),
        (
            '"[{""kind"":""specific"",""amount"":""0.044"",""base"":""liter""}',
            '"[{""kind"":""specific"",""amount"":""0.44"",""base"":""liter""}',
            "parts",
            'parts \'[{"kind":"specific","amount":"0.44"',
        ),
        (
            "61091000,2025-01-01,,16.5%,computable,0.16500000,,,,,,Free,computable,0.00000000,",
            "61091000,2025-01-01,,16.5%,computable,0.16500000,,,,,,Free,computable,0.05000000,",
            "usmca_ad_valorem",
            "usmca_ad_valorem 0.05 (hts 61091000) disagrees with usmca_text 'Free', which the engine reads as "
            "usmca_ad_valorem 0",
        ),
        # A USMCA rate without its text: a preference no one can read.
        (
            "61091000,2025-01-01,,16.5%,computable,0.16500000,,,,,,Free,computable,0.00000000,",
            "61091000,2025-01-01,,16.5%,computable,0.16500000,,,,,,,computable,0.00000000,",
            "usmca_status",
            "usmca_status 'computable' (hts 61091000) disagrees with usmca_text empty, and no USMCA rate",
        ),
    ],
    ids=[
        "unit-kgs",
        "unit-KG",
        "ad-valorem-not-the-text",
        "status-not-the-text",
        "unit-not-the-text",
        "parts-not-the-text",
        "usmca-not-the-text",
        "usmca-without-text",
    ],
)
def test_a_tariff_line_whose_parsed_rate_is_not_its_text_is_refused(
    tmp_path: Path, old: str, new: str, column: str, message: str
) -> None:
    """``tariff/mfn.csv`` took a unit the engine does not know (``kgs``: charged on the quantity, not the weight)
    and a parsed rate the ``general`` text does not read as (10 % shown, 1 % charged); the message names the
    file, the row's line and the column."""
    copy = copy_pack(tmp_path)
    edit(copy, "tariff/mfn.csv", replace(old, new, 1))
    line = (
        _mfn_line(copy, new.split(",", 1)[0]) if not new.startswith('"') else _mfn_line(copy, "2204300000,")
    )
    error = load_error(copy)
    assert error.file.endswith("mfn.csv")
    assert error.key_path == f"row {line}.{column}"
    assert message in str(error)


def test_a_tariff_line_s_parsed_rate_written_otherwise_loads(tmp_path: Path) -> None:
    """The same rate written with other zeros or JSON spacing is the rate the text reads as; a row without a
    ``general`` text (a pack that keeps only the parsed form) is not compared."""
    copy = copy_pack(tmp_path)
    for old, new in (
        ("61091000,2025-01-01,,16.5%,computable,0.16500000,", "61091000,2025-01-01,,16.5%,computable,0.165,"),
        ('""amount"":""0.044"",""base"":""liter""', '""amount"": ""0.0440"", ""base"": ""liter""'),
        ("64041190,2025-01-01,,20%,computable,0.20000000,", "64041190,2025-01-01,,,computable,0.20000000,"),
    ):
        edit(copy, "tariff/mfn.csv", replace(old, new, 1))
    pack = load_rules(copy)
    rates = pack.mfn.filter(pl.col("hts").is_in(["61091000", "64041190"])).sort("hts")
    assert rates["ad_valorem"].cast(pl.String()).to_list() == ["0.16500000", "0.20000000"]
    assert "__line" not in pack.mfn.columns


def test_a_risk_rule_reading_a_table_the_pack_lacks_is_refused(tmp_path: Path) -> None:
    """A pack without a screening list kept its denied-party rule: it loaded, never fired, and no run said so."""
    copy = copy_pack(tmp_path)
    text = (copy / "risk.toml").read_text(encoding="utf-8")
    start = text.index("[denied_parties]")
    end = text.index("[[keyword_families]]")
    (copy / "risk.toml").write_text(text[:start] + text[end:], encoding="utf-8")
    shutil.rmtree(copy / "screening")
    with pytest.raises(
        RulePackError, match="reads denied_party_match, but the pack has no screening list"
    ) as info:
        load_rules(copy)
    assert "risk.toml" in str(info.value)
    assert "id denied-party" in str(info.value)


def test_a_rule_reading_the_shipper_legal_form_needs_the_legal_suffixes(tmp_path: Path) -> None:
    """``shipper_legal_form`` is read by the pack's ``[denied_parties]`` legal suffixes: without them a gift rule on
    it would load and never fire."""
    copy = copy_pack(tmp_path)
    text = (copy / "risk.toml").read_text(encoding="utf-8")
    without_list = text[: text.index("[denied_parties]")] + text[text.index("[[keyword_families]]") :]
    start = without_list.index('[[rules]]\nid = "denied-party"')
    end = without_list.index("[[rules]]", start + 1)
    (copy / "risk.toml").write_text(without_list[:start] + without_list[end:], encoding="utf-8")
    shutil.rmtree(copy / "screening")
    with pytest.raises(
        RulePackError, match=re.escape("reads shipper_legal_form, but the pack has no legal forms")
    ) as info:
        load_rules(copy)
    assert "id gift-from-company" in str(info.value)


def test_a_keyword_family_ignore_pattern_polars_cannot_run_is_refused(tmp_path: Path) -> None:
    """``ignore`` is a regular expression run by polars, checked as ``pattern`` is (a look-ahead is refused when
    the pack loads, not when a run evaluates it)."""
    copy = copy_pack(tmp_path)
    edit(
        copy, "risk.toml", replace("ignore = '\\b(toys?|dolls?) (", "ignore = '(?=toy)\\b(toys?|dolls?) (", 1)
    )
    with pytest.raises(RulePackError, match="invalid regular expression") as info:
        load_rules(copy)
    assert "keyword_families" in str(info.value)


def test_a_blank_line_in_a_scope_list_is_no_row(tmp_path: Path) -> None:
    """A never-eligible list ending in a blank line (as editors leave them) passed ``rules check`` and then
    every run ended with exit 70 (a None prefix compared with a number): a wholly blank row is no row."""
    pack = tmp_path / "us"
    shutil.copytree(US_PACK, pack)
    (pack / "never_eligible" / "new_order.csv").write_text("hts_prefix\n95030000\n\n", encoding="utf-8")
    with (pack / "de_minimis.toml").open("a", encoding="utf-8") as handle:
        handle.write(
            '\n[[never_eligible]]\nid = "adcvd-cn-new"\nreason = "dm-excluded-adcvd"\n'
            'hts_prefixes_file = "never_eligible/new_order.csv"\norigins = ["CN"]\n'
            'effective_from = 2025-03-01\ncitation = { instrument = "New AD order (test)" }\n'
        )
    loaded = load_rules(pack)
    row = {
        "package_id": "P1",
        "arrival_date": "2025-03-10",
        "mode": "express",
        "shipper_name": "Shop",
        "consignee_name": "Anna Keller",
        "consignee_postal_code": "20001",
        "country_of_origin": "CN",
        "hts_code": "9503.00.00.90",
        "description": "toy",
        "declared_value": "10.00",
        "currency": "USD",
    }
    result = screening.screen(pl.DataFrame([row]), rules=loaded)
    assert result.packages["de_minimis_reason"].to_list() == ["dm-excluded-adcvd"]


def test_rules_show_lists_the_risk_rules_and_sampling_rates_in_force(pack: RulePack) -> None:
    """Risk rules and sampling rates are dated and cited like every other rule, but ``rules show`` never listed
    them: a new risk rule in force from a date could not be seen in it."""
    shown = rules_in_force(pack, dt.date(2025, 9, 15), mode="express")
    risk = {r.rule_id: r for r in shown if r.kind == "risk"}
    assert {rule.id for rule in pack.risk.rules if rule.in_force(dt.date(2025, 9, 15))} == set(risk)
    assert risk["denied-party"].summary.endswith("(critical, queue denied-party)")
    rates = {r.rule_id for r in shown if r.kind == "sample-rate"}
    assert "sample-base" in rates
    assert "sample-postal" not in rates  # mail's stratum does not hold for express
    # For one mode and origin, the stratum that decides: the origin's outranks the mode's.
    chosen = rules_in_force(pack, dt.date(2025, 9, 15), mode="postal", origin="CN")
    assert [r.rule_id for r in chosen if r.kind == "sample-rate"] == ["sample-cn"]


def test_a_postal_entry_fee_may_end_with_the_last_postal_regime(tmp_path: Path) -> None:
    """Ending the mail regime and its fee on one day was refused ("postal entries by postal have no fee"), though
    no package can be a postal entry once no regime is in force; a negative measure priority (lower wins) was
    refused too when priorities got their bounds."""
    pack = copy_pack(tmp_path)
    edit(
        pack,
        "tariff.toml",
        lambda text: text.replace(
            'id = "postal-informal-entry"\n', 'id = "postal-informal-entry"\neffective_to = 2026-10-01\n', 1
        ),
    )
    edit(pack, "fees.toml", _ending_the_postal_entry_fee)
    edit(
        pack,
        "measures/ieepa_reciprocal.toml",
        lambda text: text.replace("priority = 0\n", "priority = -1\n", 1),
    )
    loaded = load_rules(pack)
    assert any(m.priority == -1 for m in loaded.tariff.measures)


def _ending_the_postal_entry_fee(text: str) -> str:
    """``fees.toml`` with the postal entry fee ending on 2026-10-01 (not 2027-10-01)."""
    start = text.index('id = "postal-informal-entry-fees"')
    end = text.index("effective_to = 2027-10-01", start)
    return text[:end] + "effective_to = 2026-10-01" + text[end + len("effective_to = 2027-10-01") :]


def _gap(codes: str) -> str:
    return (
        f'\n[[gaps]]\nid = "gap-test"\ncomponent = "test"\norigins = ["DE"]\nhts_include = [{codes}]\n'
        'effective_from = 2026-03-01\ncitation = { instrument = "Hypothetical order for tests" }\n'
    )


def test_a_coverage_gap_whose_list_matches_no_tariff_line_is_refused(tmp_path: Path) -> None:
    """A gap listing only codes of no tariff line (39072000 and 870120 are in no line of the pack) marked no
    line pack-incomplete: the goods it meant got a duty total short of the duty the pack does not encode."""
    copy = copy_pack(tmp_path)
    edit(copy, "tariff.toml", append(_gap('"39072000", "870120"')))
    error = load_error(copy)
    assert error.file.endswith("tariff.toml")
    assert "hts_include" in error.key_path
    assert "gap-test" in error.key_path
    assert "coverage gap gap-test: none of the 2 HTS codes of its list (hts_include)" in str(error)
    assert "e.g. 39072000, 870120" in str(error)


def test_a_list_of_which_some_codes_match_loads_and_names_the_others(tmp_path: Path) -> None:
    """Real annexes list codes of older revisions: the pack loads, and the codes that match nothing are
    reported (``rules check`` prints them)."""
    copy = copy_pack(tmp_path)
    edit(copy, "tariff.toml", append(_gap('"39072000", "95030000", "870120"')))
    found = unmatched_scope(load_rules(copy)).filter(pl.col("measure_id") == "gap-test")
    assert found.to_dicts() == [
        {
            "file": "tariff.toml",
            "measure_id": "gap-test",
            "kind": "include",
            "entries": 3,
            "unmatched": 2,
            "examples": ["39072000", "870120"],
        }
    ]


def test_a_measure_whose_list_is_all_dated_outside_its_period_is_refused(tmp_path: Path) -> None:
    """A shared list's codes that all join it after the measure ends leave the measure covering nothing."""
    copy = copy_pack(tmp_path)
    (copy / "measures" / "late.csv").write_text("hts_prefix,effective_from\n95030000,2027-01-01\n")
    (copy / "measures" / "late.toml").write_text(
        '[[measures]]\nid = "test-late"\ncomponent = "test"\nheading = "9903.99.99"\norigins = ["DE"]\n'
        'rate = "0.10"\nstacking_group = "s301"\nhts_include_file = "measures/late.csv"\n'
        "effective_from = 2026-03-01\neffective_to = 2026-06-01\n"
        'citation = { instrument = "Hypothetical order for tests" }\n'
    )
    error = load_error(copy)
    assert error.file.endswith("late.toml")
    assert error.key_path == "measures[0].hts_include_file (id test-late)"
    assert (
        "measure test-late: every HTS code of its list (hts_include_file measures/late.csv) is dated "
        in str(error)
    )
    assert "outside its period (e.g. 95030000)" in str(error)


def test_a_measure_listing_chapter_98_codes_only_loads_and_charges_their_lines(tmp_path: Path) -> None:
    """The engine matches a list against the declared code, and the tariff table never holds chapters 98 and
    99: a measure listing only 9802.00.40 was refused as covering no goods, although the engine charges it on a
    line declared 9802.00.40.00 (the previous build did)."""
    copy = copy_pack(tmp_path)
    (copy / "measures" / "ch98.toml").write_text(
        '[[measures]]\nid = "test-ch98"\ncomponent = "test"\nheading = "9903.99.99"\norigins = ["DE"]\n'
        'rate = "0.10"\nstacking_group = "s301"\nhts_include = ["98020040"]\neffective_from = 2026-03-01\n'
        'citation = { instrument = "Hypothetical instrument for tests" }\n',
        encoding="utf-8",
    )
    loaded = load_rules(copy)
    assert unmatched_scope(loaded).filter(pl.col("measure_id") == "test-ch98").is_empty()
    line = {**BASE_LINE, "arrival_date": "2026-03-10", "hts_code": "9802.00.40.00"}
    result = screening.screen(pl.DataFrame([line], schema=dict.fromkeys(line, pl.String())), rules=loaded)
    charged = result.components.filter(pl.col("measure_id") == "test-ch98")
    assert charged.select("amount_usd").rows() == [(Decimal("10.00"),)]


# --- Gaps between the parts of a rule split in two --------------------------------------------------------

#: The bundled gift rule ended on ``{end}`` and a copy of it from ``{start}`` (``effective_to`` is exclusive).
_GIFT_SPLIT = """
[[gifts]]
id = "gift-100-b"
limit_usd = "{limit}"
effective_from = {start}
citation = {{ instrument = "Hypothetical gift rule for tests" }}
"""


def _split_gift(tmp_path: Path, *, end: str, start: str | None, limit: str = "100.00") -> Path:
    copy = copy_pack(tmp_path)
    edit(copy, "de_minimis.toml", replace('id = "gift-100"\n', f'id = "gift-100"\neffective_to = {end}\n', 1))
    if start is not None:
        edit(copy, "de_minimis.toml", append(_GIFT_SPLIT.format(start=start, limit=limit)))
    return copy


def test_a_gift_rule_split_with_a_day_between_its_parts_is_refused(tmp_path: Path) -> None:
    """gift-100 ending 2025-09-01 (its last day 2025-08-31) and a copy from 2025-09-02 loaded: a $50 gift on
    2025-09-01 was charged as any other package ($8.25 duty) where the bundled pack exempts it."""
    message = str(load_error(_split_gift(tmp_path, end="2025-09-01", start="2025-09-02")))
    assert "de_minimis.toml [gifts[1] (id gift-100-b)]" in message
    assert "no entry in force from 2025-09-01 to 2025-09-02 (2025-09-01 only, before gift-100-b)" in message
    assert "a rule that goes on in gift-100-b ends on 2025-09-02" in message


def test_a_gift_rule_split_where_its_parts_meet_loads(tmp_path: Path) -> None:
    pack = load_rules(_split_gift(tmp_path, end="2025-09-01", start="2025-09-01"))
    assert [g.id for g in pack.de_minimis.gifts] == ["gift-100", "gift-100-b"]


def test_a_gift_exemption_ended_without_a_rule_after_it_is_refused(tmp_path: Path) -> None:
    """The exemption stays (DOMAIN.md 2); a pack that ends it says so with a limit of 0.00, whose run then
    charges a gift: the message says how."""
    message = str(load_error(_split_gift(tmp_path, end="2025-06-01", start=None)))
    assert "de_minimis.toml [gifts[0].effective_to (id gift-100)]" in message
    assert "no entry in force from 2025-06-01 to the open end of the pack" in message
    assert 'give a gift rule of limit_usd = "0.00" from that day' in message
    pack = load_rules(_split_gift(tmp_path / "ended", end="2025-06-01", start="2025-06-01", limit="0.00"))
    gift = {**BASE_LINE, "arrival_date": "2025-09-01", "declared_value": "50.00", "gift": "true"}
    result = screening.screen(pl.DataFrame([gift]), rules=pack)
    assert result.packages["de_minimis_reason"].to_list() == ["dm-suspended-all"]
    assert result.packages["duty_usd"].to_list() != [Decimal("0.00")]


def _split_measure(tmp_path: Path, *, end: str, start: str, heading: str = "9903.01.24") -> Path:
    """The CN fentanyl duty of November 2025 ended on ``end`` and going on in a copy from ``start`` (under
    ``heading``, of the same stacking group)."""
    copy = copy_pack(tmp_path)
    edit(
        copy,
        "tariff.toml",
        replace(
            "effective_from = 2025-11-10\neffective_to = 2026-02-24\n",
            f"effective_from = 2025-11-10\neffective_to = {end}\n",
            1,
        ),
    )
    (copy / "measures" / "split.toml").write_text(
        f'[[measures]]\nid = "ieepa-fentanyl-cn-10-feb"\ncomponent = "ieepa_fentanyl"\nheading = "{heading}"\n'
        'origins = ["CN", "HK"]\nrate = "0.10"\nstacking_group = "ieepa_fentanyl"\n'
        f"effective_from = {start}\neffective_to = 2026-02-24\n"
        'citation = { instrument = "Hypothetical split for tests" }\n',
        encoding="utf-8",
    )
    return copy


def test_a_measure_split_with_a_day_between_its_parts_is_reported(tmp_path: Path) -> None:
    """The first part ended 2026-01-31 (its last day 2026-01-30) and the second began 2026-02-01: the 10 %
    duty silently dropped on 2026-01-31. The pack loads (measures do end), and short_gaps names the day."""
    from screening.rulepack.loader import short_gaps

    pack = load_rules(_split_measure(tmp_path, end="2026-01-31", start="2026-02-01"))
    (line,) = short_gaps(pack)
    assert line.startswith(
        "tariff.toml measures (9903.01.24/CN): 1 day with neither ieepa-fentanyl-cn-10-nov"
    )
    assert "uncovered: 2026-01-31 only" in line
    # Neutral: the earlier rule's end or the later one's start may be the mistake (it said only "end … on …").
    assert line.endswith(
        "either date may be the mistake: ieepa-fentanyl-cn-10-nov's end (effective_to = 2026-02-01 would meet "
        "the other) or ieepa-fentanyl-cn-10-feb's start (effective_from = 2026-01-31)"
    )
    assert "end ieepa-fentanyl-cn-10-nov on" not in line
    met = load_rules(_split_measure(tmp_path / "met", end="2026-02-01", start="2026-02-01"))
    assert short_gaps(met) == []


def test_a_rate_change_under_a_new_heading_with_a_day_between_is_reported(tmp_path: Path) -> None:
    """A new order under another Chapter 99 heading of the same stacking group (9903.01.99 from 2026-01-15) after
    the old one ended 2026-01-14 left 2026-01-14 without the duty, and no warning: gaps were keyed by heading and
    origin. Measures of one stacking group and origin are paired too, once per gap."""
    from screening.rulepack.loader import short_gaps

    pack = load_rules(_split_measure(tmp_path, end="2026-01-14", start="2026-01-15", heading="9903.01.99"))
    (line,) = short_gaps(pack)
    assert line.startswith(
        "tariff.toml measures (stacking group ieepa_fentanyl/CN): 1 day with neither ieepa-fentanyl-cn-10-nov "
        "(effective_to 2026-01-14) nor ieepa-fentanyl-cn-10-feb (from 2026-01-15), uncovered: 2026-01-14 only."
    )
    same_heading = load_rules(_split_measure(tmp_path / "same", end="2026-01-14", start="2026-01-15"))
    (line,) = short_gaps(same_heading)  # the heading's warning, not a second one for the group
    assert line.startswith("tariff.toml measures (9903.01.24/CN): 1 day with neither")
    met = _split_measure(tmp_path / "met", end="2026-01-15", start="2026-01-15", heading="9903.01.99")
    assert short_gaps(load_rules(met)) == []


def test_the_bundled_pack_has_no_short_gaps(pack: RulePack) -> None:
    from screening.rulepack.loader import short_gaps

    assert short_gaps(pack) == []


# --- Rates written in per cent, and rules for no origin -----------------------------------------------------


@pytest.mark.parametrize(
    ("name", "old", "new", "says"),
    [
        # 10 for 10 %: charged 1,000 %.
        ("tariff.toml", 'rate = "0.10"', 'rate = "10"', "rate 10 is 1,000 %: rates are fractions"),
        ("tariff.toml", 'rate = "0.10"', "rate = 10", "rate 10 is 1,000 %"),
        ("tariff.toml", 'rate = "0.10"', 'rate = "7.5"', "rate 7.5 is 750 %"),
        ("tariff.toml", 'VN = "0.20"', 'VN = "7"', "origin_rates.VN 7 is 700 %"),
        ("tariff.toml", 'ad_valorem_rate = "0.10"', 'ad_valorem_rate = "5"', "ad_valorem_rate 5 is 500 %"),
        ("fees.toml", 'rate = "0.003464"', 'rate = "0.3464"', "rate 0.3464 is 34.64 %"),
    ],
)
def test_a_rate_written_in_per_cent_is_refused(
    tmp_path: Path, name: str, old: str, new: str, says: str
) -> None:
    copy = copy_pack(tmp_path)
    edit(copy, name, replace(old, new, 1))
    message = str(load_error(copy))
    assert name in message
    assert says in message
    assert '("0.10" for 10 %)' in message
    assert "unless the entry says high_rate_meant = true" in message


def test_a_high_rate_that_is_meant_loads_and_is_charged(tmp_path: Path) -> None:
    copy = copy_pack(tmp_path)
    edit(copy, "tariff.toml", replace('rate = "0.10"\n', 'rate = "3.50"\nhigh_rate_meant = true\n', 1))
    pack = load_rules(copy)
    assert pack.tariff.measures[0].rate == Decimal("3.50")
    # Left over once the rate is lowered, it would let a later per-cent mistake through: refused.
    edit(copy, "tariff.toml", replace('rate = "3.50"', 'rate = "0.50"', 1))
    assert "high_rate_meant is true, but no rate is above 3 (300 %): drop it" in str(load_error(copy))


def test_a_rate_that_is_not_a_number_shows_its_value(tmp_path: Path) -> None:
    """'10 %' read "Input should be a valid decimal", not saying what was wrong with it."""
    copy = copy_pack(tmp_path)
    edit(copy, "tariff.toml", replace('rate = "0.10"', 'rate = "10 %"', 1))
    message = str(load_error(copy))
    assert "measures[0].rate (id ieepa-fentanyl-cn-10)" in message
    assert "rate '10 %' is not a decimal number: rates are fractions" in message


@pytest.mark.parametrize(
    ("name", "old", "new", "entry"),
    [
        (
            "de_minimis.toml",
            'id = "eo14324-all"\norigins = ["*"]\n',
            'id = "eo14324-all"\norigins = ["*"]\norigins_exclude = ["*"]\n',
            "eo14324-all",
        ),
        (
            "tariff.toml",
            'origins = ["CN", "HK"]\n',
            'origins = ["CN", "HK"]\norigins_exclude = ["HK", "CN"]\n',
            "ieepa-fentanyl-cn-10",
        ),
    ],
)
def test_a_rule_whose_exclusions_leave_no_origin_is_refused(
    tmp_path: Path, name: str, old: str, new: str, entry: str
) -> None:
    copy = copy_pack(tmp_path)
    edit(copy, name, replace(old, new, 1))
    message = str(load_error(copy))
    assert f"(id {entry})" in message
    assert "the rule would apply to no origin" in message


def test_a_suspension_whose_exclusions_leave_no_origin_is_refused(tmp_path: Path) -> None:
    """A suspension for CN and HK minus CN and HK loaded: a rule for no origin, which README says is refused."""
    copy = copy_pack(tmp_path)
    edit(
        copy,
        "de_minimis.toml",
        append(
            _SUSPENSION.format(id="nobody", origins='["CN", "HK"]', start="2031-01-01")
            + 'origins_exclude = ["CN", "HK"]\n'
        ),
    )
    message = str(load_error(copy))
    assert "de_minimis.toml [suspensions[" in message
    assert "(id nobody)]" in message
    assert "origins_exclude ['CN', 'HK'] leaves none of origins ['CN', 'HK']" in message


def test_a_fee_for_some_mail_only_is_a_fee_of_informal_or_formal_mail(tmp_path: Path) -> None:
    """``mail`` chooses among mail entered by CBP or through ACE: on an express fee, or on postal entries (mail
    under its regime), it would choose nothing and is refused, naming the file and the fee."""
    pack = copy_pack(tmp_path)
    edit(
        pack,
        "fees.toml",
        replace(
            'modes = ["express"]\neffective_from = 2024-10-01',
            'modes = ["express"]\nmail = "no-postal-regime"\neffective_from = 2024-10-01',
            1,
        ),
    )
    exc = load_error(pack)
    assert exc.file.endswith("fees.toml")
    assert "express-consignment-fy2025" in str(exc)
    assert "mail = 'no-postal-regime' is for a fee of modes = [\"postal\"] only" in str(exc)


def test_a_postal_regime_takes_the_rate_of_a_stacking_group_the_pack_has(tmp_path: Path) -> None:
    """A misspelt ``rate_of`` would find no measure, and the notes on exempt goods would never show."""
    pack = copy_pack(tmp_path)
    edit(pack, "tariff.toml", replace('rate_of = "s122"', 'rate_of = "s112"'))
    exc = load_error(pack)
    assert exc.file.endswith("tariff.toml")
    assert "postal-all-s122" in str(exc) or "rate_of" in str(exc)
    assert "no measure has stacking group 's112'" in str(exc)


def test_a_scenario_file_linked_to_another_file_of_the_pack_is_read(tmp_path: Path) -> None:
    """A scenario linked to a file elsewhere in the pack was refused as "outside the rule pack folder (through a
    link)": the scenarios folder was taken for the pack folder. A link out of the pack is still refused."""
    from screening.scenarios import load_scenarios

    copy = copy_pack(tmp_path)
    (copy / ".drafts").mkdir()
    shutil.move(copy / "scenarios" / "cn_suspension.toml", copy / ".drafts" / "cn_suspension.toml")
    (copy / "scenarios" / "cn_suspension.toml").symlink_to(Path("../.drafts/cn_suspension.toml"))
    files = [file.name for file, _ in load_scenarios(load_rules(copy))]
    assert "cn_suspension.toml" in files
    (tmp_path / "elsewhere.toml").write_bytes((copy / ".drafts" / "cn_suspension.toml").read_bytes())
    (copy / "scenarios" / "cn_suspension.toml").unlink()
    (copy / "scenarios" / "cn_suspension.toml").symlink_to(tmp_path / "elsewhere.toml")
    error = load_error(copy)
    assert error.file == str(copy / "scenarios" / "cn_suspension.toml")
    assert "outside the rule pack folder" in str(error)


def _with_rates(tmp_path: Path, rates: pl.DataFrame, name: str = "fx/rates.csv") -> Path:
    """A copy of the bundled pack whose exchange-rate table is ``rates`` (written to ``name``)."""
    copy = copy_pack(tmp_path)
    (copy / "fx" / "usd_rates.parquet").unlink()
    edit(copy, "fx.toml", replace('file = "fx/usd_rates.parquet"', f'file = "{name}"'))
    if name.endswith(".csv"):
        rates.write_csv(copy / name)
    else:
        rates.write_parquet(copy / name)
    return copy


def test_a_pack_rate_with_more_than_ten_decimals_keeps_its_digits(tmp_path: Path) -> None:
    """IDR at 16,300 per dollar, written as its reciprocal 0.0000613496932515337423 (as fx.toml tells a pack
    built from Treasury rates to), was cut to 10 decimals, 0.0000613496 (6 significant digits, and always low),
    with no warning: IDR 13,040,100 came out $800.00 and eligible, where 13,040,100 / 16,300 is 800.0061,
    $800.01. Such a table is now held to 18 decimals, rounded half up, and rules check names the rate rounded.
    From text and from a Parquet float alike."""
    idr = Decimal("0.0000613496932515337423")
    held = Decimal("0.000061349693251534")
    text = pl.DataFrame(
        {
            "currency": ["IDR", "EUR"],
            "date": ["2025-03-14", "2025-03-14"],
            "usd_per_unit": [str(idr), "1.0845"],
            "source": ["treasury 16300 IDR per USD", "test"],
        }
    )
    floats = text.with_columns(pl.col("usd_per_unit").cast(pl.Float64()))
    for index, (rates, name) in enumerate(((text, "fx/rates.csv"), (floats, "fx/rates.parquet"))):
        pack = load_rules(_with_rates(tmp_path / str(index), rates, name))
        assert pack.fx_rates.schema["usd_per_unit"] == FX_RATE_LONG
        assert pack.fx_rates.sort("currency")["usd_per_unit"].to_list() == [Decimal("1.0845"), held]
        (warning,) = rounded_fx_lines(pack)
        # A float is read as its shortest text (0.00006134969325153375).
        given = format(idr if name.endswith(".csv") else Decimal(repr(float(idr))), "f")
        assert warning == (
            f"{name}: 1 rate with digits past the 18th decimal, which the engine does not hold: rounded half up "
            f"(IDR 2025-03-14 {given} held as {held})"
        )
        line = {**BASE_LINE, "arrival_date": "2025-03-14", "country_of_origin": "ID", "shipper_country": "ID"}
        frame = pl.DataFrame([{**line, "declared_value": "13040100", "currency": "IDR"}])
        (row,) = screening.screen(frame, rules=pack).lines.to_dicts()
        assert (row["fx_usd_per_unit"], row["value_usd"]) == (held, Decimal("800.01"))
        assert row["de_minimis_reason"] == "dm-over-threshold"


def test_a_pack_table_of_ten_decimals_is_held_to_ten_and_warns_of_nothing(us_pack: RulePack) -> None:
    """The bundled ECB cross rates have 10 decimals: held so, and lines' fx_usd_per_unit keeps its type."""
    assert us_pack.fx_rates.schema["usd_per_unit"] == FX_RATE
    assert rounded_fx_lines(us_pack) == []


def test_a_rate_of_ten_thousand_dollars_a_unit_is_refused(tmp_path: Path) -> None:
    """A rate written as units per dollar (IDR 16300) instead of dollars per unit; the engine's conversion is
    exact only below 10,000 dollars a unit."""
    rates = pl.DataFrame(
        {"currency": ["IDR"], "date": ["2025-03-14"], "usd_per_unit": ["16300"], "source": ["per dollar"]}
    )
    error = load_error(_with_rates(tmp_path, rates))
    assert "usd_per_unit 16300 is 10,000 dollars or more for one unit" in str(error)
    assert "IDR 2025-03-14" in str(error)


def test_a_zoned_timestamp_in_a_pack_table_is_dated_in_its_own_zone(tmp_path: Path) -> None:
    """An FX table whose dates are timestamps at local midnight in Berlin (``datetime[us, Europe/Berlin]``) was
    dated in UTC, each rate a day early (EUR's 2016-01-04 rate on 2016-01-03): a table's dates are the calendar
    dates its publisher wrote, in the zone it wrote them in."""
    copy = copy_pack(tmp_path)
    fx = copy / "fx" / "usd_rates.parquet"
    pl.read_parquet(fx).with_columns(
        pl.col("date").cast(pl.Datetime("us")).dt.replace_time_zone("Europe/Berlin")
    ).write_parquet(fx)
    assert pl.read_parquet(fx).schema["date"] == pl.Datetime("us", "Europe/Berlin")
    rates = load_rules(copy).fx_rates
    assert rates.schema["date"] == pl.Date()
    assert rates.equals(load_rules(PACK).fx_rates)
