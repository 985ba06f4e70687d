"""«HMS i små dosar»: the HMS adviser's short tips to leaders (docs/tips.md). Pure: what a tip
holds, what is wrong with one, who it is for, when it goes, and its Markdown file form.

A tip has a title and up to five sections — news, a good example, a question to reflect on,
links and tools, a deadline or routine to remember — at least one of them; up to five links
(http or https); an audience; and a time: now, a moment, a series (every N weeks on a weekday
at a time), or N working days before a deadline. Nothing goes out outside working hours: a time
that falls there is moved to the next working moment, and the adviser is told.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from domain.oslo_time import OSLO
from domain.vocabulary import Role
from domain.working_time import WorkingCalendar

SECTIONS = ("news", "example", "reflection", "tools", "deadline")
TITLE_MAX = 120
SECTION_MAX = 2000
LINKS_MAX = 5
LINK_TITLE_MAX = 80
URL_MAX = 2000
# Teams takes a bot message of about 100 KB counted as UTF-16; Microsoft advises under 80 KB,
# and older clients stopped at 40 KB: a tip is kept under that.
CARD_BYTES_MAX = 40 * 1024
EVERY_WEEKS_MAX = 52
DAYS_BEFORE_MAX = 60


class AudienceKind(StrEnum):
    LEADERS = "leaders"  # every leader and deputy
    PLACES = "places"  # leaders and deputies of chosen departments or units
    ROLE = "role"  # everyone with a role, such as verneombod
    EVERYONE = "everyone"  # everyone in the organisation


@dataclass(frozen=True)
class Audience:
    kind: AudienceKind = AudienceKind.LEADERS
    departments: tuple[int, ...] = ()
    units: tuple[int, ...] = ()
    role: Role | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "departments": list(self.departments),
            "units": list(self.units),
            "role": self.role.value if self.role else None,
        }

    @staticmethod
    def from_json(data: dict[str, Any]) -> Audience:
        role = data.get("role")
        return Audience(
            AudienceKind(data.get("kind", AudienceKind.LEADERS.value)),
            tuple(int(d) for d in data.get("departments", ())),
            tuple(int(u) for u in data.get("units", ())),
            Role(role) if role else None,
        )


class When(StrEnum):
    NOW = "now"
    AT = "at"
    SERIES = "series"
    BEFORE_DEADLINE = "before_deadline"


@dataclass(frozen=True)
class Schedule:
    when: When = When.NOW
    at: datetime | None = None  # AT: the moment (aware); SERIES: the first one
    every_weeks: int = 0  # SERIES
    deadline: date | None = None  # BEFORE_DEADLINE
    days_before: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "when": self.when.value,
            "at": self.at.isoformat() if self.at else None,
            "every_weeks": self.every_weeks,
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "days_before": self.days_before,
        }

    @staticmethod
    def from_json(data: dict[str, Any]) -> Schedule:
        return Schedule(
            When(data.get("when", When.NOW.value)),
            datetime.fromisoformat(data["at"]) if data.get("at") else None,
            int(data.get("every_weeks") or 0),
            date.fromisoformat(data["deadline"]) if data.get("deadline") else None,
            int(data.get("days_before") or 0),
        )


@dataclass(frozen=True)
class Link:
    title: str
    url: str


@dataclass(frozen=True)
class Tip:
    title: str
    sections: dict[str, str] = field(default_factory=dict)  # SECTIONS → text; empty left out
    links: tuple[Link, ...] = ()
    language: str = "nn"
    # A training module (domain.training) the tip invites its readers to take.
    training: str | None = None

    def content_json(self) -> dict[str, Any]:
        found = {
            "title": self.title,
            "sections": {k: v for k, v in self.sections.items() if v},
            "links": [{"title": link.title, "url": link.url} for link in self.links],
            "language": self.language,
        }
        if self.training:
            found["training"] = self.training
        return found

    @staticmethod
    def from_json(data: dict[str, Any]) -> Tip:
        return Tip(
            data.get("title", ""),
            {k: v for k, v in data.get("sections", {}).items() if k in SECTIONS and v},
            tuple(Link(x["title"], x["url"]) for x in data.get("links", [])),
            data.get("language", "nn"),
            data.get("training") or None,
        )


@dataclass(frozen=True)
class TipProblem:
    """What is wrong, as a message key (`tips.problem_<key>`) and its values."""

    key: str
    values: dict[str, object] = field(default_factory=dict)


def check_url(url: str) -> bool:
    """An http or https address with a host, no spaces, of a sensible length."""
    if not url or len(url) > URL_MAX or any(c.isspace() for c in url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    host = parts.hostname or ""
    return parts.scheme in ("http", "https") and "." in host


_LINK_LINE = re.compile(r"^\s*(?:(?P<title>.+?)\s*[|]\s*)?(?P<url>\S+)\s*$")


def read_links(text: str) -> tuple[list[Link], list[TipProblem]]:
    """«Tittel | https://…», one per line (the title may be left out)."""
    links: list[Link] = []
    problems: list[TipProblem] = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        match = _LINK_LINE.match(line)
        url = match.group("url") if match else line.strip()
        title = (match.group("title") if match else None) or url
        if not check_url(url):
            problems.append(TipProblem("link", {"line": number, "url": url[:80]}))
            continue
        links.append(Link(title.strip()[:LINK_TITLE_MAX], url))
    if len(links) > LINKS_MAX:
        problems.append(TipProblem("links_many", {"most": LINKS_MAX}))
    return links, problems


def check_tip(tip: Tip) -> list[TipProblem]:
    problems: list[TipProblem] = []
    if not tip.title.strip():
        problems.append(TipProblem("title_empty"))
    elif len(tip.title) > TITLE_MAX:
        problems.append(TipProblem("title_long", {"most": TITLE_MAX}))
    if not any(text.strip() for text in tip.sections.values()):
        problems.append(TipProblem("empty"))
    for name, text in tip.sections.items():
        if len(text) > SECTION_MAX:
            problems.append(TipProblem("section_long", {"section": name, "most": SECTION_MAX}))
    for link in tip.links:
        if not check_url(link.url):
            problems.append(TipProblem("link", {"line": "–", "url": link.url[:80]}))
    if len(tip.links) > LINKS_MAX:
        problems.append(TipProblem("links_many", {"most": LINKS_MAX}))
    return problems


def card_size_problem(card: dict[str, Any]) -> TipProblem | None:
    """The card as Teams counts it (UTF-16); above the limit, how much to cut."""
    size = len(json.dumps(card, ensure_ascii=False).encode("utf-16-le"))
    if size <= CARD_BYTES_MAX:
        return None
    # A character of text is two bytes in UTF-16: say it in characters, rounded up.
    cut = (size - CARD_BYTES_MAX + 1) // 2
    return TipProblem("too_large", {"kb": round(size / 1024), "most": 40, "cut": cut})


def check_schedule(
    schedule: Schedule, now: datetime, calendar: WorkingCalendar
) -> list[TipProblem]:
    problems: list[TipProblem] = []
    if schedule.when in (When.AT, When.SERIES):
        if schedule.at is None:
            problems.append(TipProblem("when_missing"))
        elif schedule.at < now:
            problems.append(TipProblem("when_past"))
    if schedule.when is When.SERIES and not 1 <= schedule.every_weeks <= EVERY_WEEKS_MAX:
        problems.append(TipProblem("every_weeks", {"most": EVERY_WEEKS_MAX}))
    if schedule.when is When.BEFORE_DEADLINE:
        if schedule.deadline is None:
            problems.append(TipProblem("deadline_missing"))
        elif not 1 <= schedule.days_before <= DAYS_BEFORE_MAX:
            problems.append(TipProblem("days_before", {"most": DAYS_BEFORE_MAX}))
        elif first_time(schedule, now, calendar) < now:
            problems.append(TipProblem("deadline_past"))
    return problems


def first_time(schedule: Schedule, now: datetime, calendar: WorkingCalendar) -> datetime:
    """When the tip (or a series' first occurrence) is to go, before quiet hours."""
    if schedule.when is When.NOW:
        return now
    if schedule.when is When.BEFORE_DEADLINE:
        assert schedule.deadline is not None
        day = calendar.working_days_before(schedule.deadline, schedule.days_before)
        return datetime.combine(day, max(calendar.start, time(9, 0)), OSLO)
    assert schedule.at is not None
    return schedule.at


def allowed(moment: datetime, calendar: WorkingCalendar) -> datetime:
    """`moment` if it is in working hours, else the next working moment."""
    return calendar.next_working_moment(moment)


def next_in_series(previous: datetime, schedule: Schedule) -> datetime:
    """The occurrence after `previous` (the planned one, not the moved one): N weeks on, at the
    same local weekday and time."""
    local = previous.astimezone(OSLO)
    later = local.date() + timedelta(weeks=max(1, schedule.every_weeks))
    return datetime.combine(later, local.time(), OSLO)


# ---- the Markdown file form (python -m bot tips export|import) ------------------------------

_FRONT = re.compile(r"\A---\n(?P<front>.*?)\n---\n(?P<body>.*)\Z", re.S)
_HEADINGS = {
    "news": "Nytt frå HMS-feltet",
    "example": "Godt døme",
    "reflection": "Refleksjonsspørsmål",
    "tools": "Lenker og verktøy",
    "deadline": "Viktige fristar og rutinar",
}
_SECTION_OF = {heading.casefold(): name for name, heading in _HEADINGS.items()}


@dataclass(frozen=True)
class TipFile:
    tip: Tip
    audience: Audience
    schedule: Schedule


def to_markdown(found: TipFile, *, audience_names: dict[str, list[str]]) -> str:
    """A tip as one Markdown file: a front matter (title, language, audience, schedule) and
    a `##` heading per section; links as a list under «Lenker»."""
    tip, schedule = found.tip, found.schedule
    front = [
        f"title: {json.dumps(tip.title, ensure_ascii=False)}",
        f"language: {tip.language}",
        f"audience: {found.audience.kind.value}",
    ]
    if tip.training:
        front.append(f"training: {tip.training}")
    for key in ("departments", "units"):
        if audience_names.get(key):
            names = ", ".join(json.dumps(n, ensure_ascii=False) for n in audience_names[key])
            front.append(f"{key}: [{names}]")
    if found.audience.role:
        front.append(f"role: {found.audience.role.value}")
    if schedule.when is not When.NOW:
        front.append(f"when: {schedule.when.value}")
    if schedule.at:
        front.append(f"at: {schedule.at.astimezone(OSLO).isoformat(timespec='minutes')}")
    if schedule.every_weeks:
        front.append(f"every_weeks: {schedule.every_weeks}")
    if schedule.deadline:
        front.append(f"deadline: {schedule.deadline.isoformat()}")
        front.append(f"days_before: {schedule.days_before}")
    body = []
    for name in SECTIONS:
        if tip.sections.get(name):
            body.append(f"## {_HEADINGS[name]}\n\n{tip.sections[name].strip()}\n")
    if tip.links:
        body.append(
            "## Lenker\n\n" + "\n".join(f"- [{x.title}]({x.url})" for x in tip.links) + "\n"
        )
    return "---\n" + "\n".join(front) + "\n---\n\n" + "\n".join(body)


_LIST_LINK = re.compile(r"^\s*-\s*\[(?P<title>[^\]]+)\]\((?P<url>[^)\s]+)\)\s*$")


class TipFileError(ValueError):
    """A tip file that cannot be read; the message says where."""


def _front_value(value: str) -> Any:
    value = value.strip()
    if value.startswith(("[", '"')):
        try:
            return json.loads(value)
        except ValueError:
            raise TipFileError(f"not a value I can read: {value}") from None
    return value


def from_markdown(text: str) -> tuple[Tip, dict[str, Any]]:
    """The tip and its front matter (audience and schedule by name, for the caller to look up)."""
    match = _FRONT.match(text.replace("\r\n", "\n"))
    if match is None:
        raise TipFileError("no front matter: the file must start with --- and a title: line")
    front: dict[str, Any] = {}
    for number, line in enumerate(match.group("front").splitlines(), start=2):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, colon, value = line.partition(":")
        if not colon:
            raise TipFileError(f"line {number}: expected «name: value», got {line!r}")
        front[key.strip()] = _front_value(value)
    sections: dict[str, str] = {}
    links: list[Link] = []
    current: str | None = None
    lines: list[str] = []

    def close() -> None:
        if current is not None and current != "links":
            sections[current] = "\n".join(lines).strip()

    for line in match.group("body").splitlines():
        if line.startswith("## "):
            close()
            heading = line[3:].strip().casefold()
            current = "links" if heading == "lenker" else _SECTION_OF.get(heading)
            if current is None:
                raise TipFileError(
                    f"unknown section «{line[3:].strip()}»: use "
                    + ", ".join(f"«{h}»" for h in _HEADINGS.values())
                    + " or «Lenker»"
                )
            lines = []
        elif current == "links":
            link = _LIST_LINK.match(line)
            if link:
                links.append(Link(link.group("title"), link.group("url")))
            elif line.strip():
                raise TipFileError(f"a link must be «- [Tittel](https://…)», got {line!r}")
        else:
            lines.append(line)
    close()
    tip = Tip(
        str(front.get("title", "")),
        {k: v for k, v in sections.items() if v},
        tuple(links),
        str(front.get("language", "nn")),
        str(front["training"]) if front.get("training") else None,
    )
    return tip, front
