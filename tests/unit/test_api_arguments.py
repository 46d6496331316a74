"""Arguments of the Python API taken as documented, and refused with a UsageError when they cannot be (an
embedding review): one history path, a Screener batch's row numbering and label, comparing results, a mapping's
integer code default, the day a Screener forgets before, a blank seed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

import screening
from screening.errors import UsageError
from screening.screener import screen_files_in_batches


def test_one_history_path_is_one_source_not_one_per_character(
    tmp_path: Path, us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame]
) -> None:
    """``history="run"`` was read as the sources "r", "u", "n" ("r: history file not found"), and
    ``history=Path("run")`` raised a bare TypeError."""
    earlier = manifest({"package_id": "E1", "arrival_date": "2025-03-07"})
    screening.screen(earlier, rules=us_pack).write(tmp_path / "run")
    as_list = screening.screen(manifest({}), rules=us_pack, history=[tmp_path / "run"])
    for one in (str(tmp_path / "run"), tmp_path / "run"):
        assert screening.screen(manifest({}), rules=us_pack, history=one).equals(as_list)
        screener = screening.Screener(us_pack, history=one)
        assert screener.screen(manifest({})).packages.height == 1
    with pytest.raises(UsageError, match="history must be a path or a list of paths"):
        screening.screen(manifest({}), rules=us_pack, history=[tmp_path / "run", 5])  # type: ignore[list-item]


@pytest.mark.parametrize(
    ("options", "refused"),
    [
        ({"first_row": 0}, "first_row"),
        ({"first_row": -5}, "first_row"),
        ({"first_row": "3"}, "first_row"),
        ({"first_row": True}, "first_row"),
        ({"source": 5}, "source"),
        ({"source": " "}, "source"),
    ],
)
def test_a_screener_batch_s_row_numbering_and_label_are_checked(
    us_pack: screening.RulePack,
    manifest: Callable[..., pl.DataFrame],
    options: dict[str, object],
    refused: str,
) -> None:
    """``first_row=0`` numbered rows from 0 (rows count from 1), a negative one or text raised polars' or
    Python's own errors, and ``source=5`` an AssertionError: each is a UsageError now, before any work."""
    screener = screening.Screener(us_pack)
    with pytest.raises(UsageError, match=refused):
        screener.screen(manifest({}), **options)  # type: ignore[arg-type]
    assert screener.screen(manifest({}), first_row=3, source="hour-09").lines.select(
        "source", "row"
    ).rows() == [("hour-09", 3)]
    # Any integer type (a numpy count, say) is a row number.
    numbered = screener.screen(manifest({"package_id": "P9"}), first_row=np.int64(1001))
    assert numbered.lines["row"].to_list() == [1001]


def test_results_compare_with_equals_and_show_their_shapes(
    us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame]
) -> None:
    """``r1 == r2`` raised "the truth value of a DataFrame is ambiguous", ``hash(r1)`` raised, and ``repr`` printed
    every frame (32 KB for 50 lines)."""
    first = screening.screen(manifest({}, {"package_id": "P2"}), rules=us_pack)
    again = screening.screen(manifest({}, {"package_id": "P2"}), rules=us_pack)
    other = screening.screen(manifest({}), rules=us_pack)
    assert first.equals(again)
    assert not first.equals(other)
    assert not first.equals(None)
    assert first != again  # identity, as for any object holding frames
    assert len({first, again}) == 2
    assert repr(first).startswith("Result(lines=2, packages=2, ")


def test_an_integer_port_default_has_its_leading_zero_as_an_integer_column_has(
    us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame]
) -> None:
    """A mapping default ``port_of_entry = 101`` gave port "101", while a column of 101 gives "0101" (README): one
    port was two queue groups depending on how it was given."""
    lines = manifest({}).drop("port_of_entry", strict=False)
    mapped = screening.ColumnMapping(defaults={"port_of_entry": 101, "consignee_postal_code": 2134.0})
    result = screening.screen(lines.drop("consignee_postal_code"), rules=us_pack, mapping=mapped)
    assert result.lines.select("port_of_entry", "consignee_postal_code").row(0) == ("0101", "02134")


@pytest.mark.parametrize(
    "day",
    [dt.datetime(2025, 8, 29, 6, 0), None, "2025-08-29", 20250829],
    ids=["datetime", "none", "text", "number"],
)
def test_forget_before_takes_a_day_only(
    us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame], day: object
) -> None:
    """``forget_before`` took anything: a datetime (compared as its midnight) forgot its own day too, None
    forgot every day (a resent batch was screened again, not refused as copies), text raised polars' own error.
    Each is a UsageError now, and the state is left as it was."""
    screener = screening.Screener(us_pack)
    screener.screen(
        manifest({"arrival_date": "2025-08-28"}, {"package_id": "P2", "arrival_date": "2025-08-29"})
    )
    kept = screener.totals()
    with pytest.raises(UsageError, match=r"forget_before takes a day, a datetime\.date"):
        screener.forget_before(day)  # type: ignore[arg-type]
    assert screener.totals().equals(kept)
    screener.forget_before(dt.date(2025, 8, 29))
    assert screener.totals()["arrival_date"].to_list() == [dt.date(2025, 8, 29)]


@pytest.mark.parametrize("seed", ["", " ", "\t\n"], ids=repr)
def test_a_blank_seed_is_refused_as_an_empty_one_is(
    us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame], seed: str
) -> None:
    """``seed="  "`` and ``PrivateSeed("  ")`` were taken, though an empty seed is refused: a blank draws a sample
    anyone can repeat, recorded as if chosen (``--seed "$SEED "`` with SEED unset)."""
    with pytest.raises(UsageError, match="the seed is empty"):
        screening.screen(manifest({}), rules=us_pack, seed=seed)
    with pytest.raises(UsageError, match="the seed is empty"):
        screening.Screener(us_pack, seed=seed)
    with pytest.raises(UsageError, match="a private seed must be a non-empty text"):
        screening.PrivateSeed(seed)


@pytest.mark.parametrize("label", [None, 5, "", "  "], ids=repr)
def test_a_screener_s_label_is_checked_as_a_batch_s_source_is(
    us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame], label: object
) -> None:
    """``Screener(pack, label=None)`` (or 5) was taken and its first batch failed with ``AssertionError: rejects
    columns drifted``; ``label=""`` named rejects by an empty text, where ``source=""`` is refused."""
    with pytest.raises(UsageError, match="label must be a non-empty text"):
        screening.Screener(us_pack, label=label)  # type: ignore[arg-type]
    rejected = screening.Screener(us_pack, label="hour-09").screen(manifest({"hts_code": "12"}))
    assert rejected.rejects["source"].to_list() == ["hour-09"]


def test_a_mapping_or_rules_of_another_type_is_a_usage_error(
    tmp_path: Path, us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame]
) -> None:
    """``mapping={"declared_value": "amount"}`` failed with ``AttributeError: 'dict' object has no attribute
    'apply'`` (in ``screen`` and ``Screener``), and ``rules=None`` with a bare TypeError: each is a UsageError
    now, and every documented form still works."""
    lines = manifest({}).rename({"declared_value": "amount"})
    mapping: Any = {"declared_value": "amount"}
    for call in (
        lambda: screening.screen(lines, rules=us_pack, mapping=mapping),
        lambda: screening.Screener(us_pack, mapping=mapping),
        lambda: screening.screen_to_folder(lines, tmp_path / "out", rules=us_pack, mapping=mapping),
    ):
        with pytest.raises(UsageError, match=r"mapping must be a column-mapping TOML file .* not a dict"):
            call()
    for rules in (None, 5, b"rules/us"):
        with pytest.raises(UsageError, match="rules must be a rule pack folder"):
            screening.Screener(rules)  # type: ignore[arg-type]
        with pytest.raises(UsageError, match="rules must be a rule pack folder"):
            screening.screen(lines, rules=rules)  # type: ignore[arg-type]
    (tmp_path / "map.toml").write_text('[columns]\ndeclared_value = "amount"\n', encoding="utf-8")

    class PackPath:
        def __fspath__(self) -> str:
            return str(us_pack.root)

    expected = screening.screen(manifest({}), rules=us_pack).packages
    for given in (
        screening.ColumnMapping(columns=mapping),
        tmp_path / "map.toml",
        str(tmp_path / "map.toml"),
    ):
        assert screening.screen(lines, rules=us_pack, mapping=given).packages.equals(expected)
        assert screening.Screener(PackPath(), mapping=given).screen(lines).packages.equals(expected)  # type: ignore[arg-type]


def test_a_money_total_past_what_the_outputs_hold_is_a_screening_error_naming_the_limit(
    tmp_path: Path, us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame]
) -> None:
    """A consignee-day past $10^16 (ten thousand lines near the $10^12 value limit) raised polars' own
    ``InvalidOperationError`` from ``screen``, ``Screener.screen`` and ``screen_to_folder``. It is a
    ScreeningError with the command line's exit code 70 (README: a known limit), naming the limit; a screener
    goes on as before the batch."""
    lines = manifest({"declared_value": "999999999999"}).select(pl.all().repeat_by(10_002).explode())
    lines = lines.with_columns(pl.format("P{}", pl.int_range(pl.len())).alias("package_id"))
    screener = screening.Screener(us_pack)
    for call in (
        lambda: screening.screen(lines, rules=us_pack),
        lambda: screener.screen(lines),
        lambda: screening.screen_to_folder(lines, tmp_path / "out", rules=us_pack, part_lines=5_000),
    ):
        with pytest.raises(screening.MoneyLimitError, match=r"beyond \$10\^16") as refused:
            call()
        assert refused.value.exit_code == 70
        assert "consignee_day_value" in str(refused.value)
    assert (screener.state.rows_seen, screener.totals().height) == (0, 0)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("entry", "misspelt", "named"),
    [
        ("screen_to_folder", "postal_methd", "screen_to_folder"),
        ("screen_to_folder", "pseudonymize_key", "screen_to_folder"),
        ("screen_to_folder", "sead", "screen_to_folder"),
        ("screen", "postal_methd", "screen"),
        ("Screener", "postal_methd", "Screener"),
        ("Screener.restore", "postal_methd", r"Screener\.restore"),
        ("screen_batches", "postal_methd", "screen_batches"),
        ("screen_files_in_batches", "pseudonymize_key", "screen_files_in_batches"),
    ],
)
def test_a_misspelt_option_is_a_type_error_before_anything_is_read_or_written(
    tmp_path: Path,
    us_pack: screening.RulePack,
    manifest: Callable[..., pl.DataFrame],
    entry: str,
    misspelt: str,
    named: str,
) -> None:
    """``screen_to_folder(..., postal_methd="specific")`` ran with the default ad valorem method (duty $9,345.52 where
    $31,947.73 was meant), ``sead=PrivateSeed(...)`` with the pack's public seed, and ``pseudonymize_key=`` wrote the
    consignees' names and addresses in clear: its options were read with ``dict.get``, an unknown one ignored.
    Every entry point refuses an unknown keyword as Python does, before anything is read or written."""
    lines = manifest({})
    lines.write_parquet(tmp_path / "hour.parquet")
    screening.Screener(us_pack).save_state(tmp_path / "day.state")
    before = sorted(p.name for p in tmp_path.iterdir())
    out = tmp_path / "out"
    options: dict[str, Any] = {misspelt: "specific" if misspelt == "postal_methd" else "k3y"}
    call = {
        "screen_to_folder": lambda: screening.screen_to_folder(lines, out, rules=us_pack, **options),
        "screen": lambda: screening.screen(lines, rules=us_pack, **options),
        "Screener": lambda: screening.Screener(us_pack, **options),
        "Screener.restore": lambda: screening.Screener.restore(tmp_path / "day.state", us_pack, **options),
        "screen_batches": lambda: screening.screen_batches([lines], rules=us_pack, **options),
        "screen_files_in_batches": lambda: screen_files_in_batches(
            [tmp_path / "hour.parquet"],
            out=out,
            batch_size=10,
            rules=us_pack,
            state_path=tmp_path / "day.state",
            **options,
        ),
    }[entry]
    meant = {"postal_methd": "postal_method", "pseudonymize_key": "pseudonymise_key", "sead": "seed"}[
        misspelt
    ]
    with pytest.raises(
        TypeError,
        match=rf"^{named}\(\) got an unexpected keyword argument '{misspelt}' \(did you mean '{meant}'\?\); it takes ",
    ):
        call()
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no output folder, staging or lock file


def test_a_misspelt_option_s_message_names_the_options_and_the_one_meant(
    tmp_path: Path, manifest: Callable[..., pl.DataFrame]
) -> None:
    """The refusal says which keywords are unknown, the one probably meant, and every option the call takes."""
    with pytest.raises(TypeError) as refused:
        screening.screen_to_folder(
            manifest({}),
            tmp_path / "out",
            pseudonymize_key="k3y",  # type: ignore[call-arg]
            colour="red",  # type: ignore[call-arg]
        )
    assert str(refused.value) == (
        "screen_to_folder() got unexpected keyword arguments 'pseudonymize_key' (did you mean "
        "'pseudonymise_key'?), 'colour'; it takes fmt, part_lines, rules, mapping, postal_method, pseudonymise_key, "
        "seed, history, on_stage"
    )
    assert not (tmp_path / "out").exists()


def test_every_entry_point_s_refusal_names_itself_the_option_meant_and_those_taken(
    tmp_path: Path, us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame]
) -> None:
    """``screen()`` said only ``got an unexpected keyword argument 'postal_methd'``, and ``Screener``,
    ``Screener.restore`` and ``screen_batches`` ``Screener.__init__() got ...``: each now names itself, the option
    probably meant and every option it takes, as ``screen_to_folder`` does (README)."""
    lines = manifest({})
    screening.Screener(us_pack).save_state(tmp_path / "day.state")
    screener_options = "rules, mapping, postal_method, seed, history, label, pseudonymise_key"
    calls: dict[str, tuple[Callable[[], object], str]] = {
        "screen": (
            lambda: screening.screen(lines, rules=us_pack, postal_methd="specific"),  # type: ignore[call-arg]
            "rules, mapping, postal_method, pseudonymise_key, seed, history, on_stage",
        ),
        "Screener": (
            lambda: screening.Screener(us_pack, postal_methd="specific"),  # type: ignore[call-arg]
            screener_options,
        ),
        "Screener.restore": (
            lambda: screening.Screener.restore(tmp_path / "day.state", us_pack, postal_methd="specific"),
            screener_options,
        ),
        "screen_batches": (
            lambda: screening.screen_batches([lines], rules=us_pack, postal_methd="specific"),
            screener_options,
        ),
    }
    for name, (call, taken) in calls.items():
        with pytest.raises(TypeError) as refused:
            call()
        assert str(refused.value) == (
            f"{name}() got an unexpected keyword argument 'postal_methd' (did you mean 'postal_method'?); "
            f"it takes {taken}"
        )
    # Their subjects are taken by keyword too.
    assert screening.screen(source=lines, rules=us_pack).lines.height == lines.height
    assert screening.Screener(rules=us_pack).label == "<stream>"
