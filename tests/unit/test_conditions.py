"""Risk conditions are data: only whitelisted columns, keywords and functions; never code."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

import screening
from screening.exprs.parties import normalised_name
from screening.rulepack.conditions import TEXT_TEST_PREFIX, ConditionError, compile_condition, text_tests
from screening.schema import RISK_COLUMN_TYPES

from ..conftest import BASE_LINE, ROOT, US_PACK


@pytest.mark.parametrize(
    "condition",
    [
        "value_usd > 100",
        "hts_heading IN ('2933', '2934') OR NOT gift",
        "REGEXP_LIKE(description_norm, '^gift$') AND LENGTH(description_norm) < 10",
        "COALESCE(country_of_export, country_of_origin) = 'MX'",
        "package_value_usd BETWEEN 0.9 * threshold_usd AND threshold_usd",
        "CASE WHEN mode = 'postal' THEN value_usd > 50 ELSE FALSE END",
        "description ILIKE '%vape%'",
    ],
)
def test_allowed_conditions_compile_to_boolean_expressions(condition: str) -> None:
    expr = compile_condition(condition, RISK_COLUMN_TYPES)
    empty = pl.DataFrame(schema=RISK_COLUMN_TYPES)
    assert empty.select(expr.alias("flag")).schema["flag"] == pl.Boolean()


@pytest.mark.parametrize(
    ("condition", "reason"),
    [
        ("secret_column > 1", "unknown column"),
        ("value_usd > (SELECT 1)", "subqueries"),
        ("value_usd IN (SELECT value_usd FROM lines)", "subqueries"),
        ("EXISTS (SELECT 1)", "subqueries"),
        ("__import__('os').system('true')", "unexpected character"),
        ("eval('1') = 1", "function 'eval'"),
        ("READ_CSV('x') = 1", "function 'READ_CSV'"),
        ("value_usd > 1; DROP TABLE lines", "unexpected character ';'"),
        ("value_usd > 1 -- comment", "comments"),
        ("value_usd > 1 /* c */", "comments"),
        ('"value_usd" > 1', "unexpected character"),
        ("value_usd + 1", "boolean"),
        ("description_norm > 3", "type-check"),
        ("value_usd >", "parse"),
    ],
)
def test_refused_conditions_say_why(condition: str, reason: str) -> None:
    with pytest.raises(ConditionError, match=reason):
        compile_condition(condition, RISK_COLUMN_TYPES)


@pytest.mark.parametrize(
    ("condition", "fault"),
    [
        ("REGEXP_LIKE(description_norm, '\\bøl\\b')", "'ø' as 'o'"),
        ("shipper_name_norm LIKE '%łódź%'", "'ł' as 'l'"),
        ("consignee_name_norm IN ('søren', 'straße')", "'ø' as 'o'"),
        ("value_usd > 1 AND description_norm = 'café'", "'é' as 'e'"),
        ("STARTS_WITH(description_norm, 'Æble')", "'Æ' as 'ae'"),
    ],
)
def test_a_text_with_a_letter_a_normal_form_folds_away_is_refused(condition: str, fault: str) -> None:
    """The normal forms fold ø, ł, æ, ß, ı and accents away: a pattern holding one never matched, silently."""
    with pytest.raises(ConditionError, match="a normal form, which writes") as refused:
        compile_condition(condition, RISK_COLUMN_TYPES)
    assert fault in str(refused.value)
    assert "write the text in the normal form" in str(refused.value)


def test_the_normal_form_a_refusal_suggests_is_the_one_the_text_would_match() -> None:
    """The suggestion folded letter by letter: ``ΣΑΚΟΣ`` was to be written ``σακοσ``, which the normal form
    (``σακος``, a final sigma) never writes; a run of such letters folds as one word, as the normal form folds it,
    and matches the normal form of the same words."""
    with pytest.raises(ConditionError) as refused:
        compile_condition("REGEXP_LIKE(description_norm, '\\bΣΑΚΟΣ δερμάτινος\\b')", RISK_COLUMN_TYPES)
    suggested = str(refused.value).rpartition("write the text in the normal form: ")[2].strip("'")
    assert suggested == "\\bσακος δερμάτινος\\b"
    normal = pl.DataFrame({"d": ["ΣΑΚΟΣ ΔΕΡΜΆΤΙΝΟΣ"]}).select(normalised_name(pl.col("d"))).item()
    assert pl.DataFrame({"d": [normal]}).select(pl.col("d").str.contains(suggested)).item()


@pytest.mark.parametrize(
    ("condition", "capitals", "written"),
    [
        ("description_norm = 'GIFT BOX'", "G, I, F, T, B, O, X", "'gift box'"),
        ("consignee_name_norm IN ('anna keller', 'John Smith')", "J, S", "'john smith'"),
        ("shipper_name_norm LIKE 'ACME%'", "A, C, M, E", "'acme%'"),
        ("shipper_name_norm NOT LIKE 'ACME%'", "A, C, M, E", "'acme%'"),
        ("value_usd > 1 AND STARTS_WITH(description_norm, 'Gift')", "G", "'gift'"),
        ("REGEXP_LIKE(consignee_name_norm, '^MICKEY')", "M, I, C, K, E, Y", "'^mickey'"),
        ("description_norm ~ '\\bGift\\B'", "G", "'\\bgift\\B'"),
        ("REGEXP_LIKE(description_norm, '\\p{Lu}\\xFF[A-Z]Vape(?U)')", "V", "'\\p{Lu}\\xFF[A-Z]vape(?U)'"),
        ("description_norm = 'Café'", "C", "'cafe'"),
    ],
)
def test_an_ascii_capital_a_lower_case_normal_form_never_holds_is_refused(
    condition: str, capitals: str, written: str
) -> None:
    """The normal forms are lower case: ``description_norm = 'GIFT BOX'`` or ``shipper_name_norm LIKE 'ACME%'``
    loaded and never fired (ASCII capitals were let through for the escapes of a regular expression). Capitals
    as text are refused; a pattern's escapes (``\\B``, ``\\p{Lu}``, ``\\xFF``), flags and classes keep theirs."""
    with pytest.raises(ConditionError, match="a normal form, which is lower case") as refused:
        compile_condition(condition, RISK_COLUMN_TYPES)
    assert f"its capitals ({capitals})" in str(refused.value)
    assert str(refused.value).endswith(f"write the text in lower case: {written}")


@pytest.mark.parametrize(
    "condition",
    [
        "description_norm ILIKE 'GIFT%'",  # any case
        "description_norm ~* '^GIFT'",
        "REGEXP_LIKE(description_norm, 'GIFT', 'i')",
        "REGEXP_LIKE(description_norm, '(?i)^gift|BOX')",
        "REGEXP_LIKE(description_norm, '(?x) ^gift  # A Comment')",
        "UPPER(description_norm) = 'GIFT'",
        "REGEXP_LIKE(description_norm, '[^A-Z](?P<Word>\\w+)\\pL\\u00C9\\x{1F600}')",
        "COALESCE(description_norm, shipper_country) = 'CN'",  # the literal may meet another column
        "COALESCE(description_norm, 'N/A') = 'n a'",  # a value, not a comparison
        "description_norm = 'gift' AND country_of_origin IN ('CN', 'HK')",
        "description = 'GIFT BOX'",  # the text as written
    ],
)
def test_capitals_a_normal_form_text_does_not_compare_are_taken(condition: str) -> None:
    compile_condition(condition, RISK_COLUMN_TYPES)


@pytest.mark.parametrize(
    ("condition", "fires"),
    [
        # description_norm '', 'gift', null, 'n/a'
        ("COALESCE(NULLIF(description_norm, ''), 'EMPTY') = 'EMPTY'", [True, False, True, False]),
        ("COALESCE(description_norm, 'N/A') = 'N/A'", [False, False, True, False]),
        ("COALESCE(description_norm, 'N/A') IN ('N/A', 'none')", [False, False, True, False]),
        ("COALESCE(NULLIF(description_norm, ''), 'Ø') = 'Ø'", [True, False, True, False]),
        ("STARTS_WITH(COALESCE(description_norm, 'N/A'), 'N/')", [False, False, True, False]),
        ("REGEXP_LIKE(COALESCE(description_norm, 'NONE'), '^NONE$')", [False, False, True, False]),
        ("GREATEST(description_norm, 'M') = 'M'", [True, False, True, False]),
        ("description_norm || 'X' = 'giftX'", [False, True, False, False]),
    ],
)
def test_a_text_compared_with_a_value_a_clause_gives_in_place_of_a_normal_form_is_taken(
    condition: str, fires: list[bool]
) -> None:
    """``COALESCE(NULLIF(description_norm, ''), 'EMPTY') = 'EMPTY'`` was refused (its capitals never match the
    normal form) though it meets the value ``COALESCE`` gives, and the hint (``'empty'``) made a rule that never
    fired on an empty description: a text compared with a value function's or a concatenation's result is judged
    against the normal form and the texts the clause gives in its place."""
    frame = pl.DataFrame(schema=RISK_COLUMN_TYPES).clear(n=4)
    frame = frame.with_columns(
        pl.Series(["", "gift", None, "n/a"], dtype=pl.String()).alias("description_norm")
    )
    assert frame.select(compile_condition(condition, RISK_COLUMN_TYPES)).to_series().to_list() == fires


@pytest.mark.parametrize(
    ("condition", "capitals", "values", "written"),
    [
        ("COALESCE(description_norm, 'N/A') = 'GIFT'", "G, I, F, T", " or in 'N/A',", "'gift'"),
        (
            "COALESCE(NULLIF(description_norm, ''), 'empty') = 'EMPTY'",
            "E, M, P, T, Y",
            " or in 'empty',",
            "'empty'",
        ),
        ("COALESCE(description_norm, 'N/A') IN ('N/A', 'Gift')", "G", " or in 'N/A',", "'gift'"),
        ("COALESCE(description_norm, 'N/A') = 'N/GIFT'", "N, G, I, F, T", " or in 'N/A',", "'n/gift'"),
        ("COALESCE(description_norm LIKE 'GIFT%', FALSE)", "G, I, F, T", "", "'gift%'"),
        ("COALESCE(NULLIF(description_norm, 'N/A'), 'none') = 'none'", "N, A", " or in 'none',", "'n/a'"),
    ],
)
def test_a_text_neither_the_normal_form_nor_a_value_given_in_its_place_holds_is_refused(
    condition: str, capitals: str, values: str, written: str
) -> None:
    """A capital in neither the normal form nor a text the clause gives in its place never matches, and the
    refusal names those texts; a text compared inside a value function's argument (``LIKE``, ``NULLIF``) is
    compared with the normal form."""
    with pytest.raises(ConditionError, match="a normal form, which is lower case") as refused:
        compile_condition(condition, RISK_COLUMN_TYPES)
    assert f"its capitals ({capitals}) never match there{values}" in str(refused.value)
    assert str(refused.value).endswith(f"write the text in lower case: {written}")


def test_a_pack_rule_on_a_value_given_in_place_of_an_empty_description_loads_and_fires(
    tmp_path: Path,
) -> None:
    """The rule of the review, in the U.S. pack: ``rules check`` exited 4; it now loads and flags a description
    with no letters or digits, and not a worded one."""
    pack = _pack_with_condition(tmp_path, "COALESCE(NULLIF(description_norm, ''), 'EMPTY') = 'EMPTY'")
    done = subprocess.run(
        [sys.executable, "-m", "screening", "rules", "check", str(pack)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    manifest = pl.DataFrame(
        [{**BASE_LINE, "description": "???"}, {**BASE_LINE, "package_id": "P2"}],
        schema=dict.fromkeys(BASE_LINE, pl.String()),
    )
    flags = screening.screen(manifest, rules=screening.load_rules(pack)).packages.sort("package_id")
    assert ["hts-description-mismatch" in f for f in flags["risk_flags"].to_list()] == [True, False]


def test_a_pack_with_a_capital_compared_with_a_normal_form_names_rule_and_literal(tmp_path: Path) -> None:
    pack = _pack_with_condition(tmp_path, "description_norm = 'GIFT BOX'")
    with pytest.raises(screening.RulePackError) as caught:
        screening.load_rules(pack)
    message = str(caught.value)
    assert "risk.toml" in message
    assert "hts-description-mismatch" in message
    assert "'GIFT BOX'" in message
    assert "write the text in lower case: 'gift box'" in message


def test_a_keyword_family_pattern_with_a_capital_is_refused(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    shutil.copytree(US_PACK, pack)
    with (pack / "risk.toml").open("a", encoding="utf-8") as handle:
        handle.write(
            '\n[[keyword_families]]\nname = "caps"\npattern = \'\\bSneakers?\\b\'\nchapters = ["64"]\n'
        )
    with pytest.raises(screening.RulePackError, match="its capitals \\(S\\)") as caught:
        screening.load_rules(pack)
    assert "keyword_families" in str(caught.value)
    assert "'\\bsneakers?\\b'" in str(caught.value)


@pytest.mark.parametrize(
    "condition",
    [
        "description LIKE '%øl%'",  # the text as written keeps its letters
        "description ILIKE '%øl%' OR REGEXP_LIKE(description_norm, '\\bol\\b')",
        "REGEXP_LIKE(description_norm, '\\B\\W+\\S')",  # ASCII capitals of a regular expression
        "REGEXP_LIKE(description_norm, '电子烟|вейп')",  # letters of other scripts stay
    ],
)
def test_texts_the_normal_forms_keep_are_taken(condition: str) -> None:
    compile_condition(condition, RISK_COLUMN_TYPES)


@pytest.mark.parametrize(
    ("condition", "column", "literal", "holds"),
    [
        ("country_of_origin = 'cn'", "country_of_origin", "'cn'", "ISO 3166-1 alpha-2 code in capitals"),
        ("country_of_origin = 'CHN'", "country_of_origin", "'CHN'", "ISO 3166-1 alpha-2"),
        ("country_of_origin IN ('CN', 'HKG')", "country_of_origin", "'HKG'", "ISO 3166-1 alpha-2"),
        ("shipper_country NOT IN ('cn')", "shipper_country", "'cn'", "ISO 3166-1 alpha-2"),
        ("'cn' = country_of_export", "country_of_export", "'cn'", "ISO 3166-1 alpha-2"),
        ("mode = 'expres' AND gift", "mode", "'expres'", "one of the modes express, postal, cargo"),
        ("mode <> 'Express'", "mode", "'Express'", "one of the modes"),
        ("de_minimis_reason = 'dm-eligable'", "de_minimis_reason", "'dm-eligable'", "dm-eligible"),
        ("NOT duty_status = 'asessed'", "duty_status", "'asessed'", "assessed"),
        ("hts_chapter = '6'", "hts_chapter", "'6'", "2 digits"),
        ("hts_heading = '64.04'", "hts_heading", "'64.04'", "4 digits"),
        ("hts_subheading IN ('6404.11')", "hts_subheading", "'6404.11'", "6 digits"),
        ("hts_code LIKE '6404.%'", "hts_code", "'6404.%'", "6, 8 or 10 digits"),
        ("STARTS_WITH(mode, 'Post')", "mode", "'Post'", "one of the modes"),
        ("COALESCE(mode = 'cargo ', FALSE)", "mode", "'cargo '", "one of the modes"),
    ],
)
def test_a_text_a_closed_column_never_holds_is_refused(
    condition: str, column: str, literal: str, holds: str
) -> None:
    """``country_of_origin = 'cn'``, ``mode = 'expres'``, ``hts_heading = '64.04'`` loaded and never fired (the
    same typo in a measure is refused): a text compared with a column of codes must be one of them."""
    with pytest.raises(ConditionError) as refused:
        compile_condition(condition, RISK_COLUMN_TYPES)
    message = str(refused.value)
    assert f"the text {literal} is compared with {column}" in message
    assert holds in message


@pytest.mark.parametrize(
    ("condition", "hint"),
    [
        ("country_of_origin = 'cn'", "write 'CN'"),
        ("mode = 'Express'", "write 'express'"),
        ("hts_heading = '64.04'", "write '6404'"),
    ],
)
def test_a_refused_code_says_what_to_write(condition: str, hint: str) -> None:
    with pytest.raises(ConditionError) as refused:
        compile_condition(condition, RISK_COLUMN_TYPES)
    assert str(refused.value).endswith(hint)


@pytest.mark.parametrize(
    "condition",
    [
        "country_of_origin IN ('CN', 'HK') AND country_of_export NOT IN ('MX', 'CA')",
        "mode = 'postal' OR mode <> 'cargo'",
        "mode ILIKE 'EXPRESS'",  # any case
        "mode LIKE 'exp%' AND STARTS_WITH(mode, 'post') AND ENDS_WITH(mode, 'go')",
        "LOWER(country_of_origin) = 'cn'",  # not the column as it is
        "'x' || mode = 'xpostal'",  # the concatenation is compared
        "COALESCE(shipper_country, '') NOT IN ('CN', 'HK')",
        "COALESCE(country_of_export, shipper_country) = 'MX'",
        "hts_chapter = '06' OR hts_heading IN ('2933', '2934') OR hts_subheading = '854340'",
        "hts_code LIKE '6404%' OR hts_code = '6109100012'",
        "de_minimis_reason IN ('dm-eligible', 'gift-exempt') OR duty_status LIKE 'needs-%'",
        "CASE WHEN mode = 'postal' THEN value_usd > 50 ELSE FALSE END",
        "description_family = 'anything'",  # the pack's families: checked when the pack loads
    ],
)
def test_texts_a_closed_column_holds_are_taken(condition: str) -> None:
    compile_condition(condition, RISK_COLUMN_TYPES)


@pytest.mark.parametrize(
    ("condition", "fires"),
    [
        # country_of_origin 'CN', null; mode 'postal', null
        ("COALESCE(country_of_origin, 'XX') = 'XX'", [False, True]),
        ("COALESCE(mode, 'none') = 'none'", [False, True]),
        ("COALESCE(mode, 'none') IN ('none', 'cargo')", [False, True]),
        ("'XX' = COALESCE(country_of_export, country_of_origin, 'XX')", [False, True]),
    ],
)
def test_a_text_compared_with_a_value_given_in_place_of_a_closed_column_is_taken(
    condition: str, fires: list[bool]
) -> None:
    """The value ``COALESCE`` gives in place of a column of codes is no code of it: the text compared with the
    result is not judged against the column's codes, and the rule fires on the null it is written for."""
    frame = pl.DataFrame(schema=RISK_COLUMN_TYPES).clear(n=2)
    frame = frame.with_columns(
        pl.Series(["CN", None], dtype=pl.String()).alias("country_of_origin"),
        pl.Series(["postal", None], dtype=pl.String()).alias("mode"),
    )
    flags = frame.select(compile_condition(condition, RISK_COLUMN_TYPES)).to_series().to_list()
    assert flags == fires


def test_a_keyword_family_no_family_is_named_is_refused(tmp_path: Path) -> None:
    pack = _pack_with_condition(tmp_path, "description_family = 'shoes'")
    with pytest.raises(screening.RulePackError) as caught:
        screening.load_rules(pack)
    message = str(caught.value)
    assert "hts-description-mismatch" in message
    assert "the text 'shoes' is compared with description_family" in message
    assert "footwear" in message
    screening.load_rules(_pack_with_condition(tmp_path / "ok", "description_family = 'footwear'"))


def test_a_pack_comparing_a_mode_with_a_typo_names_rule_column_and_literal(tmp_path: Path) -> None:
    pack = _pack_with_condition(tmp_path, "mode = 'expres' AND country_of_origin = 'CN'")
    with pytest.raises(screening.RulePackError) as caught:
        screening.load_rules(pack)
    message = str(caught.value)
    assert "risk.toml" in message
    assert "id hts-description-mismatch" in message
    assert "the text 'expres' is compared with mode, which never holds it" in message


def test_nulls_count_as_false() -> None:
    expr = compile_condition("country_of_export = 'MX'", RISK_COLUMN_TYPES)
    frame = pl.DataFrame({"country_of_export": ["MX", None, "CA"]})
    assert frame.select(expr.alias("f"))["f"].to_list() == [True, False, False]


def _pack_with_condition(tmp_path: Path, condition: str) -> Path:
    pack = tmp_path / "pack"
    shutil.copytree(US_PACK, pack)
    text = (pack / "risk.toml").read_text()
    old = "condition = '''hts_description_mismatch'''"
    assert old in text
    (pack / "risk.toml").write_text(text.replace(old, f"condition = '''{condition}'''"))
    return pack


def test_a_condition_sees_the_declared_types_in_every_mode(tmp_path: Path) -> None:
    # consignee_day_packages is Int64 (schema.RISK_COLUMNS): counted by a window it came out unsigned, where
    # 1 - 2 wraps to 4294967295 in a whole-day run, while the incremental totals were signed.
    pack = screening.load_rules(_pack_with_condition(tmp_path, "consignee_day_packages - 2 < 0"))
    manifest = pl.DataFrame([BASE_LINE], schema=dict.fromkeys(BASE_LINE, pl.String()))
    fired = {
        "whole day": screening.screen(manifest, rules=pack).packages["risk_flags"][0].to_list(),
        "incremental": screening.Screener(pack).screen(manifest).packages["risk_flags"][0].to_list(),
    }
    assert fired == {"whole day": ["hts-description-mismatch"], "incremental": ["hts-description-mismatch"]}


def test_loading_a_pack_with_a_refused_condition_names_file_rule_and_reason(tmp_path: Path) -> None:
    pack = _pack_with_condition(tmp_path, "exec(1)")
    with pytest.raises(screening.RulePackError) as caught:
        screening.load_rules(pack)
    message = str(caught.value)
    assert "risk.toml" in message
    assert "hts-description-mismatch" in message
    assert "function 'exec' is not allowed" in message


def test_the_cli_exits_4_on_a_refused_condition(tmp_path: Path) -> None:
    pack = _pack_with_condition(tmp_path, "salary > 1")
    done = subprocess.run(
        [sys.executable, "-m", "screening", "rules", "check", str(pack)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 4
    assert "unknown column 'salary'" in done.stderr


def test_a_rule_naming_an_undefined_queue_is_refused(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    shutil.copytree(US_PACK, pack)
    text = (pack / "risk.toml").read_text()
    (pack / "risk.toml").write_text(text.replace('queue = "weapons"', 'queue = "armoury"'))
    with pytest.raises(screening.RulePackError, match="queue 'armoury' is not defined"):
        screening.load_rules(pack)


def test_duplicate_queue_priorities_are_refused(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    shutil.copytree(US_PACK, pack)
    text = (pack / "queues.toml").read_text()
    (pack / "queues.toml").write_text(text.replace("priority = 3", "priority = 2", 1))
    with pytest.raises(screening.RulePackError, match="priorities must differ"):
        screening.load_rules(pack)


def test_text_tests_are_taken_out_of_the_conditions_as_columns() -> None:
    """A REGEXP_LIKE on a normal-form text column is a column of its own (computed once per distinct text); one
    written twice is one column; a test on another column, or with flags, stays in the condition."""
    tested, tests = text_tests(
        {
            "a": "REGEXP_LIKE(description_norm, '^gift$') OR NOT regexp_like( consignee_name_norm , 'x''s')",
            "b": "REGEXP_LIKE(description_norm, '^gift$') AND REGEXP_LIKE(hts_code, '^61')",
            "c": "REGEXP_LIKE(description_norm, 'a', 'i') AND value_usd > 1",
        }
    )
    assert {name: column for name, (column, _) in tests.items()} == {
        f"{TEXT_TEST_PREFIX}0": "description_norm",
        f"{TEXT_TEST_PREFIX}1": "consignee_name_norm",
    }
    assert set(tested["a"].meta.root_names()) == set(tests)
    assert set(tested["b"].meta.root_names()) == {f"{TEXT_TEST_PREFIX}0", "hts_code"}
    assert set(tested["c"].meta.root_names()) == {"description_norm", "value_usd"}


def test_the_us_pack_s_conditions_with_their_text_tests_as_columns_are_its_conditions() -> None:
    """Every rule of the U.S. pack flags the same lines whether its text tests are computed in the condition or as
    columns beside it (texts that match, texts that do not, empty texts and nulls)."""
    pack = screening.load_rules(US_PACK)
    conditions = {rule.id: rule.condition for rule in pack.risk.rules}
    tested, tests = text_tests(conditions)
    assert len(tests) >= 10, "the pack's description and party rules test their texts"
    texts = [
        "gift",
        "vape pens",
        "fentanyl powder",
        "1 2 28 solvent trap kit",
        "test",
        "coffee capsule filler",
        "",
        "x",
        "cotton t shirt",
        None,
    ]
    frame = pl.DataFrame(schema=RISK_COLUMN_TYPES).clear(n=len(texts))
    frame = frame.with_columns(
        pl.Series(texts, dtype=pl.String()).alias(column)
        for column in ("description_norm", "consignee_name_norm", "shipper_name_norm")
    ).with_columns(pl.col("description_norm").str.len_chars().cast(pl.Int64()).alias("description_length"))
    with_tests = frame.with_columns(test.alias(name) for name, (_, test) in tests.items())
    for rule_id, condition in pack.conditions.items():
        assert (
            with_tests.select(tested[rule_id]).to_series().to_list()
            == frame.select(condition).to_series().to_list()
        ), rule_id


@pytest.mark.parametrize(
    "condition",
    [
        "REGEXP_LIKE(description_norm, 'vape')AND value_usd > 1",
        "REGEXP_LIKE(description_norm, 'zzz')OR REGEXP_LIKE(description_norm, 'vape')",
        "REGEXP_LIKE(description_norm, 'vape')IS NULL",
        "CASE WHEN REGEXP_LIKE(description_norm, 'vape')THEN TRUE ELSE FALSE END",
        "CASE WHEN value_usd > 1 THEN REGEXP_LIKE(description_norm, 'vape')END",
        "REGEXP_LIKE(description_norm, 'vape')IN (TRUE)",
        "NOT REGEXP_LIKE(description_norm, 'vape')= FALSE",
    ],
)
def test_a_text_test_written_against_the_next_word_is_the_condition_as_written(condition: str) -> None:
    """A text test's column stands in brackets where the call stood: ``')OR`` did not parse once rewritten."""
    frame = pl.DataFrame(schema=RISK_COLUMN_TYPES).clear(n=4)
    frame = frame.with_columns(
        pl.Series(["vape pen", "tea", "", None], dtype=pl.String()).alias("description_norm"),
        pl.Series([0.5, 2.0, 2.0, 2.0]).alias("value_usd"),
    )
    tested, tests = text_tests({"rule": condition})
    with_tests = frame.with_columns(test.alias(name) for name, (_, test) in tests.items())
    assert set(tests), "the call is taken out"
    as_written = frame.select(compile_condition(condition, RISK_COLUMN_TYPES)).to_series().to_list()
    assert with_tests.select(tested["rule"]).to_series().to_list() == as_written
