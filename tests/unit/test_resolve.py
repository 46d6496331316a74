"""Tests of resolving the bundled pack for given arrival dates: what is in force on each day."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from screening.rulepack import resolved_cache
from screening.rulepack.loader import RulePack, load_rules
from screening.rulepack.resolve import ResolvedRules, known_countries, per_item_usd, resolve

PACK = Path(__file__).resolve().parents[2] / "rules" / "us"
D = dt.date
MODES = {"express", "postal", "cargo"}


@pytest.fixture(scope="module")
def pack() -> RulePack:
    return load_rules(PACK)


def on(pack: RulePack, *days: dt.date) -> ResolvedRules:
    return resolve(pack, days)


def suspended(resolved: ResolvedRules, day: dt.date) -> pl.DataFrame:
    return resolved.suspensions.filter(pl.col("arrival_date") == day)


def fx_row(resolved: ResolvedRules, day: dt.date, currency: str) -> dict[str, object]:
    rows = resolved.fx.filter((pl.col("arrival_date") == day) & (pl.col("currency") == currency))
    assert rows.height == 1, rows
    return rows.row(0, named=True)


# --- Thresholds and entry limits -------------------------------------------------------------------------


def test_threshold_on_2025_03_10(pack: RulePack) -> None:
    days = on(pack, D(2025, 3, 10)).days
    assert days.height == 1
    row = days.row(0, named=True)
    assert row["threshold_cents"] == 80000
    assert row["threshold_rule_id"] == "threshold-800"
    assert row["informal_max_cents"] == 250000
    assert row["entry_limit_rule_id"] == "informal-limit-2500"


def test_days_are_sorted_and_deduplicated(pack: RulePack) -> None:
    days = resolve(pack, [D(2025, 5, 2), D(2025, 3, 10), D(2025, 5, 2)]).days
    assert days["arrival_date"].to_list() == [D(2025, 3, 10), D(2025, 5, 2)]


def test_no_threshold_before_the_pack_covers(pack: RulePack) -> None:
    row = on(pack, D(2016, 3, 9)).days.row(0, named=True)
    assert row["threshold_cents"] is None
    assert row["threshold_rule_id"] is None


# --- Suspensions -----------------------------------------------------------------------------------------


def test_cn_and_hk_suspended_on_2025_05_02(pack: RulePack) -> None:
    table = suspended(on(pack, D(2025, 5, 2)), D(2025, 5, 2))
    assert set(table["country_of_origin"]) == {"CN", "HK"}
    assert "DE" not in set(table["country_of_origin"])
    assert set(table["suspension_rule_id"]) == {"eo14256-cn-hk"}
    assert set(table["suspension_reason"]) == {"dm-suspended-origin"}
    # Every mode, for each of the two origins.
    for origin in ("CN", "HK"):
        assert set(table.filter(pl.col("country_of_origin") == origin)["mode"]) == MODES


def test_every_known_country_suspended_on_2025_08_29(pack: RulePack) -> None:
    table = suspended(on(pack, D(2025, 8, 29)), D(2025, 8, 29))
    assert set(table["suspension_reason"]) == {"dm-suspended-all"}
    assert set(table["suspension_rule_id"]) == {"eo14324-all"}
    countries = set(known_countries())
    assert {"DE", "CN", "CA", "GB", "US"} <= countries
    for mode in MODES:
        assert set(table.filter(pl.col("mode") == mode)["country_of_origin"]) == countries
    # One row per country and mode: the eo14256 order ended the same day (half-open periods).
    assert table.height == len(countries) * len(MODES)


def test_day_before_all_countries_only_cn_hk(pack: RulePack) -> None:
    table = suspended(on(pack, D(2025, 8, 28)), D(2025, 8, 28))
    assert set(table["country_of_origin"]) == {"CN", "HK"}
    assert set(table["suspension_rule_id"]) == {"eo14256-cn-hk"}


def test_cn_suspended_but_paused_ca_order_not_applied_on_2025_02_04(pack: RulePack) -> None:
    table = suspended(on(pack, D(2025, 2, 4)), D(2025, 2, 4))
    origins = set(table["country_of_origin"])
    assert "CN" in origins
    assert "CA" not in origins
    assert "MX" not in origins
    assert set(table["suspension_rule_id"]) == {"eo14195-cn-hk"}


def test_first_cn_suspension_lasted_one_day(pack: RulePack) -> None:
    assert suspended(on(pack, D(2025, 2, 5)), D(2025, 2, 5)).height == 0


def test_from_2027_07_01_every_shipment_stays_suspended_under_an_entry_naming_the_repeal(
    pack: RulePack,
) -> None:
    """The Act repeals de minimis for commercial shipments only (DOMAIN.md 1, 2); the 1321(b) suspension has no end
    date (DOMAIN.md 1: "indefinite ... independent of EOs"). No manifest field says which shipments are commercial,
    so every package is decided under the suspension, whose entry cites the Act too: not `dm-repealed`, which
    would misstate the law of a non-commercial shipment."""
    table = suspended(on(pack, D(2027, 7, 1)), D(2027, 7, 1))
    assert set(table["suspension_reason"]) == {"dm-suspended-all"}
    assert set(table["suspension_rule_id"]) == {"suspension-and-repeal-2027"}
    assert set(table["country_of_origin"]) == set(known_countries())
    rules = {rule.id: rule for rule in pack.de_minimis.suspensions}
    assert "commercial shipments" in rules["suspension-and-repeal-2027"].citation.instrument
    assert "S49" in rules["suspension-and-repeal-2027"].citation.sources
    order = rules["eo-2026-02-20-all"]
    assert "statutory repeal" not in (order.note or "")  # DOMAIN.md gives the order no end date
    assert "no end date" in (order.note or "")


def test_nothing_suspended_on_2025_03_10(pack: RulePack) -> None:
    assert suspended(on(pack, D(2025, 3, 10)), D(2025, 3, 10)).height == 0


# --- Exchange rates --------------------------------------------------------------------------------------


def test_eur_rate_on_2025_03_10(pack: RulePack) -> None:
    row = fx_row(on(pack, D(2025, 3, 10)), D(2025, 3, 10), "EUR")
    assert row["fx_usd_per_unit"] == Decimal("1.0845")
    assert row["fx_rate_date"] == D(2025, 3, 10)


def test_saturday_uses_fridays_rate(pack: RulePack) -> None:
    row = fx_row(on(pack, D(2025, 3, 8)), D(2025, 3, 8), "EUR")
    assert row["fx_rate_date"] == D(2025, 3, 7)
    assert row["fx_usd_per_unit"] == Decimal("1.0857")


def test_usd_is_one_on_its_own_date(pack: RulePack) -> None:
    resolved = on(pack, D(2025, 3, 8), D(2026, 11, 20))
    for day in (D(2025, 3, 8), D(2026, 11, 20)):
        row = fx_row(resolved, day, "USD")
        assert row["fx_usd_per_unit"] == Decimal(1)
        assert row["fx_rate_date"] == day


def test_fx_table_ends_on_2026_10_30(pack: RulePack) -> None:
    assert pack.fx_rates["date"].max() == D(2026, 10, 30)
    assert pack.fx.rates.max_staleness_days == 7


def test_no_fx_more_than_seven_days_after_the_table_ends(pack: RulePack) -> None:
    resolved = on(pack, D(2026, 11, 6), D(2026, 11, 7), D(2026, 11, 20))
    # Exactly seven days old: still used.
    assert fx_row(resolved, D(2026, 11, 6), "EUR")["fx_rate_date"] == D(2026, 10, 30)
    for day in (D(2026, 11, 7), D(2026, 11, 20)):
        rows = resolved.fx.filter(pl.col("arrival_date") == day)
        assert rows["currency"].to_list() == ["USD"], rows


# --- Fees ------------------------------------------------------------------------------------------------


def test_fees_on_2025_10_01_are_fy2026(pack: RulePack) -> None:
    fees = on(pack, D(2025, 10, 1)).fees
    assert (
        set(fees["fee_rule_id"])
        == {
            "mpf-informal-fy2026",
            "mpf-formal-fy2026",
            "express-consignment-fy2026",
            "dutiable-mail-fy2026",
            "dutiable-mail-postal-regime",  # $0.00 on mail under a postal regime (unconfirmed), FY2025 to 2026-07-24
            "mpf-informal-mail-fy2026",  # mail barred from a postal regime in force: an ACE informal entry
            "hmf-cargo",  # may be owed on vessel cargo: no amount (FY2025 to the end of FY2027)
        }
    )
    hmf = fees.filter(pl.col("fee_rule_id") == "hmf-cargo")
    assert hmf.select("mode", "entry_type", "kind", "amount_cents", "may_not_be_owed").sort(
        "entry_type"
    ).rows() == [
        ("cargo", "formal", "unknown", None, True),
        ("cargo", "informal", "unknown", None, True),
    ]
    assert "0.125%" in hmf["fee_note"][0]
    mpf = fees.filter(pl.col("component") == "mpf_informal")
    assert set(mpf["amount_cents"]) == {269}
    assert set(mpf["mode"]) == {"express", "cargo", "postal"}
    assert dict(mpf.select("mode", "mail").unique().iter_rows()) == {
        "express": "all",
        "cargo": "all",
        "postal": "barred-from-postal-regime",
    }
    mail = fees.filter(pl.col("fee_rule_id") == "dutiable-mail-fy2026")
    assert mail["mail"].to_list() == ["no-postal-regime"]
    formal = fees.filter(pl.col("component") == "mpf_formal").row(0, named=True)
    assert formal["rate"] == Decimal("0.003464")
    assert (formal["min_cents"], formal["max_cents"]) == (3358, 65150)


def test_fees_on_2025_09_30_are_fy2025(pack: RulePack) -> None:
    mpf = on(pack, D(2025, 9, 30)).fees.filter(pl.col("component") == "mpf_informal")
    assert set(mpf["amount_cents"]) == {262}
    assert set(mpf["fee_rule_id"]) == {"mpf-informal-fy2025", "mpf-informal-mail-fy2025"}


def test_fy2027_fees_carry_fy2026_amounts_and_are_marked_unconfirmed(pack: RulePack) -> None:
    fees = on(pack, D(2026, 10, 1)).fees
    assert set(fees["fee_rule_id"]) == {
        "mpf-informal-fy2027",
        "mpf-formal-fy2027",
        "express-consignment-fy2027",
        "dutiable-mail-fy2027",
        "mpf-informal-mail-fy2027",
        "postal-informal-entry-fees",  # of unknown amount (from 2026-07-24, to the end of FY2027)
        "hmf-cargo",
    }
    assert fees.filter(pl.col("fee_rule_id") == "postal-informal-entry-fees")["amount_cents"].to_list() == [
        None
    ]
    assert set(fees.filter(pl.col("component") == "mpf_informal")["amount_cents"]) == {269}
    fy2027 = [f for f in pack.fees.fees if f.id.endswith("fy2027")]
    assert fy2027
    assert {f.confidence for f in fy2027} == {"unconfirmed"}


def test_no_fees_after_fy2027(pack: RulePack) -> None:
    assert on(pack, D(2027, 10, 1)).fees.height == 0


# --- Postal regimes --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rate", "usd"),
    [("0.1599", "80.00"), ("0.16", "160.00"), ("0.25", "160.00"), ("0.2501", "200.00")],
)
def test_the_postal_amount_per_item_takes_the_band_of_the_origin_s_rate(
    pack: RulePack, rate: str, usd: str
) -> None:
    """DOMAIN.md 1a: "$80 if rate <16%; $160 if 16–25%; $200 if >25%" (16 % and 25 % both in the middle band)."""
    (regime,) = (regime for regime in pack.tariff.postal if regime.id == "postal-all-ieepa-rate")
    assert per_item_usd(regime, Decimal(rate)) == Decimal(usd)


def test_the_tariff_is_held_once_per_period_not_once_per_date(pack: RulePack) -> None:
    """A backfill over a year of dates held a copy of the 11,414-line table per date (6 GiB at 1,000 dates);
    dates between two revisions now share one, and each date still sees exactly the lines in force on it."""
    year = [dt.date(2025, 1, 1) + dt.timedelta(days=n) for n in range(0, 730, 3)]
    table = resolve(pack, year).tariff
    periods = table.lines.get_column("tariff_period").n_unique()
    assert periods < 10
    assert table.days.height == len(year)
    single = {day: resolve(pack, [day]).tariff.lines.height for day in (year[0], year[-1])}
    assert table.lines.height <= periods * max(single.values())
    by_day = table.on_days().collect()
    revision = dt.date(2026, 1, 1)  # the 2026 schedule
    around = (max(d for d in year if d < revision), min(d for d in year if d >= revision))
    for day in (year[0], *around, year[-1]):
        in_force = pack.mfn.filter(
            (pl.col("effective_from") <= day)
            & (pl.col("effective_to").is_null() | (pl.col("effective_to") > day))
        )
        seen = by_day.filter(pl.col("arrival_date") == day)
        assert sorted(seen["hts"].to_list()) == sorted(in_force["hts"].to_list()), day


def test_a_resolved_cache_used_by_two_threads_keeps_each_day_s_own_tables(
    pack: RulePack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A thread resolving 1 May while another asked for 2 May: the cache kept 2 May as its dates but 1 May's
    tables under them (the first thread's result stored last), so every later call for 2 May got 1 May's
    rules. Calls now take turns: the tables kept are those of the dates kept."""
    first_resolving, second_done = threading.Event(), threading.Event()

    def resolve_slowly_for_the_first_day(_pack: RulePack, days: list[dt.date]) -> Any:
        if days == [D(2025, 5, 1)]:
            first_resolving.set()
            # Forces the interleaving: the other thread's call ends before this one keeps its tables.
            # Taking turns, the other call cannot end meanwhile: this waits out the timeout.
            second_done.wait(timeout=1)
        return ("tables of", tuple(days))

    monkeypatch.setattr(resolved_cache, "resolve", resolve_slowly_for_the_first_day)
    cache = resolved_cache.ResolvedCache(pack)
    got: dict[dt.date, object] = {}
    first = threading.Thread(target=lambda: got.setdefault(D(2025, 5, 1), cache.rules([D(2025, 5, 1)])))
    second = threading.Thread(target=lambda: got.setdefault(D(2025, 5, 2), cache.rules([D(2025, 5, 2)])))
    first.start()
    assert first_resolving.wait(timeout=60)
    second.start()
    second.join()
    second_done.set()
    first.join()
    assert got == {
        D(2025, 5, 1): ("tables of", (D(2025, 5, 1),)),
        D(2025, 5, 2): ("tables of", (D(2025, 5, 2),)),
    }
    assert cache.rules([D(2025, 5, 2)]) == ("tables of", (D(2025, 5, 2),))
