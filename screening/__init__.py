"""screening: vectorised screening of low-value import packages.

import screening
result = screening.screen("manifest.parquet", rules="rules/us")
result.packages          # polars DataFrame, one row per package
result.write("out/")     # lines, packages, components, rejects, summary.json (atomic)
"""

from screening.errors import (
    DutyStatus,
    EntryType,
    InputSchemaError,
    ReasonCode,
    RejectCode,
    RulePackError,
    ScreeningError,
    UsageError,
)
from screening.io.mapping import ColumnMapping
from screening.pipeline import screen
from screening.result import Result
from screening.rulepack.loader import RulePack, load_rules
from screening.screener import Screener, screen_batches

__all__ = [
    "ColumnMapping",
    "DutyStatus",
    "EntryType",
    "InputSchemaError",
    "ReasonCode",
    "RejectCode",
    "Result",
    "RulePack",
    "RulePackError",
    "Screener",
    "ScreeningError",
    "UsageError",
    "load_rules",
    "screen",
    "screen_batches",
]
