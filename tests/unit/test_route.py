"""Routing: capacity per queue, port and day; stable ranks; a reproducible stratified random sample."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import screening
from screening.explain import explain_package
from screening.explain_text import render_text
from screening.exprs.stable_hash import fnv1a64, mixed64
from screening.rulepack.risk_models import Queue
from screening.rulepack.risk_resolve import resolve_risk
from screening.stages.route import random_sample, route_packages

from ..conftest import BASE_LINE, SAMPLE, US_PACK


def _fnv_reference(text: str) -> int:
    """FNV-1a 64 written out byte by byte (the published algorithm)."""
    value = 0xCBF29CE484222325
    for byte in text.encode():
        value = ((value ^ byte) * 0x100000001B3) % (1 << 64)
    return value


def _fmix64_reference(value: int) -> int:
    """MurmurHash3's fmix64 written out (the published finaliser)."""
    mask = (1 << 64) - 1
    value ^= value >> 33
    value = (value * 0xFF51AFD7ED558CCD) & mask
    value ^= value >> 33
    value = (value * 0xC4CEB9FE1A85EC53) & mask
    return value ^ (value >> 33)


def test_the_mixer_is_fmix64() -> None:
    values = [0, 1, 0xCBF29CE484222325, (1 << 64) - 1, None]
    mixed = mixed64(pl.Series(values, dtype=pl.UInt64())).to_list()
    assert mixed == [None if v is None else _fmix64_reference(v) for v in values]
    assert mixed[0] == 0
    assert len(set(mixed[1:4])) == 3


def test_the_hash_is_fnv1a64_whatever_the_library_version() -> None:
    ids = ["SYN0000000001", "ß-ü-中", "", "x" * 70]
    assert fnv1a64(pl.Series(ids), prefix="seed:").to_list() == [_fnv_reference("seed:" + i) for i in ids]
    # Published test vectors of FNV-1a 64.
    assert fnv1a64(pl.Series(["", "a", "foobar"])).to_list() == [
        0xCBF29CE484222325,
        0xAF63DC4C8601EC8C,
        0x85944171F73967E8,
    ]


@settings(max_examples=200, deadline=None)
@given(texts=st.lists(st.one_of(st.none(), st.text(max_size=40)), max_size=30), prefix=st.text(max_size=5))
def test_the_hash_equals_the_published_algorithm_for_any_text(texts: list[str | None], prefix: str) -> None:
    expected = [None if t is None else _fnv_reference(prefix + t) for t in texts]
    assert fnv1a64(pl.Series(texts, dtype=pl.String()), prefix=prefix).to_list() == expected


def test_the_hash_of_a_slice_and_of_nulls() -> None:
    series = pl.Series(["a", None, "foobar", "b"]).slice(1, 3)
    assert fnv1a64(series).to_list() == [None, 0x85944171F73967E8, _fnv_reference("b")]


@pytest.fixture(scope="module")
def sample_run(us_pack: screening.RulePack) -> screening.Result:
    return screening.screen(SAMPLE / "manifest_10k.parquet", rules=us_pack)


def test_no_queue_holds_more_than_its_capacity_per_port_and_day(sample_run: screening.Result) -> None:
    queues = sample_run.queues
    assert queues.height > 0
    loads = (
        queues.filter(pl.col("disposition") == "inspect")
        .group_by("queue", "port_of_entry", "arrival_date")
        .agg(pl.len().alias("inspected"), pl.col("capacity").first())
    )
    assert (loads["inspected"] <= loads["capacity"]).all()
    # Beyond capacity packages are deferred (or sampled), never dropped: every flagged package is queued.
    flagged = sample_run.packages.filter(pl.col("risk_flags").list.len() > 0)
    assert set(flagged["package_id"]) == set(queues["package_id"])
    assert (
        queues.filter(pl.col("queue_rank") > pl.col("capacity"))["disposition"]
        .is_in(["deferred", "sample"])
        .all()
    )


def test_ranks_follow_score_then_the_seeded_tie_break(sample_run: screening.Result) -> None:
    seed = sample_run.summary["risk"]["random_sample"]["seed"]
    ties_broken = 0
    for _, group in sample_run.queues.group_by("queue", "port_of_entry", "arrival_date"):
        ordered = group.sort("queue_rank")
        assert ordered["queue_rank"].to_list() == list(range(1, group.height + 1))
        ids = ordered["package_id"].to_list()
        draws = [_fmix64_reference(_fnv_reference(f"{seed}:queue:{i}")) for i in ids]
        keys = list(zip((-ordered["risk_score"]).to_list(), draws, ids, strict=True))
        assert keys == sorted(keys)
        ties_broken += ordered["risk_score"].is_duplicated().sum()
    assert ties_broken > 100  # the tie-break decides real ranks in the sample


def test_package_ids_that_sort_last_are_not_deferred_for_it(us_pack: screening.RulePack) -> None:
    # 60 packages of one score in one queue, port and day whose capacity is 40 (SYNTHETIC lines, one consignee
    # each): ranked by id, the 20 deferred would all be those whose ids sort last.
    ids = [f"A{n:03d}" for n in range(30)] + [f"ZZZ{n:03d}" for n in range(30)]
    lines = pl.DataFrame(
        [
            {**BASE_LINE, "package_id": i, "consignee_name": f"Consignee {i}", "description": "pill press"}
            for i in ids
        ]
    )
    queues = screening.screen(lines, rules=us_pack).queues
    assert queues.height == 60
    assert queues["risk_score"].n_unique() == 1
    assert queues["queue"].n_unique() == 1
    assert queues["capacity"].unique().to_list() == [40]
    deferred = queues.filter(pl.col("queue_rank") > pl.col("capacity"))["package_id"]
    assert deferred.len() == 20
    assert 0 < deferred.str.starts_with("ZZZ").sum() < 20


def test_each_package_goes_to_its_highest_priority_queue(
    sample_run: screening.Result, us_pack: screening.RulePack
) -> None:
    priority = {q.name: q.priority for q in us_pack.queues.queues}
    own = {r.id: r.queue for r in us_pack.risk.rules}
    extra = {rid: q.name for q in us_pack.queues.queues for rid in q.routes}
    for row in sample_run.packages.filter(pl.col("queue").is_not_null()).iter_rows(named=True):
        candidates = {own[f] for f in row["risk_flags"]} | {extra[f] for f in row["risk_flags"] if f in extra}
        assert row["queue"] == min(candidates, key=lambda q: priority[q])


def test_reruns_and_shuffled_input_give_the_same_ranks_and_sample(
    sample_run: screening.Result, us_pack: screening.RulePack
) -> None:
    shuffled = pl.read_parquet(SAMPLE / "manifest_10k.parquet").sample(fraction=1.0, shuffle=True, seed=7)
    again = screening.screen(shuffled, rules=us_pack)
    columns = [
        "package_id",
        "risk_score",
        "risk_flags",
        "queue",
        "queue_rank",
        "disposition",
        "random_sample",
    ]
    assert again.packages.select(columns).equals(sample_run.packages.select(columns))
    assert again.queues.equals(sample_run.queues)


def test_the_seed_changes_the_sample_and_the_order_of_ties_only(
    sample_run: screening.Result, us_pack: screening.RulePack
) -> None:
    other = screening.screen(SAMPLE / "manifest_10k.parquet", rules=us_pack, seed="another seed")
    assert not other.packages["random_sample"].equals(sample_run.packages["random_sample"])
    assert other.packages.select("package_id", "risk_score", "queue").equals(
        sample_run.packages.select("package_id", "risk_score", "queue")
    )
    assert not other.packages["queue_rank"].equals(sample_run.packages["queue_rank"])
    # Each rank moves only among packages of its queue, port, day and score.
    group = ["queue", "port_of_entry", "arrival_date", "risk_score"]
    ranks = [pl.col("queue_rank").min().alias("first"), pl.col("queue_rank").max().alias("last")]
    assert (
        other.queues.group_by(group)
        .agg(ranks)
        .sort(group)
        .equals(sample_run.queues.group_by(group).agg(ranks).sort(group))
    )
    assert other.summary["risk"]["random_sample"]["seed"] == "another seed"


def test_a_private_seed_samples_and_ranks_as_the_same_text_and_is_recorded_by_its_fingerprint(
    sample_run: screening.Result, us_pack: screening.RulePack
) -> None:
    secret = "Kq3-route-private-seed-77"
    source = SAMPLE / "manifest_10k.parquet"
    public = screening.screen(source, rules=us_pack, seed=secret)
    private = screening.screen(source, rules=us_pack, seed=screening.PrivateSeed(secret))
    for name in ("lines", "packages", "components", "flags", "queues", "rejects"):
        assert getattr(private, name).equals(getattr(public, name)), name
    fingerprint = hmac.new(secret.encode(), b"screening seed id", hashlib.sha256).hexdigest()[:16]
    record = {"seed_private": "true", "seed_id": fingerprint}
    sample = private.summary["risk"]["random_sample"]
    assert {k: sample[k] for k in ("seed", "seed_private", "seed_id") if k in sample} == record
    assert sample["packages"] == public.summary["risk"]["random_sample"]["packages"] > 0
    assert {k: v for k, v in private.summary["options"].items() if k not in record} == {
        k: v for k, v in public.summary["options"].items() if k != "seed"
    }
    assert {k: private.summary["options"][k] for k in record} == record
    assert secret not in json.dumps(private.summary)
    assert secret not in repr(screening.PrivateSeed(secret)) + str(screening.PrivateSeed(secret))
    # The private seed is used, not the pack's: the pack's seed draws another sample.
    assert public.summary["risk"]["random_sample"]["seed"] == secret
    assert not sample_run.packages["random_sample"].equals(private.packages["random_sample"])


@pytest.mark.parametrize("value", ["", 42, None])
def test_a_private_seed_is_a_non_empty_text(value: object) -> None:
    with pytest.raises(screening.UsageError, match="non-empty text"):
        screening.PrivateSeed(value)  # type: ignore[arg-type]


def test_sample_rates_follow_the_most_specific_stratum(us_pack: screening.RulePack) -> None:
    day = dt.date(2025, 6, 1)
    risk = resolve_risk(us_pack, [day], seed="strata")
    n = 200_000
    packages = pl.DataFrame(
        {
            "package_id": [f"PKG{i:07d}" for i in range(n)],
            "arrival_date": [day] * n,
            "mode": ["postal", "express", "express", "cargo"] * (n // 4),
            "country_of_origin": ["DE", "DE", "CN", "GB"] * (n // 4),
        }
    )
    chosen = packages.with_columns(random_sample(packages, risk).alias("s"))
    share = (
        chosen.group_by("mode", "country_of_origin").agg(pl.col("s").mean()).sort("mode", "country_of_origin")
    )
    rates = {(m, o): r for m, o, r in share.iter_rows()}
    # Pack: base 0.5 %, postal 1 %, CN 0.8 %; 50,000 packages per stratum.
    assert rates[("postal", "DE")] == pytest.approx(0.01, abs=0.002)
    assert rates[("express", "CN")] == pytest.approx(0.008, abs=0.002)
    assert rates[("express", "DE")] == pytest.approx(0.005, abs=0.0015)
    assert rates[("cargo", "GB")] == pytest.approx(0.005, abs=0.0015)


def test_capacity_zero_defers_everything(
    us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame]
) -> None:
    risk = resolve_risk(us_pack, [dt.date(2025, 3, 10)])
    zero = risk.capacities.with_columns(pl.lit(0, dtype=pl.Int64()).alias("capacity"))
    packages = pl.DataFrame(
        {
            "package_id": ["A", "B"],
            "arrival_date": [dt.date(2025, 3, 10)] * 2,
            "mode": ["express"] * 2,
            "port_of_entry": ["4701"] * 2,
            "country_of_origin": ["DE"] * 2,
            "risk_score": [20, 30],
            "risk_flags": [["vague-description"], ["structuring-consignee-day"]],
        }
    )
    no_sample = risk.sample_rates.with_columns(pl.lit(0, dtype=pl.Int64()).alias("rate_ppm"))
    routed = route_packages(
        packages,
        type(risk)(**{**risk.__dict__, "capacities": zero, "sample_rates": no_sample}),
    )
    assert routed["disposition"].to_list() == ["deferred", "deferred"]
    assert routed["queue"].to_list() == ["documentation", "structuring"]


def test_the_sample_is_the_published_hash_below_the_rate(us_pack: screening.RulePack) -> None:
    """README: sampled when FNV-1a-64(``seed:package_id``) mod 1,000,000 is below the rate in parts per
    million; with the rate set to one package's own bucket, that package is not sampled and every package
    below it is."""
    day = dt.date(2025, 3, 10)
    risk = resolve_risk(us_pack, [day], seed="audit")
    ids = [f"PKG{i:04d}" for i in range(2_000)]
    buckets = [_fnv_reference(f"audit:{i}") % 1_000_000 for i in ids]
    rate = sorted(buckets)[len(buckets) // 2]
    rates = risk.sample_rates.with_columns(pl.lit(rate, dtype=pl.Int64()).alias("rate_ppm"))
    packages = pl.DataFrame(
        {
            "package_id": ids,
            "arrival_date": [day] * len(ids),
            "mode": ["express"] * len(ids),
            "country_of_origin": ["DE"] * len(ids),
        }
    )
    sampled = random_sample(packages, type(risk)(**{**risk.__dict__, "sample_rates": rates}))
    assert sampled.to_list() == [b < rate for b in buckets]
    assert sampled[buckets.index(rate)] is False


def test_a_queue_inspects_exactly_its_capacity(us_pack: screening.RulePack) -> None:
    risk = resolve_risk(us_pack, [dt.date(2025, 3, 10)])
    two = risk.capacities.with_columns(pl.lit(2, dtype=pl.Int64()).alias("capacity"))
    no_sample = risk.sample_rates.with_columns(pl.lit(0, dtype=pl.Int64()).alias("rate_ppm"))
    packages = pl.DataFrame(
        {
            "package_id": ["A", "B", "C"],
            "arrival_date": [dt.date(2025, 3, 10)] * 3,
            "mode": ["express"] * 3,
            "port_of_entry": ["4701"] * 3,
            "country_of_origin": ["DE"] * 3,
            "risk_score": [30, 20, 10],
            "risk_flags": [["vague-description"]] * 3,
        }
    )
    routed = route_packages(
        packages, type(risk)(**{**risk.__dict__, "capacities": two, "sample_rates": no_sample})
    ).sort("package_id")
    assert routed["queue_rank"].to_list() == [1, 2, 3]
    assert routed["disposition"].to_list() == ["inspect", "inspect", "deferred"]


def test_an_origin_stratum_outranks_a_mode_stratum(us_pack: screening.RulePack) -> None:
    """README: the most specific stratum in force wins: mode and origin, then origin, then mode, then any.
    The pack has postal 1 % and CN 0.8 %: a postal package from CN is drawn at the CN rate."""
    day = dt.date(2025, 6, 1)
    risk = resolve_risk(us_pack, [day], seed="strata")
    ids = [f"PKG{i:05d}" for i in range(20_000)]
    packages = pl.DataFrame(
        {"package_id": ids, "arrival_date": [day] * len(ids), "mode": ["postal"] * len(ids)}
    ).with_columns(country_of_origin=pl.lit("CN"))
    expected = [_fnv_reference(f"strata:{i}") % 1_000_000 < 8_000 for i in ids]
    assert random_sample(packages, risk).to_list() == expected


def test_an_unlimited_queue_targets_every_package_routed_to_it(us_pack: screening.RulePack) -> None:
    """The denied-party queue held 50 per port and day: at the same score, a 60th hit (an exact match, say) was
    deferred behind fuzzy ones by package id, though a match must be resolved before release. It is unlimited."""
    lines = [
        {
            **BASE_LINE,
            "package_id": f"P{i:03d}",
            "consignee_name": "Banco Nacional de Cuba",
            "declared_value": "10",
        }
        for i in range(60)
    ]
    result = screening.screen(pl.DataFrame(lines), rules=us_pack)
    queued = result.queues.filter(pl.col("queue") == "denied-party")
    assert queued.height == 60
    assert queued["capacity"].null_count() == 60
    assert set(queued["disposition"]) == {"inspect"}
    [queue] = [q for q in us_pack.queues.queues if q.name == "denied-party"]
    assert queue.capacity_per_port_day == "unlimited"


def test_a_negative_capacity_is_refused_and_an_unlimited_one_explained(
    us_pack: screening.RulePack, tmp_path: Path
) -> None:
    """Making capacity "unlimited" had dropped the check that a capacity is not negative (every package of such
    a queue was deferred); explain printed "capacity None" for an unlimited queue."""
    with pytest.raises(ValueError, match="greater than or equal to 0"):
        Queue(name="q", priority=1, capacity_per_port_day=-5)
    line = {**BASE_LINE, "package_id": "HIT", "consignee_name": "Banco Nacional de Cuba"}
    result = screening.screen(pl.DataFrame([line]), rules=us_pack)
    out = result.write(tmp_path / "run")
    text = render_text(explain_package(out, "HIT"))
    assert "of capacity unlimited → inspect" in text


def test_a_port_written_101_or_101_0_is_port_0101_and_takes_its_capacity(tmp_path: Path) -> None:
    """Ports ``0101``, ``101`` and ``101.0`` were three ports, each with a day's capacity of its own (and none
    of them but ``0101`` the capacity ``capacity_by_port`` gave 0101): one port's queue examined three
    packages where it can examine one."""
    pack = tmp_path / "pack"
    shutil.copytree(US_PACK, pack)
    text = (pack / "queues.toml").read_text()
    queue = 'name = "undervaluation"\npriority = 7\ncapacity_per_port_day = 30\n'
    assert queue in text
    (pack / "queues.toml").write_text(text.replace(queue, queue + 'capacity_by_port = { "0101" = 1 }\n'))
    lines = [
        {
            **BASE_LINE,
            "package_id": f"A{i}",
            "consignee_name": f"Ann {i}",
            "port_of_entry": port,
            "declared_value": "790",
        }
        for i, port in enumerate(["0101", "101", "101.0"], start=1)
    ]
    queued = screening.screen(pl.DataFrame(lines), rules=screening.load_rules(pack)).queues
    assert queued.select("queue", "port_of_entry", "capacity").unique().rows() == [
        ("undervaluation", "0101", 1)
    ]
    assert sorted(queued["disposition"]) == ["deferred", "deferred", "inspect"]


@pytest.mark.parametrize("port", ["101", "101.0", "7", " 0101"])
def test_a_capacity_for_a_port_as_no_run_reads_it_is_refused(port: str) -> None:
    """No package's port reads as ``101`` (a run reads it ``0101``): the override applied to nothing."""
    with pytest.raises(ValueError, match=rf"4-digit codes with their leading zeros.*\['{port}'\]"):
        Queue(name="q", priority=1, capacity_per_port_day=5, capacity_by_port={port: 1})


@pytest.mark.parametrize("port", ["", " ", "N/A", "nan", "NaN", "NULL", "none", "nil", "#N/A", "<NA>", "\\N"])
def test_a_capacity_for_a_word_a_run_reads_as_no_port_is_refused(port: str) -> None:
    """A run reads a blank port or a word for none (``N/A``, ``nan``) as no port: the override for it applied to
    nothing, silently (its packages took the queue's capacity)."""
    with pytest.raises(ValueError, match="read as no port") as refused:
        Queue(name="q", priority=1, capacity_per_port_day=5, capacity_by_port={port: 1, "0101": 2})
    assert f"keys [{port!r}] are read as no port" in str(refused.value)
    assert "a port code as a run reads port_of_entry" in str(refused.value)


@pytest.mark.parametrize("port", ["0101", "JFK", "02720"])
def test_a_capacity_for_a_port_as_runs_read_it_is_taken(port: str) -> None:
    """Port text other than 1-3 digits or a decimal is kept as written by runs (``JFK``): so is its key."""
    queue = Queue(name="q", priority=1, capacity_per_port_day=5, capacity_by_port={port: 1})
    assert queue.capacity_by_port == {port: 1}
