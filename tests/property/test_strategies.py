"""The strategies draw what the engine's rules depend on (no engine run: a hundred draws of each strategy).

An invariant holds vacuously where its inputs never meet a rule: these say that drawn manifests and packs
do meet placeholder ids, zero quantities, a person's packages on one day and the Chapter 99 entry limit.
"""

from __future__ import annotations

import dataclasses
import functools
import tomllib
from decimal import Decimal
from typing import TypeVar

from hypothesis import Phase, given, settings
from hypothesis import strategies as st

import screening
from screening.rulepack.loader import check_pack
from screening.rulepack.models import DeMinimisRules
from screening.testing import (
    LabelledManifest,
    de_minimis_packs,
    is_placeholder_id,
    labelled_manifests,
)

T = TypeVar("T")


def _draws(strategy: st.SearchStrategy[T], count: int = 100) -> list[T]:
    """``count`` values drawn as a derandomized test run draws them (the same ones on every run, no shrinking)."""
    drawn: list[T] = []

    @settings(max_examples=count, database=None, derandomize=True, phases=(Phase.generate,))
    @given(strategy)
    def draw(value: T) -> None:
        drawn.append(value)

    draw()
    return drawn


@functools.cache
def _manifests() -> list[LabelledManifest]:
    """A hundred default manifests, drawn once for the tests of this file."""
    return _draws(labelled_manifests())


def _valid_rows(manifest: LabelledManifest) -> list[tuple[dict[str, str | None], str]]:
    return [
        (row, label.consignee or "")
        for row, label in zip(manifest.frame.to_dicts(), manifest.labels, strict=True)
        if label.kind == "valid"
    ]


def _people_sharing_a_placeholder_on_one_day(manifest: LabelledManifest) -> bool:
    """Two different people (by the generator's labels) write the same placeholder id on the same day."""
    seen: dict[tuple[str, str], set[str]] = {}
    for row, person in _valid_rows(manifest):
        written = row["consignee_id"]
        if written is not None and written.strip() and is_placeholder_id(written):
            key = (written.strip().lower(), (row["arrival_date"] or "").strip())
            seen.setdefault(key, set()).add(person)
    return any(len(people) >= 2 for people in seen.values())


def test_drawn_manifests_give_unrelated_people_the_same_placeholder_id_on_one_day() -> None:
    """No drawn consignee_id was ever a placeholder (nan, NULL, N/A): the invariants on consignee-day totals
    never met the ids that once made one consignee-day of unrelated people."""
    manifests = _manifests()
    assert any(_people_sharing_a_placeholder_on_one_day(m) for m in manifests)
    for manifest in manifests:
        for row, person in _valid_rows(manifest):
            if is_placeholder_id(row["consignee_id"]):
                assert person.startswith("name:"), (
                    "a person writing a placeholder id is known by name and ZIP"
                )


def test_drawn_manifests_write_zero_quantities_and_weights() -> None:
    """Quantities and weights were never 0, which a specific rate counts as not given (``needs-quantity``)."""
    manifests = _manifests()
    for column in ("quantity", "gross_weight_kg"):
        zeros = [v for m in manifests for v in m.frame[column].to_list() if v is not None and Decimal(v) == 0]
        assert zeros, column


def test_drawn_manifests_give_one_person_several_packages_on_one_day() -> None:
    """Every package drew its date from over a hundred days, so a person's packages seldom met on one day and
    the consignee-day totals were mostly one package's."""

    def busy(manifest: LabelledManifest) -> bool:
        packages: dict[tuple[str, str], set[str]] = {}
        for row, person in _valid_rows(manifest):
            day = (row["arrival_date"] or "").strip()
            packages.setdefault((person, day), set()).add(row["package_id"] or "")
        return any(len(p) >= 3 for p in packages.values())

    assert any(busy(m) for m in _manifests())


def test_drawn_packs_have_a_chapter99_entry_limit_and_its_suspension(us_pack: screening.RulePack) -> None:
    """The drawn de minimis files never had a lower informal limit for Chapter 99 articles, nor a day it is
    suspended; the drawn one loads as the loader checks a pack."""
    drawn = _draws(de_minimis_packs())
    assert any(p.chapter99_max_usd is None for p in drawn)
    small = next(p for p in drawn if p.chapter99_max_usd is not None and p.chapter99_until is not None)
    assert small.chapter99_until in small.boundaries()
    rules = DeMinimisRules.model_validate(tomllib.loads(small.toml()))
    limits = rules.entry_limits
    assert [limit.chapter99_max_usd for limit in limits] == [small.chapter99_max_usd, None]
    assert limits[0].effective_to == limits[1].effective_from == small.chapter99_until
    check_pack(dataclasses.replace(us_pack, de_minimis=rules, content_hash="sha256:" + "0" * 64))


def test_drawn_packs_suspend_the_chapter99_entry_limit_as_the_us_pack_does(
    us_pack: screening.RulePack,
) -> None:
    """The drawn files ended the lower limit for Chapter 99 articles by dropping it, where the U.S. pack keeps it
    with ``chapter99_suspended = true`` (and unconfirmed), which is what the engine notes and marks."""
    drawn = _draws(de_minimis_packs(chapter99_always=True, chapter99_suspensions=True))
    assert all(p.chapter99_max_usd is not None for p in drawn)
    assert {p.entry_limit_confidence for p in drawn} == {"confirmed", "unconfirmed"}
    small = next(
        p for p in drawn if p.chapter99_end == "suspended" and p.entry_limit_confidence == "unconfirmed"
    )
    rules = DeMinimisRules.model_validate(tomllib.loads(small.toml()))
    first, then = rules.entry_limits
    assert (first.chapter99_suspended, then.chapter99_suspended) == (False, True)
    assert first.effective_to == then.effective_from == small.chapter99_until
    assert then.chapter99_max_usd == small.chapter99_max_usd
    assert then.chapter99_headings == small.chapter99_headings
    assert {first.confidence, then.confidence} == {"unconfirmed"}
    check_pack(dataclasses.replace(us_pack, de_minimis=rules, content_hash="sha256:" + "0" * 64))


def test_drawn_manifests_take_their_declared_values_from_the_values_knob() -> None:
    """A test puts the values on the limits of the pack it draws ($2,500.00 and $2,500.01)."""
    on_the_limit = ("2500.00", "2500.01")
    drawn = _draws(labelled_manifests(values=st.sampled_from(on_the_limit)), count=20)
    values = {v for m in drawn for v in m.frame["declared_value"].to_list()}
    assert values == set(on_the_limit)


def test_drawn_manifests_write_one_id_several_ways_and_codes_as_decimals() -> None:
    """Ids were always written as the person's (``C000000123``), ZIPs and ports as their digits: the invariants
    never met ``c-000000123`` for one person, nor ``2134.0`` for ZIP 02134 (as a float column saved as text)."""
    manifests = _manifests()
    spellings: dict[str, set[str]] = {}
    for manifest in manifests:
        for row, person in _valid_rows(manifest):
            if person.startswith("id:"):
                spellings.setdefault(person, set()).add(row["consignee_id"] or "")
    assert any(len(written) >= 2 for written in spellings.values())
    for column in ("consignee_postal_code", "port_of_entry"):
        written = [v for m in manifests for v in m.frame[column].to_list() if v is not None]
        assert any(v.endswith(".0") for v in written), column
