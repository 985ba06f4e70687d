"""Times as people in Voss read them: Europe/Oslo, Norwegian formats, and what a month or a
year means for case numbers and statistics, whatever the UTC clock says."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from domain.i18n import Texts

OSLO = ZoneInfo("Europe/Oslo")


def to_oslo(moment: datetime) -> datetime:
    return moment.astimezone(OSLO)


def format_date(moment: datetime) -> str:
    return to_oslo(moment).strftime("%d.%m.%Y")


def format_moment(moment: datetime, texts: Texts, *, time_known: bool = True) -> str:
    """`24.11.2026 kl. 14:30`, or only the date when the reporter did not know the time."""
    local = to_oslo(moment)
    date = local.strftime("%d.%m.%Y")
    if not time_known:
        return date
    return texts("format.date_time", date=date, time=local.strftime("%H:%M"))


def month_of(moment: datetime) -> int:
    """yyyymm of the Europe/Oslo month `moment` (aware) falls in: 23:30 UTC on 31 August is
    September in Voss."""
    local = moment.astimezone(OSLO)
    return local.year * 100 + local.month


def months_of_year(year: int) -> tuple[int, int]:
    """The first and last yyyymm of a year, for `BETWEEN`."""
    return year * 100 + 1, year * 100 + 12
