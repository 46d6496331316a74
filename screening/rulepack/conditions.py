"""Risk conditions: SQL boolean expressions checked against a whitelist, then compiled by polars.

A condition is data. Before polars parses it, a tokenizer admits only literals, operators,
whitelisted columns, a small set of keywords and an allow-list of pure functions: a
subquery (``SELECT``), a statement separator, a comment, an unknown column or any other
function is refused with the reason. The compiled expression is then type-checked on an
empty frame of the whitelisted columns: it must yield a boolean.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import polars as pl

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


class ConditionError(ValueError):
    """A condition that is not allowed or does not compile; the message says why."""


def check_condition(condition: str, columns: Mapping[str, pl.DataType]) -> None:
    """Refuse anything but literals, operators, keywords, whitelisted columns and allowed functions."""
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


def compile_condition(condition: str, columns: Mapping[str, pl.DataType]) -> pl.Expr:
    """The condition as a boolean polars expression (nulls count as false).

    Raises:
        ConditionError: the condition is refused, does not parse, or is not boolean.
    """
    check_condition(condition, columns)
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


def _first_line(exc: BaseException) -> str:
    """The first line of a polars error, with the reason a regex error gives on a later line."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    reason = next((line for line in lines[1:] if line.startswith("error: ")), None)
    return f"{lines[0]} {reason.removeprefix('error: ')}" if reason else lines[0]
