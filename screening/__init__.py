"""screening: vectorised screening of low-value import packages.

import screening
result = screening.screen("manifest.parquet", rules="rules/us")
result.packages          # polars DataFrame, one row per package
result.write("out/")     # lines, packages, components, flags, queues, rejects, summary.json (atomic)
screening.screen_to_folder("manifest.parquet", "out/", rules="rules/us")   # the same files, less memory
"""

from screening.errors import (
    DutyStatus,
    EntryType,
    InputSchemaError,
    LeftoverWarning,
    MoneyLimitError,
    ReasonCode,
    RejectCode,
    RulePackError,
    ScreeningError,
    UsageError,
)
from screening.folder_run import screen_to_folder
from screening.io.mapping import ColumnMapping
from screening.pipeline import screen
from screening.result import Result
from screening.rulepack.loader import RulePack, load_rules
from screening.screener import Screener, screen_batches
from screening.seed import PrivateSeed

__all__ = [
    "ColumnMapping",
    "DutyStatus",
    "EntryType",
    "InputSchemaError",
    "LeftoverWarning",
    "MoneyLimitError",
    "PrivateSeed",
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
    "screen_to_folder",
]
