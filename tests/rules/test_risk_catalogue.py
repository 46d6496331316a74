"""The U.S. pack's risk catalogue: each rule fires on the pattern it names and stays quiet otherwise.

Lines are synthetic; 2025-03-10 is a date on which the $800 exemption was in force for German goods.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import screening
from screening.errors import UsageError

from ..conftest import US_PACK

Screen = Callable[..., screening.Result]


def flags(result: screening.Result, package_id: str = "P1") -> set[str]:
    row = result.packages.filter(pl.col("package_id") == package_id)
    assert row.height == 1, f"{package_id} not screened: {result.rejects.select('code', 'message').rows()}"
    return set(row["risk_flags"][0])


def test_the_catalogue_has_at_least_14_rules(us_pack: screening.RulePack) -> None:
    assert len(us_pack.risk.rules) >= 14
    assert all(r.citation.instrument and r.rationale for r in us_pack.risk.rules)


def test_a_rule_resting_on_a_proposal_never_adopted_is_unconfirmed(us_pack: screening.RulePack) -> None:
    """README: such rules are `unconfirmed`. placeholder-party cited the NPRM ('not adopted') and defaulted to
    confirmed."""
    proposed = [r for r in us_pack.risk.rules if "not adopted" in r.citation.render()]
    assert {r.id for r in proposed} >= {"vague-description", "placeholder-party"}
    assert {r.id: r.confidence for r in proposed} == dict.fromkeys((r.id for r in proposed), "unconfirmed")


def test_a_plain_line_raises_no_flag(screen_lines: Screen) -> None:
    result = screen_lines({"gross_weight_kg": "0.3"})
    assert flags(result) == set()
    assert result.packages["disposition"][0] in ("release", "sample")


# --- value just under the threshold -------------------------------------------------------------


def test_value_just_under_threshold_fires(screen_lines: Screen) -> None:
    assert "value-just-under-threshold" in flags(screen_lines({"declared_value": "790.00"}))


def test_value_just_under_threshold_quiet_below_band_and_when_suspended(screen_lines: Screen) -> None:
    assert "value-just-under-threshold" not in flags(screen_lines({"declared_value": "700.00"}))
    suspended = screen_lines({"declared_value": "790.00", "arrival_date": "2025-09-02"})
    assert "value-just-under-threshold" not in flags(suspended)


# --- structuring ---------------------------------------------------------------------------------


def test_structuring_consignee_day_fires_on_each_package(screen_lines: Screen) -> None:
    result = screen_lines(
        {"package_id": "P1", "declared_value": "500.00"},
        {"package_id": "P2", "declared_value": "400.00", "shipper_name": "Rheinblick Handel GmbH"},
    )
    for package in ("P1", "P2"):
        assert "structuring-consignee-day" in flags(result, package)
        assert "structuring-shipper-split" not in flags(result, package)


def test_structuring_consignee_day_quiet_under_the_threshold_together(screen_lines: Screen) -> None:
    result = screen_lines(
        {"package_id": "P1", "declared_value": "300.00"},
        {"package_id": "P2", "declared_value": "400.00"},
    )
    assert not {"structuring-consignee-day", "structuring-shipper-split"} & (
        flags(result, "P1") | flags(result, "P2")
    )


def test_structuring_shipper_split_fires(screen_lines: Screen) -> None:
    result = screen_lines(
        {"package_id": "P1", "declared_value": "500.00"},
        {"package_id": "P2", "declared_value": "400.00"},
    )
    assert {"structuring-shipper-split", "structuring-consignee-day"} <= flags(result, "P2")


def test_structuring_shipper_split_sees_one_shipper_under_two_spellings(screen_lines: Screen) -> None:
    """The shipper key dropped no legal suffix: "Nordlicht Versand GmbH" and "NORDLICHT VERSAND" were two
    shippers, and the split went unflagged."""
    result = screen_lines(
        {"package_id": "P1", "declared_value": "500.00", "shipper_name": "Nordlicht Versand GmbH"},
        {"package_id": "P2", "declared_value": "400.00", "shipper_name": "NORDLICHT VERSAND"},
    )
    assert "structuring-shipper-split" in flags(result, "P1")
    assert "structuring-shipper-split" in flags(result, "P2")


@pytest.mark.parametrize("no_name", ["nan", "NaN", "NULL", "\\N", "-"])
def test_shippers_no_one_named_never_split_a_consignee_s_goods(
    us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame], no_name: str
) -> None:
    """Shippers named ``nan``, ``NaN`` or ``-`` (no one) to one consignee on one day are no evidence of one seller
    splitting an order (two marketplaces may both leave the field blank): each is its package's own shipper, with
    or without a country, so ``structuring-shipper-split`` does not fire, in one run or one batch (running
    totals), while the consignee-day adds the packages up and ``placeholder-party`` names the blank. A first
    version keyed them one shipper per country (``|DE``) and flagged the split (+35)."""
    frame = manifest(
        {"package_id": "P1", "declared_value": "500.00", "shipper_name": no_name},
        {"package_id": "P2", "declared_value": "400.00", "shipper_name": no_name.upper()},
        {"package_id": "P3", "declared_value": "500.00", "shipper_name": no_name, "shipper_country": ""},
        {"package_id": "P4", "declared_value": "400.00", "shipper_name": "N/A", "shipper_country": ""},
    )
    frame = frame.with_columns(
        pl.when(pl.col("package_id") > "P2")
        .then(pl.lit("Bea Other"))
        .otherwise("consignee_name")
        .alias("consignee_name")
    )
    whole = screening.screen(frame, rules=us_pack)
    batch = screening.Screener(us_pack).screen(frame)
    for package in ("P1", "P2", "P3", "P4"):
        assert "structuring-shipper-split" not in flags(whole, package) | flags(batch, package)
        assert {"structuring-consignee-day", "placeholder-party"} <= flags(whole, package)
    assert whole.packages.filter(pl.col("package_id") == "P2")["de_minimis_eligible"].to_list() == [False]


@pytest.mark.parametrize(
    ("written", "ascii_name"),
    [
        ("Łukasz Wałęsa", "Lukasz Walesa"),
        ("Søren Ørsted", "Soren Orsted"),
        ("Đặng Văn Đức", "Dang Van Duc"),
        ("Mehmet Yılmaz", "MEHMET YILMAZ"),
        ("Ħamrun Ŧorr", "Hamrun Torr"),
        ("Æsa Cœur", "Aesa Coeur"),
        ("Þóra Guðmundsdóttir", "Thora Gudmundsdottir"),
    ],
)
def test_a_consignee_written_with_or_without_latin_letters_is_one_consignee_day(
    screen_lines: Screen, written: str, ascii_name: str
) -> None:
    """One consignee written two ways by two carriers: $500 each, one $1,000 consignee-day over the threshold
    (it was two eligible consignee-days: NFKD does not decompose ł, ø, đ, ı, ħ, ŧ, æ, œ, þ, ð)."""
    result = screen_lines(
        {"package_id": "P1", "declared_value": "500.00", "consignee_name": written},
        {
            "package_id": "P2",
            "declared_value": "500.00",
            "consignee_name": ascii_name,
            "shipper_name": "Rheinblick Handel GmbH",
        },
    )
    packages = result.packages.sort("package_id")
    assert packages["consignee_key"].n_unique() == 1
    assert packages["consignee_day_value_usd"].cast(pl.String()).to_list() == ["1000.00"] * 2
    assert packages["de_minimis_reason"].to_list() == ["dm-over-threshold"] * 2
    assert "structuring-consignee-day" in flags(result, "P1")


def test_structuring_quiet_for_one_package_over_the_threshold(screen_lines: Screen) -> None:
    result = screen_lines({"declared_value": "900.00"})
    assert not {"structuring-consignee-day", "structuring-shipper-split"} & flags(result)


def test_structuring_consignee_day_quiet_on_the_package_over_the_threshold_itself(
    screen_lines: Screen,
) -> None:
    """A $900 package is over the threshold on its own (not split to stay under it): only the small package
    beside it is flagged."""
    result = screen_lines(
        {"package_id": "P1", "declared_value": "900.00"},
        {"package_id": "P2", "declared_value": "50.00", "shipper_name": "Rheinblick Handel GmbH"},
    )
    assert "structuring-consignee-day" not in flags(result, "P1")
    assert "structuring-consignee-day" in flags(result, "P2")


def test_structuring_quiet_for_a_gift_on_a_day_the_exemption_is_suspended(screen_lines: Screen) -> None:
    """A bona fide gift beside a $900 package on a day of the all-country suspension was flagged as
    structuring (high, weight 30): the gift's reason (gift-exempt) hid the suspension, so the rule read the
    $800 rule as in force. On a day it is in force, the same pair is flagged."""
    pair = (
        {"package_id": "P1", "declared_value": "50.00", "gift": "true"},
        {"package_id": "P2", "declared_value": "900.00", "shipper_name": "Rheinblick Handel GmbH"},
    )
    suspended = screen_lines(*({**line, "arrival_date": "2025-09-10"} for line in pair))
    assert (
        suspended.packages.filter(pl.col("package_id") == "P1")["de_minimis_reason"].item() == "gift-exempt"
    )
    assert "structuring-consignee-day" not in flags(suspended, "P1")
    in_force = screen_lines(*pair)
    assert "structuring-consignee-day" in flags(in_force, "P1")


# --- descriptions and parties --------------------------------------------------------------------


@pytest.mark.parametrize(
    "description",
    [
        "gift",
        "Goods",
        "spare parts",
        "ACCESSORIES",
        "abc",
        "x",
        "-",
        "N/A",
        "123",
        "xyz",
        "a b",
        # Joined or padded: each was quiet (only a whole description of one vague word fired).
        "gift item",
        "a gift",
        "various items",
        "sample goods",
        "gifts & samples",
        "parts & accessories",
        "spare part",
        "item(s)",
        "personal effect",
        "Geschenk",
        "礼品",
        "gi\u200bft",
        "Ｇｉｆｔ",
        # With a count or "free": each was quiet.
        "1 gift",
        "Gift 1",
        "2x gifts",
        "gifts x 3",
        "3 pcs samples",
        "free sample",
        "sample (2 units)",
        # A plural marker, as the normal form writes it (``gift s``, ``accessory ies``): only item(s) fired.
        "Gift(s)",
        "Sample(s)",
        "Part(s)",
        "Product(s)",
        "Accessory(ies)",
        "Gift/s",
        "2 gift(s)",
        "gift(s) & sample(s)",
        # Traditional script, as HK and TW shippers write it: only the simplified fired.
        "禮品",
        "禮物",
    ],
)
def test_vague_description_fires(screen_lines: Screen, description: str) -> None:
    assert "vague-description" in flags(screen_lines({"description": description}))


@pytest.mark.parametrize("description", ["nan", "NaN", "NULL", "null", "None", "\\N", "#N/A", "<NA>", "N/A"])
def test_vague_description_fires_on_what_exports_write_for_a_missing_value(
    screen_lines: Screen, description: str
) -> None:
    """``None``, ``N/A`` and ``\\N`` fired; ``nan``, ``NaN``, ``NULL`` and ``null`` were read as goods."""
    assert "vague-description" in flags(screen_lines({"description": description}))


@pytest.mark.parametrize(
    "description",
    [
        "cotton t-shirt",
        "gift box of soap bars",
        "car parts: brake pads",
        "hat",
        "toy",
        "Tea",
        "bag",
        "手机壳",
        "gift card holder",
        "sample of silk fabric",
        "parts of watches",
        "test tubes",
        "2 t-shirts",
        "free weights",
        "iphone 15",
        "gift box",
        "gift card",
        "Gift(s) box",
        "gift s m l",
        "禮品盒",
        "礼品盒",
    ],
)
def test_vague_description_quiet(screen_lines: Screen, description: str) -> None:
    assert "vague-description" not in flags(screen_lines({"description": description}))


@pytest.mark.parametrize(
    "name",
    [
        "Mickey Mouse",
        "N/A",
        "test",
        "XXXX",
        "john doe",
        ".",
        "-",
        "???",
        "…",
        # What exports write for a missing value: nan and \\N were read as names.
        "nan",
        "NaN",
        "\\N",
        "NULL",
        "<NA>",
        "#N/A",
        "unk",
        "TBD",
    ],
)
def test_placeholder_party_fires(screen_lines: Screen, name: str) -> None:
    assert "placeholder-party" in flags(screen_lines({"consignee_name": name}))
    assert "placeholder-party" in flags(screen_lines({"shipper_name": name}))


@pytest.mark.parametrize("no_name", ["N/A", "nan", "Na", "N. A.", "Unk", "Tbd", "N", "-"])
def test_packages_split_to_one_zip_under_a_name_that_names_no_one_are_one_consignee_day(
    screen_lines: Screen, no_name: str
) -> None:
    """Three $300 DE packages to ZIP 20001, consignee ``N/A`` (no id), were each keyed ``package:P0`` ...:
    each eligible, duty $0.00, only ``placeholder-party``: a split shipment went through duty-free. Every name
    that names no one is the empty name at its ZIP: one $900 consignee-day over the threshold ($49.50 duty
    each), flagged as structuring."""
    names = [no_name, "nan", "-"]
    result = screen_lines(
        *(
            {
                "package_id": f"P{i}",
                "consignee_name": name,
                "consignee_postal_code": "20001",
                "declared_value": "300.00",
            }
            for i, name in enumerate(names)
        )
    )
    packages = result.packages.sort("package_id")
    assert packages["consignee_key"].to_list() == ["name:|20001"] * 3
    assert packages["consignee_day_value_usd"].cast(pl.String()).to_list() == ["900.00"] * 3
    assert packages["de_minimis_reason"].to_list() == ["dm-over-threshold"] * 3
    assert packages["duty_usd"].cast(pl.String()).to_list() == ["49.50"] * 3
    for package in ("P0", "P1", "P2"):
        assert {"structuring-consignee-day", "structuring-shipper-split", "placeholder-party"} <= flags(
            result, package
        )


def test_consignees_named_nan_are_strangers_not_one_consignee_day(screen_lines: Screen) -> None:
    """Three people with consignee name ``nan``, no id and no ZIP, $300 each, were one key ``name:nan|``: a $900
    consignee-day, each package over the threshold with $49.50 duty and flagged as structuring. Each is a
    consignee of its own now, eligible, and flagged as a placeholder party."""
    result = screen_lines(
        *(
            {
                "package_id": f"P{i}",
                "consignee_name": "nan",
                "consignee_postal_code": "",
                "shipper_name": f"Shop {i}",
                "declared_value": "300.00",
            }
            for i in range(3)
        )
    )
    packages = result.packages.sort("package_id")
    assert packages["consignee_key"].to_list() == ["package:P0", "package:P1", "package:P2"]
    assert packages["de_minimis_reason"].to_list() == ["dm-eligible"] * 3
    assert packages["duty_usd"].cast(pl.String()).to_list() == ["0.00"] * 3
    for package in ("P0", "P1", "P2"):
        assert flags(result, package) == {"placeholder-party"}


@pytest.mark.parametrize("name", ["Anna Keller", "Testa Rossi", "Nadia Abbot"])
def test_placeholder_party_quiet(screen_lines: Screen, name: str) -> None:
    assert "placeholder-party" not in flags(screen_lines({"consignee_name": name}))


def test_hts_description_mismatch_fires(screen_lines: Screen) -> None:
    result = screen_lines({"description": "smartphone", "hts_code": "6109.10.00.12"})
    assert "hts-description-mismatch" in flags(result)


@pytest.mark.parametrize("description", ["Running Shoe", "sneaker", "boot", "earbud", "headphone"])
def test_hts_description_mismatch_fires_on_singular_words(screen_lines: Screen, description: str) -> None:
    """Only the plural ``shoes`` fired under chapter 95 (the default line's jigsaw code)."""
    result = screen_lines({"description": description, "hts_code": "9506.91.00.30"})
    assert "hts-description-mismatch" in flags(result)


def test_hts_description_mismatch_quiet_when_chapter_fits(screen_lines: Screen) -> None:
    assert "hts-description-mismatch" not in flags(
        screen_lines({"description": "smartphone", "hts_code": "8517.13.00.00"})
    )
    assert "hts-description-mismatch" not in flags(screen_lines({"description": "cotton t-shirt"}))


# --- high-risk goods -----------------------------------------------------------------------------


def test_opioid_precursor_heading_fires(screen_lines: Screen) -> None:
    result = screen_lines({"hts_code": "2933.11.00.00", "description": "chemical compound"})
    assert "high-risk-opioid-precursor" in flags(result)
    assert result.packages["queue"][0] == "narcotics"


def test_opioid_precursor_quiet_elsewhere_in_chapter_29(screen_lines: Screen) -> None:
    assert "high-risk-opioid-precursor" not in flags(
        screen_lines({"hts_code": "2106.90.99.98", "description": "protein powder"})
    )


def test_pill_press_fires(screen_lines: Screen) -> None:
    result = screen_lines({"hts_code": "8479.89.95.00", "description": "TDP-5 tablet press machine"})
    assert "high-risk-pill-press" in flags(result)


@pytest.mark.parametrize(
    "description", ["garlic press", "capsule filler for coffee pods", "espresso capsule filler"]
)
def test_pill_press_quiet_for_other_presses(screen_lines: Screen, description: str) -> None:
    assert "high-risk-pill-press" not in flags(
        screen_lines({"hts_code": "8479.89.95.00", "description": description})
    )


@pytest.mark.parametrize(
    "description",
    ["capsule filling machine", "capsule filling machine for tea and herbal powder", "capsule filler pods"],
)
def test_pill_press_fires_on_a_capsule_filling_machine(screen_lines: Screen, description: str) -> None:
    result = screen_lines({"hts_code": "8422.30.91.80", "description": description})
    assert "high-risk-pill-press" in flags(result)


@pytest.mark.parametrize(
    ("hts", "description"),
    [
        ("8543.40.00.00", "electronic device"),
        ("8543.70.88.00", "disposable vape pen"),
        ("8543.70.88.00", "disposable va\u00adpe pen"),  # a soft hyphen hid the word
        ("8543.70.88.00", "ＶＡＰＥ"),  # full-width letters
        # A trade mark sign or a superscript stuck to the word: folded to "vapetm" and "vape2", it hid the word.
        ("3926.90.99.89", "vape™"),
        ("3926.90.99.89", "Vape℠ pods"),
        ("3926.90.99.89", "vape²"),
    ],
)
def test_e_cigarette_fires(screen_lines: Screen, hts: str, description: str) -> None:
    assert "high-risk-e-cigarette" in flags(screen_lines({"hts_code": hts, "description": description}))


def test_e_cigarette_quiet(screen_lines: Screen) -> None:
    assert "high-risk-e-cigarette" not in flags(
        screen_lines({"hts_code": "6912.00.50.00", "description": "flower vase"})
    )


@pytest.mark.parametrize(
    ("hts", "description"),
    [
        ("9305.10.20.00", "grip"),
        ("8479.89.95.00", "glock switch"),
        ("8479.89.95.00", "solvent trap kit"),
        ("8714.10.00.50", "9mm silencer"),
        ("3926.90.99.89", "glock conversion kit"),
        # Disguises: a gun word overrides the vehicle or electrical words that otherwise clear a silencer.
        ("8714.10.00.50", "rifle silencer high power"),
        ("8714.10.00.50", "pistol suppressor for car"),
        ("8421.23.00.00", "fuel filter silencer for car 1/2x28"),
        ("8421.23.00.00", "fuel filter silencer for car ½x28"),  # a fraction is still read as 1/2
        ("8479.89.95.00", "auto conversion device"),
    ],
)
def test_weapon_parts_fire(screen_lines: Screen, hts: str, description: str) -> None:
    assert "high-risk-weapon-parts" in flags(screen_lines({"hts_code": hts, "description": description}))


@pytest.mark.parametrize(
    ("hts", "description"),
    [
        ("3926.90.99.90", "light switch cover"),
        ("8536.30.80.00", "surge suppressor power strip"),
        ("8714.10.00.50", "exhaust silencer for motorcycle"),
        ("8504.40.95.50", "voltage conversion device 220V to 110V"),
    ],
)
def test_weapon_parts_quiet(screen_lines: Screen, hts: str, description: str) -> None:
    assert "high-risk-weapon-parts" not in flags(screen_lines({"description": description, "hts_code": hts}))


# --- value, origin and tariff --------------------------------------------------------------------


def test_implausible_value_per_kg_fires(screen_lines: Screen) -> None:
    result = screen_lines({"declared_value": "1.00", "gross_weight_kg": "5"})
    assert "implausible-value-per-kg" in flags(result)


@pytest.mark.parametrize(
    ("value", "weight"), [("20.00", "10.000001"), ("19.99", "10"), ("20.00", "10.0000000001")]
)
def test_implausible_value_per_kg_fires_just_below_the_floor(
    screen_lines: Screen, value: str, weight: str
) -> None:
    """$20.00 over 10.000001 kg is $1.9999998/kg, below chapter 61's $2.00 floor: rounded to 6 decimals it was
    $2.00 and went unflagged."""
    result = screen_lines({"hts_code": "6109.10.00.12", "declared_value": value, "gross_weight_kg": weight})
    assert "implausible-value-per-kg" in flags(result)


@pytest.mark.parametrize("weight", ["0.3", None])
def test_implausible_value_per_kg_quiet(screen_lines: Screen, weight: str | None) -> None:
    assert "implausible-value-per-kg" not in flags(
        screen_lines({"declared_value": "20.00", "gross_weight_kg": weight})
    )


@pytest.mark.parametrize(
    ("hts", "value", "weight"),
    [
        ("7113.19.50.80", "0.35", "0.035"),
        ("9004.10.00.00", "5.35", "1.07"),
        ("7113.19.50.80", "10.00", "1"),
        ("6109.10.00.12", "20.00", "10"),
        ("6109.10.00.12", "0.07", "0.035"),
    ],
)
def test_implausible_value_per_kg_quiet_exactly_at_the_floor(
    screen_lines: Screen, hts: str, value: str, weight: str
) -> None:
    # Chapter 71's floor is $10/kg, chapter 90's $5/kg: each line is exactly at it ("below" is false), though
    # a float division gives 9.999999999999998 and 4.999999999999999 for the first two.
    result = screen_lines({"hts_code": hts, "declared_value": value, "gross_weight_kg": weight})
    line = result.lines.row(0, named=True)
    assert "implausible-value-per-kg" not in flags(result), line["risk_flags"]


def test_transshipment_fires(screen_lines: Screen) -> None:
    result = screen_lines({"country_of_origin": "CN", "country_of_export": "MX", "shipper_country": "MX"})
    assert "transshipment-cn-hk" in flags(result)
    assert result.packages["queue"][0] == "origin"


def test_transshipment_fires_when_a_later_line_names_the_route(screen_lines: Screen) -> None:
    # The package's first line leaves its country of export and shipper country blank; its second line gives
    # them: the package is one shipment, taken on the route its lines name (not hidden by the blank).
    result = screen_lines(
        {"line_no": "1", "country_of_origin": "CN", "country_of_export": None, "shipper_country": None},
        {"line_no": "2", "country_of_origin": "CN", "country_of_export": "MX", "shipper_country": "MX"},
        {"line_no": "3", "country_of_origin": "CN", "country_of_export": "VN", "shipper_country": "VN"},
    )
    assert "transshipment-cn-hk" in flags(result)
    lines = result.lines.sort("line_no")
    assert lines["country_of_export"].to_list() == ["MX", "MX", "MX"]
    assert lines["shipper_country"].to_list() == ["MX", "MX", "MX"]


@pytest.mark.parametrize(
    ("origin", "export"),
    [("CN", "CN"), ("CN", None), ("MX", "MX"), ("VN", "VN"), ("DE", "CA")],
    ids=["cn-direct", "cn-no-export", "mx-own-goods", "vn-own-goods", "de-via-ca"],
)
def test_transshipment_quiet(screen_lines: Screen, origin: str, export: str | None) -> None:
    """Quiet for Chinese goods shipped direct, and for other origins whatever the route (only CN/HK goods
    routed through MX, CA or VN fire)."""
    result = screen_lines(
        {"country_of_origin": origin, "country_of_export": export, "shipper_country": export}
    )
    assert "transshipment-cn-hk" not in flags(result)


def test_origin_contradicting_shipper_fires(screen_lines: Screen) -> None:
    assert "origin-contradicts-shipper" in flags(
        screen_lines({"shipper_country": "CN", "country_of_origin": "VN"})
    )


def test_origin_contradicting_shipper_quiet(screen_lines: Screen) -> None:
    assert "origin-contradicts-shipper" not in flags(
        screen_lines({"shipper_country": "CN", "country_of_origin": "CN"})
    )
    assert "origin-contradicts-shipper" not in flags(
        screen_lines({"shipper_country": "DE", "country_of_origin": "FR"})
    )


def test_hts_unknown_on_date_fires(screen_lines: Screen) -> None:
    assert "hts-unknown-on-date" in flags(screen_lines({"hts_code": "6199.00.00.00"}))


def test_hts_unknown_on_date_quiet_for_known_codes_and_dates_before_the_table(screen_lines: Screen) -> None:
    assert "hts-unknown-on-date" not in flags(screen_lines({}))
    # The pack's tariff table starts 2025-01-01: earlier dates are a pack gap, not a suspicious code.
    assert "hts-unknown-on-date" not in flags(
        screen_lines({"hts_code": "6199.00.00.00", "arrival_date": "2020-06-01"})
    )


@pytest.mark.parametrize(
    ("mode", "rule"), [("postal", "hts-code-short-postal"), ("express", "hts-code-short")]
)
@pytest.mark.parametrize("hts", ["6109.10", "6109.10.00"])
def test_hts_code_short_fires_from_the_ten_digit_requirement(
    screen_lines: Screen, mode: str, rule: str, hts: str
) -> None:
    result = screen_lines({"hts_code": hts, "mode": mode, "arrival_date": "2026-07-24"})
    assert rule in flags(result)
    assert result.packages["queue"][0] == "classification"


def test_hts_code_short_quiet_for_ten_digits_and_before_the_requirement(screen_lines: Screen) -> None:
    ten_digits = screen_lines({"hts_code": "6109.10.00.12", "mode": "postal", "arrival_date": "2026-07-24"})
    before = screen_lines({"hts_code": "6109.10.00", "mode": "postal", "arrival_date": "2026-07-23"})
    for result in (ten_digits, before):
        assert not flags(result) & {"hts-code-short-postal", "hts-code-short"}


def test_duty_not_computable_fires(screen_lines: Screen) -> None:
    result = screen_lines(
        {"hts_code": "1701.12.05.00", "description": "cane sugar", "arrival_date": "2025-09-02"}
    )
    assert result.lines["duty_status"][0] == "not-computable"
    assert "duty-not-computable" in flags(result)


def test_duty_not_computable_fires_on_a_date_the_tariff_does_not_cover(screen_lines: Screen) -> None:
    # Over the threshold in 2024: dutiable, but the pack's tariff starts 2025-01-01. A person assesses it:
    # it is queued, not released with no duty (DESIGN §4).
    result = screen_lines({"declared_value": "900.00", "arrival_date": "2024-06-03"})
    package = result.packages.row(0, named=True)
    assert package["duty_status"] == "no-tariff-line"
    assert package["duty_usd"] is None
    assert "duty-not-computable" in flags(result)
    assert package["queue"] == "revenue-review"


def test_duty_not_computable_leaves_an_unknown_code_to_its_own_rule(screen_lines: Screen) -> None:
    result = screen_lines(
        {"hts_code": "6199.00.00.00", "declared_value": "900.00", "arrival_date": "2025-09-02"}
    )
    assert result.packages["duty_status"][0] == "no-tariff-line"
    assert flags(result) >= {"hts-unknown-on-date"}
    assert "duty-not-computable" not in flags(result)


def test_duty_not_computable_quiet_when_assessed(screen_lines: Screen) -> None:
    result = screen_lines({"arrival_date": "2025-09-02"})
    assert result.lines["duty_status"][0] == "assessed"
    assert "duty-not-computable" not in flags(result)


# --- history and screening list ------------------------------------------------------------------


def _history(tmp_path: Path, days: list[str], key: str = "name:anna keller|20001") -> Path:
    history = pl.DataFrame(
        {
            "package_id": [f"H{i}" for i in range(len(days))],
            "consignee_key": [key] * len(days),
            "arrival_date": days,
            "value_usd": ["120.00"] * len(days),
        }
    )
    tmp_path.mkdir(parents=True, exist_ok=True)
    history.write_parquet(tmp_path / "packages.parquet")
    return tmp_path


def test_repeat_consignee_fires_with_history(
    tmp_path: Path, us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame]
) -> None:
    run = _history(tmp_path, ["2025-03-01", "2025-03-04", "2025-03-07"])
    result = screening.screen(manifest({}), rules=us_pack, history=[run])
    assert "repeat-consignee" in flags(result)


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ({"consignee_id": "C001"}, "id:c-001"),
        ({"consignee_id": "c.001"}, "id:C001"),
        ({"consignee_postal_code": "20001"}, "name:anna keller|20001.0"),
    ],
)
def test_history_of_an_earlier_version_keys_its_consignees_as_this_run_does(
    tmp_path: Path,
    us_pack: screening.RulePack,
    manifest: Callable[..., pl.DataFrame],
    written: dict[str, str],
    key: str,
) -> None:
    """An earlier version kept an id as written (``id:c-001``) and a ZIP written as a decimal (``20001.0``) in
    its keys; read as they are, the consignee's earlier packages were another person's."""
    run = _history(tmp_path, ["2025-03-01", "2025-03-04", "2025-03-07"], key=key)
    result = screening.screen(manifest(written), rules=us_pack, history=[run])
    assert "repeat-consignee" in flags(result)


def test_repeat_consignee_quiet_with_too_little_or_too_old_history(
    tmp_path: Path, us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame]
) -> None:
    run = _history(tmp_path, ["2025-01-02", "2025-03-04", "2025-03-07", "2025-03-10", "2025-03-11"])
    result = screening.screen(manifest({}), rules=us_pack, history=[run])
    assert "repeat-consignee" not in flags(result)  # one day too old, one same-day, one later
    assert "repeat-consignee" not in flags(screening.screen(manifest({}), rules=us_pack))


@pytest.mark.parametrize(("oldest", "fires"), [("2025-02-08", True), ("2025-02-07", False)])
def test_repeat_consignee_window_is_the_30_days_before_the_arrival(
    tmp_path: Path,
    us_pack: screening.RulePack,
    manifest: Callable[..., pl.DataFrame],
    oldest: str,
    fires: bool,
) -> None:
    # Arrival 2025-03-10: 2025-02-08 is 30 days before (inside the window), 2025-02-07 is 31 (outside).
    run = _history(tmp_path, [oldest, "2025-03-04", "2025-03-07"])
    result = screening.screen(manifest({}), rules=us_pack, history=[run])
    assert ("repeat-consignee" in flags(result)) is fires


@pytest.mark.parametrize(
    ("field", "name"),
    [
        ("consignee_name", "Banco Nacional de Cuba, S.A."),
        ("shipper_name", "AEROCARIBBEAN AIRLINES"),
        ("shipper_name", "Inkor™ LLC"),  # read INKORTM: the trade mark sign hid an exact hit
        ("shipper_name", "AEROCARIBBEAN® AIRLINES"),
    ],
)
def test_denied_party_fires(screen_lines: Screen, field: str, name: str) -> None:
    result = screen_lines({field: name})
    assert "denied-party" in flags(result)
    assert result.packages["queue"][0] == "denied-party"
    detail = result.flags.filter(pl.col("rule_id") == "denied-party")["detail"][0]
    assert "OFAC SDN" in detail
    assert detail.startswith(f"{field.removesuffix('_name')} '{name}' matches OFAC SDN ")


def test_denied_party_fires_through_a_letter_with_a_stroke(screen_lines: Screen) -> None:
    """``OOO Inkør`` kept its ø (NFKD does not decompose it) and missed ``LIMITED LIABILITY COMPANY INKOR``."""
    result = screen_lines({"shipper_name": "OOO Inkør"})
    assert "denied-party" in flags(result)
    detail = result.flags.filter(pl.col("rule_id") == "denied-party")["detail"][0]
    assert detail.startswith("shipper 'OOO Inkør' matches OFAC SDN ")
    assert "'LIMITED LIABILITY COMPANY INKOR'" in detail


@pytest.mark.parametrize(
    "name",
    [
        "Anna Keller",
        "Sunshine Trading Co Ltd",
        "Cuba Libre Cafe",
        "Fortune Co., Ltd.",  # the name of a listed vessel: a ship is never a shipper
        "Zeus GmbH",
    ],
)
def test_denied_party_quiet(screen_lines: Screen, name: str) -> None:
    assert "denied-party" not in flags(screen_lines({"shipper_name": name}))


def test_score_is_the_sum_of_contributions(screen_lines: Screen) -> None:
    result = screen_lines(
        {"description": "gift", "declared_value": "790.00", "consignee_name": "Mickey Mouse"}
    )
    contributions: dict[str, Any] = dict(result.flags.select("rule_id", "weight").iter_rows())
    assert set(contributions) == {"vague-description", "value-just-under-threshold", "placeholder-party"}
    assert result.packages["risk_score"][0] == sum(contributions.values())
    # Flags are listed by contribution, largest first.
    assert list(result.packages["risk_flags"][0]) == sorted(
        contributions, key=lambda r: (-contributions[r], r)
    )


def test_pseudonymised_history_matches_when_the_same_key_is_used(
    tmp_path: Path, us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame]
) -> None:
    earlier = [
        {"package_id": f"E{i}", "arrival_date": day}
        for i, day in enumerate(["2025-03-01", "2025-03-04", "2025-03-07"])
    ]
    screening.screen(manifest(*earlier), rules=us_pack, pseudonymise_key="k1").write(tmp_path / "earlier")
    same_key = screening.screen(
        manifest({}), rules=us_pack, history=[tmp_path / "earlier"], pseudonymise_key="k1"
    )
    assert "repeat-consignee" in flags(same_key)
    other_key = screening.screen(
        manifest({}), rules=us_pack, history=[tmp_path / "earlier"], pseudonymise_key="k2"
    )
    assert "repeat-consignee" not in flags(other_key)
    # Without a key, no pseudonym can match: refused rather than silently finding no repeat consignee.
    for run in (
        lambda: screening.screen(manifest({}), rules=us_pack, history=[tmp_path / "earlier"]),
        lambda: screening.Screener(us_pack, history=[tmp_path / "earlier"]),
    ):
        with pytest.raises(UsageError, match="its consignee keys are pseudonymised"):
            run()


# --- the totals the structuring rules read -------------------------------------------------------


def _probe_pack(tmp_path: Path, condition: str) -> screening.RulePack:
    """The U.S. pack with one more rule, ``probe``, firing on ``condition`` (to read a risk column)."""
    pack = tmp_path / "probe-pack"
    shutil.copytree(US_PACK, pack)
    with (pack / "risk.toml").open("a", encoding="utf-8") as handle:
        handle.write(
            f"\n[[rules]]\nid = \"probe\"\ndescription = \"probe\"\ncondition = '''{condition}'''\n"
            'weight = 1\nseverity = "low"\nqueue = "documentation"\nrationale = "test probe"\n'
            'effective_from = 2016-03-10\ncitation = { instrument = "test" }\n'
        )
    return screening.load_rules(pack)


def test_shipper_consignee_day_totals_count_packages_not_lines(
    tmp_path: Path, manifest: Callable[..., pl.DataFrame]
) -> None:
    """One package of two lines is one package (SYNTHETIC lines)."""
    pack = _probe_pack(
        tmp_path,
        "shipper_consignee_day_packages = 1 AND package_lines = 2 AND shipper_consignee_day_value_usd = 150",
    )
    lines = manifest(
        {"line_no": "1", "declared_value": "100.00"}, {"line_no": "2", "declared_value": "50.00"}
    )
    assert "probe" in flags(screening.screen(lines, rules=pack))


def test_history_counts_a_package_once_when_two_sources_hold_it(
    tmp_path: Path, manifest: Callable[..., pl.DataFrame]
) -> None:
    """The same earlier run given twice (or two runs sharing packages): its packages and their value (two
    packages of $120) count once."""
    pack = _probe_pack(tmp_path, "consignee_prior_value_usd = 240 AND consignee_prior_packages = 2")
    first = _history(tmp_path / "a", ["2025-03-04", "2025-03-07"])
    second = _history(tmp_path / "b", ["2025-03-04", "2025-03-07"])
    result = screening.screen(manifest({}), rules=pack, history=[first, second])
    assert "probe" in flags(result)


def test_history_sums_the_parts_of_a_package_screened_in_batches(
    tmp_path: Path, manifest: Callable[..., pl.DataFrame]
) -> None:
    """A package whose lines came in two batches has a row per part in its run's packages ($500 and $400): the
    history counted its first part only ($500)."""
    pack = _probe_pack(tmp_path, "consignee_prior_value_usd = 900 AND consignee_prior_packages = 1")
    run = tmp_path / "batches"
    run.mkdir()
    pl.DataFrame(
        {
            "package_id": ["H1", "H1"],
            "consignee_key": ["name:anna keller|20001"] * 2,
            "arrival_date": ["2025-03-07"] * 2,
            "value_usd": ["500.00", "400.00"],
        }
    ).write_parquet(run / "packages.parquet")
    assert "probe" in flags(screening.screen(manifest({}), rules=pack, history=[run]))


def test_history_sums_the_parts_of_a_package_held_in_different_folders(
    tmp_path: Path, manifest: Callable[..., pl.DataFrame]
) -> None:
    """The hourly outputs of a run in batches (``--state``): the package's first part ($500) in one folder, its
    second ($400) in the next. Only the part of the first folder counted; one folder given twice still counts
    once."""
    pack = _probe_pack(tmp_path, "consignee_prior_value_usd = 900 AND consignee_prior_packages = 1")
    folders = []
    for hour, value in (("09", "500.00"), ("10", "400.00")):
        folder = tmp_path / f"hour-{hour}"
        folder.mkdir()
        pl.DataFrame(
            {
                "package_id": ["H1"],
                "consignee_key": ["name:anna keller|20001"],
                "arrival_date": ["2025-03-07"],
                "lines": [1],
                "value_usd": [value],
            }
        ).write_parquet(folder / "packages.parquet")
        folders.append(folder)
    assert "probe" in flags(screening.screen(manifest({}), rules=pack, history=folders))
    assert "probe" in flags(screening.screen(manifest({}), rules=pack, history=[*folders, folders[0]]))


def test_a_shipper_is_its_name_and_country(tmp_path: Path, manifest: Callable[..., pl.DataFrame]) -> None:
    """README: a shipper is its normalised name plus country: one name in two countries is two shippers."""
    pack = _probe_pack(tmp_path, "shipper_consignee_day_packages = 1")
    lines = manifest(
        {"package_id": "P1", "shipper_name": "Acme Ltd", "shipper_country": "DE"},
        {"package_id": "P2", "shipper_name": "ACME LTD.", "shipper_country": "CN"},
    )
    result = screening.screen(lines, rules=pack)
    assert "probe" in flags(result, "P1")
    assert "probe" in flags(result, "P2")


# --- review of the targeting rules (each table failed on the pack before) --------------------------


def fired_on(screen: Screen, rule: str, lines: list[dict[str, Any]]) -> list[bool]:
    """Whether ``rule`` fired on each of ``lines``, screened together as packages P0, P1, ... (one line each,
    each to its own consignee, so that no day total joins them)."""
    result = screen(
        *(
            {
                "package_id": f"P{i}",
                "consignee_name": f"Buyer {i}",
                "consignee_postal_code": f"{20001 + i}",
                **line,
            }
            for i, line in enumerate(lines)
        )
    )
    return [rule in flags(result, f"P{i}") for i in range(len(lines))]


@pytest.mark.parametrize(
    ("cases", "rule"),
    [
        pytest.param(
            [
                # Named under a code outside 2933/2934/2939: each was unflagged.
                ("3004.90.92.90", "fentanyl citrate", True),
                ("3824.99.92.97", "carfentanil", True),
                ("3824.99.92.97", "Acetyl-fentanyl powder", True),
                ("3824.99.92.97", "furanylfentanyl", True),
                ("3824.99.92.97", "Norfentanyl HCl", True),
                ("3824.99.92.97", "isotonitazene", True),
                ("3824.99.92.97", "4-ANPP", True),
                ("3824.99.92.97", "N-Phenethyl-4-piperidone (NPP)", True),
                ("3824.99.92.97", "NPP powder 99%", True),
                ("3824.99.92.97", "1-Boc-4-piperidone", True),
                ("3824.99.92.97", "芬太尼", True),
                # Harm-reduction test strips, and NPP as other letters: quiet.
                ("3822.19.00.90", "fentanyl test strips", False),
                ("8539.52.00.00", "NPP-100 LED lamp", False),
                ("2106.90.99.98", "protein powder", False),
            ],
            "high-risk-opioid-precursor",
            id="opioid-names",
        ),
        pytest.param(
            [
                # Nicotine products for inhalation without combustion (2404.12), and the words: each was unflagged.
                ("2404.12.90.00", "nicotine pods", True),
                ("2404.12.90.00", "refill 30ml", True),
                ("3926.90.99.89", "ecig", True),
                ("3926.90.99.89", "E-Liquid 30ml mango", True),
                ("3926.90.99.89", "e-juice", True),
                ("3926.90.99.89", "Vaporizer Pen", True),
                ("3926.90.99.89", "e-cig", True),
                ("8516.79.00.00", "steam vaporizer for rooms", False),
                ("3304.20.00.00", "liquid eyeliner", False),
                ("8543.70.99.50", "e-book reader", False),
            ],
            "high-risk-e-cigarette",
            id="e-cigarettes",
        ),
        pytest.param(
            [
                # Critical hits on electrical, pneumatic and lighting goods: each fired.
                ("8505.11.00.70", "Ferrite Core Noise Suppressor Cable Clip 7mm", False),
                ("8541.10.00.80", "TVS suppressor diode", False),
                ("8481.90.90.40", "brass pneumatic silencer 1/4", False),
                ("8512.20.20.40", "H4 LED headlight conversion kit", False),
                # A gun word still overrides chapter 85 and the clearing words.
                ("8536.30.80.00", "suppressor for 9mm pistol", True),
                # A fuel or oil filter with a muzzle thread, and a forced reset trigger: each was unflagged.
                ("8421.23.00.00", "fuel filter kit 1/2x28 thread", True),
                ("8421.23.00.00", "oil filter adapter 5/8-24", True),
                ("8421.23.00.00", "fuel filter M14x1LH", True),
                ("8421.23.00.00", "storage cups 1/2-28", True),
                ("3926.90.99.89", "forced reset trigger", True),
                # A filter without a muzzle thread, a muzzle thread without a filter: quiet.
                ("8421.23.00.00", "oil filter 3/4-16", False),
                ("7318.15.20.95", "wheel stud 1/2-28", False),
                # PVC glue sold by the ounce: "solvent" beside "1/2 28 oz" read as a muzzle thread.
                ("3506.91.50.00", "solvent cement 1/2 28 oz", False),
                ("8421.23.00.00", "solvent kit 1/2x28", True),
                # Any solvent goods with a muzzle thread: each was unflagged once only a solvent kit counted.
                ("8421.23.00.00", "Solvent catcher kit 1/2x28", True),
                ("8421.23.00.00", "Solvent cleaning kit 1/2x28 thread", True),
                ("8421.23.00.00", "Solvent collector 5/8x24", True),
                ("8421.23.00.00", "aluminum solvent cleaning tube 1/2x28", True),
                # A thread straight before a unit is a size, not a muzzle thread.
                ("3506.91.50.00", "PVC solvent can 1/2 28 oz", False),
                ("3814.00.50.90", "Solvent filter 5/8 24 oz bottle", False),
            ],
            "high-risk-weapon-parts",
            id="weapon-parts",
        ),
        pytest.param(
            [
                # A keyword for what the goods serve, under the goods' own code: each fired.
                ("4202.12.81.30", "laptop bag", False),
                ("4202.32.10.00", "mobile phone case", False),
                ("3926.90.99.89", "phone case for iPhone 15", False),
                ("4202.32.10.00", "iPhone 15 Pro Max case", False),
                ("7013.28.10.00", "wine glass", False),
                ("6307.90.98.91", "shoe laces", False),
                ("9403.20.00.90", "shoe rack", False),
                ("3405.10.00.00", "shoe polish", False),
                ("7010.90.50.17", "perfume bottle", False),
                ("3923.50.00.00", "bottle caps", False),
                ("9606.21.40.00", "shirt buttons", False),
                ("4819.50.40.60", "hat box", False),
                ("3926.90.99.89", "pants hanger", False),
                # A real mismatch still fires: the iPhone was no keyword.
                ("6109.10.00.12", "iPhone 15", True),
                ("6109.10.00.12", "smartphone", True),
                ("6307.90.98.91", "shoe laces and sneakers", True),
            ],
            "hts-description-mismatch",
            id="keyword-as-modifier",
        ),
        pytest.param(
            [
                # A vitamin's, a type's letter E before liquid: each fired (the norm reads e-liquid as e liquid).
                ("2936.28.00.00", "Vitamin E liquid drops", False),
                ("2106.90.99.98", "vitamin e liquid 30ml", False),
                ("3304.99.50.00", "Vitamin E-liquid serum", False),
                ("2106.90.99.98", "Vitamin C and E liquid", False),
                ("8524.11.00.00", "Type E liquid crystal display", False),
                # Vitamin letters with a digit before the E: each fired.
                ("2106.90.99.98", "Vitamin D3 and E liquid drops", False),
                ("2106.90.99.98", "Vitamin B12 & E liquid", False),
                # A grade or class of e-liquid is e-liquid: each was unflagged.
                ("3824.99.92.97", "Premium grade e-liquid 30ml 3mg nicotine", True),
                ("2106.90.99.98", "High grade E-Juice 60ml", True),
                ("2106.90.99.98", "World class e-liquid mango", True),
                ("3824.99.92.97", "Grade E liquid", True),
                # The vape words still fire, spaced, hyphenated or joined.
                ("3926.90.99.89", "e-liquid 10ml", True),
                ("3926.90.99.89", "E liquid 10ml mint", True),
                ("3926.90.99.89", "eliquid", True),
                ("3926.90.99.89", "vape juice", True),
                ("3926.90.99.89", "E-Juice 60ml", True),
            ],
            "high-risk-e-cigarette",
            id="letter-e-liquids",
        ),
        pytest.param(
            [
                # Model words between the device and the accessory word, or an accessory word missing: each fired.
                ("3926.90.99.89", "AirPods Pro 2 case", False),
                ("3926.90.99.89", "AirPods 3 case", False),
                ("4202.32.10.00", "iPad Pro 11 case", False),
                ("3926.90.99.89", "iPad Air 5 case", False),
                ("3926.90.99.89", "iPad 10th generation case", False),
                ("3926.90.99.89", "MacBook Air M2 case", False),
                ("4202.12.81.30", "MacBook Pro 14 sleeve", False),
                ("4202.31.60.00", "iPhone wallet", False),
                ("4202.31.60.00", "wallet case for iPhone 15", False),
                ("7007.19.00.00", "iPhone 15 tempered glass", False),
                ("3926.90.99.89", "iPhone 15 Pro Max 256GB silicone case", False),
                ("4819.50.40.60", "iPhone 15 box", False),
                # The device itself, with a case or beside one, and a charger (electronics itself): still fire.
                ("6109.10.00.12", "iPhone 15", True),
                ("3926.90.99.89", "iPhone 15 with case", True),
                ("3926.90.99.89", "iPhone 15 and case", True),
                ("3926.90.99.89", "iPhone 15 w/ case", True),
                ("3926.90.99.89", "iPhone charger", True),
                # The device in its box, or with its charging case: each was unflagged.
                ("6109.10.00.12", "iPhone 14 128GB in original box", True),
                ("6109.10.00.12", "iPhone 15 Pro Max 256GB sealed box", True),
                ("6109.10.00.12", "AirPods Pro 2 USB-C charging case", True),
                ("6109.10.00.12", "iPhone 15 Pro Max", True),
            ],
            "hts-description-mismatch",
            id="accessory-after-model-words",
        ),
    ],
)
def test_description_rules_after_review(
    screen_lines: Screen, cases: list[tuple[str, str, bool]], rule: str
) -> None:
    fired = fired_on(screen_lines, rule, [{"hts_code": hts, "description": text} for hts, text, _ in cases])
    assert dict(zip([text for _, text, _ in cases], fired, strict=True)) == {
        text: fires for _, text, fires in cases
    }


def test_transshipment_reads_the_shipper_country_when_the_export_country_is_blank(
    screen_lines: Screen,
) -> None:
    """CN goods from a Mexican shipper, no country of export given: the route went unflagged. A country of export
    given is read first (goods shipped from CN by a Mexican seller are not routed through MX)."""
    routes = [
        ("MX", None, True),
        ("MX", "", True),
        ("VN", None, True),
        ("MX", "CN", False),
        (None, None, False),
    ]
    lines = [
        {"country_of_origin": "CN", "shipper_country": shipper, "country_of_export": export}
        for shipper, export, _ in routes
    ]
    assert fired_on(screen_lines, "transshipment-cn-hk", lines) == [fires for *_, fires in routes]


def test_origin_contradicts_export_fires_on_goods_of_another_origin_exported_from_cn(
    screen_lines: Screen,
) -> None:
    """VN goods exported from CN by a VN shipper were unflagged; with a CN shipper the shipper rule fires instead,
    never both."""
    routes = [
        ("VN", "CN", "VN", True),
        ("DE", "HK", "DE", True),
        ("VN", "CN", "CN", False),
        ("VN", "VN", "VN", False),
        ("CN", "CN", "MX", False),
    ]
    lines = [
        {"country_of_origin": origin, "country_of_export": export, "shipper_country": shipper}
        for origin, export, shipper, _ in routes
    ]
    assert fired_on(screen_lines, "origin-contradicts-export", lines) == [fires for *_, fires in routes]
    both = screen_lines({"country_of_origin": "VN", "country_of_export": "CN", "shipper_country": "CN"})
    assert "origin-contradicts-shipper" in flags(both)


# --- gift claims, where the gift exemption is the one left ----------------------------------------

GIFT = {"gift": "true", "declared_value": "60.00", "arrival_date": "2025-10-15"}


def test_gift_from_company(screen_lines: Screen) -> None:
    """A gift declared by a trading company went unflagged where the gift exemption is the one left."""
    cases = [
        ("Shenzhen Xinda Trading Co Ltd", "2025-10-15", True),
        ("Nordlicht Versand GmbH", "2025-10-15", True),
        ("Li Wei", "2025-10-15", False),
        # De minimis in force for German goods: a gift needs no gift claim.
        ("Nordlicht Versand GmbH", "2025-03-10", False),
    ]
    lines = [{**GIFT, "shipper_name": shipper, "arrival_date": date} for shipper, date, _ in cases]
    assert fired_on(screen_lines, "gift-from-company", lines) == [fires for *_, fires in cases]


def test_gift_from_company_reads_the_legal_form_where_a_name_ends_or_begins(screen_lines: Screen) -> None:
    """A private sender whose name holds a legal suffix as a name part (Ao, Sá, Co) was read as a company: a
    lone name-like form counts only written with a dot, and a form only where the name ends (or begins)."""
    cases = [
        ("Wang Ao", False),
        ("Maria de Sá", False),
        ("Nguyen Van Co", False),
        ("Sal Romano", False),
        ("Al Noor Est", False),
        ("Nguyen Co Trading", False),
        # Written as abbreviations, within a longer form, or another form: companies.
        ("Bluepeak Longda Trading Co.", True),
        ("Lisboa Importações S.A.", True),
        ("Müller Versand GmbH & Co. KG", True),
        ("Ferrari Ricambi S.p.A.", True),
        ("Ferrari Ricambi SpA", True),
        ("Toyota Tsusho K.K.", True),
        ("Inditex, S.A.", True),  # one word and a dotted form (so is "Smith, A.G.": initials read as a form)
        ("Siemens AG", True),
        ("OOO Inkor", True),
    ]
    lines = [{**GIFT, "shipper_name": shipper} for shipper, _ in cases]
    fired = fired_on(screen_lines, "gift-from-company", lines)
    assert dict(zip([shipper for shipper, _ in cases], fired, strict=True)) == dict(cases)


def test_gift_from_company_names_the_legal_form_read(screen_lines: Screen) -> None:
    """The flag says which token made the shipper a company (``screen explain`` prints it)."""
    result = screen_lines(
        {**GIFT, "package_id": "P1", "shipper_name": "Shenzhen Xinda Trading Co., Ltd."},
        {**GIFT, "package_id": "P2", "shipper_name": "Müller Versand GmbH & Co. KG", "consignee_name": "Ann"},
    )
    details = dict(
        result.flags.filter(pl.col("rule_id") == "gift-from-company").select("package_id", "detail").rows()
    )
    assert details == {"P1": "shipper's legal form: CO LTD", "P2": "shipper's legal form: GMBH CO KG"}
    assert result.flags.filter(pl.col("rule_id") != "gift-from-company")["detail"].is_null().all()


def test_gift_split_shipper(screen_lines: Screen) -> None:
    """Two packages from one sender to one person on one day, one of them a gift, went unflagged."""
    second_packages = {
        "two-gifts": ({}, True),
        "gift-and-purchase": ({"gift": "false"}, True),
        "two-shippers": ({"shipper_name": "Rheinblick Handel"}, False),
        "two-days": ({"arrival_date": "2025-10-16"}, False),
    }
    person = {**GIFT, "shipper_name": "Li Wei"}
    fired = {}
    for case, (second, _) in second_packages.items():
        result = screen_lines({**person, "package_id": "P1"}, {**person, "package_id": "P2", **second})
        fired[case] = "gift-split-shipper" in flags(result, "P1")
        assert "gift-from-company" not in flags(result, "P1")
    assert fired == {case: fires for case, (_, fires) in second_packages.items()}


def test_gift_split_shipper_quiet_while_de_minimis_is_in_force(screen_lines: Screen) -> None:
    person = {**GIFT, "shipper_name": "Li Wei", "arrival_date": "2025-03-10"}
    result = screen_lines({**person, "package_id": "P1"}, {**person, "package_id": "P2"})
    assert "gift-split-shipper" not in flags(result, "P1")
    # The same pair of Chinese goods: de minimis ended for CN on 2025-05-02, not yet on 2025-03-10.
    cn = {**person, "country_of_origin": "CN", "shipper_country": "CN", "arrival_date": "2025-06-10"}
    assert "gift-split-shipper" in flags(
        screen_lines({**cn, "package_id": "P1"}, {**cn, "package_id": "P2"}), "P1"
    )
