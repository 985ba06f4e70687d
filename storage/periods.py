"""Calendar periods in Norwegian time: what a month or a year means for case numbers and
statistics, whatever the UTC clock says."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

OSLO = ZoneInfo("Europe/Oslo")


def month_of(moment: datetime) -> int:
    """yyyymm of the Europe/Oslo month `moment` (aware) falls in: 23:30 UTC on 31 August is
    September in Voss."""
    local = moment.astimezone(OSLO)
    return local.year * 100 + local.month


def months_of_year(year: int) -> tuple[int, int]:
    """The first and last yyyymm of a year, for `BETWEEN`."""
    return year * 100 + 1, year * 100 + 12
