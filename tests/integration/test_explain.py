"""``screen explain``: what an analyst needs to justify each decision, read from a run's output folder."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner

import screening
from screening.cli import main
from screening.explain import _key_formed, explain_package
from screening.explain_text import render_text
from screening.rulepack.loader import content_hash
from screening.screener import screen_files_in_batches

from ..conftest import BASE_LINE, US_PACK


def _screened(tmp_path: Path, rows: list[dict[str, Any]], name: str = "out", **options: Any) -> Path:
    """The output folder of a whole-day run of ``rows`` (overrides of the base line)."""
    columns = dict.fromkeys([*BASE_LINE, *(c for row in rows for c in row)], pl.String())
    frame = pl.DataFrame([{**BASE_LINE, **row} for row in rows], schema=columns)
    out = tmp_path / name
    screening.screen(frame, rules=US_PACK, **options).write(out)
    return out


def _in_batches(tmp_path: Path, rows: list[dict[str, Any]], **options: Any) -> Path:
    """The output folder of ``screen run --batch-size 2`` over ``rows``, in file order."""
    manifest = tmp_path / "manifest.csv"
    pl.DataFrame([{**BASE_LINE, **row} for row in rows]).write_csv(manifest)
    out = tmp_path / "out"
    screen_files_in_batches([manifest], out=out, batch_size=2, rules=US_PACK, **options)
    return out


def _republishing(monkeypatch: pytest.MonkeyPatch, out: Path, values: list[str]) -> None:
    """After each read of ``packages``, the run folder ``out`` is republished with the package declared at the next
    of ``values`` (an hourly job publishing between two of explain's reads); none left, none is published."""
    read = screening.explain._read

    def racing(run: Path, name: str, **equal: str) -> pl.DataFrame:
        rows = read(run, name, **equal)
        if name == "packages" and values:
            frame = pl.DataFrame([{**BASE_LINE, "declared_value": values.pop(0)}])
            screening.screen(frame, rules=US_PACK).write(out)
        return rows

    monkeypatch.setattr(screening.explain, "_read", racing)


def test_explain_never_mixes_two_output_sets_published_while_it_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """explain read summary.json and each output by path in turn: a run publishing the folder between two reads
    gave the package of one set ($100) with the lines and duties of the next ($5,000). The folder is read again
    when its set changed meanwhile; a folder republished during both reads is refused."""
    out = _screened(tmp_path, [{"declared_value": "100.00"}])
    package_id = BASE_LINE["package_id"]
    _republishing(monkeypatch, out, ["5000.00"])
    explained = explain_package(out, package_id)
    assert explained["package"]["value_usd"] == "5000.00"
    assert [line["value_usd"] for line in explained["lines"]] == ["5000.00"]
    assert explained["decision"]["reason"] != "dm-eligible"
    _republishing(monkeypatch, out, ["100.00", "5000.00"])
    with pytest.raises(
        screening.UsageError, match="published a new output set into the folder while it was read"
    ):
        explain_package(out, package_id)


def _section(text: str, title: str) -> list[str]:
    """The lines of the section headed ``title`` (up to the next blank line)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
    return lines[start:end]


def test_each_part_of_a_split_package_has_its_own_decision_totals_score_and_routing(tmp_path: Path) -> None:
    """A package whose lines came in two batches has a ``packages`` row per part. The explanation took part 1's
    row for the decision, value, total due, score and routing while listing both parts' lines and flags: "1
    line(s)" over 3 lines, a total of part 1 beside part 2's duties, part 2's e-cigarette flag under part 1's
    score 0. Each part is now explained on its own and every line, component, flag and queue row names its part;
    a package of mail charged per item in two batches (package-level components only) gets its components
    split between its parts too."""
    out = _in_batches(
        tmp_path,
        [
            {"package_id": "A1", "declared_value": "900"},
            {"package_id": "B1", "consignee_name": "Bob Keller"},
            {
                "package_id": "A1",
                "line_no": "2",
                "hts_code": "8543.40.00.00",
                "description": "e-cigarette vape pen",
                "country_of_origin": "CN",
                "declared_value": "300",
            },
            {"package_id": "A1", "line_no": "3", "declared_value": "20"},
            *(
                {
                    "package_id": package_id,
                    "line_no": line_no,
                    "mode": "postal",
                    "arrival_date": "2025-09-10",
                    "country_of_origin": "CN",
                    "consignee_name": name,
                }
                for package_id, line_no, name in (("M1", "1", "Mia"), ("C1", "1", "Carl"), ("M1", "2", "Mia"))
            ),
        ],
        postal_method="specific",
    )
    explained = explain_package(out, "A1")
    parts = explained["parts"]
    assert [(p["part"], p["of"], p["line_nos"]) for p in parts] == [(1, 2, [1]), (2, 2, [2, 3])]
    assert [p["package"]["risk_score"] for p in parts] == [0, 40]
    assert [(line["line_no"], line["part"]) for line in explained["lines"]] == [(1, 1), (2, 2), (3, 2)]
    assert [(f["rule_id"], f["part"]) for f in explained["flags"]] == [("high-risk-e-cigarette", 2)]
    assert [q["part"] for q in explained["queues"]] == [2]
    assert [len(p["queues"]) for p in parts] == [0, 1]
    for part in parts:  # each part's components add up to its own total due
        charged = [c for c in explained["components"] if c["part"] == part["part"]]
        assert sum(Decimal(c["amount_usd"]) for c in charged) == Decimal(part["package"]["total_due_usd"])
    package_level = [(c["component"], c["part"]) for c in explained["components"] if c["line_no"] is None]
    assert package_level == [
        ("express_consignment", 1),
        ("mpf_informal", 1),
        ("express_consignment", 2),
        ("mpf_formal", 2),
    ]
    text = render_text(explained)
    assert "3 line(s) in 2 parts" in text
    assert _section(text, "RISK (part 1 of 2: line 1)") == [
        "RISK (part 1 of 2: line 1)  score 0",
        "  no risk rule fired",
    ]
    risk = _section(text, "RISK (part 2 of 2: lines 2, 3)")
    assert risk[0] == "RISK (part 2 of 2: lines 2, 3)  score 40"
    assert "high-risk-e-cigarette" in risk[1]
    assert _section(text, "ROUTING (part 1 of 2: line 1)")[1] == "  no queue → release"
    assert "→ inspect" in _section(text, "ROUTING (part 2 of 2: lines 2, 3)")[1]
    second = _section(text, "DECISION (part 2 of 2: lines 2, 3)")
    assert f"total due ${parts[1]['package']['total_due_usd']}" in second[-1]
    assert [line.split(".")[0].strip() for line in _section(text, "LINES (part 2 of 2: lines 2, 3)")[1:]] == [
        "2",
        "3",
    ]
    mail = explain_package(out, "M1")
    assert [(c["component"], c["part"]) for c in mail["components"]] == [
        ("dutiable_mail", 1),
        ("postal_specific", 1),
        ("dutiable_mail", 2),
        ("postal_specific", 2),
    ]
    done = CliRunner().invoke(main, ["explain", "A1", "--run", str(out), "--json"])
    assert done.exit_code == 0, done.output
    assert [p["package"]["total_due_usd"] for p in json.loads(done.output)["parts"]] == [
        p["package"]["total_due_usd"] for p in parts
    ]


def test_each_part_of_a_package_split_across_days_or_ports_gets_its_own_queue_row(tmp_path: Path) -> None:
    """Queue ranks restart per queue, port and day. A package split across batches whose parts went to one
    queue at rank 1 on two days, at one port (PX) or at two (PY), had both queue rows given to part 1 (matched
    on queue and rank alone), and part 2 read "no queue" though its ``packages`` row was queued. Each queue row
    now goes to the one part of its queue, port, day and rank."""
    chem = {"hts_code": "2933.39.91.00", "description": "chem", "port_of_entry": "4701"}
    first = [
        {**chem, "package_id": "PX", "consignee_name": "Kai"},
        {**chem, "package_id": "PY", "consignee_name": "Lou", "port_of_entry": "2704"},
    ]
    second = [
        {**row, "line_no": "2", "arrival_date": "2025-03-11"}
        for row in (first[0], {**first[1], "port_of_entry": "3901"})
    ]
    batches = [pl.DataFrame([{**BASE_LINE, **row} for row in rows]) for rows in (first, second)]
    out = tmp_path / "out"
    screening.screen_batches(batches, rules=US_PACK).write(out)
    expected = {
        "PX": [("4701", "2025-03-10"), ("4701", "2025-03-11")],
        "PY": [("2704", "2025-03-10"), ("3901", "2025-03-11")],
    }
    for package_id, where in expected.items():
        explained = explain_package(out, package_id)
        parts = explained["parts"]
        assert [(p["package"]["queue"], p["package"]["queue_rank"]) for p in parts] == [("narcotics", 1)] * 2
        assert [
            [(q["queue"], q["port_of_entry"], q["arrival_date"], q["queue_rank"]) for q in p["queues"]]
            for p in parts
        ] == [[("narcotics", port, day, 1)] for port, day in where]
        assert [q["part"] for q in explained["queues"]] == [1, 2]
        text = render_text(explained)
        for n, (port, day) in enumerate(where, start=1):
            routing = _section(text, f"ROUTING (part {n} of 2: line {n})")
            assert f"at port {port} on {day}: rank 1" in routing[1], routing
            assert not any("no queue" in line for line in routing), routing


def test_an_amount_not_known_reads_as_words_without_a_dollar_sign(tmp_path: Path) -> None:
    """A package whose duty was not computed (a tariff line unknown on its date) read "duty $(not computed)",
    its total "total due $(unknown)" and its line "duty $? (...)": the words now stand alone."""
    out = _screened(
        tmp_path, [{"arrival_date": "2025-09-02", "hts_code": "9999.99.99", "declared_value": "900"}]
    )
    text = render_text(explain_package(out, "P1"))
    assert "duty not computed (no-tariff-line)" in text
    assert "total due unknown" in text
    assert "$(" not in text
    assert "$?" not in text
    assert "fees $" in text  # a known amount keeps its dollar sign


def test_a_line_in_another_currency_shows_its_conversion_and_the_rates_source(tmp_path: Path) -> None:
    """A line declared in euros showed only its dollar value; the exchange rates' source and their standing
    (approximations, not the certified rates) were nowhere in the run's outputs."""
    out = _screened(tmp_path, [{"currency": "EUR", "declared_value": "750"}, {"line_no": "2"}])
    summary = json.loads((out / "summary.json").read_text())
    assert "31 U.S.C. 5151; 19 CFR 159.31-159.36" in summary["rules"]["fx_citation"]
    assert summary["rules"]["fx_confidence"] == "unconfirmed"
    explained = explain_package(out, "P1")
    euro = explained["lines"][0]
    assert (euro["currency"], euro["declared_value"], euro["fx_usd_per_unit"], euro["fx_rate_date"]) == (
        "EUR",
        "750.000000000000",
        "1.0845000000",
        "2025-03-10",
    )
    assert explained["fx"]["citation"] == summary["rules"]["fx_citation"]
    assert (explained["fx"]["confidence"], explained["fx"]["official"]) == ("unconfirmed", False)
    text = render_text(explained)
    assert "value EUR 750.00 x 1.0845 (rate of 2025-03-10) = $813.38" in text
    assert "  2. 6109.10.00.12  'cotton t-shirt'  origin DE  value $100.00  " in text  # dollars: as they were
    fx = _section(text, "FX")
    assert "NOT certified (approximation of certified rates)" in fx[0]
    assert fx[1] == f"  source: {summary['rules']['fx_citation']} (confidence: unconfirmed)"


def test_a_consignee_day_of_names_that_name_no_one_at_one_zip_says_how_its_key_was_formed(
    tmp_path: Path,
) -> None:
    """Consignees ``N/A`` and ``nan`` at ZIP 20001 are one consignee (``name:|20001``): explain read "the consignee
    name normalised to '' plus ZIP 20001"; it says the name names no one and that such packages at the ZIP are
    one consignee. A pseudonym's description names the package-id case too."""
    out = _screened(
        tmp_path,
        [
            {"package_id": "P1", "declared_value": "300", "consignee_name": "N/A"},
            {"package_id": "P2", "declared_value": "300", "consignee_name": "nan"},
        ],
    )
    day = explain_package(out, "P1")["parts"][0]["consignee_day"]
    assert day["consignee_key"] == "name:|20001"
    assert day["key_formed_from"] == (
        "no consignee id given, and a consignee name that names no one (punctuation only, or a word for none such "
        "as 'nan' or 'N/A'): every such package at ZIP 20001 is one consignee"
    )
    assert "no ZIP: the package is a consignee of its own" in _key_formed("package:P1")
    assert "with no name and no ZIP, the package id" in _key_formed("p:0123456789abcdef0123")


def test_a_consignee_day_total_lists_the_packages_added_in_and_says_the_key_is_the_engine_s_reading(
    tmp_path: Path,
) -> None:
    """A package judged on its consignee's day total gave the total only: not which other packages made it, how
    the key was formed, nor that the key is the engine's reading of "one person on one day", which the law
    does not define (DOMAIN.md section 2)."""
    many = [{"package_id": f"Q{n:02}", "declared_value": "10"} for n in range(23)]
    out = _screened(
        tmp_path,
        [
            {"package_id": "P1", "declared_value": "300"},
            {
                "package_id": "P2",
                "declared_value": "350",
                "consignee_name": "ANNA  keller",
                "consignee_postal_code": "20001-4321",
            },
            {"package_id": "P3", "declared_value": "200", "arrival_date": "2025-03-11"},
            {"package_id": "I1", "consignee_id": "C-77", "consignee_name": "Ivo", "declared_value": "500"},
            {"package_id": "I2", "consignee_id": "C-77", "consignee_name": "Ivo Z.", "declared_value": "400"},
            *({**row, "consignee_name": "Many"} for row in many),
        ],
    )
    explained = explain_package(out, "P1")
    day = explained["parts"][0]["consignee_day"]
    assert (day["value_usd"], day["own_value_usd"], day["others_count"]) == ("650.00", "300.00", 1)
    assert [(o["package_id"], o["value_usd"]) for o in day["others"]] == [("P2", "350.00")]
    assert day["consignee_key"] == "name:anna keller|20001"
    assert "not defined in 19 CFR 10.151" in day["key_reading"]
    text = render_text(explained)
    section = _section(text, "CONSIGNEE-DAY")
    assert (
        section[0]
        == "CONSIGNEE-DAY  $650.00 on 2025-03-10: this package $300.00 and 1 other package row(s) $350.00"
    )
    assert (
        "no consignee id given: the consignee name normalised to 'anna keller' plus ZIP 20001" in section[1]
    )
    assert section[2].startswith(
        "  ENGINE'S READING, NOT LAW: this key is the engine's reading of 'one person"
    )
    assert section[3] == "  + P2  $350.00"
    by_id = explain_package(out, "I2")["parts"][0]["consignee_day"]
    assert (
        by_id["key_formed_from"]
        == "the consignee id 'C77' (its letters and digits in capitals: case, blanks and punctuation do not make "
        "another person)"
    )
    assert [o["package_id"] for o in by_id["others"]] == ["I1"]
    crowded = explain_package(out, "Q00")
    listed = crowded["parts"][0]["consignee_day"]
    assert (listed["others_count"], len(listed["others"]), listed["others_value_usd"]) == (22, 20, "220.00")
    assert "  + 2 more (not listed)" in render_text(crowded)
    # A package alone on its day adds no section.
    alone = explain_package(out, "P3")
    assert alone["parts"][0]["consignee_day"] is None
    assert "CONSIGNEE-DAY" not in render_text(alone)
    # In batches a package is judged on the running total as it comes: P3 of a later batch is not in P2's
    # total, nor listed.
    batches = tmp_path / "batches"
    batches.mkdir()
    split = _in_batches(
        batches,
        [
            {"package_id": "P1", "declared_value": "300"},
            {"package_id": "P2", "declared_value": "350"},
            {"package_id": "P3", "declared_value": "200"},
        ],
    )
    # The day's first: alone then, but not in the day (what the day came to is said).
    first = explain_package(split, "P1")["parts"][0]["consignee_day"]
    assert (first["others"], first["day_value_usd_in_outputs"]) == ([], "850.00")
    early = explain_package(split, "P2")["parts"][0]["consignee_day"]
    assert (early["value_usd"], [o["package_id"] for o in early["others"]]) == ("650.00", ["P1"])
    assert early["outside_outputs_usd"] is None
    late = explain_package(split, "P3")["parts"][0]["consignee_day"]
    assert (late["value_usd"], [o["package_id"] for o in late["others"]]) == ("850.00", ["P1", "P2"])
    # A total carried in a --state from an earlier run holds packages this run's outputs do not: said so.
    state = tmp_path / "day.state"
    for hour, package_id in enumerate(("E1", "E2")):
        manifest = tmp_path / f"hour{hour}.csv"
        pl.DataFrame([{**BASE_LINE, "package_id": package_id, "declared_value": "300"}]).write_csv(manifest)
        resumed = tmp_path / f"hour{hour}"
        screen_files_in_batches([manifest], out=resumed, batch_size=2, rules=US_PACK, state_path=state)
    carried = explain_package(resumed, "E2")["parts"][0]["consignee_day"]
    assert (carried["others_count"], carried["outside_outputs_usd"]) == (0, "300.00")
    assert "$300.00 came from packages screened before this run (into its --state)" in render_text(
        explain_package(resumed, "E2")
    )
    # With history, the prior days' figures are not in the outputs: the explanation says so.
    later = _screened(
        tmp_path,
        [
            {"package_id": "N1", "arrival_date": "2025-03-12"},
            {"package_id": "N2", "arrival_date": "2025-03-12"},
        ],
        name="later",
        history=[out],
    )
    text = render_text(explain_package(later, "N1"))
    assert (
        "history (--history, 1 source(s)): the consignee's prior days are counted for the risk rules only"
        in text
    )


def test_a_gift_shows_its_limit_and_a_rule_s_note_is_printed(tmp_path: Path) -> None:
    """A gift line showed ``rule: gift-100`` without the limit that applied ($200 for gifts sent from VI); a
    rule whose citation says "see note" had no note anywhere in the run's outputs."""
    out = _screened(
        tmp_path,
        [
            {"package_id": "G1", "gift": "true", "shipper_country": "VI", "declared_value": "150"},
            {"package_id": "S1", "arrival_date": "2026-03-10", "consignee_name": "Sam"},
        ],
    )
    summary = json.loads((out / "summary.json").read_text())
    assert summary["decision_rule_details"]["gift-100"]["sender_limits"]["VI"] == "200.00"
    gift = explain_package(out, "G1")
    assert gift["decision"]["gift_limits"] == [{"line_no": 1, "sent_from": "VI", "limit_usd": "200.00"}]
    text = render_text(gift)
    assert "  rule: gift-100; gift limit $100.00, $200.00 for gifts sent from AS, GU, VI;" in text
    assert "  gift limit, line 1 (sent from VI): $200.00 of gift value per person per day" in text
    suspended = explain_package(out, "S1")
    assert "see note" in suspended["decision"]["citation"]
    assert suspended["decision"]["details"]["note"].startswith("After Learning Resources v. Trump")
    notes = _section(render_text(suspended), "RULE NOTES")
    assert notes[1].startswith("  eo-2026-02-20-all: After Learning Resources v. Trump (2026-02-20)")


def test_a_flag_s_source_reads_with_its_confidence_and_its_rule_s_note(tmp_path: Path) -> None:
    """An express package of 2025-03-10 read ``+15 hts-unknown-on-date ... source: CBP postal informal entry IFR
    91 FR 37801`` unmarked, a basis of mail from 2026-07-24; a risk rule's note, which says where its cited basis
    is not in force, was in no output. The catalogue now carries the notes, and explain prints them."""
    out = _screened(tmp_path, [{"package_id": "DP1", "hts_code": "2933399100", "description": "chem"}])
    catalogue = json.loads((out / "summary.json").read_text())["risk"]["rule_catalogue"]
    assert catalogue["hts-unknown-on-date"]["confidence"] == "unconfirmed"
    assert "91 FR 37801" not in catalogue["hts-unknown-on-date"]["citation"]
    assert (
        "screening heuristic with no cited basis before 2025-07-31"
        in (catalogue["high-risk-opioid-precursor"]["note"])
    )
    assert catalogue["value-just-under-threshold"]["note"] is None
    explained = explain_package(out, "DP1")
    unknown = next(f for f in explained["flags"] if f["rule_id"] == "hts-unknown-on-date")
    assert unknown["note"] == catalogue["hts-unknown-on-date"]["note"]
    text = render_text(explained)
    assert (
        "      source: Harmonized Tariff Schedule of the United States (the edition in force on the arrival date,"
        " as the pack's tariff table holds it); https://hts.usitc.gov/ (confidence: unconfirmed; its note under"
        " RULE NOTES)"
    ) in text
    notes = _section(text, "RULE NOTES")
    assert [line.split(":")[0].strip() for line in notes[1:]] == [
        "high-risk-opioid-precursor",
        "hts-unknown-on-date",
    ]
    assert notes[2].startswith("  hts-unknown-on-date: A code is checked against the HTSUS in force")


def test_a_duty_or_fee_in_doubt_has_its_rule_s_note_under_rule_notes(tmp_path: Path) -> None:
    """`screen explain` printed the notes of the decision and entry rules and of flags only: a duty or fee read
    `(confidence: conflict)` or `unconfirmed` with no word on why, and the run folder does not hold the pack. The
    summary now carries the notes of the rules in doubt that made the run's components, and explain prints them,
    once each; a settled rule has none."""
    out = _screened(
        tmp_path,
        [
            {"package_id": "M1", "arrival_date": "2026-08-03", "mode": "postal", "country_of_origin": "CN"},
            {"package_id": "E1", "arrival_date": "2025-11-03", "declared_value": "900.00"},
        ],
    )
    notes = json.loads((out / "summary.json").read_text())["component_rule_notes"]
    assert notes["postal-informal-entry-fees"].startswith("Postal informal entry (from 2026-07-24)")
    assert "s122-after-2026-07-24" in notes
    assert "mpf-informal-fy2026" not in notes  # confirmed
    text = render_text(explain_package(out, "M1"))
    assert (
        "  package: postal_entry_fees [postal-informal-entry-fees]  (not computed)\n      source: Interim final rule"
        " 91 FR 37801"
    ) in text
    assert "(confidence: conflict; its note under RULE NOTES)" in text
    rule_notes = _section(text, "RULE NOTES")
    named = [line.split(":")[0].strip() for line in rule_notes[1:]]
    assert named == sorted(set(named), key=named.index)  # once each
    assert {"postal-informal-entry-fees", "s122-after-2026-07-24", "mfn"} <= set(named)
    assert any(line.startswith("  postal-informal-entry-fees: Postal informal entry") for line in rule_notes)
    express = render_text(explain_package(out, "E1"))
    assert "mpf_informal [mpf-informal-fy2026]" in express
    assert "mpf-informal-fy2026:" not in " ".join(_section(express, "RULE NOTES"))


def test_a_gift_from_a_company_says_which_legal_form_was_read(tmp_path: Path) -> None:
    """``gift-from-company`` named no token: an analyst could not tell which part of the shipper's name made it
    a company (``Wang Ao`` was one, by AO)."""
    gift = {"gift": "true", "declared_value": "60.00", "arrival_date": "2025-10-15"}
    out = _screened(tmp_path, [{**gift, "package_id": "G1", "shipper_name": "Xinda Trading Co., Ltd."}])
    text = render_text(explain_package(out, "G1"))
    assert "gift-from-company (medium, queue documentation) on line(s) 1" in text
    assert "      match: shipper's legal form: CO LTD" in text


def test_a_postal_duty_per_item_shows_the_regime_s_bands_and_its_lines_origin_rates(tmp_path: Path) -> None:
    """``postal_specific $200.00`` was printed with no band, rate or regime amounts."""
    out = _screened(
        tmp_path,
        [{"mode": "postal", "arrival_date": "2025-09-10", "country_of_origin": "CN"}],
        postal_method="specific",
    )
    explained = explain_package(out, "P1")
    assert explained["entry"]["details"]["specific_bands"][-1] == {
        "max_inclusive": False,
        "max_rate": None,
        "usd": "200.00",
    }
    postal = [c for c in explained["components"] if c["component"] == "postal_specific"]
    assert [(c["how"], c["amount_usd"]) for c in postal] == [("per postal item", "200.00")]
    text = render_text(explained)
    assert "postal_specific [postal-all-ieepa-rate]  per postal item = $200.00" in text
    assert "regime's bands by the origin's rate: under 16% $80.00; up to 25% $160.00; higher $200.00" in text
    assert "origin rates of its lines: CN 30%" in text


def test_a_copy_of_a_line_reads_as_a_copy_ignored(tmp_path: Path) -> None:
    """A ``duplicate-line`` reject was printed "line 1 REJECTED, not screened" under the screened line 1."""
    out = _screened(tmp_path, [{}, {}])
    explained = explain_package(out, "P1")
    assert [(r["code"], r["part"]) for r in explained["rejected_lines"]] == [("duplicate-line", 1)]
    lines = _section(render_text(explained), "LINES")
    assert lines[2].startswith("  a copy of line 1, ignored (duplicate-line): ")
    assert "REJECTED" not in "\n".join(lines)


def test_a_jewel_count_component_says_what_it_is_charged_per(tmp_path: Path) -> None:
    """Every specific component read "per unit of the tariff line's rate (its quantity, or gross kg ...)",
    which is wrong for a part-value rate's count (``mfn_part_jewel``: per jewel over 7)."""
    out = _screened(
        tmp_path,
        [
            {
                "hts_code": "9105.19.30.00",
                "country_of_origin": "CH",
                "declared_value": "900.00",
                "quantity": "2",
                "part_values": "jewel=17; case=100",
            }
        ],
    )
    explained = explain_package(out, "P1")
    how = {c["component"]: c["how"] for c in explained["components"] if c["component"].startswith("mfn")}
    assert how["mfn_part_jewel"] == (
        "$0.02800000 per jewel (count from part_values, less 7 where the rate says over 7, times quantity)"
    )
    assert how["mfn_part_case"] == "base $100.00 x rate 0.03700000"
    assert how["mfn_specific"] == "2 each (quantity) x $0.43"
    jewel = next(line for line in render_text(explained).splitlines() if "mfn_part_jewel" in line)
    assert (
        "per jewel (count from part_values, less 7 where the rate says over 7, times quantity) = $" in jewel
    )
    assert "per unit" not in jewel


def test_a_specific_rate_shows_the_quantity_or_weight_its_unit_and_divisor(tmp_path: Path) -> None:
    """A specific rate read "$0.14400000 per unit of the tariff line's rate (its quantity, or gross kg for a rate
    per kg) = $0.01" for 5 combs at 14.4 cents/gross: what it was charged on, and the count divided, were not
    shown. It now shows the line's quantity or gross weight, the rate's unit and divisor, and the product before
    rounding."""
    day = {"arrival_date": "2026-08-17"}
    out = _screened(
        tmp_path,
        [
            # 9615.11.10: 14.4 cents/gross + 2%; 0407.11.00: 2.8 cents/doz.; 0601.10.15: 89.6 cents/1000.
            {
                **day,
                "package_id": "J3",
                "hts_code": "9615.11.10.00",
                "declared_value": "2.00",
                "quantity": "5",
            },
            {
                **day,
                "package_id": "P3",
                "hts_code": "0407.11.00.00",
                "declared_value": "20",
                "quantity": "24",
            },
            {
                **day,
                "package_id": "P4",
                "hts_code": "0601.10.15.00",
                "declared_value": "20",
                "quantity": "1500",
            },
            # 0402.29.50: $1.104/kg + 14.9%, on the gross weight; 6402.91.20: 90 cents/pr. + 37.5%.
            {**day, "package_id": "K1", "hts_code": "0402.29.50.00", "gross_weight_kg": "2.5"},
            {**day, "package_id": "B1", "hts_code": "6402.91.20.00", "quantity": "3"},
        ],
    )
    expected = {
        "J3": ("5 (quantity) / 144 per gross x $0.144", "= $0.005 -> $0.01"),
        "P3": ("24 (quantity) / 12 per dozen x $0.028", "= $0.056 -> $0.06"),
        "P4": ("1500 (quantity) / 1000 per thousand x $0.896", "= $1.344 -> $1.34"),
        "K1": ("2.5 kg (gross_weight_kg) x $1.104", "= $2.76"),
        "B1": ("3 pair (quantity) x $0.9", "= $2.70"),
    }
    for package_id, (how, result) in expected.items():
        explained = explain_package(out, package_id)
        (specific,) = [c for c in explained["components"] if c["component"] == "mfn_specific"]
        assert specific["how"] == how
        (printed,) = [line for line in render_text(explained).splitlines() if "mfn_specific" in line]
        assert printed.endswith(f"[mfn]  {how} {result}"), printed


def test_a_specific_rate_shows_the_quantity_at_the_engine_s_six_decimals(tmp_path: Path) -> None:
    """The engine charges a quantity or weight at 6 decimals: 2.2690215 kg of milk powder at $1.104/kg is
    2.269022 x 1.104 = $2.505000288 -> $2.51. explain showed `2.2690215 kg (gross_weight_kg) x $1.104 =
    $2.50499974… -> $2.51`, an equation whose rounding gives $2.50. It shows the quantity charged."""
    out = _screened(
        tmp_path,
        [{"arrival_date": "2025-11-13", "hts_code": "0402.29.50.00", "gross_weight_kg": "2.2690215"}],
    )
    explained = explain_package(out, "P1")
    (specific,) = [c for c in explained["components"] if c["component"] == "mfn_specific"]
    assert specific["amount_usd"] == "2.51"
    assert specific["how"] == "2.269022 kg (gross_weight_kg 2.2690215, to 6 decimals) x $1.104"
    assert specific["before_rounding"] == "$2.50500029…"
    (printed,) = [line for line in render_text(explained).splitlines() if "mfn_specific" in line]
    assert printed.endswith(
        "2.269022 kg (gross_weight_kg 2.2690215, to 6 decimals) x $1.104 = $2.50500029… -> $2.51"
    )


def test_a_specific_rate_s_unit_comes_only_from_the_run_s_own_pack(tmp_path: Path) -> None:
    """The unit is read from the rule pack whose content hash the run's summary names: from another pack (or
    none), the component says what its rate is per without guessing the unit."""
    combs = {
        "arrival_date": "2026-08-17",
        "hts_code": "9615.11.10.00",
        "declared_value": "2.00",
        "quantity": "5",
    }
    out = _screened(tmp_path, [combs])
    other = tmp_path / "other_pack"
    other.mkdir()
    (other / "pack.toml").write_text("[pack]\nid = 'other'\n")
    explained = explain_package(out, "P1", rules=other)
    (specific,) = [c for c in explained["components"] if c["component"] == "mfn_specific"]
    run_hash = json.loads((out / "summary.json").read_text())["rules"]["content_hash"]
    assert specific["how"] == (
        "$0.14400000 per unit of the tariff line's rate (its quantity, or gross kg for a rate per kg; the "
        f"unit is in the run's rule pack; {other} (--rules) is not the run's pack: its hash "
        f"{content_hash(other)[:15]}… is not the run's {run_hash[:15]}…)"
    )
    result = CliRunner().invoke(main, ["explain", "P1", "--run", str(out), "--rules", str(US_PACK)])
    assert result.exit_code == 0, result.output
    assert "5 (quantity) / 144 per gross x $0.144 = $0.005 -> $0.01" in result.output


def test_explain_refuses_a_rule_pack_folder_that_is_not_there(tmp_path: Path) -> None:
    """``--rules /nonexistent/pack`` was ignored silently and the hint said "not given: --rules": a folder given
    that is not there (or holds no pack.toml) is a usage error (exit 2), as other usage errors are. Not given,
    the default pack is read where it is at hand, and the hint says it was not given where it is not."""
    combs = {
        "arrival_date": "2026-08-17",
        "hts_code": "9615.11.10.00",
        "declared_value": "2.00",
        "quantity": "5",
    }
    out = _screened(tmp_path, [combs])
    (tmp_path / "empty").mkdir()
    for missing in (tmp_path / "missing", tmp_path / "empty"):
        with pytest.raises(screening.UsageError, match="--rules") as refused:
            explain_package(out, "P1", rules=missing)
        assert str(missing) in str(refused.value)
        done = CliRunner().invoke(main, ["explain", "P1", "--run", str(out), "--rules", str(missing)])
        assert done.exit_code == 2, done.output
        assert "is not a rule pack folder" in done.output
    done = CliRunner().invoke(main, ["explain", "P1", "--run", str(out)])
    assert done.exit_code == 0, done.output
    assert "5 (quantity) / 144 per gross x $0.144 = $0.005 -> $0.01" in done.output


def test_a_postal_item_in_parts_shows_each_part_s_duty_on_its_value_at_each_rate(tmp_path: Path) -> None:
    """The postal ad valorem duty is charged on the item's value, a package-level row per rate of its lines'
    origins: a package in two batches shows each part's rows in that part, both rates of part 1 in part 1
    (a second row of one component and regime was read as the start of the next part's)."""
    mail = {"mode": "postal", "arrival_date": "2025-09-10"}
    item = {**mail, "package_id": "M1", "consignee_name": "Mia"}
    other = {**mail, "package_id": "C1", "consignee_name": "Carl", "declared_value": "5"}
    out = _in_batches(
        tmp_path,
        [
            {**item, "line_no": "1", "country_of_origin": "CN", "declared_value": "0.05"},
            {**item, "line_no": "2", "country_of_origin": "MX", "declared_value": "0.10"},
            {**other, "line_no": "1"},
            {**other, "line_no": "2"},
            {**item, "line_no": "3", "country_of_origin": "MX", "declared_value": "0.10"},
        ],
    )
    explained = explain_package(out, "M1")
    postal = [
        (c["part"], c["rate"], c["amount_usd"])
        for c in explained["components"]
        if c["component"] == "postal_ad_valorem"
    ]
    assert postal == [(1, "0.25000000", "0.03"), (1, "0.30000000", "0.02"), (2, "0.25000000", "0.03")]
    text = render_text(explained)
    first = _section(text, "DUTIES AND FEES (part 1 of 2: lines 1, 2)")
    assert "      on the postal item's value: line 2 (MX at 25%)" in first
    assert "      on the postal item's value: line 1 (CN at 30%)" in first
    assert "      on the postal item's value: line 3 (MX at 25%)" in _section(
        text, "DUTIES AND FEES (part 2 of 2: line 3)"
    )


def test_a_suspended_chapter99_limit_reads_as_suspended(tmp_path: Path) -> None:
    """A $900 CN t-shirt on 2025-09-15 (informal-limit-2500-ch99-clause-suspended) printed "Chapter 99 articles
    up to $250.00" as a limit in force: the summary's rule details dropped ``chapter99_suspended``."""
    out = _screened(
        tmp_path, [{"arrival_date": "2025-09-15", "country_of_origin": "CN", "declared_value": "900.00"}]
    )
    explained = explain_package(out, "P1")
    assert explained["entry"]["rule_id"] == "informal-limit-2500-ch99-clause-suspended"
    assert explained["entry"]["details"]["chapter99_suspended"] is True
    entry = next(line for line in render_text(explained).splitlines() if "entry type:" in line)
    assert (
        "informal entry up to $2500.00; Chapter 99 articles up to $250.00: suspended (packages over it stay"
        " informal);" in entry
    )
    summary = json.loads((out / "summary.json").read_text())
    assert "chapter99_suspended" not in summary["decision_rule_details"].get("informal-limit-2500", {})


def test_a_formal_mpf_at_its_minimum_or_maximum_says_so_in_its_equation(tmp_path: Path) -> None:
    """``mpf_formal ... base $900.00 x rate 0.00346400 = $32.71`` was a false equation (the product is $3.12;
    the fee's minimum applied)."""
    cn = {"arrival_date": "2025-04-01", "country_of_origin": "CN"}
    out = _screened(
        tmp_path,
        [
            {**cn, "package_id": "LOW", "consignee_name": "Lo", "declared_value": "900.00"},
            {**cn, "package_id": "HIGH", "consignee_name": "Hi", "declared_value": "200000.00"},
            {**cn, "package_id": "MID", "consignee_name": "Mi", "declared_value": "20000.00"},
        ],
    )
    how = {
        package_id: next(
            c["how"] for c in explain_package(out, package_id)["components"] if c["component"] == "mpf_formal"
        )
        for package_id in ("LOW", "HIGH", "MID")
    }
    assert how == {
        "LOW": "minimum (base $900.00 x rate 0.00346400 = $3.12)",
        "HIGH": "maximum (base $200000.00 x rate 0.00346400 = $692.80)",
        "MID": "base $20000.00 x rate 0.00346400",
    }
    text = render_text(explain_package(out, "LOW"))
    assert "mpf_formal [mpf-formal-fy2025]  minimum (base $900.00 x rate 0.00346400 = $3.12) = $32.71" in text


def test_a_gift_that_loses_the_exemption_says_why(tmp_path: Path) -> None:
    """A declared gift that was charged was never explained: a $100.01 gift had no word "gift" in its
    explanation, and two $60 gifts to one person on one day (gifts worth $120, over the $100 limit) read like a
    $60 gift beside a $500 purchase (exempt). Each package with gift lines now says whether the gift exemption
    applied, and why not; a gift line packed with a purchase passes on its own."""
    gift = {"arrival_date": "2025-09-15", "gift": "true", "description": "birthday present"}
    out = _screened(
        tmp_path,
        [
            {**gift, "package_id": "GC1", "consignee_name": "Cara", "declared_value": "100.01"},
            {**gift, "package_id": "GA1", "consignee_name": "Twin", "declared_value": "60.00"},
            {**gift, "package_id": "GA2", "consignee_name": "Twin", "declared_value": "60.00"},
            {**gift, "package_id": "GD1", "consignee_name": "Mix", "declared_value": "60.00"},
            {
                **gift,
                "package_id": "GD2",
                "consignee_name": "Mix",
                "declared_value": "500.00",
                "gift": "false",
            },
            {**gift, "package_id": "GM1", "consignee_name": "Max", "declared_value": "40.00"},
            {
                **gift,
                "package_id": "GM1",
                "line_no": "2",
                "consignee_name": "Max",
                "declared_value": "30.00",
                "gift": "false",
            },
        ],
    )
    summary = json.loads((out / "summary.json").read_text())
    assert summary["decision_rule_details"]["gift-100"]["limit_usd"] == "100.00"
    over = explain_package(out, "GA1")
    assert over["decision"]["gift"] == {
        "rule_id": "gift-100",
        "applied": False,
        "consignee_day_gift_value_usd": "120.00",
        "why": "the consignee's gifts that day are worth $120.00, over the $100.00 limit",
    }
    assert (
        "  gift exemption gift-100 not applied: the consignee's gifts that day are worth $120.00, over the $100.00"
        " limit" in _section(render_text(over), "DECISION")
    )
    single = render_text(explain_package(out, "GC1"))
    assert (
        "gift exemption gift-100 not applied: the consignee's gifts that day are worth $100.01, over"
        in single
    )
    exempt = explain_package(out, "GD1")
    assert exempt["decision"]["gift"]["applied"] is True
    assert (
        "  gift exemption gift-100 applied: the consignee's gifts that day are worth $60.00, within the $100.00"
        " limit" in render_text(exempt)
    )
    # A gift line beside a purchase in its package stays duty-free; the package takes the purchase's reason.
    mixed = explain_package(out, "GM1")["decision"]["gift"]
    assert (mixed["applied"], mixed["consignee_day_gift_value_usd"]) == (True, "40.00")
    assert mixed["why"] == (
        "the consignee's gifts that day are worth $40.00, within the $100.00 limit: its gift lines pass free of"
        " duty, while the package takes the most severe reason among its other lines (dm-suspended-all), and its"
        " entry and fees with it"
    )
    assert explain_package(out, "GD2")["decision"]["gift"] is None  # no gift line
    done = CliRunner().invoke(main, ["explain", "GA2", "--run", str(out), "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["decision"]["gift"]["applied"] is False


def test_a_gift_entered_informal_says_it_is_no_de_minimis_release(tmp_path: Path) -> None:
    """An express gift of 2025-09-15 printed ``entry type: de-minimis (rule gift-100)`` and no fees, a Section 321
    release ACE no longer takes. It reads duty-free but not a de minimis release, entered informal, why, and that
    the fees charged are assumed; a gift by mail is still a de minimis release."""
    gift = {"arrival_date": "2025-09-15", "gift": "true", "declared_value": "60.00"}
    out = _screened(
        tmp_path,
        [
            {**gift, "package_id": "GX", "consignee_name": "Gail"},
            {**gift, "package_id": "GP", "consignee_name": "Pat", "mode": "postal"},
        ],
    )
    explained = explain_package(out, "GX")
    assert explained["entry"]["assumed"].startswith(
        "informal entry of a gift: gift-100 passes it free of duty, but no de minimis release does (eo14324-all is"
        " in force)"
    )
    decision = _section(render_text(explained), "DECISION")
    assert (
        decision[1] == "  de minimis: duty-free, not a de minimis release (entered informal)  (gift-exempt)"
    )
    entry = next(i for i, line in enumerate(decision) if line.startswith("  entry type: "))
    assert decision[entry].startswith(
        "  entry type: informal  (rule informal-limit-2500-ch99-clause-suspended;"
    )
    assert decision[entry + 1].startswith(
        "  entry type assumed: informal entry of a gift: gift-100 passes it free of duty"
    )
    assert "  duty $0.00 (exempt)   fees $3.93 (assessed-unconfirmed)   total due $3.93" in decision
    mail = explain_package(out, "GP")
    assert mail["entry"]["assumed"] is None
    assert _section(render_text(mail), "DECISION")[1] == "  de minimis: eligible  (gift-exempt)"


def test_a_consignee_day_total_of_a_run_in_batches_says_it_is_the_running_total_up_to_the_package(
    tmp_path: Path,
) -> None:
    """In a run in batches a package is judged on its consignee-day's running total up to itself, and
    CONSIGNEE-DAY printed that total as if it were the day's (`$124.59 on 2025-08-25`, while the day came to
    $5,312.89). It says it is the total up to this package, and what the day came to in the run's outputs."""
    split = _in_batches(
        tmp_path,
        [
            {"package_id": "P1", "declared_value": "300"},
            {"package_id": "P2", "declared_value": "350"},
            {"package_id": "P3", "declared_value": "200"},
        ],
    )
    explained = explain_package(split, "P2")
    day = explained["parts"][0]["consignee_day"]
    assert (day["running_total"], day["value_usd"], day["day_value_usd_in_outputs"]) == (
        True,
        "650.00",
        "850.00",
    )
    section = _section(render_text(explained), "CONSIGNEE-DAY")
    assert section[:2] == [
        "CONSIGNEE-DAY  $650.00 on 2025-03-10 up to this package (a run in batches judges each package on the"
        " running total as it comes): this package $350.00 and 1 other package row(s) $300.00",
        "  the day came to $850.00 by the last of its packages in this run's outputs",
    ]
    last = _section(render_text(explain_package(split, "P3")), "CONSIGNEE-DAY")
    assert last[0].startswith("CONSIGNEE-DAY  $850.00 on 2025-03-10 up to this package (")
    assert not last[1].startswith("  the day came to")  # the last package's total is the day's so far
    # A whole-day run judges every package on the day's total: said as before.
    whole = explain_package(_screened(tmp_path, [{"package_id": "P1"}, {"package_id": "P2"}]), "P1")
    assert whole["parts"][0]["consignee_day"]["running_total"] is False
    assert _section(render_text(whole), "CONSIGNEE-DAY")[0] == (
        "CONSIGNEE-DAY  $200.00 on 2025-03-10: this package $100.00 and 1 other package row(s) $100.00"
    )


def test_the_first_package_of_a_consignee_day_in_a_run_in_batches_says_what_the_day_came_to(
    tmp_path: Path,
) -> None:
    """The first package of a consignee-day in a run in batches has a running total of its own value: explain
    showed no CONSIGNEE-DAY section and the DECISION line's `consignee-day value $300.00` read as the day's, which
    came to $850.00 (SYN0000000302: $788.54 of a day of $7,521.02). The section is built whenever other packages of
    the key and day are in the outputs, and DECISION says the value is the running total up to the package."""
    split = _in_batches(
        tmp_path,
        [
            {"package_id": "P1", "declared_value": "300"},
            {"package_id": "P2", "declared_value": "350"},
            {"package_id": "P3", "declared_value": "200"},
        ],
    )
    explained = explain_package(split, "P1")
    day = explained["parts"][0]["consignee_day"]
    assert day is not None
    assert (day["value_usd"], day["own_value_usd"], day["others_count"], day["day_value_usd_in_outputs"]) == (
        "300.00",
        "300.00",
        0,
        "850.00",
    )
    text = render_text(explained)
    assert _section(text, "CONSIGNEE-DAY")[:2] == [
        "CONSIGNEE-DAY  $300.00 on 2025-03-10 up to this package (a run in batches judges each package on the"
        " running total as it comes): this package $300.00 and 0 other package row(s) $0.00",
        "  the day came to $850.00 by the last of its packages in this run's outputs",
    ]
    assert (
        "  value $300.00   consignee-day value $300.00 (the running total up to this package)"
        in text.splitlines()
    )
    # A package alone on its day has nothing more to say; a whole-day run reads as before.
    (tmp_path / "alone").mkdir()
    alone = _in_batches(
        tmp_path / "alone", [{"package_id": "Q1"}, {"package_id": "Q2", "consignee_name": "Other"}]
    )
    assert explain_package(alone, "Q1")["parts"][0]["consignee_day"] is None
    whole = render_text(explain_package(_screened(tmp_path, [{"package_id": "P1"}], name="whole"), "P1"))
    assert "CONSIGNEE-DAY" not in whole
    assert "  value $100.00   consignee-day value $100.00" in whole.splitlines()


def test_a_package_before_the_regulations_took_800_cites_the_statute_alone(tmp_path: Path) -> None:
    """TFTEA sec. 901 set $800 from 2016-03-10; 19 CFR 10.151 read $200 until CBP Dec. 16-13 (81 FR 58831) of
    2016-08-26 (DOMAIN.md 1). A package of 2016-05-01 read `19 CFR 10.151 (CBP Dec. 16-13, 81 FR 58831)` as its
    source, in `screen explain` and the summary's `decision_rules`: it now cites the statute alone up to
    2016-08-25, the regulation beside it from 2016-08-26, each package decided and charged as before."""
    days = {"MAY": "2016-05-01", "AUG25": "2016-08-25", "AUG26": "2016-08-26"}
    out = _screened(
        tmp_path,
        [
            {"package_id": pid, "arrival_date": day, "declared_value": "500.00", "consignee_name": pid}
            for pid, day in days.items()
        ],
    )
    explained = {pid: explain_package(out, pid) for pid in days}
    for pid, shown in explained.items():
        package = shown["package"]
        assert (package["de_minimis_reason"], package["entry_type"], package["total_due_usd"]) == (
            "dm-eligible",
            "de-minimis",
            "0.00",
        ), pid
        assert shown["decision"]["details"]["amount_usd"] == "800.00"
        assert "19 U.S.C. 1321(a)(2)(C), as amended by TFTEA sec. 901" in shown["decision"]["citation"]
    for pid in ("MAY", "AUG25"):
        citation = explained[pid]["decision"]["citation"]
        assert "10.151" not in citation, citation
        assert "58831" not in citation, citation
        assert explained[pid]["decision"]["rule_id"] == explained["MAY"]["decision"]["rule_id"]
    assert "19 CFR 10.151 (CBP Dec. 16-13, 81 FR 58831)" in explained["AUG26"]["decision"]["citation"]
    assert explained["AUG26"]["decision"]["rule_id"] == "threshold-800"
    assert explained["MAY"]["decision"]["rule_id"] != "threshold-800"
    rules = json.loads((out / "summary.json").read_text())["decision_rules"]
    assert "10.151" not in rules[explained["MAY"]["decision"]["rule_id"]]
    assert "CBP Dec. 16-13" in rules["threshold-800"]
    text = render_text(explained["MAY"])
    source = next(line for line in text.splitlines() if line.startswith("  source: "))
    assert "TFTEA" in source
    assert "10.151" not in source


def test_the_2026_order_s_citation_marks_the_ifrs_page_numbers_as_from_one_source(tmp_path: Path) -> None:
    """DOMAIN.md 0.13, a least-sure fact: "The 91 FR page numbers come from one source [S41]". The continued
    suspension cited `91 FR 37789 and 91 FR 37801` flatly, with no mark; the order itself is confirmed (CSMS
    67845486), so the decision stays confirmed and the page numbers say they are UNCONFIRMED."""
    out = _screened(tmp_path, [{"arrival_date": "2026-07-01"}])
    shown = explain_package(out, "P1")
    assert shown["decision"]["rule_id"] == "eo-2026-02-20-all"
    citation = shown["decision"]["citation"]
    assert "(confidence:" not in citation  # the order is confirmed
    assert "91 FR 37789 and 91 FR 37801 (page numbers from one source, UNCONFIRMED;" in citation
    assert "come from one source only" in shown["decision"]["details"]["note"]


def test_a_package_arriving_after_the_pack_s_facts_says_it_is_decided_by_the_law_as_known_then(
    tmp_path: Path, us_pack: screening.RulePack
) -> None:
    """The run's note and `summary.json` say arrivals after `facts_as_of` are decided by the law as the pack knew
    it; `screen explain` of such a package said nothing of it. It now does, in the same words; a package of the
    day itself is not marked."""
    as_of = us_pack.meta.facts_as_of
    assert as_of is not None
    later = as_of + dt.timedelta(days=12)
    out = _screened(
        tmp_path,
        [
            {"package_id": "NEW", "arrival_date": str(later)},
            {"package_id": "OLD", "arrival_date": str(as_of), "consignee_name": "Bob Keller"},
        ],
    )
    shown = explain_package(out, "NEW")
    assert shown["decision"]["after_facts"] == {"facts_as_of": str(as_of), "days_after": 12}
    decision = " ".join(_section(render_text(shown), "DECISION"))
    assert (
        f"arrived 12 days after the pack's facts (as of {as_of}): decided by the law as the pack knew it, "
        "without any later change" in " ".join(decision.split())
    )
    old = explain_package(out, "OLD")
    assert old["decision"]["after_facts"] is None
    assert "pack's facts" not in render_text(old)


def test_an_all_in_top_up_at_or_above_its_rate_shows_the_heading_of_that_rate(tmp_path: Path) -> None:
    """An EU T-shirt (MFN 16.5%) on 2025-09-01 was explained under 9903.02.20, the heading for a column 1 rate
    under 15%: 9903.02.19 applies (nothing added)."""
    out = _screened(tmp_path, [{"arrival_date": "2025-09-01"}])
    line = next(
        line for line in render_text(explain_package(out, "P1")).splitlines() if "ieepa_reciprocal" in line
    )
    assert line.startswith("  line 1: ieepa_reciprocal 9903.02.19 [ieepa-reciprocal-eu-all-in]  ")
    assert line.endswith("$0.00")
