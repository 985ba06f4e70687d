"""What a reporter typed, checked and parsed. Pure functions: no Teams, no database.

Each check returns the cleaned value or a `Problem` naming the catalogue text that explains,
in the user's language, what to fix. Card submits (later) go through the same checks.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from domain.oslo_time import OSLO

EARLIEST = datetime(2000, 1, 1, tzinfo=OSLO)
# A phone whose clock runs a little fast must not be told its "just now" is in the future.
CLOCK_SKEW = timedelta(minutes=5)

_ALLOWED_CONTROLS = {"\n", "\t"}


@dataclass(frozen=True)
class Problem:
    key: str  # under `problem.` in the catalogues
    values: dict[str, object] = field(default_factory=dict)


def clean_text(raw: str | None, *, min_length: int, max_length: int) -> str | Problem:
    """Trimmed text with real words in it, between the limits, or why not."""
    if raw is None:
        return Problem("empty")
    text = raw.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        return Problem("empty")
    if any(
        unicodedata.category(char) in ("Cc", "Cs", "Co") and char not in _ALLOWED_CONTROLS
        for char in text
    ):
        return Problem("control_chars")
    if not any(unicodedata.category(char)[0] in "LN" for char in text):
        return Problem("no_words")
    if len(text) < min_length:
        return Problem("too_short", {"min": min_length})
    if len(text) > max_length:
        return Problem("too_long", {"length": len(text), "max": max_length})
    return text


def normalise(text: str) -> str:
    """Lower case, single spaces, no trailing punctuation: for matching commands and phrases."""
    words = text.casefold().replace("\u00a0", " ").split()
    return " ".join(words).strip(" .!?,;:")


# ---- when did it happen --------------------------------------------------------------------


@dataclass(frozen=True)
class WhenPhrases:
    """Quick answers in every language we speak, so a Bokmål answer works in Nynorsk."""

    now: frozenset[str]
    today: frozenset[str]
    yesterday: frozenset[str]

    @classmethod
    def of(cls, now: Iterable[str], today: Iterable[str], yesterday: Iterable[str]) -> WhenPhrases:
        return cls(*(frozenset(normalise(p) for p in group) for group in (now, today, yesterday)))


@dataclass(frozen=True)
class When:
    at: datetime  # aware; midnight local time when the time of day is unknown
    time_known: bool


_TIME = r"(?:kl\.?\s*|klokka\s*|klokken\s*|at\s*)?(?P<hour>\d{1,2})(?:[:.](?P<minute>\d{2}))?"
_DATE_TIME = re.compile(
    r"^(?:(?P<day>\d{1,2})\.(?P<month>\d{1,2})(?:\.(?P<year>\d{4}|\d{2}))?"
    r"|(?P<iso_year>\d{4})-(?P<iso_month>\d{1,2})-(?P<iso_day>\d{1,2}))"
    rf"(?:[\s,]+{_TIME})?$"
)
_TIME_ONLY = re.compile(rf"^{_TIME}$")


def _time_of(hour: str | None, minute: str | None) -> time | Problem | None:
    if hour is None:
        return None
    h, m = int(hour), int(minute or 0)
    if h > 23 or m > 59:
        return Problem("when_invalid")
    return time(h, m)


def _at(day: datetime, clock: time | None) -> When:
    moment = datetime.combine(day.date(), clock or time(0, 0), tzinfo=OSLO)
    return When(moment, time_known=clock is not None)


def _relative(text: str, phrases: WhenPhrases, local_now: datetime) -> When | Problem | None:
    if text in phrases.now:
        return When(local_now, time_known=True)
    for group, day in ((phrases.today, local_now), (phrases.yesterday, local_now - timedelta(1))):
        for phrase in sorted(group, key=len, reverse=True):
            if text == phrase:
                return _at(day, None)
            if text.startswith(phrase + " "):
                match = _TIME_ONLY.match(text[len(phrase) :].strip())
                if not match:
                    return Problem("when_unparsed")
                clock = _time_of(match["hour"], match["minute"])
                return clock if isinstance(clock, Problem) else _at(day, clock)
    return None


def _time_today(text: str, local_now: datetime) -> When | Problem | None:
    match = _TIME_ONLY.match(text)
    if not match or (match["minute"] is None and not text.startswith(("kl", "at"))):
        return None  # a bare number is not a time
    clock = _time_of(match["hour"], match["minute"])
    return clock if isinstance(clock, Problem) else _at(local_now, clock)


def _date(text: str, local_now: datetime) -> When | Problem | None:
    match = _DATE_TIME.match(text)
    if not match:
        return None
    if match["iso_year"]:
        year, month, day = int(match["iso_year"]), int(match["iso_month"]), int(match["iso_day"])
    else:
        year = int(match["year"]) if match["year"] else local_now.year
        year = year + 2000 if year < 100 else year
        month, day = int(match["month"]), int(match["day"])
    try:
        date = datetime(year, month, day, tzinfo=OSLO)
    except ValueError:
        return Problem("when_invalid")
    clock = _time_of(match["hour"], match["minute"])
    return clock if isinstance(clock, Problem) else _at(date, clock)


def _absolute(text: str, local_now: datetime) -> When | Problem:
    # "1.11" is the first of November; "14.30", which is no date, is half past two.
    dated = _date(text, local_now)
    if isinstance(dated, When):
        return dated
    return _time_today(text, local_now) or dated or Problem("when_unparsed")


NO_PHRASES = WhenPhrases(frozenset(), frozenset(), frozenset())


def parse_when(
    raw: str | None, *, now: datetime, phrases: WhenPhrases = NO_PHRASES
) -> When | Problem:
    """A quick answer ("i går 14:30"), a date ("24.11.2026 kl. 14:30", "2026-11-24"), or a
    time today ("14:30"); never in the future and never before the year 2000."""
    if raw is None or not raw.strip():
        return Problem("empty")
    text = normalise(raw)
    local_now = now.astimezone(OSLO)
    parsed = _relative(text, phrases, local_now) or _absolute(text, local_now)
    if isinstance(parsed, Problem):
        return parsed
    if parsed.at > local_now + CLOCK_SKEW:
        return Problem("when_future")
    if parsed.at < EARLIEST:
        return Problem("when_too_old")
    return parsed
