"""Denied-party screening: match party names against a screening list (e.g. OFAC SDN), vectorised.

A pure plan builder: the caller loads the list (``screening.rulepack.screening_list``) and passes
the legal-suffix and generic-word lists from the rule pack.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, NamedTuple

import polars as pl

from screening.exprs.names import name_tokens, normalise_name, normalised_words

#: Output columns of :func:`match_parties`, in order.
DENIED_SCHEMA: Final[dict[str, pl.DataType]] = {
    "party_name": pl.String(),
    "denied_entry_id": pl.String(),
    "denied_name": pl.String(),
    "denied_program": pl.String(),
    "denied_source": pl.String(),
    "denied_score": pl.Float64(),
    "denied_match": pl.String(),
}

#: Default cap on join-key tokens: a token found in more list entries than this is not a join key.
MAX_TOKEN_ENTRIES: Final = 250

_SHIFT: Final = 1 << 32
_KIND_RANK = {"exact": 0, "fuzzy": 1}


def _significant(tokens: pl.Expr, generic: list[str]) -> pl.Expr:
    """Distinct tokens that are neither generic words nor single characters, sorted."""
    # one list.eval: much faster than list.unique().list.sort() on strings in polars 2.1
    return tokens.list.eval(
        pl.element().filter(~pl.element().is_in(generic) & (pl.element().str.len_chars() > 1)).unique().sort()
    )


def _normal(name: pl.Expr, suffixes: Sequence[str]) -> pl.Expr:
    """The normal form names are matched in: :func:`~screening.exprs.names.normalise_name` with the look-alike
    Cyrillic and Greek letters written as the Latin ones (``Mеgafon`` with a Cyrillic ``е`` is ``MEGAFON``)."""
    return normalise_name(name, suffixes, fold_confusables=True)


def _words(name: pl.Expr, generic: list[str]) -> pl.Expr:
    """The tokens of a name's normal form with no legal form dropped, generic words left out: what a surname is
    read from and looked for in (``PAO`` and ``O`` are surnames: a person has no legal form)."""
    return name_tokens(_normal(name, ())).list.eval(pl.element().filter(~pl.element().is_in(generic)))


def _prepare(frame: pl.LazyFrame, name: str, suffixes: Sequence[str], generic: list[str]) -> pl.LazyFrame:
    """Add ``norm`` (normal form), ``tokens`` (significant tokens), ``n_tokens`` and ``token_set``."""
    return (
        frame.with_columns(norm=_normal(pl.col(name), suffixes))
        .with_columns(tokens=_significant(name_tokens(pl.col("norm")), generic))
        .with_columns(
            n_tokens=pl.col("tokens").list.len().cast(pl.Int64()),
            token_set=pl.col("tokens").list.join(" "),
        )
    )


def party_entries(entries: pl.DataFrame, party_types: Sequence[str]) -> pl.DataFrame:
    """The entries of a screening list whose ``entity_type`` is one of ``party_types`` (an entry without a type,
    or a list without the column, is an ``entity``): those shipper and consignee names are matched against."""
    kind = pl.col("entity_type").fill_null("entity") if "entity_type" in entries.columns else pl.lit("entity")
    return entries.filter(kind.is_in(list(party_types)))


def entry_names(
    entries: pl.DataFrame,
    *,
    legal_suffixes: Sequence[str],
    generic_tokens: Sequence[str],
    party_types: Sequence[str] | None = None,
) -> pl.DataFrame:
    """One row per distinct (entry, normalised name or alias): the entry side of the index, built once.
    Weak aliases (``weak_aliases``) are not in it: OFAC does not expect them to be screened on their own.
    With ``party_types`` (the pack's, ``individual`` and ``entity``), only entries of those ``entity_type``s are
    in it (an entry without a type is an ``entity``): a listed vessel or aircraft is never a shipper or consignee.

    Columns: ``name_key`` (UInt32), ``entry_id``, ``norm``, ``tokens`` (significant, distinct, sorted),
    ``n_tokens``, ``token_set``, ``surname`` (an individual's surname tokens in this name, generic words left
    out but legal forms and single letters kept (``PAO, Yu Liang``, ``O, Yong Ho``): the part of the name before
    its comma (``CASTRO RUZ, Fidel``; an alias ``GADDAFI, Muammar`` of ``QADHAFI, Muammar`` has its own), or, in
    an alias without one, its tokens that are not the primary name's given names (``NAQDI`` of ``Mohammad Reza
    NAQDI``, ``NAGHDI`` of ``Reza NAGHDI``: maybe none); null where none is known: an entity, or an individual
    named without a comma),
    ``form_dropped`` (the name lost a legal suffix to its normal form: ``TARA LIMITED``, not ``CIMEX``). Names
    that normalise to nothing are dropped; a name of fewer than two significant tokens is matched exactly only.
    """
    generic = normalised_words(generic_tokens)
    if party_types is not None:
        entries = party_entries(entries, party_types)
    variants = (
        pl.concat_list(pl.col("name"), pl.col("aliases").fill_null([]))
        if "aliases" in entries.columns
        else pl.concat_list(pl.col("name"))
    )
    individual = (
        pl.col("entity_type") == "individual" if "entity_type" in entries.columns else pl.lit(False)
    ).fill_null(False)
    names = entries.select(
        pl.col("entry_id").cast(pl.String()), "name", individual.alias("individual"), variant=variants
    ).explode("variant")
    # Each name's own surname: an alias "GADDAFI, Muammar Muhammad" of "QADHAFI, Muammar Muhammad" has its own
    # spelling of it; an alias in natural order ("Reza NAGHDI") has no comma to find it by, so its words that
    # are not the primary name's given names are.
    given = pl.col("name").str.split(",").list.slice(1).list.join(" ")
    surname = (
        pl.when(pl.col("individual") & pl.col("variant").str.contains(",", literal=True))
        .then(_words(pl.col("variant").str.split(",").list.first(), generic))
        .when(pl.col("individual") & pl.col("name").str.contains(",", literal=True))
        .then(_words(pl.col("variant"), generic).list.set_difference(_words(given, generic)))
    )
    return (
        _prepare(names.lazy(), "variant", legal_suffixes, generic)
        .with_columns(surname=surname)
        .with_columns(form_dropped=pl.col("norm") != _normal(pl.col("variant"), ()))
        .filter(pl.col("norm") != "")
        .group_by("entry_id", "norm")
        .agg(
            pl.col("tokens", "n_tokens", "token_set").first(),
            # A normal form that one of the entry's names reaches as written (an alias TARA of TARA LIMITED) is
            # not one reached only by dropping a legal form.
            pl.col("form_dropped").all(),
            # Names of one normal form share their surnames ("KIM, Jong Un" and "KIM JONG, Un"); one with no
            # surname known leaves the rule off, as that name alone would.
            no_surname=pl.col("surname").is_null().any(),
            surname=pl.col("surname").list.explode(keep_nulls=False, empty_as_null=False).unique().sort(),
        )
        .select(
            "entry_id",
            "norm",
            "tokens",
            "n_tokens",
            "token_set",
            pl.when(~pl.col("no_surname")).then("surname").alias("surname"),
            "form_dropped",
        )
        .sort("entry_id", "norm")
        .with_row_index("name_key")
        .collect()
    )


def match_parties(
    names: pl.LazyFrame,
    entries: pl.DataFrame,
    *,
    legal_suffixes: Sequence[str],
    generic_tokens: Sequence[str],
    threshold: float,
    max_token_entries: int = MAX_TOKEN_ENTRIES,
    index: pl.DataFrame | None = None,
    prefixes: EntryPrefixes | None = None,
    party_types: Sequence[str] | None = None,
) -> pl.LazyFrame:
    """Screen the distinct party names in ``names`` (column ``party_name``) against ``entries``.

    ``entries`` is a screening list in the canonical layout (``entry_id``, ``name``, ``aliases``,
    ``program``, ``source``). Both sides are normalised with
    :func:`screening.exprs.names.normalise_name` (upper case, accents and punctuation removed,
    ``legal_suffixes`` dropped). A token is *significant* when it is not in ``generic_tokens`` and
    has more than one character. An overlap made only of suffixes and generic words (``ACME TRADING CO LTD``
    vs ``SUNSHINE TRADING CO LTD``) never matches; a list name of no significant token matches exactly only.

    Matching, per (party, list name):

    - **exact**: equal normal forms → score 1.0, ``denied_match = "exact"``; but a normal form of one word
      (no blank) that the list name reached by dropping a legal form matches only a party name that reaches it
      by dropping a legal form too, wherever it stands and however written (``Tara Ltd``, ``OOO Tara``,
      ``Tara Ao``, ``PAO Tara``, not ``Tara``): a first name is no company of that word (``TARA LIMITED``).
    - **fuzzy**: Dice coefficient over distinct significant tokens,
      ``2 * shared / (n_party + n_entry)``, with ``shared >= 2`` and ``score >= threshold``. Word
      order never matters (``CASTRO RUZ, Fidel`` vs ``Fidel Castro Ruz`` scores 1.0).

    Either way, a name of a listed individual (``SURNAME, Given names`` and its aliases, :func:`entry_names`'s
    ``surname``) matches only a party name that holds one of that name's surname tokens (as written, a legal
    form or one letter too: ``Yu Liang`` is not ``PAO, Yu Liang``, ``Pao Yu Liang`` is), unless three or more
    tokens are shared at 0.9 or above (a long name's given part often holds the family name).

    Efficiency (about 1M distinct names against 20k entries): the entry side is normalised and
    tokenised once, eagerly, into an inverted index (token → list names); party names are
    normalised once per distinct name. Fuzzy candidates come from joining party tokens to that
    index, with two guards: (1) *prefix filtering*, on both sides: tokens are ordered by how many
    list entries hold them (fewest first), and a name of ``n`` tokens joins only on its first
    ``n - a + 1``, ``a = max(2, ceil(t*n/(2-t)))`` being the fewest tokens it must share to reach
    ``threshold``; this loses no pair (see ``_fuzzy``) and keeps common words out of the join;
    (2) tokens held by more than ``max_token_entries`` list entries (``AL``, ``JOINT``, ``DE`` in
    the SDN list) are never join keys. Common tokens still count in ``n_party``/``n_entry`` and in
    ``shared``, which is computed on the full token lists of each candidate. A pair whose shared
    tokens are *all* common is therefore not found by this path, except when both names have the
    same set of (at least two) significant tokens: that case is matched by an equality join on the
    sorted token set (score 1.0, ``"fuzzy"``), which needs no guard. Names with fewer than two
    significant tokens take part in exact matching only. ``entry_id`` must be unique (as
    :func:`screening.rulepack.screening_list.read_screening_list` guarantees).

    Returns:
        One row per distinct non-null ``party_name`` with a match (:data:`DENIED_SCHEMA`), the best
        one: highest score, then exact before fuzzy, then the smallest ``entry_id`` (string order).
        Rows are sorted by ``party_name``; the result does not depend on the input's row order.

    ``index``: :func:`entry_names` of ``entries`` with the same suffixes and generic words, when the
    caller keeps it from an earlier call (batches screened one after another); built here otherwise.
    ``prefixes``: :func:`entry_prefixes` of that index with the same ``threshold`` and
    ``max_token_entries``, kept the same way. ``party_types``: the ``entity_type``s matched (all when ``None``),
    for the index built here (:func:`entry_names`).

    Raises:
        ValueError: ``threshold`` is not in (0, 1] or ``max_token_entries`` is not positive.
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    if max_token_entries < 1:
        raise ValueError(f"max_token_entries must be positive, got {max_token_entries}")
    generic = normalised_words(generic_tokens)
    if index is None:
        index = entry_names(
            entries, legal_suffixes=legal_suffixes, generic_tokens=generic, party_types=party_types
        )
    list_names = index.lazy()

    parties = _prepare(
        names.select(pl.col("party_name").cast(pl.String())).drop_nulls().unique(),
        "party_name",
        legal_suffixes,
        generic,
    ).filter(pl.col("norm") != "")
    # Sorted before numbering, so the key is the same wherever the plan evaluates this frame.
    parties = parties.sort("party_name").with_row_index("party_key")

    # A bare one-word name is not a listed company that is that word once its legal form is dropped ("Tara" is
    # not TARA LIMITED; "Tara Ltd", "Tara Ao", "PAO Tara" are). The party carries a legal form as the index reads
    # one (form_dropped): its normal form loses words when legal forms are dropped. Read on the exact hits only.
    bare_word_of_a_company = (
        pl.col("form_dropped")
        & ~pl.col("norm").str.contains(" ", literal=True)
        & (_normal(pl.col("party_name"), ()) == pl.col("norm"))
    )
    # Equal normal forms or token sets: every token is shared.
    exact = (
        parties.join(list_names, on="norm", how="inner")
        .filter(~bare_word_of_a_company)
        .select("party_key", "name_key", score=pl.lit(1.0), kind=pl.lit("exact"), shared="n_tokens")
    )
    same_set = (
        parties.filter(pl.col("n_tokens") >= 2)
        .join(list_names.filter(pl.col("n_tokens") >= 2), on="token_set", how="inner")
        .select("party_key", "name_key", score=pl.lit(1.0), kind=pl.lit("fuzzy"), shared="n_tokens")
    )
    if prefixes is None:
        prefixes = entry_prefixes(index, threshold=threshold, max_token_entries=max_token_entries)
    fuzzy = _fuzzy(parties, index, prefixes, threshold=threshold)

    kind_rank = pl.col("kind").replace_strict(_KIND_RANK, return_dtype=pl.UInt8())
    meta = entries.lazy().select(
        denied_entry_id=pl.col("entry_id").cast(pl.String()),
        denied_name=pl.col("name").cast(pl.String()),
        denied_program=(
            pl.col("program").cast(pl.String()) if "program" in entries.columns else pl.lit(None, pl.String())
        ),
        denied_source=(
            pl.col("source").cast(pl.String()) if "source" in entries.columns else pl.lit(None, pl.String())
        ),
    )
    # A listed individual's surname is among the party's words (one of them, for a double surname: Joaquin
    # Guzman is GUZMAN LOERA, Joaquin): "Mohammad Reza" is not NAQDI, Mohammad Reza, nor "Yong Ho" O, Yong Ho.
    # Read on the pairs found only, so a party's words are read for few names.
    party_words = name_tokens(_normal(pl.col("party_name"), ()))
    holds_the_surname = (
        pl.col("surname").is_null()
        | (pl.col("surname").list.set_intersection(party_words).list.len() > 0)
        # Three or more shared at 0.9: a long name's given part often holds the family name.
        | ((pl.col("shared") >= 3) & (pl.col("score") >= 0.9))
    )
    return (
        pl.concat([exact, same_set, fuzzy], how="vertical")
        .join(parties.select("party_key", "party_name"), on="party_key", how="inner")
        .join(
            list_names.select("name_key", "surname", denied_entry_id="entry_id"), on="name_key", how="inner"
        )
        .filter(holds_the_surname)
        .sort(
            ["party_name", "score", kind_rank, "denied_entry_id"],
            descending=[False, True, False, False],
        )
        .unique("party_name", keep="first", maintain_order=True)
        .join(meta, on="denied_entry_id", how="left")
        .select(
            "party_name",
            "denied_entry_id",
            "denied_name",
            "denied_program",
            "denied_source",
            denied_score=pl.col("score").cast(pl.Float64()),
            denied_match=pl.col("kind"),
        )
        .sort("party_name")
    )


def _min_shared(n_tokens: pl.Expr, threshold: float) -> pl.Expr:
    """Fewest shared tokens any partner needs for Dice >= ``threshold``: ``max(2, ceil(t*n/(2-t)))``.

    A partner of ``m`` tokens sharing ``s <= m`` needs ``2s/(n+m) >= t``, so ``s >= t*n/(2-t)``. The
    small slack keeps rounding from ever making the bound larger than it is (a longer prefix is safe).
    """
    bound = (n_tokens.cast(pl.Float64()) * threshold / (2.0 - threshold) - 1e-9).ceil().cast(pl.Int64())
    return pl.max_horizontal(bound, pl.lit(2, pl.Int64()))


class EntryPrefixes(NamedTuple):
    """The list side of fuzzy matching (:func:`entry_prefixes`): how many entries hold each token, and
    each list name's prefix tokens."""

    frequency: pl.DataFrame
    prefixes: pl.DataFrame


def entry_prefixes(index: pl.DataFrame, *, threshold: float, max_token_entries: int) -> EntryPrefixes:
    """Token frequencies and prefix tokens of the list names in ``index`` (:func:`entry_names`), for
    :func:`match_parties` with the same ``threshold`` and ``max_token_entries`` (see :func:`_fuzzy`):
    built once by a caller that screens many sets of names against one list."""
    frequency = (
        index.select("entry_id", token="tokens")
        .explode("token")
        .group_by("token")
        .agg(entries=pl.col("entry_id").n_unique())
    )
    prefixes = (
        index.filter(pl.col("n_tokens") >= 2)
        .select("name_key", n_entry="n_tokens", token="tokens")
        .explode("token")
        .join(frequency, on="token")
        .sort("name_key", "entries", "token")
        .filter(
            (
                pl.int_range(pl.len(), dtype=pl.Int64()).over("name_key")
                <= pl.col("n_entry") - _min_shared(pl.col("n_entry"), threshold)
            )
            & (pl.col("entries") <= max_token_entries)
        )
        .select("token", "name_key", "n_entry")
    )
    return EntryPrefixes(frequency, prefixes)


def _fuzzy(
    parties: pl.LazyFrame, index: pl.DataFrame, entry_side: EntryPrefixes, *, threshold: float
) -> pl.LazyFrame:
    """Token-overlap candidates through a prefix-filtered inverted index, scored by Dice.

    Tokens are put in one global order: by how many list entries hold them (fewest first; tokens
    the list does not know count 0), ties by text. A name of ``n`` tokens that shares at least
    ``a`` tokens with its partner (``a`` = :func:`_min_shared`) has its first shared token (in that
    order) among its first ``n - a + 1`` tokens, its *prefix*. That holds on both sides, so only
    prefix tokens are joined and no pair is lost, while common words sit at the end of the order
    and rarely enter the join. Tokens held by more than ``max_token_entries`` entries are never
    join keys (``entry_side``, :func:`entry_prefixes`); since the first shared token is the one found,
    a pair is a candidate exactly when it shares at least one token that is not common. Candidates
    whose sizes alone rule out ``threshold`` are dropped; the rest are scored on their full token lists
    (``list.set_intersection``), common tokens included. Pairs are keyed by one ``UInt64``
    (``party_key * 2**32 + name_key``). The surname rule is the caller's (:func:`match_parties`).
    """
    frequency, entry_prefix = entry_side
    party_prefix = (
        parties.filter(pl.col("n_tokens") >= 2)
        .select("party_key", n_party="n_tokens", token="tokens")
        .explode("token")
        .join(frequency.lazy(), on="token", how="left")
        .with_columns(pl.col("entries").fill_null(0))
        .sort("party_key", "entries", "token")
        .filter(
            pl.int_range(pl.len(), dtype=pl.Int64()).over("party_key")
            <= pl.col("n_party") - _min_shared(pl.col("n_party"), threshold)
        )
        .select("token", "party_key", "n_party")
    )

    total = pl.col("n_party") + pl.col("n_entry")
    pair = pl.col("party_key").cast(pl.UInt64()) * _SHIFT + pl.col("name_key").cast(pl.UInt64())
    candidates = (
        party_prefix.join(entry_prefix.lazy(), on="token", how="inner")
        .filter(2.0 * pl.min_horizontal("n_party", "n_entry") / total >= threshold)
        .select(pair=pair)
        .unique()
        .select(
            party_key=(pl.col("pair") // _SHIFT).cast(pl.UInt32()),
            name_key=(pl.col("pair") % _SHIFT).cast(pl.UInt32()),
        )
    )
    shared = pl.col("party_tokens").list.set_intersection(pl.col("entry_tokens")).list.len()
    return (
        candidates.join(
            parties.select("party_key", party_tokens="tokens", n_party="n_tokens"),
            on="party_key",
            how="inner",
        )
        .join(
            index.lazy().select("name_key", entry_tokens="tokens", n_entry="n_tokens"),
            on="name_key",
            how="inner",
        )
        .with_columns(shared=shared.cast(pl.Int64()))
        .with_columns(score=2.0 * pl.col("shared") / total)
        .filter((pl.col("shared") >= 2) & (pl.col("score") >= threshold))
        .select("party_key", "name_key", "score", kind=pl.lit("fuzzy"), shared="shared")
    )
