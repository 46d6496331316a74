"""Loading the U.S. pack and resolving a date (issue #3: well under a second each)."""

from __future__ import annotations

import datetime as dt

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

import screening
from screening.rulepack.resolve import resolve

from .conftest import ROOT


@pytest.mark.benchmark(group="rule-pack")
def test_load_us_pack(benchmark: BenchmarkFixture) -> None:
    pack = benchmark(screening.load_rules, ROOT / "rules" / "us")
    assert len(pack.tariff.measures) > 100
    benchmark.extra_info["checked"] = True


@pytest.mark.benchmark(group="rule-pack")
def test_resolve_one_date(benchmark: BenchmarkFixture, us_pack: screening.RulePack) -> None:
    resolved = benchmark(resolve, us_pack, [dt.date(2025, 9, 15)])
    assert resolved.days["threshold_cents"].to_list() == [80000]
    assert resolved.measures.height > 0
    benchmark.extra_info["checked"] = True
