"""Risk conditions: SQL boolean expressions checked against a whitelist, then compiled by polars.

A condition is data. Before polars parses it, a tokenizer admits only literals, operators,
whitelisted columns, a small set of keywords and an allow-list of pure functions: a
subquery (``SELECT``), a statement separator, a comment, an unknown column or any other
function is refused with the reason. The compiled expression is then type-checked on an
empty frame of the whitelisted columns: it must yield a boolean.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

import polars as pl

from screening.errors import DutyStatus, ReasonCode
from screening.exprs.parties import normalised_name
from screening.rulepack.reference import known_countries
from screening.schema import MODES

#: SQL keywords a condition may use.
KEYWORDS = frozenset(
    {
        "AND",
        "OR",
        "NOT",
        "IN",
        "IS",
        "NULL",
        "TRUE",
        "FALSE",
        "BETWEEN",
        "LIKE",
        "ILIKE",
        "CASE",
        "WHEN",
        "THEN",
        "ELSE",
        "END",
    }
)

#: Pure scalar functions a condition may call.
FUNCTIONS = frozenset(
    {
        "ABS",
        "COALESCE",
        "ENDS_WITH",
        "GREATEST",
        "LEAST",
        "LEFT",
        "LENGTH",
        "LOWER",
        "NULLIF",
        "REGEXP_LIKE",
        "RIGHT",
        "STARTS_WITH",
        "SUBSTR",
        "TRIM",
        "UPPER",
    }
)

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<string>'(?:[^']|'')*')
  | (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<operator><>|!=|<=|>=|!~\*|!~|~\*|\|\||[=<>+\-*/%(),~])
    """,
    re.VERBOSE,
)


#: Risk columns holding a text's normal form (:func:`~screening.exprs.parties.normalised_name`): lower case,
#: accents off Latin letters, ``ø``, ``ł``, ``æ``, ``ß``, ``ı``, ... folded as ASCII. A literal compared with one
#: must be written in that form: ``'\bøl\b'`` never matches, the column holds ``ol``.
NORMAL_FORM_COLUMNS = frozenset({"description_norm", "shipper_name_norm", "consignee_name_norm"})
#: Words that end a condition's clause: a literal is compared with the columns of its own clause (``NOT`` does
#: not end one: ``description_norm NOT LIKE 'acme%'`` compares its literal with the column).
_CLAUSE_WORDS = frozenset({"AND", "OR", "CASE", "WHEN", "THEN", "ELSE", "END"})
#: How a literal is read: as text (``=``, ``IN``, ``LIKE``, ``STARTS_WITH``), as a regular expression
#: (``REGEXP_LIKE``, ``~``) or in any case (``ILIKE``, ``~*``, a pattern with the ``i`` flag, a clause that upper- or
#: lower-cases, or that reads another column too, whose text may be what the literal meets).
Reading = Literal["text", "pattern", "any case"]
#: Functions that may give one of their arguments: ``COALESCE(description_norm, 'N/A')`` gives ``'N/A'`` where
#: the column is null, a text the literal compared with its result may be.
_VALUE_FUNCTIONS = frozenset({"COALESCE", "GREATEST", "LEAST"})


class ConditionError(ValueError):
    """A condition that is not allowed or does not compile; the message says why."""


def check_condition(
    condition: str,
    columns: Mapping[str, pl.DataType],
    *,
    closed: Mapping[str, ClosedColumn] | None = None,
) -> None:
    """Refuse anything but literals, operators, keywords, whitelisted columns and allowed functions, and a text
    literal compared with a column that never holds it: a normal form (:data:`NORMAL_FORM_COLUMNS`) or a column
    of ``closed`` (by default :func:`closed_columns` without keyword families)."""
    if "--" in condition or "/*" in condition:
        raise ConditionError("comments are not allowed in a condition")
    position = 0
    tokens: list[tuple[str, str]] = []
    while position < len(condition):
        match = _TOKEN.match(condition, position)
        if match is None:
            raise ConditionError(f"unexpected character {condition[position]!r} at position {position}")
        kind = match.lastgroup or ""
        if kind != "space":
            tokens.append((kind, match.group()))
        position = match.end()
    for index, (kind, text) in enumerate(tokens):
        if kind != "word":
            continue
        upper = text.upper()
        calls = index + 1 < len(tokens) and tokens[index + 1][1] == "("
        if upper in ("SELECT", "FROM", "WITH", "UNION", "EXISTS"):
            raise ConditionError("subqueries are not allowed in a condition")
        if upper in KEYWORDS:
            continue
        if calls:
            if upper not in FUNCTIONS:
                allowed = ", ".join(sorted(FUNCTIONS))
                raise ConditionError(f"function {text!r} is not allowed (allowed: {allowed})")
        elif text not in columns:
            raise ConditionError(f"unknown column {text!r} (not in the risk column whitelist)")
    _refuse_folded_literals(tokens)
    _refuse_values_never_held(tokens, closed_columns() if closed is None else closed)


def _refuse_folded_literals(tokens: list[tuple[str, str]]) -> None:
    """Refuse a text literal that never matches in a clause (between ``AND``, ``OR``, ``CASE`` ...) that reads a
    column of :data:`NORMAL_FORM_COLUMNS`: one holding a letter the normal form folds away or, read as text or
    a regular expression (:data:`Reading`), an ASCII capital (:func:`normal_form_fault`), that no value the clause
    gives in the column's place holds either (:func:`_clause_literals`)."""
    clause: list[tuple[str, str]] = []
    for token in [*tokens, ("word", "AND")]:
        kind, text = token
        if kind != "word" or text.upper() not in _CLAUSE_WORDS:
            clause.append(token)
            continue
        normal = sorted({t for k, t in clause if k == "word" and t in NORMAL_FORM_COLUMNS})
        compared, values = _clause_literals(clause) if normal else ([], [])
        for literal, reading in compared:
            fault = normal_form_fault(literal, ", ".join(normal), reading=reading, values=values)
            if fault:
                raise ConditionError(fault)
        clause = []


def _clause_literals(clause: list[tuple[str, str]]) -> tuple[list[tuple[str, Reading]], list[str]]:
    """The text literals of a clause compared with what it reads, each with how it is read (:data:`Reading`), and
    those it gives as values, which a compared one may meet: a whole argument of a function of
    :data:`_VALUE_FUNCTIONS` (``'N/A'`` in ``COALESCE(description_norm, 'N/A')``, not ``'gift%'`` in
    ``COALESCE(description_norm LIKE 'gift%', FALSE)``) and a side of a ``||``."""
    words = {t.upper() for k, t in clause if k == "word"}
    any_case = bool(words & {"UPPER", "LOWER"}) or any(
        k == "word" and t.upper() not in KEYWORDS | FUNCTIONS and t not in NORMAL_FORM_COLUMNS
        for k, t in clause
    )
    calls: list[_Call] = []  # one per open bracket
    found: list[tuple[str, Reading, _Call]] = []
    values: list[str] = []
    for index, (kind, text) in enumerate(clause):
        previous = clause[index - 1] if index else ("", "")
        following = clause[index + 1][1] if index + 1 < len(clause) else ""
        if text == "(":
            calls.append(_Call(previous[1].upper() if previous[0] == "word" else ""))
        elif text == ")" and calls:
            calls.pop()
        elif text == "," and calls:
            calls[-1].argument += 1
        elif kind == "string":
            literal = text[1:-1].replace("''", "'")
            call = calls[-1] if calls else _Call("")
            if "||" in (previous[1], following) or (
                call.function in _VALUE_FUNCTIONS and previous[1] in ("(", ",") and following in (")", ",")
            ):
                values.append(literal)
                continue
            reading: Reading = "any case" if any_case else "text"
            if call.function == "REGEXP_LIKE" and call.argument == 2:
                call.flags = literal
                reading = "any case"
            elif previous[1] in ("~*", "!~*") or previous[1].upper() == "ILIKE":
                reading = "any case"
            elif (call.function == "REGEXP_LIKE" and call.argument == 1) or previous[1] in ("~", "!~"):
                reading = "any case" if any_case else "pattern"
            found.append((literal, reading, call))
    # A pattern read with the ``i`` (any case) or ``x`` (comments) flag: REGEXP_LIKE's flags follow the pattern.
    compared: list[tuple[str, Reading]] = [
        (literal, "any case" if set(call.flags) & set("ix") else reading) for literal, reading, call in found
    ]
    return compared, values


#: How a literal compared with a closed column is judged: as a whole value, or as a value's start or end
#: (a ``LIKE`` pattern's text before its first wildcard or after its last, ``STARTS_WITH``, ``ENDS_WITH``).
Part = Literal["value", "prefix", "suffix"]


@dataclass(frozen=True, slots=True)
class ClosedColumn:
    """A risk column that holds only known values (or null): a code list (``values``) or a code of digits
    (``digits``: its lengths). ``what`` says which, for a refusal."""

    what: str
    values: frozenset[str] = frozenset()
    digits: tuple[int, ...] = ()

    def admits(self, text: str, part: Part, *, any_case: bool = False) -> bool:
        """Whether some value of the column is ``text`` (``part`` ``value``), starts with it (``prefix``) or ends
        with it (``suffix``); letters compared in any case where ``any_case`` (``ILIKE``)."""
        if self.digits:
            if not re.fullmatch(r"[0-9]*", text):
                return False
            return len(text) in self.digits if part == "value" else len(text) <= max(self.digits)
        values = {v.lower() for v in self.values} if any_case else self.values
        text = text.lower() if any_case else text
        if part == "value":
            return text in values
        if part == "prefix":
            return any(v.startswith(text) for v in values)
        return any(v.endswith(text) for v in values)

    def suggestion(self, text: str) -> str | None:
        """The value ``text`` likely means: the same letters in another case, or the digits without dots."""
        if self.digits:
            bare = text.replace(".", "")
            return bare if bare != text and self.admits(bare, "value") else None
        return next((v for v in sorted(self.values) if v.lower() == text.lower()), None)


def closed_columns(families: Sequence[str] | None = None) -> dict[str, ClosedColumn]:
    """The risk columns that hold only the engine's own codes, each with what it holds: the modes, the
    assigned ISO 3166-1 alpha-2 codes (those measures take), the reason and duty status codes, the HTS code and
    its prefixes (digits, no dots) and, where ``families`` (the pack's keyword family names) is given,
    ``description_family``."""
    countries = ClosedColumn(
        "an assigned ISO 3166-1 alpha-2 code in capitals (as 'CN')", frozenset(known_countries())
    )
    closed = {
        "mode": ClosedColumn(f"one of the modes {', '.join(MODES)}", frozenset(MODES)),
        "country_of_origin": countries,
        "country_of_export": countries,
        "shipper_country": countries,
        "de_minimis_reason": ClosedColumn(
            f"one of the reason codes {', '.join(ReasonCode)}", frozenset(str(c) for c in ReasonCode)
        ),
        "duty_status": ClosedColumn(
            f"one of the duty statuses {', '.join(DutyStatus)}", frozenset(str(c) for c in DutyStatus)
        ),
        "hts_code": ClosedColumn("6, 8 or 10 digits, without dots", digits=(6, 8, 10)),
        "hts_chapter": ClosedColumn("2 digits (as '06' or '64')", digits=(2,)),
        "hts_heading": ClosedColumn("4 digits, without dots (as '6404')", digits=(4,)),
        "hts_subheading": ClosedColumn("6 digits, without dots (as '640411')", digits=(6,)),
    }
    if families is not None:
        what = (
            f"one of the pack's keyword families {', '.join(families)}"
            if families
            else "no value: the pack has no keyword families"
        )
        closed["description_family"] = ClosedColumn(what, frozenset(families))
    return closed


#: Words that may stand before a comparison's first operand and after its last: one binds more loosely than a
#: comparison (``'x' || mode = 'xpostal'`` compares ``'x' || mode``, not ``mode``).
_BEFORE_COMPARISON = frozenset({"AND", "OR", "NOT", "CASE", "WHEN", "THEN", "ELSE"})
_AFTER_COMPARISON = frozenset({"AND", "OR", "WHEN", "THEN", "ELSE", "END"})
_EQUALITY = frozenset({"=", "<>", "!="})


def _refuse_values_never_held(tokens: list[tuple[str, str]], closed: Mapping[str, ClosedColumn]) -> None:
    """Refuse a text literal compared with a column of ``closed`` (``=``, ``<>``, ``IN``, ``NOT IN``, ``LIKE``,
    ``ILIKE``, ``STARTS_WITH``, ``ENDS_WITH``) that no value of the column matches: ``mode = 'expres'``,
    ``country_of_origin IN ('CN', 'HKG')`` and ``hts_heading = '64.04'`` loaded and never fired. Only a column
    compared as it is counts: ``LOWER(country_of_origin) = 'cn'`` is not judged, nor ``COALESCE(mode, 'none') =
    'none'`` (the text may be the value given in the column's place)."""

    def word(index: int) -> str:
        return tokens[index][1].upper() if 0 <= index < len(tokens) and tokens[index][0] == "word" else ""

    def text(index: int) -> str:
        return tokens[index][1] if 0 <= index < len(tokens) else ""

    def bounded_before(index: int) -> bool:
        return index == 0 or text(index - 1) in ("(", ",") or word(index - 1) in _BEFORE_COMPARISON

    def bounded_after(index: int) -> bool:
        return index == len(tokens) or text(index) in (")", ",") or word(index) in _AFTER_COMPARISON

    def literal(index: int) -> str | None:
        if 0 <= index < len(tokens) and tokens[index][0] == "string":
            return tokens[index][1][1:-1].replace("''", "'")
        return None

    for index, (kind, column) in enumerate(tokens):
        if kind != "word" or column not in closed or text(index + 1) == "(":
            continue
        judged: list[_Judged] = []
        after = index + 2 if word(index + 1) == "NOT" else index + 1
        if bounded_before(index):
            value = literal(index + 2)
            if text(index + 1) in _EQUALITY and value is not None and bounded_after(index + 3):
                judged.append(_Judged(value, value, "value"))
            elif word(after) == "IN" and text(after + 1) == "(":
                judged += _listed(tokens, after + 2)
            elif (
                word(after) in ("LIKE", "ILIKE")
                and literal(after + 1) is not None
                and bounded_after(after + 2)
            ):
                judged += _like_parts(literal(after + 1) or "", any_case=word(after) == "ILIKE")
        value = literal(index - 2)
        if (
            value is not None
            and text(index - 1) in _EQUALITY
            and bounded_before(index - 2)
            and bounded_after(index + 1)
        ):
            judged.append(_Judged(value, value, "value"))
        value = literal(index + 2)
        if (
            word(index - 2) in ("STARTS_WITH", "ENDS_WITH")
            and text(index - 1) == "("
            and text(index + 1) == ","
            and value is not None
            and text(index + 3) == ")"
        ):
            judged.append(_Judged(value, value, "prefix" if word(index - 2) == "STARTS_WITH" else "suffix"))
        for judging in judged:
            if not closed[column].admits(judging.text, judging.part, any_case=judging.any_case):
                raise ConditionError(_never_held(column, closed[column], judging))


class _Judged(NamedTuple):
    """A literal as written compared with a closed column, and what of it is judged (:data:`Part`)."""

    written: str
    text: str
    part: Part
    any_case: bool = False


def _listed(tokens: list[tuple[str, str]], start: int) -> list[_Judged]:
    """The text literals of an ``IN`` list whose items start at ``start``; none where an item is more than one
    token (a call, a sum: its value is not the literal)."""
    found: list[_Judged] = []
    for index in range(start, len(tokens) - 1, 2):
        kind, text = tokens[index]
        if kind not in ("string", "number", "word"):
            return []
        if kind == "string":
            value = text[1:-1].replace("''", "'")
            found.append(_Judged(value, value, "value"))
        if tokens[index + 1][1] == ")":
            return found
        if tokens[index + 1][1] != ",":
            return []
    return []


def _like_parts(pattern: str, *, any_case: bool) -> list[_Judged]:
    """What a ``LIKE`` pattern asks of a value: to be the pattern (no wildcard), or to start with its text before
    the first wildcard (``%``, ``_``) and end with its text after the last; nothing judged for a pattern with a
    backslash (an escape)."""
    if "\\" in pattern:
        return []
    pieces = re.split(r"[%_]", pattern)
    if len(pieces) == 1:
        return [_Judged(pattern, pattern, "value", any_case)]
    return [_Judged(pattern, pieces[0], "prefix", any_case), _Judged(pattern, pieces[-1], "suffix", any_case)]


def _never_held(column: str, closed: ClosedColumn, judged: _Judged) -> str:
    """The refusal of a literal no value of ``column`` matches: the column, the literal, what it holds."""
    if judged.part == "value":
        suggestion = closed.suggestion(judged.text)
        hint = f": write '{suggestion}'" if suggestion else ""
        fault = "which never holds it"
    else:
        hint = ""
        fault = f"no value of which {'starts' if judged.part == 'prefix' else 'ends'} with '{judged.text}'"
    return (
        f"the text '{judged.written}' is compared with {column}, {fault}: {column} holds {closed.what}{hint}"
    )


class _Call:
    """A bracket of a clause: the function it calls (``""`` for none), the argument being read, and the flags
    given to a ``REGEXP_LIKE``."""

    def __init__(self, function: str) -> None:
        self.function = function
        self.argument = 0
        self.flags = ""


def normal_form_fault(text: str, columns: str, *, reading: Reading, values: Sequence[str] = ()) -> str | None:
    """Why ``text``, a literal or pattern compared with ``columns`` (normal forms), is refused: it holds letters
    the normal form writes otherwise (:func:`normal_form_faults`) or, read as text or a regular expression, ASCII
    capitals (the normal forms are lower case; a pattern's escapes, flags, group names and character classes
    aside: :func:`pattern_capitals`); ``None`` where it holds none, or where ``values``, texts given in the
    columns' place (``'EMPTY'`` in ``COALESCE(NULLIF(description_norm, ''), 'EMPTY') = 'EMPTY'``), hold each of
    those letters: the text may meet them."""
    text = unicodedata.normalize("NFC", text)
    faults = normal_form_faults(text)
    capitals: list[int] = []
    if reading == "text":
        capitals = [i for i, c in enumerate(text) if "A" <= c <= "Z"]
    elif reading == "pattern":
        capitals = pattern_capitals(text)
    given = set(unicodedata.normalize("NFC", "".join(values)))
    if {text[i] for i in capitals} | set(faults) <= given:
        return None
    lowered = "".join(c.lower() if i in capitals else c for i, c in enumerate(text))
    written = _in_normal_form(lowered, faults) if faults else lowered
    letters = ", ".join(f"'{letter}' as '{folded}'" for letter, folded in faults.items())
    listed = ", ".join(f"'{value}'" for value in dict.fromkeys(values))  # each once, in the order written
    nor = f" or in {listed}, given in its place" if values else ""
    if not capitals:
        return (
            f"the text '{text}' is compared with {columns}, a normal form, which writes {letters}: those letters "
            f"never match there{nor}; write the text in the normal form: '{written}'"
        )
    named = ", ".join(dict.fromkeys(text[i] for i in capitals))
    writes = f" and writes {letters}" if faults else ""
    return (
        f"the text '{text}' is compared with {columns}, a normal form, which is lower case{writes}: its capitals "
        f"({named}){' and those letters' if faults else ''} never match there{nor}; write the text in lower case: "
        f"'{written}'"
    )


#: What a regular expression writes with ASCII capitals that are not text: an escape (``\\B``, ``\\W``,
#: ``\\p{Lu}``, ``\\pL``, ``\\xFF``, ``\\u00C9``), a group name (``(?P<Name>``) or flags (``(?U)``).
_PATTERN_SYNTAX = re.compile(
    r"\\[pP](?:\{[^}]*\}|.)|\\[xuU]\{[^}]*\}|\\x[0-9A-Fa-f]{2}|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}|\\."
    r"|\(\?P?<[^>]*>|\(\?(?P<flags>[A-Za-z-]*)[:)]",
    re.DOTALL,
)


def pattern_capitals(pattern: str) -> list[int]:
    """Where a regular expression (Rust ``regex`` syntax) writes an ASCII capital as text, which never matches a
    lower-case text: not in an escape, a group name or flags (:data:`_PATTERN_SYNTAX`), nor in a character class
    (``[^A-Z]`` matches every lower-case letter); none in a pattern that turns case-insensitive or verbose mode on
    (``(?i)``, ``(?x)``: its comments are not text)."""
    capitals: list[int] = []
    position, depth = 0, 0
    while position < len(pattern):
        syntax = _PATTERN_SYNTAX.match(pattern, position)
        if syntax is not None:
            if set(syntax.group("flags") or "") & set("ix"):
                return []
            position = syntax.end()
            continue
        char = pattern[position]
        position += 1
        if char == "[":
            depth += 1
            # A ``]`` first in a class (after ``^``) is one of its characters.
            position += pattern.startswith("^", position)
            position += pattern.startswith("]", position)
        elif char == "]" and depth:
            depth -= 1
        elif not depth and "A" <= char <= "Z":
            capitals.append(position - 1)
    return capitals


#: A run of letters other than ASCII ones (``ΣΑΚΟΣ`` in ``\\bΣΑΚΟΣ\\b``): folded as one word, as the normal form folds
#: a word (a final sigma is ``ς``), ASCII letters left as written (``\\B``, ``\\W`` in a regular expression).
_NON_ASCII_LETTERS = re.compile(r"(?:(?![A-Za-z])[^\W\d_])+")


def _in_normal_form(text: str, faults: Mapping[str, str]) -> str:
    """``text`` with each run of letters other than ASCII that holds one of ``faults`` in the normal form."""
    runs = [m.group() for m in _NON_ASCII_LETTERS.finditer(text) if any(c in faults for c in m.group())]
    if not runs:
        return text
    folded = pl.Series(runs, dtype=pl.String()).to_frame("w").select(normalised_name(pl.col("w"))).to_series()
    as_written = dict(zip(runs, folded.to_list(), strict=True))
    return _NON_ASCII_LETTERS.sub(lambda m: as_written.get(m.group(), m.group()), text)


def normal_form_faults(text: str) -> dict[str, str]:
    """The letters of ``text`` (NFC) other than ASCII that the normal form
    (:func:`~screening.exprs.parties.normalised_name`) writes otherwise, each with what it writes: ``{'ø': 'o'}``
    for ``'\\bøl\\b'``, ``{'ß': 'ss', 'É': 'e'}``. ASCII capitals are left alone (``\\B``, ``\\W`` in a
    regular expression)."""
    letters = sorted(
        {
            c
            for c in unicodedata.normalize("NFC", text)
            if not c.isascii() and unicodedata.category(c)[0] == "L"
        }
    )
    if not letters:
        return {}
    folded = pl.Series(letters, dtype=pl.String()).to_frame("c").select(normalised_name(pl.col("c")))
    return {c: f for c, f in zip(letters, folded.to_series().to_list(), strict=True) if f != c}


def compile_condition(
    condition: str,
    columns: Mapping[str, pl.DataType],
    *,
    closed: Mapping[str, ClosedColumn] | None = None,
) -> pl.Expr:
    """The condition as a boolean polars expression (nulls count as false); ``closed`` as
    :func:`check_condition`'s.

    Raises:
        ConditionError: the condition is refused, does not parse, or is not boolean.
    """
    check_condition(condition, columns, closed=closed)
    try:
        expr = pl.sql_expr(condition)
    except (pl.exceptions.PolarsError, ValueError) as exc:
        raise ConditionError(f"does not parse: {_first_line(exc)}") from exc
    unknown = sorted(set(expr.meta.root_names()) - set(columns))
    if unknown:
        raise ConditionError(f"unknown columns {unknown}")
    try:
        dtype = pl.DataFrame(schema=dict(columns)).select(expr.alias("flag")).schema["flag"]
    except (pl.exceptions.PolarsError, ValueError) as exc:
        raise ConditionError(f"does not type-check: {_first_line(exc)}") from exc
    if dtype != pl.Boolean():
        raise ConditionError(f"must be a boolean expression, not {dtype}")
    return expr.fill_null(False)


#: Where the text tests of :func:`text_tests` stand in a condition: ``__text_test_<n>``.
TEXT_TEST_PREFIX = "__text_test_"


def text_tests(conditions: Mapping[str, str]) -> tuple[dict[str, pl.Expr], dict[str, tuple[str, pl.Expr]]]:
    """The conditions (checked already: :func:`compile_condition`) with each ``REGEXP_LIKE(<column>, '<pattern>')``
    over a column of :data:`NORMAL_FORM_COLUMNS` taken out: each is a boolean column of its own
    (:data:`TEXT_TEST_PREFIX` and a number), to be computed once per distinct text, not once per line.

    Returns the conditions over the risk columns and the test columns (nulls count as false, as
    :func:`compile_condition`'s), and, by test column, the text column it reads and the test (the same SQL, compiled
    on its own: a test's value is that of the call it stands for). A test written twice is one column.
    """
    tests: dict[str, tuple[str, pl.Expr]] = {}
    columns_by_call: dict[str, str] = {}
    split: dict[str, pl.Expr] = {}
    for rule_id, condition in conditions.items():
        pieces: list[str] = []
        position = 0
        for start, end, column in _text_test_calls(condition):
            call = condition[start:end]
            name = columns_by_call.setdefault(call, f"{TEXT_TEST_PREFIX}{len(columns_by_call)}")
            tests[name] = (column, pl.sql_expr(call))
            # In brackets: the call's place in the expression is kept, and no word written against its ``)``
            # (``')OR``, ``')IS NULL``) joins the name.
            pieces += [condition[position:start], f"({name})"]
            position = end
        split[rule_id] = pl.sql_expr("".join([*pieces, condition[position:]])).fill_null(False)
    return split, tests


def _text_test_calls(condition: str) -> list[tuple[int, int, str]]:
    """The spans of the two-argument ``REGEXP_LIKE`` calls on a column of :data:`NORMAL_FORM_COLUMNS` with a text
    literal, and the column of each."""
    tokens = [
        (match.lastgroup or "", match.group(), match.start(), match.end())
        for match in _TOKEN.finditer(condition)
        if match.lastgroup != "space"
    ]
    shape = ("word", "operator", "word", "operator", "string", "operator")
    calls = []
    for index in range(len(tokens) - len(shape) + 1):
        window = tokens[index : index + len(shape)]
        if tuple(kind for kind, *_ in window) != shape:
            continue
        (
            (_, function, start, _),
            (_, opening, *_),
            (_, column, *_),
            (_, comma, *_),
            _,
            (_, closing, _, end),
        ) = window
        if (function.upper(), opening, comma, closing) == ("REGEXP_LIKE", "(", ",", ")") and (
            column in NORMAL_FORM_COLUMNS
        ):
            calls.append((start, end, column))
    return calls


def _first_line(exc: BaseException) -> str:
    """The first line of a polars error, with the reason a regex error gives on a later line."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    reason = next((line for line in lines[1:] if line.startswith("error: ")), None)
    return f"{lines[0]} {reason.removeprefix('error: ')}" if reason else lines[0]
