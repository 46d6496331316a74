"""What a pack's exchange-rate table converts on a date: the currencies with a rate in force, those without."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from screening.rulepack.loader import RulePack


@dataclass(frozen=True)
class FxCoverage:
    """The exchange rates a run uses for lines arriving on ``day``.

    ``converted``: the table's currencies with a rate on or before the day, at most ``max_staleness_days`` old
    (USD, the engine's own unit, is always converted); ``rate_dates``: the dates of those rates (first and last,
    one where they agree); ``not_converted``: the table's other currencies, each with why (``HRK (last rate
    2022-12-30)``, ``ISK (first rate 2018-02-01)``): a line in one of them is rejected ``missing-fx-rate``, and a
    line in a currency the table lacks ``unknown-currency``. ``last_rate_date``: the table's latest rate (any
    currency); ``past_last_rate``: whether the day is after it (``days_past`` days), so that only USD may be
    converted once it is more than ``max_staleness_days`` after it; ``official``: the pack's ``official``.
    """

    day: str
    converted: tuple[str, ...]
    rate_dates: tuple[str, ...]
    not_converted: tuple[str, ...]
    last_rate_date: str | None
    past_last_rate: bool
    days_past: int
    max_staleness_days: int
    official: bool

    def summary(self) -> str:
        """One line for ``screen rules show``."""
        stale = self.max_staleness_days
        end = (
            f"the table's last rate is of {self.last_rate_date}"
            if self.last_rate_date
            else "the table has none"
        )
        if self.past_last_rate:
            end += f", {self.days_past} day{'s' if self.days_past != 1 else ''} before {self.day}"
        if self.last_rate_date is not None and self.converted:
            cutoff = dt.date.fromisoformat(self.last_rate_date) + dt.timedelta(days=stale + 1)
            end += f" (from {cutoff} only USD converts)"
        if not self.converted:
            return (
                f"no currency but USD converts: no rate on or before {self.day} and at most {stale} days old "
                f"({end}); a line in another currency is rejected missing-fx-rate (until the pack has newer rates)"
            )
        dates = " to ".join(self.rate_dates)
        missing = (
            f"; no rate (rejected missing-fx-rate): {', '.join(self.not_converted)}"
            if self.not_converted
            else ""
        )
        return (
            f"USD and {len(self.converted)} other currencies convert at rates of {dates} (the latest on or before the "
            f"date, at most {stale} days old): {', '.join(self.converted)}{missing}; any other currency is "
            f"rejected unknown-currency; {end}"
        )


def fx_coverage(pack: RulePack, day: dt.date) -> FxCoverage:
    """The rates of ``pack``'s exchange-rate table in force for lines arriving on ``day`` (:class:`FxCoverage`),
    as a run looks them up: the latest on or before the day, at most ``max_staleness_days`` old."""
    stale = pack.fx.rates.max_staleness_days
    rates = pack.fx_rates
    per_currency = rates.group_by("currency").agg(
        pl.col("date").min().alias("first"),
        pl.col("date").filter(pl.col("date") <= day).max().alias("latest"),
    )
    in_force = pl.col("latest").is_not_null() & (pl.lit(day) - pl.col("latest") <= pl.duration(days=stale))
    converted = per_currency.filter(in_force).sort("currency")
    others = per_currency.filter(~in_force).sort("currency")
    why = pl.format(
        "{} ({})",
        pl.col("currency"),
        pl.when(pl.col("latest").is_null())
        .then(pl.format("first rate {}", pl.col("first")))
        .otherwise(pl.format("last rate {}", pl.col("latest"))),
    )
    last = rates.get_column("date").max()
    last_date = last if isinstance(last, dt.date) else None
    rate_dates = sorted({d.isoformat() for d in converted.get_column("latest")})
    return FxCoverage(
        day=day.isoformat(),
        converted=tuple(converted.get_column("currency")),
        rate_dates=tuple(dict.fromkeys((rate_dates[0], rate_dates[-1]))) if rate_dates else (),
        not_converted=tuple(others.select(why).to_series()),
        last_rate_date=None if last_date is None else last_date.isoformat(),
        past_last_rate=last_date is not None and day > last_date,
        days_past=0 if last_date is None or day <= last_date else (day - last_date).days,
        max_staleness_days=stale,
        official=pack.fx.rates.official,
    )
