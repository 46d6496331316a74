"""The tariff lines in force on a run's dates, stored once per tariff period."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

#: Column of :class:`TariffTable`: the tariff period (days between two revisions of the table share one).
TARIFF_PERIOD = "tariff_period"


@dataclass(frozen=True)
class TariffTable:
    """The tariff lines in force, once per tariff period (``lines``, keyed by :data:`TARIFF_PERIOD` and ``hts``),
    and each arrival date's period (``days``: ``arrival_date``, :data:`TARIFF_PERIOD`). A year of dates under
    one revision holds one copy of the table, not one per date (11,414 lines a date: 6 GiB for 1,000 dates)."""

    lines: pl.DataFrame
    days: pl.DataFrame

    def for_keys(self, keys: pl.LazyFrame) -> pl.LazyFrame:
        """``keys`` (with ``arrival_date``) with their tariff period."""
        return keys.join(self.days.lazy(), on="arrival_date", how="inner")

    def on_days(self) -> pl.LazyFrame:
        """Every tariff line in force with each run date it is in force on (``arrival_date``, ``hts``, ...): only
        for small uses (one date, a few codes); large ones join by :data:`TARIFF_PERIOD`."""
        return self.days.lazy().join(self.lines.lazy(), on=TARIFF_PERIOD, how="inner").drop(TARIFF_PERIOD)

    def dates_with_lines(self) -> list[dt.date]:
        """The run dates on which the table has any line in force."""
        held = self.lines.get_column(TARIFF_PERIOD).unique().implode()
        return self.days.filter(pl.col(TARIFF_PERIOD).is_in(held)).get_column("arrival_date").to_list()
