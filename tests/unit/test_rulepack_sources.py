"""The pack's source list (``sources.toml``): the model, the check that every citation's tag is listed, and
``screen rules show`` printing the tags' URLs."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import ValidationError

import screening
from screening.cli import main
from screening.errors import RulePackError
from screening.rulepack.models import Source, SourceList
from screening.rules_show import rules_in_force

from ..conftest import US_PACK

#: Every ``sources = [...]`` list written in a TOML file of a pack, and each quoted tag in one.
_TAG_LIST = re.compile(r"\bsources = \[([^\]]*)\]")
_QUOTED = re.compile(r'"([^"]*)"')


def copy_pack(tmp_path: Path) -> Path:
    pack = tmp_path / "us"
    shutil.copytree(US_PACK, pack, ignore=shutil.ignore_patterns("scenarios"))
    return pack


def load_error(pack: Path) -> str:
    with pytest.raises(RulePackError) as info:
        screening.load_rules(pack)
    return str(info.value)


def written_tags(pack: Path) -> set[str]:
    """The tags the citations of ``pack`` name, read from its TOML text (not through the loader)."""
    return {
        tag
        for path in pack.rglob("*.toml")
        if path.name != "sources.toml" and "scenarios" not in path.parts
        for listed in _TAG_LIST.findall(path.read_text(encoding="utf-8"))
        for tag in _QUOTED.findall(listed)
    }


# --- the model ---------------------------------------------------------------------------------------------


def test_source_list_keeps_tags_and_urls_in_file_order() -> None:
    listed = SourceList.model_validate(
        {
            "sources": [
                {"tag": "S37", "url": "https://example.org/a"},
                {"tag": "S37b", "url": "https://example.org/b"},
                {"tag": "S152", "url": "http://example.org/c?x=1"},
            ]
        }
    )
    assert listed.urls == {
        "S37": "https://example.org/a",
        "S37b": "https://example.org/b",
        "S152": "http://example.org/c?x=1",
    }
    assert list(listed.urls) == ["S37", "S37b", "S152"]


@pytest.mark.parametrize(
    "tag", ["s01", "S", "01", "S-1", "S1B", "S1bb", "[S12]", "S01 ", " S01", "S01\n", "S０1"]
)
def test_source_tag_must_be_s_and_digits(tag: str) -> None:
    with pytest.raises(ValidationError) as info:
        Source.model_validate({"tag": tag, "url": "https://example.org"})
    assert "must be S and digits" in str(info.value)
    assert info.value.errors()[0]["loc"] == ("tag",)


@pytest.mark.parametrize("url", ["", "   ", "\t"])
def test_source_url_must_not_be_blank(url: str) -> None:
    with pytest.raises(ValidationError, match="source S05: url is blank"):
        Source.model_validate({"tag": "S05", "url": url})


def test_source_url_with_white_space_is_refused() -> None:
    with pytest.raises(ValidationError, match="has white space in it"):
        Source.model_validate({"tag": "S05", "url": "https://example.org/a b"})


def test_source_needs_a_url_and_takes_no_other_key() -> None:
    with pytest.raises(ValidationError, match="Field required"):
        Source.model_validate({"tag": "S05"})
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        Source.model_validate({"tag": "S05", "url": "https://example.org", "effective_from": "2025-01-01"})


def test_duplicate_source_tags_are_refused_naming_both_entries() -> None:
    entries = [
        {"tag": "S01", "url": "https://example.org/a"},
        {"tag": "S02", "url": "https://example.org/b"},
        {"tag": "S01", "url": "https://example.org/c"},
    ]
    with pytest.raises(ValidationError, match=r"duplicate source tag 'S01': sources\[0\] and sources\[2\]"):
        SourceList.model_validate({"sources": entries})


# --- the bundled pack ----------------------------------------------------------------------------------------


def test_the_bundled_pack_lists_every_tag_its_citations_name(us_pack: screening.RulePack) -> None:
    """DOMAIN.md section 10 lists 148 sources (S01 to S152, some numbers unused, S37b beside S37); every tag
    written in a citation of the pack resolves to a URL."""
    assert len(us_pack.sources) == 148
    assert us_pack.sources["S01"] == "https://thefederalregister.org/81-FR/58831"
    assert (
        us_pack.sources["S37b"]
        == "https://www.janelgroup.com/news-and-blog/2025/5/20/market-update-july-8-2025-8fatd-3gwfh"
    )
    assert us_pack.sources["S152"] == "https://vatabout.com/japan-2026-tax-reform-consumption-tax-changes"
    used = written_tags(US_PACK)
    assert len(used) > 80  # the text pattern found the pack's tags
    assert used <= set(us_pack.sources), sorted(used - set(us_pack.sources))
    for rule in us_pack.all_rules():
        assert set(rule.citation.sources) <= set(us_pack.sources), rule.id
    assert us_pack.source_urls(us_pack.tariff.mfn.citation) == {"S120": us_pack.sources["S120"]}


def test_a_citation_linking_a_listed_source_names_that_source(us_pack: screening.RulePack) -> None:
    """The 34 reciprocal measures of 2025-04-09 (and CN's 84%) linked S18's page (DOMAIN.md 3c: "Rates for other
    countries are in [S18]") while their `sources` named S111, S112, S113 and S99 only: `rules show` printed the
    link of a source the entry did not list. A citation whose url is a listed source's names that source."""
    tag_of = {url: tag for tag, url in us_pack.sources.items()}
    unnamed = [
        (rule.id, tag_of[rule.citation.url])
        for rule in us_pack.all_rules()
        if rule.citation.url in tag_of and tag_of[rule.citation.url] not in rule.citation.sources
    ]
    assert unnamed == []
    cited = {rule.id: rule.citation for rule in us_pack.all_rules()}
    assert "S18" in cited["ieepa-reciprocal-72-2025-04-09"].sources
    assert "S18" in cited["ieepa-reciprocal-cn-84"].sources


# --- load-time check -------------------------------------------------------------------------------------------


def test_an_unknown_tag_of_a_measure_names_its_own_file_entry_and_tag(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    path = pack / "measures" / "s301.toml"
    text = path.read_text(encoding="utf-8")
    second = [m.start() for m in re.finditer(r"\bsources = \[", text)][1]
    path.write_text(
        text[:second] + text[second:].replace('sources = ["', 'sources = ["S999", "', 1), encoding="utf-8"
    )
    message = load_error(pack)
    assert "measures/s301.toml [measures[1].citation.sources[0] (id " in message
    assert "source tag 'S999' is not listed in sources.toml (did you mean 'S99'?)" in message


@pytest.mark.parametrize(
    ("file", "pattern", "replacement", "where"),
    [
        # The first tag list of each file: the tariff table's citation, the first risk rule's.
        ("tariff.toml", r'sources = \["', 'sources = ["S0", "', "tariff.toml [mfn.citation.sources[0]]"),
        ("risk.toml", r'sources = \["', 'sources = ["S0", "', "risk.toml [rules[0].citation.sources[0] (id "),
        (
            "fx.toml",
            r"^\[rates\.citation\]$",
            '[rates.citation]\nsources = ["S0"]',
            "fx.toml [rates.citation.sources[0]]",
        ),
    ],
)
def test_an_unknown_tag_anywhere_in_the_pack_is_refused(
    tmp_path: Path, file: str, pattern: str, replacement: str, where: str
) -> None:
    """Tables and risk rules are cited too: their tags are checked like the dated rules'."""
    pack = copy_pack(tmp_path)
    path = pack / file
    after, count = re.subn(
        pattern, replacement, path.read_text(encoding="utf-8"), count=1, flags=re.MULTILINE
    )
    assert count == 1
    path.write_text(after, encoding="utf-8")
    message = load_error(pack)
    assert where in message
    assert "source tag 'S0' is not listed in sources.toml" in message


def test_an_unknown_tag_of_a_sampling_rate_names_queues_toml(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    path = pack / "queues.toml"
    text = path.read_text(encoding="utf-8")
    after, count = re.subn(
        r'(\[\[sampling\.rates\]\][^\[]*?citation = \{ instrument = "[^"]*")',
        r'\1, sources = ["S24"]',
        text,
        count=1,
        flags=re.DOTALL,
    )
    assert count == 1
    path.write_text(after, encoding="utf-8")
    message = load_error(pack)
    assert "queues.toml [sampling.rates[0].citation.sources[0] (id " in message
    assert "source tag 'S24' is not listed in sources.toml" in message  # DOMAIN.md has no S24


def test_a_pack_without_a_source_list_may_name_no_tag(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    (pack / "sources.toml").unlink()
    message = load_error(pack)
    assert "de_minimis.toml [thresholds[0].citation.sources[0] (id threshold-800-tftea)]" in message
    assert "source tag 'S03', but the pack has no sources.toml" in message


def test_a_pack_without_a_source_list_or_tags_loads(tmp_path: Path) -> None:
    """A third-party pack need not keep a source list: without one, its citations name no tag."""
    pack = copy_pack(tmp_path)
    (pack / "sources.toml").unlink()
    for path in pack.rglob("*.toml"):
        text = path.read_text(encoding="utf-8")
        path.write_text(re.sub(r",? *\bsources = \[[^\]]*\]", "", text), encoding="utf-8")
    assert written_tags(pack) == set()
    loaded = screening.load_rules(pack)
    assert loaded.sources == {}
    shown = rules_in_force(loaded, dt.date(2025, 9, 1), origin="CN")
    assert shown
    assert all(entry.sources == {} for entry in shown)


def test_the_source_list_is_part_of_the_pack_version(tmp_path: Path, us_pack: screening.RulePack) -> None:
    pack = copy_pack(tmp_path)
    path = pack / "sources.toml"
    path.write_text(path.read_text(encoding="utf-8").replace("https://tariff2usa.com", "https://example.org"))
    loaded = screening.load_rules(pack)
    assert loaded.sources["S112"] == "https://example.org"
    assert loaded.content_hash != screening.load_rules(copy_pack(tmp_path / "again")).content_hash


# --- rules show ------------------------------------------------------------------------------------------------


def test_rules_show_gives_each_rule_the_urls_of_its_sources(us_pack: screening.RulePack) -> None:
    entries = {
        e.rule_id: e for e in rules_in_force(us_pack, dt.date(2025, 9, 1), origin="CN", hts="6109.10.00")
    }
    assert entries["threshold-800"].sources == {
        "S01": "https://thefederalregister.org/81-FR/58831",
        "S03": "http://www.fedex.com/ca_english/international/regulatorynews/de-minimis-value-increase.html",
        "S52": "https://www.law.cornell.edu/cfr/text/19/10.151?qt-cfr_tabs=3",
        "S78": "http://jdsupra.com/legalnews/us-customs-and-border-protection-and-6696504/",
    }
    assert entries["mfn"].sources == {
        "S120": "https://zonos.com/docs/postal/to-the-united-states/postal-tariffs"
    }
    for entry in entries.values():
        assert list(entry.sources) == list(_citation_tags(us_pack, entry.rule_id))


def _citation_tags(pack: screening.RulePack, rule_id: str) -> tuple[str, ...]:
    if rule_id == "mfn":
        return pack.tariff.mfn.citation.sources
    if rule_id == pack.fx.rates.file:
        return pack.fx.rates.citation.sources
    return next(r.citation.sources for r in pack.all_rules() if r.id == rule_id)


def test_rules_show_prints_each_source_once_with_its_url() -> None:
    done = CliRunner().invoke(
        main, ["rules", "show", str(US_PACK), "--date", "2025-09-01", "--origin", "CN"], env={"COLUMNS": "80"}
    )
    assert done.exit_code == 0, done.output
    lines = done.stdout.splitlines()
    # The threshold's citation names its tags; the URLs come once each, whole, after the rules.
    assert any(line.endswith("sources S01, S03, S52, S78") for line in lines)
    footer = lines[lines.index("sources of the rules above (the pack's sources.toml)") + 1 :]
    assert "    S01 https://thefederalregister.org/81-FR/58831" in footer
    long_url = (
        "    S20 https://myblacktree.com/blogs/latest-blog/us-suspends-duty-free-de-minimis-treatment-for-all-"
        "countries-summary-effective-august-29-2025"
    )
    assert long_url in footer  # not wrapped at 80 columns
    tags = [line.split()[0] for line in footer]
    assert len(tags) == len(set(tags)) == len(footer)
    assert tags == sorted(tags, key=lambda t: (int(re.sub(r"\D", "", t)), t))
    assert tags.index("S37") + 1 == tags.index("S37b")


def test_rules_show_json_gives_each_entry_its_sources() -> None:
    done = CliRunner().invoke(main, ["rules", "show", str(US_PACK), "--date", "2025-09-01", "--json"])
    assert done.exit_code == 0, done.output
    entries = {e["rule_id"]: e for e in json.loads(done.stdout)}
    assert entries["eo14324-all"]["sources"]["S11"] == (
        "https://www.govinfo.gov/content/pkg/FR-2025-08-05/html/2025-14897.htm"
    )
    assert all(isinstance(e["sources"], dict) for e in entries.values())
