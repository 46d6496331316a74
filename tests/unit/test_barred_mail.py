"""Mail and the postal duty method: goods barred from it, goods its rate's measure exempts, items whose right to it
is open (one test each)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

import screening
from screening.explain import explain_package
from screening.explain_text import render_text
from screening.stages.assess import PostalMethod

Manifest = Callable[..., pl.DataFrame]


def _mail(
    package_id: str, day: str, origin: str, hts: str, value: str = "40.00", **more: str
) -> dict[str, str]:
    return {
        "package_id": package_id,
        "consignee_name": f"Person {package_id}",
        "mode": "postal",
        "arrival_date": day,
        "country_of_origin": origin,
        "hts_code": hts,
        "declared_value": value,
        "gross_weight_kg": "1.0",
        **more,
    }


def _fees(result: screening.Result) -> dict[str, set[tuple[str, str, Decimal | None]]]:
    rows = result.components.filter(
        pl.col("line_no").is_null(), ~pl.col("component").str.starts_with("postal_")
    )
    got: dict[str, set[tuple[str, str, Decimal | None]]] = {}
    for row in rows.iter_rows(named=True):
        got.setdefault(row["package_id"], set()).add((row["component"], row["measure_id"], row["amount_usd"]))
    return got


def test_adcvd_and_quota_mail_barred_from_a_postal_regime_in_force_pays_the_informal_mpf(
    us_pack: screening.RulePack, manifest: Manifest
) -> None:
    """AD/CVD and quota goods cannot use the postal method: they take an ACE entry (DOMAIN.md 1a), whose fee is the
    informal MPF (311a), not the dutiable mail fee of an item CBP enters itself (496, DOMAIN.md 4). GB beef under
    quota by mail on 2025-09-01 was charged $7.20 of dutiable mail; CN honey (AD/CVD) on 2026-08-01 $7.39. Mail
    with no postal regime in force (GB before 2025-08-29, CN before 2025-05-02) keeps the dutiable mail fee; over
    the informal limit, the formal MPF alone. Each fiscal year's amount from its first day."""
    beef, honey = "0201.10.50", "0409.00.00"
    lines = manifest(
        _mail("Q0901", "2025-09-01", "GB", beef),
        _mail("Q0930", "2025-09-30", "GB", beef),
        _mail("Q1001", "2025-10-01", "GB", beef),
        _mail("Q260930", "2026-09-30", "GB", beef),
        _mail("Q261001", "2026-10-01", "GB", beef),
        _mail("A0801", "2026-08-01", "CN", honey),
        _mail("NOREGIME", "2025-06-02", "GB", beef),
        _mail("CNBEFORE", "2025-04-15", "CN", honey),
        _mail("FORMAL", "2025-09-01", "GB", beef, value="3000.00"),
    )
    result = screening.screen(lines, rules=us_pack)
    assert _fees(result) == {
        "Q0901": {("mpf_informal", "mpf-informal-mail-fy2025", Decimal("2.62"))},
        "Q0930": {("mpf_informal", "mpf-informal-mail-fy2025", Decimal("2.62"))},
        "Q1001": {("mpf_informal", "mpf-informal-mail-fy2026", Decimal("2.69"))},
        "Q260930": {("mpf_informal", "mpf-informal-mail-fy2026", Decimal("2.69"))},
        "Q261001": {("mpf_informal", "mpf-informal-mail-fy2027", Decimal("2.69"))},
        "A0801": {("mpf_informal", "mpf-informal-mail-fy2026", Decimal("2.69"))},
        "NOREGIME": {("dutiable_mail", "dutiable-mail-fy2025", Decimal("7.20"))},
        "CNBEFORE": {("dutiable_mail", "dutiable-mail-fy2025", Decimal("7.20"))},
        "FORMAL": {("mpf_formal", "mpf-formal-fy2025", Decimal("32.71"))},
    }
    packages = {r["package_id"]: r for r in result.packages.iter_rows(named=True)}
    assert (packages["Q0901"]["fees_usd"], packages["Q0901"]["total_due_usd"]) == (
        Decimal("2.62"),
        Decimal("17.18"),
    )
    # The reading is derived (DOMAIN.md 1a with 4): the fee row says so, and the package reads unconfirmed.
    mpf = result.components.filter(pl.col("measure_id") == "mpf-informal-mail-fy2025")
    assert set(mpf["confidence"]) == {"unconfirmed"}
    assert packages["Q0901"]["fee_status"] == "assessed-unconfirmed"


def test_mail_barred_from_the_postal_method_names_the_class_that_barred_it(
    us_pack: screening.RulePack, manifest: Manifest, tmp_path: Path
) -> None:
    """Nothing said why barred mail lost the postal rate: its entry rule was the informal-entry limit and no
    component or explain line named the AD/CVD or quota class. The entry rule is now the barring class; the fee
    rows say which line it bars and from which regime, and ``screen explain`` prints it. Formal mail keeps the
    limit as its entry rule (it would be formal under the regime too) and still says it was barred."""
    lines = manifest(
        _mail("Q1", "2025-09-01", "GB", "0201.10.50"),
        {**_mail("A1", "2025-09-01", "CN", "9503.00.00", value="60.00"), "line_no": "1"},
        {**_mail("A1", "2025-09-01", "CN", "0409.00.00"), "line_no": "2"},
        _mail("BIG", "2025-09-01", "GB", "0201.10.50", value="3000.00"),
        _mail("TOY", "2025-09-01", "GB", "9503.00.00"),
    )
    result = screening.screen(lines, rules=us_pack)
    rule = dict(result.packages.select("package_id", "entry_rule_id").iter_rows())
    assert rule["Q1"] == "quota-trq"
    assert rule["A1"] == "adcvd-cn-honey"
    assert rule["BIG"].startswith("informal-limit-2500")
    assert rule["TOY"] == "postal-all-ieepa-rate"
    fees = result.components.filter(pl.col("line_no").is_null())
    note = dict(fees.select("package_id", "assumption").iter_rows())
    assert note["A1"] == (
        "barred from the postal method: line 2 (0409.00.00) is in never-eligible class adcvd-cn-honey, and "
        "AD/CVD and quota goods cannot use postal regime postal-all-ieepa-rate (DOMAIN.md 1a): the item is "
        "entered through ACE, every duty charged"
    )
    assert "line 1 (0201.10.50) is in never-eligible class quota-trq" in note["BIG"]
    assert note["TOY"] is None
    result.write(tmp_path / "out")
    text = render_text(explain_package(tmp_path / "out", "Q1"))
    assert "entry type: informal  (rule quota-trq" in text
    assert "postal method barred: line 1 (0201.10.50) is in never-eligible class quota-trq" in text


@pytest.mark.parametrize(
    ("hts", "more", "why"),
    [
        ("8471.30.01", {}, "line 1: in the exclusion list of s122-surcharge"),
        (
            "7326.90.86",
            {"metal_content_share": "1.0"},
            "line 1: not with stacking group s232_steel (s232-steel-derivatives-ch73-50 is on the line)",
        ),
    ],
)
def test_mail_whose_goods_section_122_exempts_says_the_postal_rate_is_charged_on_them(
    us_pack: screening.RulePack, manifest: Manifest, hts: str, more: dict[str, str], why: str
) -> None:
    """The 10% postal duty of 2026-02-24 to 07-23 takes the Section 122 rate (DOMAIN.md 1a), and Section 122
    exempts the annex goods and Section 232 goods (3f). A laptop (annex) and a steel article (232) by mail paid
    the 10% without a word, while a USMCA claim got a note. The amount stays (DOMAIN.md 1a prints 10% for all
    mail); the component now says the pack does not settle it. Goods Section 122 charges get no note."""
    lines = manifest(
        _mail("EXEMPT", "2026-03-01", "DE", hts, value="500.00", **more),
        _mail("SHIRT", "2026-03-01", "DE", "6109.10.00.12", value="500.00"),
    )
    result = screening.screen(lines, rules=us_pack)
    postal = result.components.filter(pl.col("component") == "postal_ad_valorem").sort("package_id")
    assert postal.select("package_id", "amount_usd").rows() == [
        ("EXEMPT", Decimal("50.00")),
        ("SHIRT", Decimal("50.00")),
    ]
    exempt, shirt = postal["assumption"].to_list()
    assert exempt.startswith("goods exempt from the measure whose rate this postal duty takes")
    assert why in exempt
    assert "UNCONFIRMED" in exempt
    assert shirt is None


@pytest.mark.parametrize(
    ("postal_method", "component"), [("ad-valorem", "postal_ad_valorem"), ("specific", "postal_specific")]
)
def test_an_item_whose_right_to_the_postal_method_is_open_has_no_known_postal_amount(
    us_pack: screening.RulePack, manifest: Manifest, postal_method: PostalMethod, component: str
) -> None:
    """CN nails declared 7317.00 (some of its lines under an AD/CVD order) leave open whether the whole item may
    use the postal method; the toy beside them was still charged $30.00 (or $200 per item) as a known postal
    amount, summed in the summary's by_component. The item's postal row now has no amount and says why."""
    lines = manifest(
        {**_mail("N1", "2025-09-01", "CN", "9503.00.00", value="100.00"), "line_no": "1"},
        {**_mail("N1", "2025-09-01", "CN", "7317.00", value="20.00"), "line_no": "2"},
        _mail("T1", "2025-09-01", "CN", "9503.00.00", value="100.00"),
    )
    result = screening.screen(lines, rules=us_pack, postal_method=postal_method)
    postal = result.components.filter(pl.col("component") == component, pl.col("line_no").is_null())
    got = {r["package_id"]: (r["amount_usd"], r["assumption"]) for r in postal.iter_rows(named=True)}
    assert got["N1"][0] is None
    assert "line 2" in got["N1"][1]
    assert "postal method" in got["N1"][1]
    assert got["T1"][0] is not None
    (tally,) = [
        row
        for row in result.summary["money"]["by_component"]
        if (row["component"], row["measure_id"]) == (component, "postal-all-ieepa-rate")
    ]
    known = "30.00" if postal_method == "ad-valorem" else "200.00"
    assert (tally["amount_usd"], tally["rows"]) == (known, 1)
    assert tally["unknown_amounts"] == (2 if postal_method == "ad-valorem" else 1)
