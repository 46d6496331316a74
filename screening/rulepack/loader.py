"""Load a rule pack folder, validate it, and compute its content hash.

A pack is data: loading one reads TOML and CSV files and never executes code.
Every error raised here is a :class:`~screening.errors.RulePackError` naming the
file and the key path (for example ``de_minimis.toml [suspensions[2].effective_to]``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import hashlib
import itertools
import os
import tomllib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import polars as pl
from pydantic import BaseModel, ValidationError

from screening.errors import RulePackError, UsageError
from screening.path_names import non_utf8_name
from screening.rulepack.conditions import ConditionError, closed_columns, compile_condition
from screening.rulepack.models import (
    Citation,
    CoverageGap,
    DeMinimisRules,
    Fee,
    FeeRules,
    FxRules,
    MailStanding,
    Measure,
    MeasureFile,
    NeverEligible,
    PackMeta,
    PostalRegime,
    Rule,
    SourceList,
    SuspensionException,
    TariffRules,
)
from screening.rulepack.reference import known_countries
from screening.rulepack.risk_models import DeniedParties, QueueRules, RiskRules
from screening.rulepack.scope_lines import EXAMPLES, unmatched_summary
from screening.rulepack.screening_list import read_screening_list
from screening.rulepack.tables import (
    inside_pack,
    read_fx_table,
    read_mfn_table,
    read_prefix_table,
    read_value_per_kg_table,
    refuse_outside_pack,
    rounded_fx_rates,
)
from screening.schema import RISK_COLUMN_TYPES

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class RulePack:
    """A loaded, validated rule pack.

    Attributes:
        root: the pack folder.
        meta: identity and coverage.
        de_minimis: thresholds, suspensions, never-eligible classes, entry limits.
        fees: user fees by fiscal year.
        tariff: additional measures and postal regimes (the MFN table is in ``mfn``).
        fx: the exchange-rate table's description (its rows are in ``fx_rates``).
        mfn: tariff lines (``hts``, period, parsed rate columns).
        fx_rates: ``currency, date, usd_per_unit, source`` rows.
        content_hash: ``sha256:`` of every file in the pack; the pack's version.
        measure_scope: ``measure_id, hts_prefix, kind`` (include/exclude) for measures and gaps.
        measure_files: the file (relative to ``root``) each measure and gap was read from.
        risk: risk rules, keyword families and screening-list settings (``risk.toml``; optional).
        queues: inspection queues and random sampling (``queues.toml``; optional).
        conditions: each risk rule's compiled condition, by rule id.
        value_per_kg: ``chapter, min_usd_per_kg`` rows (empty without a table).
        screening_list: ``entry_id, name, aliases, program, entity_type, source`` rows (empty without one).
        sources: source tag → URL (``sources.toml``; optional: empty without one, and then no citation may
            name a tag).
    """

    root: Path
    meta: PackMeta
    de_minimis: DeMinimisRules
    fees: FeeRules
    tariff: TariffRules
    fx: FxRules
    mfn: pl.DataFrame
    fx_rates: pl.DataFrame
    content_hash: str
    measure_scope: pl.DataFrame = field(default_factory=pl.DataFrame)
    measure_files: dict[str, str] = field(default_factory=dict)
    risk: RiskRules = field(default_factory=RiskRules)
    queues: QueueRules = field(default_factory=QueueRules)
    conditions: dict[str, pl.Expr] = field(default_factory=dict)
    value_per_kg: pl.DataFrame = field(default_factory=pl.DataFrame)
    screening_list: pl.DataFrame = field(default_factory=pl.DataFrame)
    sources: dict[str, str] = field(default_factory=dict)

    def all_rules(self) -> Iterable[Rule]:
        """Every dated rule of the pack, in file order."""
        yield from self.de_minimis.thresholds
        yield from self.de_minimis.suspensions
        yield from self.de_minimis.suspension_exceptions
        yield from self.de_minimis.never_eligible
        yield from self.de_minimis.gifts
        yield from self.de_minimis.entry_limits
        yield from self.fees.fees
        yield from self.tariff.measures
        yield from self.tariff.gaps
        yield from self.tariff.postal
        yield from self.risk.rules
        yield from self.queues.sampling.rates if self.queues.sampling else ()

    def source_urls(self, citation: Citation) -> dict[str, str]:
        """The URL of each source tag of ``citation``, in its order (every tag has one in a loaded pack)."""
        return {tag: self.sources[tag] for tag in citation.sources if tag in self.sources}


#: The pack used when none is named: ``rules/us`` below the working directory when there is one, else the
#: U.S. pack installed with this package (see :func:`pack_folder`).
DEFAULT_PACK = "rules/us"


def pack_folder(path: str | Path) -> Path:
    """The folder of the pack named ``path``: itself, except that the default ``rules/us``, when the working
    directory has none, is the U.S. pack installed with the package (inside the wheel, or the checkout's)."""
    root = Path(path)
    if root != Path(DEFAULT_PACK) or root.is_dir():
        return root
    package = Path(__file__).resolve().parents[1]
    installed = (package / "_packs" / "us", package.parent / "rules" / "us")
    return next((folder for folder in installed if (folder / "pack.toml").is_file()), root)


def load_rules(path: str | Path) -> RulePack:
    """Load and validate the rule pack in folder ``path``; ``"rules/us"`` names the working directory's folder of
    that name, or the U.S. pack installed with the package where there is none (:func:`pack_folder`).

    Raises:
        RulePackError: the folder's path is not UTF-8 text (the pack's tables could not be read from it), a
            file is missing or malformed, a key is unknown, a value does not validate, ids repeat, periods
            of one key overlap, a measure's or gap's HTS list matches no tariff line (:func:`dead_lists`), or
            a citation names a source tag that ``sources.toml`` does not list.
        UsageError: ``path`` is not a path (text or a path object: None, a number, bytes).
    """
    return _load_rules(path, refuse_dead_lists=True)


def load_rules_to_import_hts(path: str | Path) -> RulePack:
    """:func:`load_rules`, except that a measure or gap whose HTS list matches no line of the pack's tariff
    table is not refused: ``screen rules import-hts`` replaces that table, and checks the lists against the
    merged one (:func:`dead_lists`) instead, so that it can repair a pack that fails that check alone."""
    return _load_rules(path, refuse_dead_lists=False)


def _load_rules(path: str | Path, *, refuse_dead_lists: bool) -> RulePack:
    """:func:`load_rules`; ``refuse_dead_lists=False`` leaves out the dead-list check (:func:`dead_lists`)."""
    if not isinstance(path, str | os.PathLike) or not isinstance(os.fspath(path), str):
        raise UsageError(f"rules must be a rule pack folder (a path) or a loaded RulePack, not {path!r}")
    root = pack_folder(path)
    if (shown := non_utf8_name(root)) is not None:
        raise RulePackError(
            shown, "", "the rule pack folder's path (--rules) is not UTF-8 text: rename the folder"
        )
    if not root.is_dir():
        raise RulePackError(str(root), "", "rule pack folder not found")
    meta = _model(root, "pack.toml", PackMeta, key="pack")
    de_minimis_file = _model(root, "de_minimis.toml", DeMinimisRules)
    fees = _model(root, "fees.toml", FeeRules)
    tariff, measure_files = _tariff_with_measure_files(root)
    # After the measures folder: a prefix table may be one of its files (an unreadable folder is named as such).
    de_minimis = _with_prefix_files(root, de_minimis_file)
    fx = _model(root, "fx.toml", FxRules)
    mfn = read_mfn_table(root, tariff.mfn.file)
    fx_rates = read_fx_table(root, fx.rates.file)
    risk = _optional_model(root, "risk.toml", RiskRules)
    queues = _optional_model(root, "queues.toml", QueueRules)
    pack = RulePack(
        root=root,
        meta=meta,
        de_minimis=de_minimis,
        fees=fees,
        tariff=tariff,
        fx=fx,
        mfn=mfn,
        fx_rates=fx_rates,
        content_hash="",  # taken once every check has passed (below)
        measure_scope=_measure_scope(root, tariff, measure_files),
        measure_files=measure_files,
        risk=risk,
        queues=queues,
        conditions=_compile_conditions(root, risk),
        value_per_kg=(
            read_value_per_kg_table(root, risk.value_per_kg.file) if risk.value_per_kg else pl.DataFrame()
        ),
        screening_list=_screening_list(root, risk),
        sources=_source_urls(root),
    )
    check_files(pack)  # first: a misspelt file explains the errors the other checks would give
    check_pack(pack)
    if refuse_dead_lists:
        _check_dead_lists(pack)
    check_routing(pack)
    check_sources(pack)
    # Last: it reads every file whole, which the checks above may refuse first (a link out of the pack).
    read = [*_referenced_tables((meta, de_minimis, fees, tariff, fx, risk, queues)), *measure_files.values()]
    return replace(pack, content_hash=content_hash(root, read))


def _screening_list(root: Path, risk: RiskRules) -> pl.DataFrame:
    if risk.denied_parties is None:
        return pl.DataFrame()
    file = root / risk.denied_parties.file
    refuse_outside_pack(root, file, "screening list", "denied_parties.file")
    return read_screening_list(file)


def _optional_model(root: Path, name: str, model: type[M]) -> M:
    """A model from an optional file: its defaults when the pack does not have the file."""
    if not (root / name).is_file():
        return model.model_validate({})
    return _model(root, name, model)


#: The pack's list of source tags with their URLs: optional, but a pack without one may cite no tag.
SOURCES_FILE = "sources.toml"


def _source_urls(root: Path) -> dict[str, str]:
    """Source tag → URL from the pack's ``sources.toml`` (empty without one)."""
    return _model(root, SOURCES_FILE, SourceList).urls if (root / SOURCES_FILE).is_file() else {}


def check_sources(pack: RulePack) -> None:
    """Every source tag of every citation in the pack is listed in its ``sources.toml``; a pack without one may
    name no tag (there would be nothing to resolve it with). The error names the citation's file and entry."""
    listed = (pack.root / SOURCES_FILE).is_file()
    located = {id(rule): (file, where) for file, where, rule in located_rules(pack)}
    for name, model in _pack_models(pack):
        for path, owner, citation in _citations(model):
            unknown = [(i, tag) for i, tag in enumerate(citation.sources) if tag not in pack.sources]
            if not unknown:
                continue
            index, tag = unknown[0]
            file, where = str(pack.root / name), f"{path}.sources[{index}]"
            if owner is not None and id(owner[0]) in located:
                # The rule's own file and place in it (a measure's in its measures/*.toml), the citation below.
                file, entry = located[id(owner[0])]
                where = entry.replace("]", f"]{where[len(owner[1]) :]}", 1)
            elif owner is not None:
                where = f"{where} (id {owner[0].id})"
            raise RulePackError(file, where, _unknown_tag(tag, pack.sources, listed=listed))


def _unknown_tag(tag: str, sources: Mapping[str, str], *, listed: bool) -> str:
    if not listed:
        return f"source tag {tag!r}, but the pack has no {SOURCES_FILE}: add one giving each tag its URL, or cite no tag"
    close = difflib.get_close_matches(tag, list(sources), n=1)
    return f"source tag {tag!r} is not listed in {SOURCES_FILE}" + (
        f" (did you mean {close[0]!r}?)" if close else ""
    )


def _pack_models(pack: RulePack) -> list[tuple[str, BaseModel]]:
    """Each TOML file of the pack at its root with what was read from it (``measures/*.toml`` merged into
    ``tariff.toml``'s model: :func:`located_rules` names an entry's own file)."""
    return [
        ("pack.toml", pack.meta),
        ("de_minimis.toml", pack.de_minimis),
        ("fees.toml", pack.fees),
        ("tariff.toml", pack.tariff),
        ("fx.toml", pack.fx),
        ("risk.toml", pack.risk),
        ("queues.toml", pack.queues),
    ]


def _citations(
    value: object, path: str = "", owner: tuple[Rule, str] | None = None
) -> Iterator[tuple[str, tuple[Rule, str] | None, Citation]]:
    """Every citation in ``value`` (a model of the pack, walked field by field) with its key path and the dated
    rule it belongs to (with that rule's key path), if any."""
    if isinstance(value, Citation):
        yield path, owner, value
    elif isinstance(value, BaseModel):
        inner = (value, path) if isinstance(value, Rule) else owner
        for name in type(value).model_fields:
            yield from _citations(getattr(value, name), f"{path}.{name}" if path else name, inner)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _citations(item, f"{path}.{key}", owner)
    elif isinstance(value, (list, tuple)) and value and not isinstance(value[0], str):
        for index, item in enumerate(value):
            yield from _citations(item, f"{path}[{index}]", owner)


#: Risk columns that read a table of the pack: a condition on one needs the table, or it could never be true.
_COLUMNS_FROM_TABLES = {
    "denied_party_match": ("denied_parties", "no screening list ([denied_parties])"),
    "denied_party_score": ("denied_parties", "no screening list ([denied_parties])"),
    "chapter_min_usd_per_kg": ("value_per_kg", "no value-per-kg table ([value_per_kg])"),
    "shipper_legal_form": ("denied_parties", "no legal forms ([denied_parties] legal_suffixes)"),
}


def _compile_conditions(root: Path, risk: RiskRules) -> dict[str, pl.Expr]:
    """Compile every risk condition; refuse the pack on the first one that is not allowed, that compares a
    column with a text it never holds (:func:`~screening.rulepack.conditions.closed_columns`, the pack's keyword
    families among them), or that reads a column from a table the pack lacks (a rule that could never fire)."""
    compiled = {}
    present = {
        "denied_parties": risk.denied_parties is not None,
        "value_per_kg": risk.value_per_kg is not None,
    }
    closed = closed_columns([f.name for f in risk.keyword_families])
    for index, rule in enumerate(risk.rules):
        where = f"rules[{index}].condition (id {rule.id})"
        try:
            compiled[rule.id] = compile_condition(rule.condition, RISK_COLUMN_TYPES, closed=closed)
        except ConditionError as exc:
            raise RulePackError(str(root / "risk.toml"), where, f"condition refused: {exc}") from exc
        for column in compiled[rule.id].meta.root_names():
            table, what = _COLUMNS_FROM_TABLES.get(column, ("", ""))
            if table and not present[table]:
                raise RulePackError(
                    str(root / "risk.toml"),
                    where,
                    f"reads {column}, but the pack has {what}: that column never holds a value",
                )
    return compiled


def check_routing(pack: RulePack) -> None:
    """Queues are unique by name and priority; every rule's queue and every route exists."""
    file = str(pack.root / "queues.toml")
    names: dict[str, int] = {}
    priorities: dict[int, str] = {}
    for index, queue in enumerate(pack.queues.queues):
        if queue.name in names:
            raise RulePackError(file, f"queues[{index}]", f"duplicate queue name {queue.name!r}")
        if queue.priority in priorities:
            raise RulePackError(
                file,
                f"queues[{index}]",
                f"priority {queue.priority} also used by {priorities[queue.priority]!r}: priorities must differ",
            )
        names[queue.name] = index
        priorities[queue.priority] = queue.name
    rule_ids = {r.id for r in pack.risk.rules}
    for index, queue in enumerate(pack.queues.queues):
        unknown = sorted(set(queue.routes) - rule_ids)
        if unknown:
            raise RulePackError(file, f"queues[{index}].routes", f"unknown risk rule ids {unknown}")
    for index, rule in enumerate(pack.risk.rules):
        if rule.queue not in names:
            raise RulePackError(
                str(pack.root / "risk.toml"),
                f"rules[{index}].queue (id {rule.id})",
                f"queue {rule.queue!r} is not defined in queues.toml",
            )


def _with_prefix_files(root: Path, rules: DeMinimisRules) -> DeMinimisRules:
    """Never-eligible classes and suspension exceptions with their ``hts_prefixes_file`` read into
    ``hts_prefixes``; each exception's suspensions checked to be the file's.

    Raises:
        RulePackError: the table is missing or malformed, or dates its prefixes (a class is dated as a whole), or
            an exception names a suspension the file does not hold.
    """
    known = {rule.id for rule in rules.suspensions}
    for index, exception in enumerate(rules.suspension_exceptions):
        unknown = [s for s in exception.suspensions if s not in known]
        if unknown:
            where = f"de_minimis.toml suspension_exceptions[{index}] (id {exception.id})"
            raise RulePackError(
                str(root / "de_minimis.toml"), where, f"no suspension has the id {unknown[0]!r}"
            )
    classes = tuple(_read_prefixes(root, "never_eligible", i, r) for i, r in enumerate(rules.never_eligible))
    exceptions = tuple(
        _read_prefixes(root, "suspension_exceptions", i, r) for i, r in enumerate(rules.suspension_exceptions)
    )
    return rules.model_copy(update={"never_eligible": classes, "suspension_exceptions": exceptions})


_PrefixRule = TypeVar("_PrefixRule", NeverEligible, SuspensionException)


def _read_prefixes(root: Path, section: str, index: int, rule: _PrefixRule) -> _PrefixRule:
    """``rule`` with its ``hts_prefixes_file`` read into ``hts_prefixes`` (undated rows only)."""
    if rule.hts_prefixes_file is None:
        return rule
    where = f"de_minimis.toml {section}[{index}] (id {rule.id})"
    table: pl.DataFrame = read_prefix_table(root, rule.hts_prefixes_file, where=where)
    if table.filter(pl.col("effective_from").is_not_null() | pl.col("effective_to").is_not_null()).height:
        raise RulePackError(
            str(root / rule.hts_prefixes_file), where, "prefixes may not carry their own periods here"
        )
    prefixes = tuple(dict.fromkeys([*rule.hts_prefixes, *table["hts_prefix"].to_list()]))
    return rule.model_copy(update={"hts_prefixes": prefixes})


def visible_toml_files(folder: Path) -> list[Path]:
    """The ``*.toml`` files of ``folder`` (none if it is absent), by name; hidden ones (an editor's lock or
    backup, ``.#s122.toml``) are no files of the pack.

    Raises:
        RulePackError: the folder cannot be listed.
    """
    if not folder.is_dir():
        return []
    try:
        entries = list(folder.iterdir())
    except OSError as exc:  # listed as empty, the pack would load without the folder's measures
        raise RulePackError(str(folder), "", f"folder cannot be read: {exc.strerror or exc}") from exc
    return sorted(path for path in entries if path.suffix == ".toml" and not path.name.startswith("."))


def _tariff_with_measure_files(root: Path) -> tuple[TariffRules, dict[str, str]]:
    """``tariff.toml`` plus every ``measures/*.toml`` (one file per program), merged."""
    tariff = _model(root, "tariff.toml", TariffRules)
    files = {r.id: "tariff.toml" for r in (*tariff.measures, *tariff.gaps)}
    measures, gaps = list(tariff.measures), list(tariff.gaps)
    folder = root / "measures"
    for path in visible_toml_files(folder):
        name = f"measures/{path.name}"
        extra = _model(root, name, MeasureFile)
        for rule in (*extra.measures, *extra.gaps):
            if rule.id in files:
                raise RulePackError(str(path), rule.id, f"duplicate id (also in {files[rule.id]})")
            files[rule.id] = name
        measures += extra.measures
        gaps += extra.gaps
    merged = tariff.model_copy(update={"measures": tuple(measures), "gaps": tuple(gaps)})
    return merged, files


def _measure_scope(root: Path, tariff: TariffRules, files: dict[str, str]) -> pl.DataFrame:
    """``measure_id, hts_prefix, kind, effective_from, effective_to`` from inline prefixes and tables.

    Rows come rule by rule, includes before excludes, inline prefixes before a table's; each table is read
    once however many rules name it (an error names the first rule that does).
    """
    # (order, measure id, kind, prefix or table name): the order is the rule's, includes first.
    inline: list[tuple[int, str, str, str]] = []
    references: list[tuple[int, str, str, str]] = []
    tables: dict[str, pl.DataFrame] = {}
    for index, rule in enumerate((*tariff.measures, *tariff.gaps)):
        for kind, prefixes, table in (
            ("include", rule.hts_include, rule.hts_include_file),
            ("exclude", rule.hts_exclude, rule.hts_exclude_file),
        ):
            order = 2 * index + (kind == "exclude")
            inline += [(order, rule.id, kind, prefix) for prefix in prefixes]
            if table is not None:
                if table not in tables:
                    where = f"{files[rule.id]} (id {rule.id})"
                    tables[table] = read_prefix_table(root, table, where=where).with_columns(
                        table=pl.lit(table)
                    )
                if kind == "include" and tables[table].is_empty():
                    raise RulePackError(
                        str(root / table),
                        f"{files[rule.id]} (id {rule.id})",
                        "an empty scope: the rule could never apply",
                    )
                references.append((order, rule.id, kind, table))
    schema = pl.Schema(
        {
            "measure_id": pl.String(),
            "hts_prefix": pl.String(),
            "kind": pl.String(),
            "effective_from": pl.Date(),
            "effective_to": pl.Date(),
        }
    )
    key = {"order": pl.Int64(), "measure_id": pl.String(), "kind": pl.String()}
    from_inline = pl.DataFrame(inline, schema={**key, "hts_prefix": pl.String()}, orient="row").with_columns(
        pl.lit(0).alias("source"),
        pl.lit(None, dtype=pl.Date()).alias("effective_from"),
        pl.lit(None, dtype=pl.Date()).alias("effective_to"),
        pl.int_range(pl.len()).alias("row"),
    )
    named = pl.DataFrame(references, schema={**key, "table": pl.String()}, orient="row")
    read = pl.concat([t.with_row_index("row") for t in tables.values()]) if tables else None
    from_tables = (
        named.join(read, on="table", how="inner").drop("table").with_columns(pl.lit(1).alias("source"))
        if read is not None
        else from_inline.clear()
    )
    rows = pl.concat([from_inline, from_tables.select(from_inline.columns)], how="vertical_relaxed")
    ordered = rows.sort("order", "source", "row")
    return ordered.select(schema.names()).cast(schema).unique(maintain_order=True)


def content_hash(root: Path, read: Iterable[str] = ()) -> str:
    """SHA-256 over the relative path and bytes of every file in the pack but hidden ones (folders that are
    links inside the pack followed), and of the files in ``read`` (paths relative to ``root``: what the loader
    read, hidden or not), in sorted order, each part preceded by its length so that no two packs frame alike.
    Each file is read in blocks (a large notes file takes no more memory than a small one).

    Raises:
        RulePackError: a link leads out of the pack (:func:`_pack_files`), a file cannot be read (naming it and
            the system's reason), or a file changed size while it was read.
    """
    digest = hashlib.sha256()
    # Hidden files (.DS_Store, editor swap files, an import's staging copy) are no part of the pack, as the
    # file check leaves them alone: they must not change its version either (a resumed state checks it).
    # A hidden file the pack names (a table `file = "tariff/.mfn.csv"`) or reads (`measures/.x.toml`) is
    # part of its rules, and of its version.
    shown = set(_pack_files(root))
    named = {Path(n).as_posix() for n in read if (root / n).is_file()}
    for name in sorted(shown | named):
        for part in _framed(root, name):
            digest.update(part)
    return "sha256:" + digest.hexdigest()


def _framed(root: Path, name: str) -> Iterator[bytes]:
    """The pack's file ``name`` as the content hash takes it: its path's length and bytes, then its size and
    bytes, read in 1 MiB blocks.

    Raises:
        RulePackError: it cannot be read, or its size changed while it was read.
    """
    file = root / name
    path = name.encode()
    done = 0
    try:
        with file.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            yield len(path).to_bytes(8, "big") + path + size.to_bytes(8, "big")
            while block := handle.read(1 << 20):
                done += len(block)
                yield block
    except OSError as exc:
        raise RulePackError(str(file), "", f"cannot be read: {exc.strerror or exc}") from exc
    if done != size:
        raise RulePackError(
            str(file), "", f"changed while it was read ({size:,} bytes, then {done:,}): load the pack again"
        )


#: The pack's own TOML files at its root (``measures/*.toml`` and ``scenarios/*.toml`` beside them).
PACK_FILES = (
    "pack.toml",
    "de_minimis.toml",
    "fees.toml",
    "tariff.toml",
    "fx.toml",
    "risk.toml",
    "queues.toml",
    SOURCES_FILE,
)
#: Files for people, anywhere in a pack: never read by the engine.
_DOCUMENT_SUFFIXES = (".md", ".txt")
_TABLE_SUFFIXES = (".csv", ".parquet")


def check_files(pack: RulePack) -> None:
    """Refuse a file the pack would not read: a misspelt TOML (``risks.toml`` leaves the pack without its risk
    rules), a TOML in another folder, a table no entry names, a file of another kind. Hidden files and
    documentation (``*.md``, ``*.txt``, ``LICENSE*``) are left alone."""
    referenced = {Path(name).as_posix() for name in _table_references(pack)}
    # TOML files first: a misspelt one leaves its tables unnamed.
    for name in sorted(_pack_files(pack.root), key=lambda n: (not n.endswith(".toml"), n)):
        path = Path(name)
        if any(part.startswith(".") for part in path.parts):
            continue
        if path.suffix in _DOCUMENT_SUFFIXES or path.name.upper().startswith("LICENSE"):
            continue
        if path.suffix == ".toml":
            folder = path.parent.as_posix()
            if (folder == "." and path.name in PACK_FILES) or folder in ("measures", "scenarios"):
                continue
            raise RulePackError(
                str(pack.root / name),
                "",
                f"not a file the pack reads (its TOML files: {', '.join(PACK_FILES)}, "
                "measures/*.toml, scenarios/*.toml)",
            )
        if path.suffix in _TABLE_SUFFIXES:
            if name in referenced:
                continue
            raise RulePackError(
                str(pack.root / name), "", "no entry of the pack names this table (a misspelt file name?)"
            )
        raise RulePackError(
            str(pack.root / name), "", "not a file a rule pack holds (TOML, CSV, Parquet or documentation)"
        )


def _table_references(pack: RulePack) -> set[str]:
    """Every table file an entry of the pack names (``file``, ``hts_include_file``, ... fields)."""
    return _referenced_tables(
        (pack.meta, pack.de_minimis, pack.fees, pack.tariff, pack.fx, pack.risk, pack.queues)
    )


def _referenced_tables(models: Iterable[object]) -> set[str]:
    """Every table file an entry of ``models`` names (``file``, ``hts_include_file``, ... fields)."""
    found: set[str] = set()

    def walk(value: object) -> None:
        if isinstance(value, BaseModel):
            for field in type(value).model_fields:
                walk(getattr(value, field))
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item)
        elif isinstance(value, str) and value.endswith(_TABLE_SUFFIXES):
            found.add(os.path.normpath(value))

    for model in models:
        walk(model)
    return found


def folder_tables(root: Path, folder: str) -> list[str]:
    """The tables (CSV, Parquet) below ``folder`` of the pack at ``root``, as paths relative to ``root``, sorted;
    hidden ones left out, as :func:`check_files` leaves them."""
    if not (root / folder).is_dir():
        return []
    inside = (Path(folder) / name for name in _pack_files(root / folder, pack=root))
    return sorted(
        path.as_posix()
        for path in inside
        if path.suffix in _TABLE_SUFFIXES and not any(part.startswith(".") for part in path.parts)
    )


def _pack_files(root: Path, *, pack: Path | None = None) -> list[str]:
    """Every file below ``root`` but hidden ones (``.name``, or inside a hidden folder), as paths relative to it,
    following linked folders inside the pack (``pack``, when ``root`` is a folder of it; once each); a hidden
    link leading out of the pack is not followed.

    Raises:
        RulePackError: a link that is not hidden leads out of the pack folder (its content would change the
            pack unseen; a link to ``/`` would walk the whole disk), or a folder cannot be listed.
    """

    def unlisted(error: OSError) -> None:
        raise RulePackError(
            str(error.filename or root), "", f"folder cannot be read: {error.strerror or error}"
        ) from error

    files: list[str] = []
    seen: set[str] = set()
    for folder, subfolders, names in os.walk(root, followlinks=True, onerror=unlisted):
        real = os.path.realpath(folder)
        if real in seen:
            subfolders.clear()
            continue
        seen.add(real)
        subfolders[:] = [name for name in subfolders if _kept(pack or root, Path(folder) / name)]
        relative = Path(folder).relative_to(root)
        files += [
            (relative / n).as_posix()
            for n in names
            if _kept(pack or root, Path(folder) / n) and (Path(folder) / n).is_file()
        ]
    return files


def _kept(root: Path, path: Path) -> bool:
    """Whether the pack's entry ``path`` is one of its files or folders: not hidden, and inside the pack.

    Raises:
        RulePackError: it is a link leading out of the pack folder.
    """
    if path.name.startswith("."):
        return False
    if path.is_symlink() and not inside_pack(root, path):
        raise RulePackError(
            str(path),
            "",
            f"a link to {os.readlink(path)}, outside the rule pack folder: the pack's files must be inside it "
            "(its content hash covers them); copy the file or folder into the pack",
        )
    return True


def byte_order_mark_hint(file: Path) -> str:
    """What to add to a TOML file's parse error when the file starts with a UTF-8 byte-order mark, which
    ``tomllib`` refuses as 'Invalid statement (at line 1, column 1)' (else nothing)."""
    with contextlib.suppress(OSError), file.open("rb") as handle:
        if handle.read(3) == b"\xef\xbb\xbf":
            return " (the file starts with a byte-order mark, as 'UTF-8 with BOM' saves it: save it as UTF-8)"
    return ""


def read_toml(root: Path, name: str) -> dict[str, Any]:
    """Parse one TOML file of the pack, mapping errors to :class:`RulePackError` (a file that links out of the
    pack folder ``root`` is refused unread, :func:`~screening.rulepack.tables.refuse_outside_pack`)."""
    file = root / name
    refuse_outside_pack(root, file, "TOML file")
    if not file.is_file():
        raise RulePackError(str(file), "", "file missing from the rule pack")
    try:
        with file.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise RulePackError(str(file), "", f"malformed TOML: {exc}{byte_order_mark_hint(file)}") from exc
    except UnicodeDecodeError as exc:
        raise RulePackError(str(file), "", f"not UTF-8 text: {exc.reason} at byte {exc.start}") from exc
    except RecursionError as exc:
        raise RulePackError(str(file), "", "malformed TOML: arrays or tables nested too deeply") from exc
    except OSError as exc:
        raise RulePackError(str(file), "", f"cannot be read: {exc.strerror or exc}") from exc
    except MemoryError as exc:
        raise RulePackError(
            str(file), "", "too large to read: a TOML file of the pack is a few kilobytes"
        ) from exc


def read_denied_parties(path: str | Path) -> DeniedParties | None:
    """The ``[denied_parties]`` table of the pack's ``risk.toml``, read and validated alone (the rest of the
    pack is not loaded); None where the pack has no ``risk.toml`` or its ``risk.toml`` no such table.

    Raises:
        RulePackError: the pack folder is missing, or ``risk.toml`` or the table does not read or validate.
    """
    root = pack_folder(path)
    if not root.is_dir():
        raise RulePackError(str(root), "", "rule pack folder not found")
    if not (root / "risk.toml").is_file():
        return None
    data = read_toml(root, "risk.toml")
    return (
        _validated(root, "risk.toml", data, DeniedParties, key="denied_parties")
        if "denied_parties" in data
        else None
    )


def _model(root: Path, name: str, model: type[M], *, key: str | None = None) -> M:
    return _validated(root, name, read_toml(root, name), model, key=key)


def _validated(root: Path, name: str, data: dict[str, Any], model: type[M], *, key: str | None = None) -> M:
    """``data`` (pack file ``name``, or its table ``key``) validated as ``model``."""
    if key is not None:
        if key not in data:
            raise RulePackError(str(root / name), key, "missing table")
        data = data[key]
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        where, message = _describe(exc, data, key=key)
        raise RulePackError(str(root / name), f"{key}.{where}" if key else where, message) from exc


def _describe(exc: ValidationError, data: Mapping[str, Any], *, key: str | None = None) -> tuple[str, str]:
    """The first error's key path (with the entry id when there is one) and message, naming every unknown key
    too (a misspelt ``orgins`` is also a missing ``origins``: the first error alone hid the key written), with
    the missing key of its entry it is likely meant for; the errors not named are counted."""
    errors = exc.errors()
    first = errors[0]
    path = _key_path(first["loc"])
    entry = _entry_id(data, first["loc"])
    unknown = [e for e in errors[1:] if e["type"] == "extra_forbidden"]
    named = "".join(f"; {_unknown_key(e, errors, key)}" for e in unknown)
    rest = len(errors) - 1 - len(unknown)
    more = f" (and {rest} more)" if rest else ""
    where = f"{path} (id {entry})" if entry else path
    return where, f"{first['msg']}{named}{more}"


def _unknown_key(error: Any, errors: Sequence[Any], key: str | None) -> str:
    """An unknown key's path, and the missing key of the same entry its name is closest to (``did you mean``)."""
    loc = tuple(error["loc"])
    missing = [
        str(e["loc"][-1])
        for e in errors
        if e["type"] == "missing" and tuple(e["loc"][:-1]) == loc[:-1] and e["loc"]
    ]
    close = difflib.get_close_matches(str(loc[-1]), missing, n=1) if loc else []
    path = _key_path(loc)
    meant = f" (did you mean {close[0]}?)" if close else ""
    return f"unknown key {f'{key}.{path}' if key else path}{meant}"


def _key_path(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _entry_id(data: Mapping[str, Any], loc: Sequence[int | str]) -> str | None:
    node: Any = data
    found: str | None = None
    for part in loc:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(node, Mapping) and isinstance(node.get("id"), str):
            found = node["id"]
    return found


def located_rules(pack: RulePack) -> Iterable[tuple[str, str, Rule]]:
    """Every dated rule with the file and key path it was read from."""
    sections: list[tuple[str, str, Sequence[Rule]]] = [
        ("de_minimis.toml", "thresholds", pack.de_minimis.thresholds),
        ("de_minimis.toml", "suspensions", pack.de_minimis.suspensions),
        ("de_minimis.toml", "suspension_exceptions", pack.de_minimis.suspension_exceptions),
        ("de_minimis.toml", "never_eligible", pack.de_minimis.never_eligible),
        ("de_minimis.toml", "gifts", pack.de_minimis.gifts),
        ("de_minimis.toml", "entry_limits", pack.de_minimis.entry_limits),
        ("fees.toml", "fees", pack.fees.fees),
        ("tariff.toml", "measures", pack.tariff.measures),
        ("tariff.toml", "gaps", pack.tariff.gaps),
        ("tariff.toml", "postal", pack.tariff.postal),
        ("risk.toml", "rules", pack.risk.rules),
        ("queues.toml", "sampling.rates", pack.queues.sampling.rates if pack.queues.sampling else ()),
    ]
    for file, section, rules in sections:
        # Measures and gaps come from several files: an entry's index is its place in its own file.
        counted: dict[str, int] = {}
        for rule in rules:
            source = pack.measure_files.get(rule.id, file) if section in ("measures", "gaps") else file
            index = counted[source] = counted.get(source, -1) + 1
            yield str(pack.root / source), f"{section}[{index}] (id {rule.id})", rule


def check_pack(pack: RulePack) -> None:
    """Cross-entry checks: unique ids, assigned country codes, no overlapping periods per key."""
    seen: dict[str, str] = {}
    countries = set(known_countries()) | {"*"}
    for file, where, rule in located_rules(pack):
        if rule.id in seen:
            raise RulePackError(file, where, f"duplicate id: also used at {seen[rule.id]}")
        seen[rule.id] = f"{Path(file).name} {where}"
        unknown = sorted(set(_countries_of(rule)) - countries)
        if unknown:
            raise RulePackError(file, where, f"unassigned ISO 3166-1 country codes {unknown}")
    files = _SECTION_FILES
    keyed = _keyed_entries(pack)
    for section, entries in keyed.items():
        _check_overlaps(str(pack.root / files[section]), section, entries, pack.root, pack.measure_files)
    meta = pack.meta
    for section in ("thresholds", "entry_limits"):
        rules = [r for _, r in keyed[section]]
        _check_covered(str(pack.root / files[section]), section, rules, meta.covers_from, meta.covers_to)
    gifts = pack.de_minimis.gifts
    if gifts:
        # From the first gift rule on (DOMAIN.md 2: the exemption stays): a day without one charged a gift as any
        # other package. A pack that ends the exemption says so with a limit of 0.00.
        start = min(g.effective_from for g in gifts)
        _check_covered(
            str(pack.root / files["gifts"]),
            "gifts",
            gifts,
            start,
            meta.covers_to,
            to_end=': to end the exemption, give a gift rule of limit_usd = "0.00" from that day',
        )
    _check_stacking_ties(pack, str(pack.root / files["measures"]))
    _check_stacking_groups(pack, str(pack.root / files["measures"]))
    _check_fee_gaps(pack, keyed["fees"])
    _check_fee_entry_types(pack, str(pack.root / files["fees"]))


def _keyed_entries(pack: RulePack) -> dict[str, list[tuple[str, Rule]]]:
    """Per section, each dated entry under every key it holds for (a measure per heading and origin, a fee per
    component, mode and entry type, ...): entries of one key may not overlap."""
    return {
        "thresholds": [("threshold", r) for r in pack.de_minimis.thresholds],
        "entry_limits": [("informal-limit", r) for r in pack.de_minimis.entry_limits],
        "gifts": [("gift", r) for r in pack.de_minimis.gifts],
        "suspensions": [
            (f"{origin}/{mode}", r)
            for r in pack.de_minimis.suspensions
            if r.in_force_as_written
            for origin in _expand_star(r.origins, pack)
            if origin not in r.origins_exclude
            for mode in r.modes
        ],
        "fees": [
            (f"{r.component}/{mode}/{entry}{standing}", r)
            for r in pack.fees.fees
            for mode in r.modes
            for entry in r.entry_types
            for standing in _mail_standings(r, mode, entry)
        ],
        "measures": [
            (f"{r.heading}/{origin}", r)
            for r in pack.tariff.measures
            if r.in_force_as_written
            for origin in _expand_star(r.origins, pack)
            if origin not in r.origins_exclude
        ],
        "postal": [(origin, r) for r in pack.tariff.postal for origin in _expand_star(r.origins, pack)],
        "sampling.rates": [
            (f"{r.mode}/{r.origin}", r) for r in (pack.queues.sampling.rates if pack.queues.sampling else ())
        ],
    }


#: Two entries of one key (:func:`_keyed_entries`) this many days apart or fewer are reported by
#: :func:`short_gaps`: a rule split in two whose first part ends a day early (``effective_to`` is the first day a
#: rule no longer holds), not a rule that ends and a new one that begins later.
SHORT_GAP_DAYS = 7
#: The sections :func:`short_gaps` looks at (a gap in thresholds, entry limits and gifts is refused, and one
#: between two fees of one key: :func:`_check_fee_gaps`; a sampling rate's gap falls back on a wider stratum).
_GAP_SECTIONS = ("suspensions", "measures", "postal")


def short_gaps(pack: RulePack) -> list[str]:
    """One line per two entries of one key (measures of one heading and origin, postal regimes of one origin,
    suspensions of one origin and mode) with 1 to :data:`SHORT_GAP_DAYS` days between them when neither holds: a
    rule split in two with the usual off-by-one. Measures of one stacking group and origin under two headings
    count too (:func:`_group_gap_pairs`: a rate change that comes with a new Chapter 99 heading). The pack loads
    (real rules do end and begin again); ``screen rules check`` prints these as warnings."""
    lines: dict[tuple[str, str], str] = {}
    keyed = _keyed_entries(pack)
    pairs: list[tuple[str, str, Rule, Rule]] = []
    for section in _GAP_SECTIONS:
        by_key: dict[str, list[Rule]] = {}
        for key, rule in keyed[section]:
            by_key.setdefault(key, []).append(rule)
        for key, rules in by_key.items():
            ordered = sorted(rules, key=lambda r: r.effective_from)
            pairs += [(section, key, earlier, later) for earlier, later in itertools.pairwise(ordered)]
    pairs += [("measures", key, earlier, later) for key, earlier, later in _group_gap_pairs(pack)]
    for section, key, earlier, later in pairs:
        end = earlier.effective_to
        if end is None:
            continue
        days = (later.effective_from - end).days
        if not 0 < days <= SHORT_GAP_DAYS:
            continue
        file = pack.measure_files.get(earlier.id, _SECTION_FILES[section])
        # One line per pair: a rule for every origin (*) holds many keys, a measure a heading and a group.
        lines.setdefault(
            (earlier.id, later.id),
            f"{file} {section} ({key}): {days} day{'s' if days > 1 else ''} with neither "
            f"{earlier.id} (effective_to {end}) nor {later.id} (from {later.effective_from}), "
            f"uncovered: {days_text(end, later.effective_from)}. effective_to is the first day a rule "
            f"no longer holds: if {later.id} goes on from {earlier.id}, either date may be the mistake: "
            f"{earlier.id}'s end (effective_to = {later.effective_from} would meet the other) or "
            f"{later.id}'s start (effective_from = {end})",
        )
    return list(lines.values())


def rounded_fx_lines(pack: RulePack) -> list[str]:
    """One line when rates of the pack's exchange-rate table have more decimals than the engine holds (18):
    how many, and the first few as given and as held (rounded half up). The pack loads; ``screen rules check``
    prints it as a warning."""
    file = pack.fx.rates.file
    rounded = rounded_fx_rates(pack.root, file, pack.fx_rates)
    if rounded.is_empty():
        return []
    shown = "; ".join(
        f"{row['currency']} {row['date']} {_plain(row['given'])} held as {_plain(row['held'])}"
        for row in rounded.head(EXAMPLES).iter_rows(named=True)
    )
    more = f"; … ({rounded.height:,} rates)" if rounded.height > EXAMPLES else ""
    count = f"{rounded.height:,} rate{'s' if rounded.height > 1 else ''}"
    return [
        f"{file}: {count} with digits past the 18th decimal, which the engine does not hold: rounded half up "
        f"({shown}{more})"
    ]


def _plain(rate: Decimal) -> str:
    return format(rate.normalize(), "f")


def _group_gap_pairs(pack: RulePack) -> Iterator[tuple[str, Measure, Measure]]:
    """Measures of one stacking group and origin under two headings, the later starting 1 to
    :data:`SHORT_GAP_DAYS` days after the earlier ends (``ieepa-fentanyl-cn-10-nov`` to 2026-01-14, a new heading
    of the group from 2026-01-15), unless a measure of one of the two headings holds on all the days between (the
    heading went on); with the key, ``stacking group <group>/<origin>``. Two measures of one heading are
    :func:`short_gaps`' heading-and-origin pairs."""
    by_key: dict[str, list[Measure]] = {}
    for rule in pack.tariff.measures:
        if not rule.in_force_as_written:
            continue
        for origin in _expand_star(rule.origins, pack):
            if origin not in rule.origins_exclude:
                by_key.setdefault(f"stacking group {rule.stacking_group}/{origin}", []).append(rule)
    for key, rules in by_key.items():
        for earlier in rules:
            end = earlier.effective_to
            if end is None:
                continue
            for later in rules:
                days = (later.effective_from - end).days
                if later.heading == earlier.heading or not 0 < days <= SHORT_GAP_DAYS:
                    continue
                covered = any(
                    other.heading in (earlier.heading, later.heading)
                    and other.effective_from <= end
                    and (other.effective_to is None or other.effective_to >= later.effective_from)
                    for other in rules
                )
                if not covered:
                    yield key, earlier, later


#: The file each section of :func:`_keyed_entries` is read from (a measure: unless it is in ``measures/``).
_SECTION_FILES = {
    "thresholds": "de_minimis.toml",
    "suspensions": "de_minimis.toml",
    "entry_limits": "de_minimis.toml",
    "gifts": "de_minimis.toml",
    "fees": "fees.toml",
    "measures": "tariff.toml",
    "postal": "tariff.toml",
    "sampling.rates": "queues.toml",
}


def unmatched_scope(pack: RulePack, mfn: pl.DataFrame | None = None) -> pl.DataFrame:
    """Per measure or gap and kind (include/exclude) whose HTS list has entries that match no tariff line of
    ``mfn`` (default the pack's table) in force on their dates (:mod:`~screening.rulepack.scope_lines`):
    ``file`` (relative to the pack), ``measure_id``, ``kind``, ``entries``, ``unmatched`` and ``examples``
    (the first unmatched codes)."""
    return _scope_matches(pack, mfn).filter(pl.col("unmatched") > 0)


def dead_lists(pack: RulePack, mfn: pl.DataFrame | None = None) -> pl.DataFrame:
    """The rows of :func:`unmatched_scope` whose include list matches no line of ``mfn`` (default the pack's
    table) at all: measures and gaps that would cover no goods."""
    return _scope_matches(pack, mfn).filter(
        (pl.col("kind") == "include") & (pl.col("unmatched") == pl.col("entries"))
    )


def include_codes(pack: RulePack, rule_id: str) -> pl.Series:
    """The HTS codes of a measure's or gap's include list, in list order."""
    return pack.measure_scope.filter(
        (pl.col("measure_id") == rule_id) & (pl.col("kind") == "include")
    ).get_column("hts_prefix")


def _scope_matches(pack: RulePack, mfn: pl.DataFrame | None = None) -> pl.DataFrame:
    """:func:`unmatched_scope` for every measure and gap with a list, matched or not."""
    table = pack.mfn if mfn is None else mfn
    summary = unmatched_summary(pack.measure_scope, (*pack.tariff.measures, *pack.tariff.gaps), table)
    return summary.select(
        pl.col("measure_id").replace_strict(pack.measure_files, default="tariff.toml").alias("file"), pl.all()
    )


def _check_dead_lists(pack: RulePack) -> None:
    """Refuse a measure or gap whose whole HTS list matches no tariff line in force on its dates (a misspelt
    code, or a list built for another revision): it loaded silently, covered nothing, and the goods it meant
    were assessed without it. A list of which only some codes match is left to ``rules check`` to report
    (real annexes list codes of older revisions)."""
    dead = dead_lists(pack)
    if dead.is_empty():
        return
    first = dead.row(0, named=True)
    rule = next(r for r in (*pack.tariff.measures, *pack.tariff.gaps) if r.id == first["measure_id"])
    file, where = next((file, where) for file, where, located in located_rules(pack) if located is rule)
    field = "hts_include_file" if rule.hts_include_file is not None else "hts_include"
    listed = f"{field} {rule.hts_include_file}" if rule.hts_include_file is not None else field
    listed_codes = include_codes(pack, rule.id)
    found = (
        f"none of the {first['entries']:,} HTS codes of its list ({listed}) matches a tariff line in force on "
        f"its dates (e.g. {', '.join(first['examples'])})"
        if first["entries"]
        else f"every HTS code of its list ({listed}) is dated outside its period (e.g. "
        f"{', '.join(listed_codes.head(EXAMPLES))})"
    )
    raise RulePackError(
        file,
        where.replace("]", f"].{field}", 1),
        f"{'measure' if isinstance(rule, Measure) else 'coverage gap'} {rule.id}: {found}: it would cover no "
        "goods, and the goods it meant would be assessed without it (a misspelt code, or a list for another "
        "HTS revision?)",
    )


#: The mail a fee of informal or formal entries by post may be for (:attr:`Fee.mail`), other than all of it.
_MAIL_STANDINGS: tuple[MailStanding, ...] = ("no-postal-regime", "barred-from-postal-regime")


def _mail_standings(fee: Fee, mode: str, entry: str) -> tuple[str, ...]:
    """The key suffixes of a fee's mode and entry type: for informal and formal mail, one per mail standing it is
    for (``/no-postal-regime``, ``/barred-from-postal-regime``: a fee of all mail holds both), else none."""
    if mode != "postal" or entry == "postal":
        return ("",)
    return tuple(f"/{s}" for s in _MAIL_STANDINGS if fee.mail in ("all", s))


def _check_fee_gaps(pack: RulePack, fees: Sequence[tuple[str, Rule]]) -> None:
    """Refuse days without a fee of one component, mode and entry type between two of its entries: a fee that
    stops for good is the pack's to say, one that stops and resumes left its packages uncharged in between
    (``express-consignment-fy2027`` from 2026-11-01, not 2026-10-01: no express consignment fee in October).
    An entry that resumes a fee not charged on purpose says so (``resumes_after_gap``, with a note). A fee of ``postal``
    entries may stop while no postal regime is in force (:func:`_check_fee_entry_types`: no package is one)."""
    by_key: dict[str, list[Rule]] = {}
    for key, rule in fees:
        by_key.setdefault(key, []).append(rule)
    where = {id(rule): (file, at) for file, at, rule in located_rules(pack)}
    for key, rules in sorted(by_key.items()):
        ordered = sorted(rules, key=lambda r: r.effective_from)
        for earlier, later in itertools.pairwise(ordered):
            end = earlier.effective_to
            if (
                end is None
                or later.effective_from <= end
                or (isinstance(later, Fee) and later.resumes_after_gap)
            ):
                continue
            component, mode, entry, *standing = key.split("/")
            if standing:
                entry = f"{entry} ({standing[0]})"
            if entry == "postal" and not (
                mode == "postal"
                and any(
                    r.effective_from < later.effective_from
                    and (r.effective_to is None or r.effective_to > end)
                    for r in pack.tariff.postal
                )
            ):
                continue  # no postal regime in force in the gap: no package is a postal entry on those days
            days = (later.effective_from - end).days
            file, at = where[id(later)]
            raise RulePackError(
                file,
                at.replace("]", "].effective_from", 1),
                f"{days} day{'s' if days > 1 else ''} without the {component} fee for {entry} entries by {mode} "
                f"between {earlier.id} (effective_to {end}) and {later.id} (effective_from "
                f"{later.effective_from}): {days_text(end, later.effective_from)}, whose packages would be charged "
                f"no {component} fee. effective_to is the first day a fee no longer holds: meet the dates "
                f"({earlier.id}'s effective_to = {later.effective_from} or {later.id}'s effective_from = {end}), "
                f"or, if the fee was not charged on those days on purpose (it lapsed, or another component took "
                f"its place), set resumes_after_gap = true on {later.id} and say why in its note",
            )


def _check_fee_entry_types(pack: RulePack, file: str) -> None:
    """An entry type a mode's fees charge keeps a fee until the mode's fees all end (a type may start later, and
    ``postal`` entries, and mail barred from a regime, end with the last postal regime in force). By post an
    informal or formal entry counts once per mail standing (:attr:`~screening.rulepack.models.Fee.mail`).

    Fees are scheduled per day and mode: on a day some fee of a mode is in force, an entry type with no fee of
    its own is charged nothing, ``assessed``. A fee forgotten in a new fiscal year (the formal MPF, say) would
    make formal entries $0.00 and settled; refused instead, naming the type, the mode and the first day without.
    """
    fees = pack.fees.fees
    regimes = pack.tariff.postal
    dated = [*fees, *regimes]
    days = sorted(
        {r.effective_from for r in dated} | {r.effective_to for r in dated if r.effective_to is not None}
    )
    for mode in sorted({m for f in fees for m in f.modes}):
        charged: set[str] = set()
        for day in days:
            today = {
                f"{t}{standing}"
                for f in fees
                if mode in f.modes and f.in_force(day)
                for t in f.entry_types
                for standing in _mail_standings(f, mode, t)
            }
            if not today:  # the mode's fees end (or have not begun): any type may start afresh later
                charged = set()
                continue
            if mode != "postal" or not any(r.in_force(day) for r in regimes):
                # No postal regime in force: no package is a postal entry that day, nor mail barred from one.
                charged = {
                    t for t in charged if t != "postal" and not t.endswith("/barred-from-postal-regime")
                }
            dropped = sorted(charged - today)
            if dropped:
                raise RulePackError(
                    file,
                    f"fees ({mode})",
                    f"{', '.join(dropped)} entries by {mode} have no fee from {day} while the mode's other fees go "
                    "on (they would be charged $0.00 as settled): add the fee for that period, or end the "
                    "mode's other fees too",
                )
            charged |= today


def _check_stacking_groups(pack: RulePack, tariff_file: str) -> None:
    """Every group a measure names in ``not_with`` (or a gap in ``in_place_of``, a postal regime in ``rate_of``) has a measure; where ``tariff.toml`` declares its
    ``stacking_groups``, every measure's group is declared and every declared group used. A measure not
    ``in_force_as_written`` counts: its group still exists (a what-if that takes a measure out keeps the rest
    of the pack as it was)."""
    declared = pack.tariff.stacking_groups
    groups = {m.stacking_group for m in pack.tariff.measures}
    for file, where, rule in located_rules(pack):
        if isinstance(rule, CoverageGap) and rule.in_place_of is not None and rule.in_place_of not in groups:
            place = where.replace("]", "].in_place_of", 1)
            raise RulePackError(file, place, f"no measure has stacking group {rule.in_place_of!r}")
        if isinstance(rule, PostalRegime) and rule.rate_of is not None and rule.rate_of not in groups:
            place = where.replace("]", "].rate_of", 1)
            raise RulePackError(file, place, f"no measure has stacking group {rule.rate_of!r}")
        if not isinstance(rule, Measure):
            continue
        if declared and rule.stacking_group not in declared:
            close = difflib.get_close_matches(rule.stacking_group, list(declared), n=1)
            raise RulePackError(
                file,
                where.replace("]", "].stacking_group", 1),
                f"stacking group {rule.stacking_group!r} is not declared in tariff.toml [stacking_groups]"
                + (f" (did you mean {close[0]!r}?)" if close else ""),
            )
        unknown = sorted(set(rule.not_with) - groups)
        if unknown:
            place = where.replace("]", "].not_with", 1)
            raise RulePackError(file, place, f"no measure has stacking group {unknown}")
    unused = sorted(set(declared) - groups)
    if unused:
        raise RulePackError(tariff_file, "stacking_groups", f"declared groups no measure uses: {unused}")


def _check_stacking_ties(pack: RulePack, file: str) -> None:
    """Refuse two measures of one stacking group with the same priority that can meet on a line (periods,
    origins, modes and HTS scopes overlap): "the lower priority wins" picks neither, and both were charged."""
    by_rank: dict[tuple[str, int], list[Measure]] = {}
    for measure in (m for m in pack.tariff.measures if m.in_force_as_written):
        by_rank.setdefault((measure.stacking_group, measure.priority), []).append(measure)
    scope = pack.measure_scope
    for (group, priority), measures in by_rank.items():
        for a, b in itertools.combinations(measures, 2):
            if not (_periods_meet(a, b) and _origins_meet(a, b) and set(a.modes) & set(b.modes)):
                continue
            shared = _shared_prefix(scope, a, b)
            if shared is not None:
                raise RulePackError(
                    str(pack.root / pack.measure_files[b.id]) if b.id in pack.measure_files else file,
                    f"measures (id {b.id})",
                    f"stacking group {group!r} priority {priority}: {a.id} and {b.id} can both apply (e.g. HTS "
                    f"{shared or 'any'}); give one a lower priority, or scopes that do not meet",
                )


def _periods_meet(a: Rule, b: Rule) -> bool:
    return (a.effective_to is None or a.effective_to > b.effective_from) and (
        b.effective_to is None or b.effective_to > a.effective_from
    )


def _origins_meet(a: Measure, b: Measure) -> bool:
    def covered(m: Measure) -> set[str]:
        return set(m.origins) - set(m.origins_exclude)

    ca, cb = covered(a), covered(b)
    return "*" in a.origins or "*" in b.origins or bool(ca & cb)


def _shared_prefix(scope: pl.DataFrame, a: Measure, b: Measure) -> str | None:
    """An HTS prefix in the scope of both measures on some day (``''``: both cover every code), else None.
    A scope row counts over its own period within its measure's; a prefix that either measure excludes
    whole (on any day) does not count."""

    def rows(measure: Measure, kind: str) -> list[tuple[str, dt.date, dt.date | None]]:
        found = scope.filter((pl.col("measure_id") == measure.id) & (pl.col("kind") == kind))
        spans = []
        for prefix, start, end in found.select("hts_prefix", "effective_from", "effective_to").iter_rows():
            begins = max(start or measure.effective_from, measure.effective_from)
            ends = min((d for d in (end, measure.effective_to) if d is not None), default=None)
            spans.append((prefix, begins, ends))
        return spans

    # No include entry: every code, over the measure's period.
    includes_a = rows(a, "include") or [("", a.effective_from, a.effective_to)]
    includes_b = rows(b, "include") or [("", b.effective_from, b.effective_to)]
    excludes = [prefix for prefix, _, _ in rows(a, "exclude") + rows(b, "exclude")]
    by_chapter: dict[str, list[tuple[str, dt.date, dt.date | None]]] = {}
    for row in includes_b:
        by_chapter.setdefault(row[0][:2], []).append(row)
    for prefix, begins, ends in includes_a:
        candidates = (
            includes_b if prefix == "" else [*by_chapter.get(prefix[:2], []), *by_chapter.get("", [])]
        )
        for other, other_begins, other_ends in candidates:
            meet = (ends is None or ends > other_begins) and (other_ends is None or other_ends > begins)
            if meet and (prefix.startswith(other) or other.startswith(prefix)):
                both = max(prefix, other, key=len)
                if not any(both.startswith(x) for x in excludes):
                    return both
    return None


def _check_covered(
    file: str,
    section: str,
    rules: Sequence[Rule],
    start: dt.date,
    until: dt.date | None,
    *,
    to_end: str = "",
) -> None:
    """Refuse a gap in ``rules`` (in file order, not overlapping) over ``[start, until)`` (``until`` None: open):
    a date without a threshold (informal entry limit, gift rule) in force would be decided without one. The
    error names the entry after the gap (or the one whose end leaves it) and the days without, both inclusive;
    ``to_end`` says how to end the rules for good, where the gap is after the last."""
    place = {id(rule): f"{section}[{index}] (id {rule.id})" for index, rule in enumerate(rules)}
    day, before = start, None
    for rule in sorted(rules, key=lambda r: r.effective_from):
        if until is not None and day >= until:
            return
        if rule.effective_from > day:
            split = (
                f": effective_to is the first day a rule no longer holds, so a rule that goes on in {rule.id} "
                f"ends on {rule.effective_from}"
                if before is not None
                else ""
            )
            raise RulePackError(
                file,
                place[id(rule)],
                f"no entry in force from {day} to {rule.effective_from} "
                f"({days_text(day, rule.effective_from)}, before {rule.id}){split}",
            )
        if rule.effective_to is None:
            return
        if rule.effective_to > day:
            day, before = rule.effective_to, rule
    if until is None or day < until:
        raise RulePackError(
            file,
            place[id(before)].replace("]", "].effective_to", 1) if before is not None else section,
            f"no entry in force from {day} to {until or 'the open end of the pack'}{to_end}",
        )


def days_text(first: dt.date, end: dt.date) -> str:
    """The days of ``[first, end)``, both written inclusive: ``2025-09-01 only``, ``2025-09-01 to 2025-09-03``."""
    last = end - dt.timedelta(days=1)
    return f"{first} only" if last == first else f"{first} to {last}"


def _countries_of(rule: Rule) -> tuple[str, ...]:
    """Country codes a rule names (origins, exclusions, per-origin rates)."""
    named: tuple[str, ...] = (
        tuple(getattr(rule, "origins", ()))
        + tuple(getattr(rule, "origins_exclude", ()))
        + tuple(o for o in [getattr(rule, "origin", None)] if isinstance(o, str))
    )
    keyed = {**getattr(rule, "origin_rates", {}), **getattr(rule, "sender_limits", {})}
    return named + tuple(keyed)


def _expand_star(origins: tuple[str, ...], pack: RulePack) -> tuple[str, ...]:
    """'*' stands for every origin: check it against each origin named anywhere in the pack."""
    if "*" not in origins:
        return origins
    named = (
        {o for s in pack.de_minimis.suspensions for o in s.origins}
        | {o for p in pack.tariff.postal for o in p.origins}
        | {o for m in pack.tariff.measures for o in m.origins}
    )
    return tuple(sorted(named | {"*"}))


def _check_overlaps(
    file: str, section: str, entries: list[tuple[str, Rule]], root: Path, own_files: Mapping[str, str]
) -> None:
    """Refuse two entries of one key in force on a day; named in ``file``, or in the later entry's own file
    (``own_files``, by id: a measure's file under ``measures/``)."""
    by_key: dict[str, list[Rule]] = {}
    for key, rule in entries:
        by_key.setdefault(key, []).append(rule)
    for key, rules in by_key.items():
        ordered = sorted(rules, key=lambda r: r.effective_from)
        for earlier, later in itertools.pairwise(ordered):
            if earlier.effective_to is None or earlier.effective_to > later.effective_from:
                raise RulePackError(
                    str(root / own_files[later.id]) if later.id in own_files else file,
                    f"{section} ({key})",
                    f"periods overlap: {earlier.id} [{earlier.effective_from}, {earlier.effective_to or '…'})"
                    f" and {later.id} from {later.effective_from}",
                )
