"""Hostile rule packs: each is refused with exit code 4 and a message naming the file and the key path.

Every case copies the bundled U.S. pack and breaks it by APPENDING a hostile entry (or editing a table by
column name), so the cases keep working while the real pack's entries change. Each case is checked twice:
through the Python API (``RulePackError``: exit code 4, file and key path in the message) and through the
``screen run`` command (exit code 4, file and key path on stderr). A case the engine gets wrong carries a
strict xfail with the reason.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

import screening
from screening.cli import main

from ..conftest import ROOT, SAMPLE, US_PACK

MANIFEST = SAMPLE / "handchecked" / "manifest.csv"
CITE = 'citation = { instrument = "Hypothetical instrument for tests" }\n'
#: Key paths in square brackets are read as rich markup by the CLI and vanish from stderr.
RICH_MARKUP = "the CLI prints errors as rich markup, so a bracketed key path such as [{}] is swallowed"

Edit = Callable[[Path], None]


def append(name: str, text: str) -> Edit:
    def edit(pack: Path) -> None:
        path = pack / name
        path.parent.mkdir(parents=True, exist_ok=True)
        before = path.read_text(encoding="utf-8") if path.exists() else ""
        path.write_text(before + "\n" + text, encoding="utf-8")

    return edit


def substitute(name: str, pattern: str, replacement: str) -> Edit:
    def edit(pack: Path) -> None:
        path = pack / name
        before = path.read_text(encoding="utf-8")
        after, count = re.subn(pattern, replacement, before, count=1, flags=re.MULTILINE)
        assert count == 1, f"{pattern!r} not found in {name}"
        path.write_text(after, encoding="utf-8")

    return edit


def table_cell(name: str, column: str, value: str) -> Edit:
    """Set ``column`` of the first data row of CSV table ``name`` (by header, whatever the other columns)."""

    def edit(pack: Path) -> None:
        path = pack / name
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
        rows[1][rows[0].index(column)] = value
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(rows)
        path.write_text(out.getvalue(), encoding="utf-8")

    return edit


def repeat_first_row(name: str) -> Edit:
    def edit(pack: Path) -> None:
        path = pack / name
        lines = path.read_text(encoding="utf-8").splitlines()
        path.write_text("\n".join([*lines, lines[1]]) + "\n", encoding="utf-8")

    return edit


def remove(name: str) -> Edit:
    return lambda pack: (pack / name).unlink()


def both(*edits: Edit) -> Edit:
    def edit(pack: Path) -> None:
        for each in edits:
            each(pack)

    return edit


def suspension(extra: str, *, origins: str = '["DE"]', start: str = "2031-01-01") -> str:
    return (
        f'[[suspensions]]\nid = "hostile-suspension"\norigins = {origins}\nreason = "dm-suspended-origin"\n'
        f"effective_from = {start}\n{extra}{CITE}"
    )


def measure(
    extra: str,
    *,
    rate: str = '"0.10"',
    cite: bool = True,
    ident: str = "hostile-measure",
    group: str = "s301",  # a group the pack declares (its Section 301 measures are for CN goods only)
) -> str:
    return (
        f'[[measures]]\nid = "{ident}"\ncomponent = "hostile"\nheading = "9903.99.99"\norigins = ["DE"]\n'
        f'rate = {rate}\nstacking_group = "{group}"\neffective_from = 2031-01-01\n{extra}'
        + (CITE if cite else "")
    )


def never_eligible(ident: str, prefix: str) -> str:
    return (
        f'[[never_eligible]]\nid = "{ident}"\nreason = "dm-excluded-quota"\nhts_prefixes = ["{prefix}"]\n'
        f"effective_from = 2031-01-01\n{CITE}"
    )


def gift(effective_from: str) -> str:
    """A gift rule from ``effective_from`` (as written in TOML), appended to de_minimis.toml."""
    return f'\n[[gifts]]\nid = "hostile-gift"\nlimit_usd = "50.00"\neffective_from = {effective_from}\n{CITE}'


def fee(extra: str, *, ident: str = "hostile-fee", rate: str = '"0.001"') -> str:
    return (
        f'[[fees]]\nid = "{ident}"\ncomponent = "mpf_formal"\nkind = "ad_valorem"\nrate = {rate}\n'
        f'entry_types = ["formal"]\nmodes = ["cargo"]\neffective_from = 2031-01-01\n{extra}{CITE}'
    )


def sources(entry: str) -> Edit:
    """``entry`` (an inline table) made the first source of sources.toml."""
    return substitute("sources.toml", r"^sources = \[$", f"sources = [\n  {entry}")


def write(name: str, text: str) -> Edit:
    """Write file ``name`` of the pack (a new table, say); ``..`` reaches beside the pack."""

    def edit(pack: Path) -> None:
        path = pack / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    return edit


def fx_rows(rows: str) -> Edit:
    """The pack's exchange rates replaced by a CSV of ``rows`` (after the header)."""
    return both(
        write("fx/hostile.csv", "currency,date,usd_per_unit,source\n" + rows),
        substitute("fx.toml", r'^file = "fx/usd_rates.parquet"$', 'file = "fx/hostile.csv"'),
    )


@dataclass(frozen=True)
class PackCase:
    """A broken pack: which file breaks how, and what the message must name."""

    id: str
    breakage: str
    edit: Edit
    file: str
    names: tuple[str, ...]
    api_bug: str | None = None
    cli_bug: str | None = None


def risk_rule(condition: str) -> str:
    """A risk rule with ``condition``, appended to risk.toml."""
    return (
        "[[rules]]\n"
        'id = "hostile-risk"\n'
        'description = "hostile risk rule"\n'
        f"condition = '''{condition}'''\n"
        "weight = 1\n"
        'severity = "low"\n'
        'queue = "documentation"\n'
        'rationale = "for tests"\n'
        "effective_from = 2016-03-10\n" + CITE
    )


CASES: tuple[PackCase, ...] = (
    PackCase(
        "malformed_toml",
        "an unclosed array-of-tables header",
        append("de_minimis.toml", "[[thresholds]\nid = 1\n"),
        "de_minimis.toml",
        ("malformed TOML", "at line"),
    ),
    PackCase(
        "malformed_toml_string",
        "an unterminated string in tariff.toml",
        append("tariff.toml", 'note = "never closed\n'),
        "tariff.toml",
        ("malformed TOML", "at line"),
    ),
    PackCase(
        "malformed_measures_file",
        "a measures/*.toml file that is not TOML",
        append("measures/hostile.toml", "[[measures]\n"),
        "hostile.toml",
        ("malformed TOML",),
    ),
    PackCase(
        "unknown_key_in_entry",
        "an unknown key in a suspension",
        append("de_minimis.toml", suspension('colour = "red"\n')),
        "de_minimis.toml",
        ("suspensions[", "].colour", "hostile-suspension"),
    ),
    PackCase(
        "unknown_top_level_table",
        "an unknown table [extras] in fees.toml",
        append("fees.toml", "[extras]\nx = 1\n"),
        "fees.toml",
        ("extras",),
    ),
    PackCase(
        "unknown_key_in_pack_table",
        "an unknown key in the [pack] table",
        substitute("pack.toml", r"^\[pack\]\n", '[pack]\nowner = "someone"\n'),
        "pack.toml",
        ("pack.owner",),
    ),
    PackCase(
        "inverted_period",
        "a suspension that ends before it starts",
        append("de_minimis.toml", suspension("effective_to = 2030-01-01\n")),
        "de_minimis.toml",
        ("suspensions[", "hostile-suspension", "effective_to"),
    ),
    PackCase(
        "empty_period",
        "a suspension that ends on its first day",
        append("de_minimis.toml", suspension("effective_to = 2031-01-01\n")),
        "de_minimis.toml",
        ("suspensions[", "hostile-suspension", "effective_to"),
    ),
    PackCase(
        "overlapping_thresholds",
        "a second open-ended threshold overlapping the first",
        append(
            "de_minimis.toml",
            f'[[thresholds]]\nid = "hostile-threshold"\namount_usd = "100.00"\neffective_from = 2030-01-01\n{CITE}',
        ),
        "de_minimis.toml",
        ("thresholds", "hostile-threshold", "overlap"),
    ),
    PackCase(
        "overlapping_suspensions",
        "a second CN suspension overlapping one in force",
        append("de_minimis.toml", suspension("", origins='["CN"]', start="2025-06-01")),
        "de_minimis.toml",
        ("suspensions", "hostile-suspension", "overlap"),
    ),
    PackCase(
        "overlapping_tariff_lines",
        "the first tariff line of mfn.csv twice",
        repeat_first_row("tariff/mfn.csv"),
        "mfn.csv",
        ("hts=", "overlap"),
    ),
    PackCase(
        "measure_without_citation",
        "a Chapter 99 measure without a citation",
        append("tariff.toml", measure("", cite=False)),
        "tariff.toml",
        ("measures[", "].citation", "hostile-measure"),
    ),
    PackCase(
        "measure_rate_does_not_parse",
        "a measure rate 'ten percent'",
        append("tariff.toml", measure("", rate='"ten percent"')),
        "tariff.toml",
        ("measures[", "].rate", "hostile-measure"),
    ),
    PackCase(
        "measure_rate_percent_sign",
        "a measure rate '10%'",
        append("tariff.toml", measure("", rate='"10%"')),
        "tariff.toml",
        ("measures[", "].rate", "hostile-measure"),
    ),
    PackCase(
        "fee_rate_does_not_parse",
        "a fee rate '0,35 %'",
        append("fees.toml", fee("", rate='"0,35 %"')),
        "fees.toml",
        ("fees[", "].rate", "hostile-fee"),
    ),
    PackCase(
        "tariff_rate_does_not_parse",
        "ad_valorem 'sixteen' in the first row of mfn.csv",
        table_cell("tariff/mfn.csv", "ad_valorem", "sixteen"),
        "mfn.csv",
        ("row 2.ad_valorem", "sixteen"),
    ),
    PackCase(
        "duplicate_id_in_one_file",
        "two never-eligible classes with one id",
        append(
            "de_minimis.toml", never_eligible("hostile-twin", "0101") + never_eligible("hostile-twin", "0102")
        ),
        "de_minimis.toml",
        ("never_eligible[", "hostile-twin", "duplicate id"),
    ),
    PackCase(
        "duplicate_id_across_files",
        "a fee with the id of a never-eligible class",
        both(
            append("de_minimis.toml", never_eligible("hostile-twin", "0101")),
            append("fees.toml", fee("", ident="hostile-twin")),
        ),
        "fees.toml",
        ("fees[", "hostile-twin", "duplicate id"),
    ),
    PackCase(
        "duplicate_id_across_measure_files",
        "one measure id in two measures/*.toml files",
        both(
            append("measures/hostile_a.toml", measure("", ident="hostile-twin-measure")),
            append("measures/hostile_b.toml", measure("", ident="hostile-twin-measure")),
        ),
        "hostile_b.toml",
        ("hostile-twin-measure", "duplicate id"),
    ),
    PackCase(
        "date_does_not_parse",
        "effective_from = 'yesterday'",
        append(
            "de_minimis.toml",
            f'[[thresholds]]\nid = "hostile-threshold"\namount_usd = "1.00"\neffective_from = "yesterday"\n{CITE}',
        ),
        "de_minimis.toml",
        ("thresholds[", "].effective_from", "hostile-threshold"),
    ),
    PackCase(
        "negative_amount",
        "a threshold of -800.00",
        append(
            "de_minimis.toml",
            f'[[thresholds]]\nid = "hostile-threshold"\namount_usd = "-800.00"\neffective_from = 2030-01-01\n{CITE}',
        ),
        "de_minimis.toml",
        ("thresholds[", "].amount_usd", "hostile-threshold"),
    ),
    PackCase(
        "country_name_not_code",
        "origins = ['Canada']",
        append("de_minimis.toml", suspension("", origins='["Canada"]')),
        "de_minimis.toml",
        ("suspensions[", "].origins", "hostile-suspension", "Canada"),
    ),
    PackCase(
        "negative_staleness",
        "max_staleness_days = -1",
        substitute("fx.toml", r"max_staleness_days = \d+", "max_staleness_days = -1"),
        "fx.toml",
        ("rates.max_staleness_days",),
    ),
    PackCase(
        "missing_file",
        "fees.toml deleted",
        remove("fees.toml"),
        "fees.toml",
        ("missing",),
    ),
    PackCase(
        "risk_condition_runs_code",
        "a risk condition calling Python: __import__('os').system('true')",
        append("risk.toml", risk_rule("__import__('os').system('true')")),
        "risk.toml",
        ("].condition", "hostile-risk", "condition refused"),
    ),
    PackCase(
        "risk_condition_unknown_function",
        "a risk condition calling a function outside the allow-list: read_csv('x') = 1",
        append("risk.toml", risk_rule("read_csv('x') = 1")),
        "risk.toml",
        ("].condition", "hostile-risk", "function 'read_csv' is not allowed"),
    ),
    PackCase(
        "risk_condition_column_outside_whitelist",
        "a risk condition reading a column outside the whitelist: consignee_address",
        append("risk.toml", risk_rule("consignee_address LIKE '%Main St%'")),
        "risk.toml",
        ("].condition", "hostile-risk", "unknown column 'consignee_address'"),
    ),
    PackCase(
        "rate_as_toml_float",
        "a measure rate written as a TOML float (0.1), not a decimal string",
        append("measures/hostile.toml", measure("", rate="0.1")),
        "hostile.toml",
        ("].rate", "hostile-measure", "as a decimal string"),
    ),
    PackCase(
        "fee_amount_below_a_cent",
        "a flat fee of 2.625 dollars (a fraction of a cent)",
        append(
            "fees.toml",
            '[[fees]]\nid = "hostile-fee"\ncomponent = "mpf_informal"\nkind = "flat"\namount_usd = "2.625"\n'
            f'entry_types = ["informal"]\nmodes = ["cargo"]\neffective_from = 2031-01-01\n{CITE}',
        ),
        "fees.toml",
        ("].amount_usd", "hostile-fee", "fraction of a cent"),
    ),
    PackCase(
        "citation_instrument_blank",
        "a measure whose citation names no instrument (blanks only)",
        append("measures/hostile.toml", measure('citation = { instrument = "     " }\n', cite=False)),
        "hostile.toml",
        ("hostile-measure", "citation instrument is blank"),
    ),
    PackCase(
        "coverage_ends_before_it_starts",
        "pack.toml covers_to before covers_from",
        substitute("pack.toml", r"^covers_from = .*$", "covers_from = 2016-03-10\ncovers_to = 2015-01-01"),
        "pack.toml",
        ("covers_to 2015-01-01 is not after covers_from 2016-03-10",),
    ),
    PackCase(
        "postal_bands_out_of_order",
        "postal per-item bands whose max_rate falls (0.25, then 0.16)",
        append(
            "tariff.toml",
            '[[postal]]\nid = "hostile-postal"\norigins = ["DE"]\nmethod = "origin-rate"\n'
            'origin_rates = { DE = "0.20" }\nspecific_bands = [\n  { max_rate = "0.25", usd = "160.00" },\n'
            '  { max_rate = "0.16", usd = "80.00" },\n  { usd = "200.00" },\n]\n'
            f"effective_from = 2031-01-01\n{CITE}",
        ),
        "tariff.toml",
        ("hostile-postal", "specific_bands must rise by max_rate"),
    ),
    PackCase(
        "not_with_unknown_group",
        "a measure not_with a stacking group no measure has (a misspelling)",
        append("measures/hostile.toml", measure('not_with = ["s232_stele"]\n')),
        "hostile.toml",
        ("measures[0].not_with", "hostile-measure", "no measure has stacking group ['s232_stele']"),
    ),
    PackCase(
        "gap_in_place_of_unknown_group",
        "a coverage gap owed in place of a stacking group no measure has (a misspelling marked nothing)",
        append(
            "measures/hostile.toml",
            '[[gaps]]\nid = "hostile-gap"\ncomponent = "s232"\norigins = ["*"]\nin_place_of = "s232_stele"\n'
            f"effective_from = 2031-01-01\n{CITE}",
        ),
        "hostile.toml",
        ("gaps[0].in_place_of", "hostile-gap", "no measure has stacking group 's232_stele'"),
    ),
    PackCase(
        "stacking_group_undeclared",
        "a measure of a stacking group tariff.toml does not declare (a misspelling made a group of its own, "
        "charged beside the one meant)",
        append("measures/hostile.toml", measure("", group="s232_stele")),
        "hostile.toml",
        (
            "measures[0].stacking_group",
            "hostile-measure",
            "'s232_stele' is not declared in tariff.toml",
            "did you mean 's232_steel'?",
        ),
    ),
    PackCase(
        "stacking_group_declared_unused",
        "a stacking group declared in tariff.toml that no measure uses",
        substitute(
            "tariff.toml", r"^\[stacking_groups\]$", '[stacking_groups]\nhostile_unused = "no measure"'
        ),
        "tariff.toml",
        ("stacking_groups", "declared groups no measure uses: ['hostile_unused']"),
    ),
    PackCase(
        "threshold_gap",
        "the pack covers dates before its first threshold (covers_from moved to 2010-01-01)",
        substitute("pack.toml", r"^covers_from = .*$", "covers_from = 2010-01-01"),
        "de_minimis.toml",
        ("thresholds", "no entry in force from 2010-01-01"),
    ),
    PackCase(
        "sampling_origin_unassigned",
        "a sampling rate for origin ZZ (not an assigned country code)",
        append(
            "queues.toml",
            '[[sampling.rates]]\nid = "hostile-sample"\norigin = "ZZ"\nrate = "0.5"\n'
            f"effective_from = 2031-01-01\n{CITE}",
        ),
        "queues.toml",
        ("hostile-sample", "unassigned ISO 3166-1 country codes ['ZZ']"),
    ),
    PackCase(
        "queue_capacity_port_not_4_digits",
        "a queue capacity for port 101, written as the port's number: a run reads port 101 as 0101, so the "
        "capacity applied to no package",
        append(
            "queues.toml",
            '[[queues]]\nname = "hostile-queue"\npriority = 99\ncapacity_per_port_day = 5\n'
            'capacity_by_port = { "101" = 1 }\n',
        ),
        "queues.toml",
        ("].capacity_by_port", "4-digit codes with their leading zeros", "['101']"),
    ),
    PackCase(
        "measure_overlap_with_any_origin",
        "two measures of one heading in force together, one for every origin (*), one for DE",
        append(
            "measures/hostile.toml",
            measure("", ident="hostile-de")
            + "\n"
            + measure("", ident="hostile-any").replace('origins = ["DE"]', 'origins = ["*"]'),
        ),
        "hostile.toml",
        ("9903.99.99/DE", "periods overlap", "hostile-any", "hostile-de"),
    ),
    PackCase(
        "prefix_list_row_without_prefix",
        "a scope list with a row of no prefix (a note alone): 'rules check' said valid, then every run ended "
        "with exit 70 comparing None with a number",
        both(
            write("never_eligible/hostile.csv", "hts_prefix,note\n95030000,toys\n,no code here\n"),
            append(
                "de_minimis.toml",
                '\n[[never_eligible]]\nid = "hostile-list"\nreason = "dm-excluded-adcvd"\n'
                'hts_prefixes_file = "never_eligible/hostile.csv"\norigins = ["CN"]\n'
                f"effective_from = 2031-01-01\n{CITE}",
            ),
        ),
        "hostile.csv",
        ("row 3.hts_prefix", "a row has no value"),
    ),
    PackCase(
        "fee_missing_in_a_new_fiscal_year",
        "a new fiscal year's informal MPF without its formal MPF: formal cargo entries were charged $0.00, "
        "assessed",
        append(
            "fees.toml",
            '\n[[fees]]\nid = "mpf-informal-fy2028"\ncomponent = "mpf_informal"\nkind = "flat"\n'
            'amount_usd = "2.80"\nentry_types = ["informal"]\nmodes = ["cargo"]\n'
            f"effective_from = 2027-10-01\neffective_to = 2028-10-01\n{CITE}",
        ),
        "fees.toml",
        ("formal entries by cargo have no fee from 2027-10-01",),
    ),
    PackCase(
        "rule_date_time",
        "a rule dated with a date-time (an order's 12:01 a.m. EST as UTC): refused as 'should have zero time', "
        "or at midnight UTC silently taken as that day",
        append("de_minimis.toml", gift("2031-01-01T05:01:00Z")),
        "de_minimis.toml",
        ("effective_from", "not a date-time", "effective_time"),
    ),
    PackCase(
        "rule_date_quoted_date_time",
        "a rule dated with a quoted date-time ('2031-01-01T00:00:00+05:00'): read as 2031-01-01, a day off in UTC",
        append("de_minimis.toml", gift('"2031-01-01T00:00:00+05:00"')),
        "de_minimis.toml",
        ("effective_from", "write a date", "effective_time"),
    ),
    PackCase(
        "rule_date_number",
        "a rule dated 20311215 (read as Unix seconds, refused as 'should have zero time')",
        append("de_minimis.toml", gift("20311215")),
        "de_minimis.toml",
        ("effective_from", "not the number 20311215"),
    ),
    PackCase(
        "measure_priority_too_large",
        "a measure priority of 2^63: 'rules check' said valid, then every run ended with exit 70",
        append("tariff.toml", "\n" + measure("priority = 9223372036854775808\n")),
        "tariff.toml",
        ("priority", "less than or equal to 2147483647"),
    ),
    PackCase(
        "fee_amount_too_large",
        "a fee of $10^20: 'rules check' said valid, then every run ended with exit 70",
        append("fees.toml", "\n" + fee('amount_usd = "100000000000000000000.00"\n', rate='"0"')),
        "fees.toml",
        ("amount_usd", "too large", "at most 1000000000000"),
    ),
    PackCase(
        "toml_with_byte_order_mark",
        "a pack file saved as 'UTF-8 with BOM': 'Invalid statement (at line 1, column 1)' with no hint",
        substitute("fees.toml", r"\A", "\ufeff"),
        "fees.toml",
        ("malformed TOML", "byte-order mark"),
    ),
    PackCase(
        "fx_rate_missing",
        "an exchange rate row without a rate (a EUR line would be valued at nothing)",
        fx_rows("EUR,2024-05-01,,fed\n"),
        "hostile.csv",
        ("usd_per_unit", "a row has no value"),
    ),
    PackCase(
        "fx_rate_for_usd",
        "a USD row in the exchange rates (USD lines were joined twice: exit 70)",
        fx_rows("EUR,2026-05-01,1.10,fed\nUSD,2026-05-01,1,fed\n"),
        "hostile.csv",
        ("currency", "USD is the engine's own unit"),
    ),
    PackCase(
        "fx_currency_lower_case",
        "an exchange rate for 'eur' (EUR lines were then rejected as an unknown currency)",
        fx_rows("eur,2026-05-01,1.10,fed\n"),
        "hostile.csv",
        ("currency", "not an ISO 4217 code: 'eur'"),
    ),
    PackCase(
        "scope_prefix_odd_length",
        "a scope prefix of 5 digits (a spreadsheet dropped a leading zero): it could never match",
        both(
            append("measures/hostile.toml", measure('hts_include_file = "measures/hostile.csv"\n')),
            write("measures/hostile.csv", "hts_prefix\n20110\n"),
        ),
        "hostile.csv",
        ("not an HTS prefix of 2, 4, 6, 8 or 10 digits: '20110'",),
    ),
    PackCase(
        "scope_table_unknown_column",
        "a scope table with a misspelled period column (effective_form): it was ignored",
        both(
            append("measures/hostile.toml", measure('hts_include_file = "measures/hostile2.csv"\n')),
            write("measures/hostile2.csv", "hts_prefix,effective_form\n610910,2026-07-01\n"),
        ),
        "hostile2.csv",
        ("unknown columns ['effective_form']",),
    ),
    PackCase(
        "measure_rate_in_per_cent",
        "a measure rate written in per cent (25 for 25 %: 2,500 %)",
        append("measures/hostile.toml", measure("", rate='"25"')),
        "hostile.toml",
        ("hostile-measure", "rate"),
    ),
    PackCase(
        "measure_without_origins",
        "a measure for no origin at all (it could never apply)",
        append("measures/hostile.toml", measure("").replace('origins = ["DE"]', "origins = []")),
        "hostile.toml",
        ("hostile-measure", "origins"),
    ),
    PackCase(
        "measure_rate_ten_per_cent",
        "a measure rate of 10 meaning 10 %: below the old bound of 10, it was charged 1,000 %",
        append("measures/hostile.toml", measure("", rate='"10"')),
        "hostile.toml",
        ("measures[0] (id hostile-measure)", "rate 10 is 1,000 %", '("0.10" for 10 %)', "high_rate_meant"),
    ),
    PackCase(
        "measure_rate_per_cent_with_a_space",
        "a measure rate '10 %': the message read 'Input should be a valid decimal', not showing the value",
        append("measures/hostile.toml", measure("", rate='"10 %"')),
        "hostile.toml",
        (
            "measures[0].rate (id hostile-measure)",
            "rate '10 %' is not a decimal number",
            "rates are fractions",
        ),
    ),
    PackCase(
        "postal_rate_in_per_cent",
        "a postal regime's origin rate of 5 meaning 5 %: charged 500 % of the mail's value",
        append(
            "tariff.toml",
            '[[postal]]\nid = "hostile-postal"\norigins = ["DE"]\nmethod = "origin-rate"\n'
            f'origin_rates = {{ DE = "5" }}\neffective_from = 2031-01-01\n{CITE}',
        ),
        "tariff.toml",
        ("hostile-postal", "origin_rates.DE 5 is 500 %", "rates are fractions"),
    ),
    PackCase(
        "fee_rate_in_per_cent",
        "a formal MPF rate of 0.3464 (the 0.3464 % written in per cent): charged 34.64 % of the value",
        append("fees.toml", fee("", rate='"0.3464"')),
        "fees.toml",
        ("fees[", "(id hostile-fee)", "rate 0.3464 is 34.64 %", "above 0.05 (5 %)"),
    ),
    PackCase(
        "suspension_origins_all_excluded",
        "a suspension for CN and HK with origins_exclude CN and HK: a rule for no origin loaded",
        append("de_minimis.toml", suspension('origins_exclude = ["CN", "HK"]\n', origins='["CN", "HK"]')),
        "de_minimis.toml",
        ("(id hostile-suspension)", "leaves none of origins ['CN', 'HK']", "would apply to no origin"),
    ),
    PackCase(
        "measure_origins_all_excluded",
        "a measure for VN with origins_exclude VN: a rule for no origin loaded",
        append(
            "measures/hostile.toml",
            measure('origins_exclude = ["VN"]\n').replace('origins = ["DE"]', 'origins = ["VN"]'),
        ),
        "hostile.toml",
        ("(id hostile-measure)", "leaves none of origins ['VN']", "would apply to no origin"),
    ),
    PackCase(
        "gift_rule_split_with_a_gap",
        "the gift rule split in two, the first ending 2025-09-01 (its last day 2025-08-31) and the second from "
        "2025-09-02: a gift on 2025-09-01 was charged as any other package",
        both(
            substitute("de_minimis.toml", r'^id = "gift-100"$', 'id = "gift-100"\neffective_to = 2025-09-01'),
            append(
                "de_minimis.toml",
                f'[[gifts]]\nid = "hostile-gift"\nlimit_usd = "100.00"\neffective_from = 2025-09-02\n{CITE}',
            ),
        ),
        "de_minimis.toml",
        ("gifts[1] (id hostile-gift)", "no entry in force from 2025-09-01 to 2025-09-02", "2025-09-01 only"),
    ),
    PackCase(
        "stacking_tie",
        "two measures of one stacking group and priority that meet on a line: both were charged",
        append(
            "measures/hostile.toml",
            measure('hts_include = ["6109"]\n', ident="hostile-a")
            + "\n"
            + measure('hts_include = ["610910"]\n', ident="hostile-b").replace("9903.99.99", "9903.99.98"),
        ),
        "hostile.toml",
        ("hostile-a and hostile-b can both apply", "610910"),
    ),
    PackCase(
        "fee_minimum_above_maximum",
        "an ad valorem fee whose minimum is above its maximum",
        append("fees.toml", fee('min_usd = "700.00"\nmax_usd = "651.50"\n')),
        "fees.toml",
        ("hostile-fee", "min_usd 700.00 is above max_usd 651.50"),
    ),
    PackCase(
        "fee_flat_with_a_rate",
        "a flat fee with a rate as well (the rate was silently ignored)",
        append("fees.toml", fee('amount_usd = "2.00"\n').replace('kind = "ad_valorem"', 'kind = "flat"')),
        "fees.toml",
        ("hostile-fee", "a flat fee takes no rate"),
    ),
    PackCase(
        "screening_list_outside_the_pack",
        "the screening list in a file outside the pack (its content hash would not cover it)",
        both(
            substitute(
                "risk.toml", r'^file = "screening/ofac_sdn_2024-05-03.csv"$', 'file = "../outside.csv"'
            ),
            write("../outside.csv", "entry_id,name\nx-1,Somebody\n"),
        ),
        "outside.csv",
        ("screening list outside the rule pack folder",),
    ),
    PackCase(
        "risk_toml_misspelt",
        "risk.toml renamed risks.toml: the pack loaded without a single risk rule",
        lambda pack: (pack / "risk.toml").rename(pack / "risks.toml"),
        "risks.toml",
        ("not a file the pack reads",),
    ),
    PackCase(
        "table_named_by_no_entry",
        "a scope table that no measure names (a misspelt hts_include_file, say)",
        write("measures/unused.csv", "hts_prefix\n6109\n"),
        "unused.csv",
        ("no entry of the pack names this table",),
    ),
    PackCase(
        "toml_in_a_subfolder",
        "a measures file one folder too deep: it was never read",
        write("measures/extra/more.toml", measure("")),
        "more.toml",
        ("not a file the pack reads",),
    ),
    PackCase(
        "file_of_another_kind",
        "a measures file with a mistyped extension (.tml): it was never read",
        write("measures/zz.tml", measure("")),
        "zz.tml",
        ("not a file a rule pack holds",),
    ),
    PackCase(
        "scope_table_empty",
        "a measure whose include table has a header and no prefix: it could never apply",
        both(
            append("measures/hostile.toml", measure('hts_include_file = "measures/hostile3.csv"\n')),
            write("measures/hostile3.csv", "hts_prefix\n"),
        ),
        "hostile3.csv",
        ("hostile-measure", "an empty scope"),
    ),
    PackCase(
        "measure_list_matches_no_tariff_line",
        "a measure whose HTS list holds only codes of no tariff line (of another revision, or misspelt): it "
        "loaded, covered nothing, and the goods it meant were assessed without it (a Chapter 98 code would be "
        "live: the table never holds chapters 98 and 99, and the engine matches the code declared)",
        both(
            append("measures/hostile.toml", measure('hts_include_file = "measures/hostile4.csv"\n')),
            write("measures/hostile4.csv", "hts_prefix\n39072000\n870120\n61099999\n"),
        ),
        "hostile.toml",
        (
            "measure hostile-measure",
            "none of the 3 HTS codes of its list (hts_include_file measures/hostile4.csv)",
            "39072000, 870120, 61099999",
            "would cover no goods",
        ),
    ),
    PackCase(
        "toml_nested_too_deeply",
        "arrays nested 1,000 deep in a TOML file: internal error RecursionError (exit 70), naming no file",
        append("fees.toml", "deep = " + "[" * 1_000 + "]" * 1_000 + "\n"),
        "fees.toml",
        ("malformed TOML", "nested too deeply"),
    ),
    PackCase(
        "toml_not_utf8",
        "a TOML file that is not UTF-8 text: internal error UnicodeDecodeError (exit 70), naming no file",
        lambda pack: (pack / "fees.toml").write_bytes(
            (pack / "fees.toml").read_bytes() + b'\nnote = "\xff"\n'
        ),
        "fees.toml",
        ("not UTF-8 text",),
    ),
    PackCase(
        "keyword_pattern_polars_cannot_run",
        "a keyword-family pattern with a look-ahead: Python's re took it, the run ended in an internal "
        "ComputeError (exit 70) naming no file",
        append(
            "risk.toml",
            "[[keyword_families]]\nname = \"hostile\"\npattern = '\\b(?=sneaker)(sneakers?|boots?)\\b'\n"
            'chapters = ["64"]\n',
        ),
        "risk.toml",
        ("].pattern", "look-around", "is not supported"),
    ),
    PackCase(
        "denied_party_types_unknown",
        "a screening list's party_types naming a type no list has (ship)",
        substitute("risk.toml", r"^party_types = .*$", 'party_types = ["individual", "ship"]'),
        "risk.toml",
        ("denied_parties.party_types[1]", "'vessel' or 'aircraft'"),
    ),
    PackCase(
        "risk_condition_regex_polars_cannot_run",
        "a risk condition whose REGEXP_LIKE pattern has a look-ahead: refused, but the message gave no reason",
        append("risk.toml", risk_rule("REGEXP_LIKE(description_norm, '(?=pill)press')")),
        "risk.toml",
        ("].condition", "hostile-risk", "regex parse error", "look-around"),
    ),
    PackCase(
        "risk_condition_letter_the_normal_form_folds",
        "a risk condition matching description_norm with a letter its normal form folds away: "
        "REGEXP_LIKE(description_norm, '\\bøl\\b') (Danish beer) loaded and never fired (the column holds 'ol')",
        append("risk.toml", risk_rule("REGEXP_LIKE(description_norm, '\\bøl\\b') OR description LIKE '%ø%'")),
        "risk.toml",
        ("].condition", "hostile-risk", "description_norm", "'ø' as 'o'", "'\\bol\\b'"),
    ),
    PackCase(
        "risk_condition_capitals_a_normal_form_never_holds",
        "a risk condition comparing lower-case normal forms with ASCII capitals: description_norm = 'GIFT BOX' "
        "OR shipper_name_norm LIKE 'ACME%' loaded and never fired",
        append("risk.toml", risk_rule("description_norm = 'GIFT BOX' OR shipper_name_norm LIKE 'ACME%'")),
        "risk.toml",
        ("].condition", "hostile-risk", "description_norm", "which is lower case", "'gift box'"),
    ),
    PackCase(
        "keyword_pattern_letter_the_normal_form_folds",
        "a keyword-family pattern with letters description_norm folds away ('straße|smørrebrød'): it never matched",
        append(
            "risk.toml",
            '[[keyword_families]]\nname = "hostile"\npattern = \'straße|smørrebrød\'\nchapters = ["64"]\n',
        ),
        "risk.toml",
        ("].pattern", "'ß' as 'ss'", "'ø' as 'o'", "'strasse|smorrebrod'"),
    ),
    PackCase(
        "risk_condition_subquery",
        "a risk condition with a subquery: value_usd > (SELECT 1)",
        append("risk.toml", risk_rule("value_usd > (SELECT 1)")),
        "risk.toml",
        ("].condition", "hostile-risk", "subqueries are not allowed"),
    ),
    PackCase(
        "source_tag_unknown",
        "a citation naming a source tag sources.toml does not list (a typo: S999 for S99): it loaded silently",
        append(
            "measures/hostile.toml",
            measure(
                'citation = { instrument = "Hypothetical instrument for tests", sources = ["S96", "S999"] }\n',
                cite=False,
            ),
        ),
        "hostile.toml",
        (
            "measures[0].citation.sources[1] (id hostile-measure)",
            "source tag 'S999' is not listed in sources.toml",
            "did you mean 'S99'?",
        ),
    ),
    PackCase(
        "source_tag_duplicate",
        "a source tag listed twice in sources.toml (with another URL)",
        sources('{ tag = "S01", url = "https://example.org/another-document" },'),
        "sources.toml",
        ("sources", "duplicate source tag 'S01': sources[0] and sources[1]"),
    ),
    PackCase(
        "source_tag_malformed",
        "a source tag in sources.toml written as the notes cite it, [S12]: no citation could name it",
        sources('{ tag = "[S12]", url = "https://example.org/document" },'),
        "sources.toml",
        ("sources[0].tag", "source tag '[S12]' must be S and digits"),
    ),
    PackCase(
        "source_url_blank",
        "a source in sources.toml with a blank URL",
        sources('{ tag = "S200", url = " " },'),
        "sources.toml",
        ("sources[0]", "source S200: url is blank"),
    ),
    PackCase(
        "source_list_missing",
        "sources.toml deleted while the citations name tags: nothing resolves them",
        remove("sources.toml"),
        "de_minimis.toml",
        ("].citation.sources[0]", "but the pack has no sources.toml"),
    ),
)


def _params(bug: Callable[[PackCase], str | None]) -> list[object]:
    return [
        pytest.param(case, id=case.id, marks=[pytest.mark.xfail(strict=True, reason=f"BUG: {bug(case)}")])
        if bug(case)
        else pytest.param(case, id=case.id)
        for case in CASES
    ]


def broken_pack(case: PackCase, tmp_path: Path) -> Path:
    pack = tmp_path / "us"
    shutil.copytree(US_PACK, pack, ignore=shutil.ignore_patterns("scenarios"))
    case.edit(pack)
    return pack


@pytest.mark.parametrize("case", _params(lambda c: c.api_bug))
def test_rule_pack_refused_by_the_api(case: PackCase, tmp_path: Path) -> None:
    pack = broken_pack(case, tmp_path)
    with pytest.raises(screening.RulePackError) as info:
        screening.load_rules(pack)
    assert info.value.exit_code == 4
    message = str(info.value)
    assert case.file in message
    for name in case.names:
        assert name in message, f"{name!r} not in {message!r}"


@pytest.mark.parametrize("case", _params(lambda c: c.api_bug or c.cli_bug))
def test_rule_pack_refused_by_the_cli_with_exit_4(case: PackCase, tmp_path: Path) -> None:
    pack = broken_pack(case, tmp_path)
    out = tmp_path / "out"
    done = CliRunner().invoke(
        main, ["run", str(MANIFEST), "--rules", str(pack), "--out", str(out), "--quiet"]
    )
    assert done.exit_code == 4, done.output
    stderr = " ".join(done.stderr.split())
    assert case.file in stderr
    for name in case.names:
        assert name in stderr, f"{name!r} not on stderr: {done.stderr!r}"
    assert not out.exists()


def test_rules_check_exits_4_in_a_real_process(tmp_path: Path) -> None:
    case = next(c for c in CASES if c.id == "unknown_key_in_entry")
    pack = broken_pack(case, tmp_path)
    env = {**os.environ, "COLUMNS": "400"}
    for args in (
        ["rules", "check", str(pack)],
        ["run", str(MANIFEST), "--rules", str(pack), "--out", str(tmp_path / "o")],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "screening", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        assert done.returncode == 4, done.stdout + done.stderr
        assert "de_minimis.toml" in done.stderr
        assert "].colour (id hostile-suspension)" in done.stderr
    assert not (tmp_path / "o").exists()
