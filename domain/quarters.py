"""A quarter as people write it («2025Q3», «2025K3», «2025-q3»), and its bounds in Europe/Oslo:
what the AMU (arbeidsmiljøutvalet), meeting quarterly, is given figures for."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.oslo_time import OSLO

FIRST_YEAR = 2000  # earlier is a typing mistake, not history
_QUARTER = re.compile(r"^\s*(\d{4})\s*-?\s*[QqKk]\s*(\d+)\s*$")


class QuarterProblem(StrEnum):
    """Why a quarter cannot be shown; the texts are under `amu.problem_<value>`."""

    MALFORMED = "malformed"  # «Q3», «2025», «tredje»
    NUMBER = "number"  # «2025Q5»
    TOO_EARLY = "too_early"
    FUTURE = "future"  # it has not begun


@dataclass(frozen=True)
class QuarterPeriod:
    year: int
    quarter: int  # 1-4

    @property
    def start(self) -> datetime:
        return datetime(self.year, 3 * self.quarter - 2, 1, tzinfo=OSLO)

    @property
    def after(self) -> datetime:
        """The first moment after the quarter."""
        if self.quarter == 4:
            return datetime(self.year + 1, 1, 1, tzinfo=OSLO)
        return datetime(self.year, 3 * self.quarter + 1, 1, tzinfo=OSLO)

    @property
    def code(self) -> str:
        return f"{self.year}Q{self.quarter}"

    def is_over(self, now: datetime) -> bool:
        return now >= self.after


def parse_quarter(text: str, *, now: datetime) -> QuarterPeriod | QuarterProblem:
    """The quarter `text` names, if it has begun by `now` (a quarter under way is shown as far
    as it has come)."""
    found = _QUARTER.match(text)
    if found is None:
        return QuarterProblem.MALFORMED
    year, quarter = int(found.group(1)), int(found.group(2))
    if not 1 <= quarter <= 4:
        return QuarterProblem.NUMBER
    if year < FIRST_YEAR:
        return QuarterProblem.TOO_EARLY
    period = QuarterPeriod(year, quarter)
    if period.start > now:
        return QuarterProblem.FUTURE
    return period


def last_complete_quarter(now: datetime) -> QuarterPeriod:
    """The quarter before the one `now` is in: what an AMU meeting looks back on."""
    local = now.astimezone(OSLO)
    quarter = (local.month - 1) // 3 + 1
    return (
        QuarterPeriod(local.year - 1, 4) if quarter == 1 else QuarterPeriod(local.year, quarter - 1)
    )
