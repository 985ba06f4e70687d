"""Reading an avvik history from an earlier system (docs/history.md): a pure parser, no database.

Everything that can be checked from the file alone is checked here, every problem of every row
at once, so that whoever exports the history fixes the file in one round. What needs the
database (is this a department we know, which unit is this) is left to `storage.history_import`.

Problems quote a cell only where the cell holds a code or a date (category, severity, harm,
status and the dates), shortened: report text is never repeated in a message or a log.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import cache, lru_cache
from typing import TypeVar

from domain.categories import Categories, name_key
from domain.i18n import Catalogues
from domain.oslo_time import OSLO
from domain.readers.categories import CategoryMap
from domain.readers.records import (
    Header,
    Row,
    RowProblem,
    Unreadable,
    decode_csv,
    delimiter_of,
    records,
)
from domain.vocabulary import Harm, Severity, Status, department_name

COLUMNS = (
    "reported_at",
    "occurred_at",
    "department",
    "unit",
    "category",
    "severity",
    "description",
    "location",
    "harm",
    "immediate_action",
    "measure",
    "status",
    "closed_at",
    "source_id",
)
REQUIRED_COLUMNS = COLUMNS[:7]
SOURCE_ID_MAX = 100

# Header names the old systems use, in Nynorsk and Bokmål; matched like the column names
# themselves (any case, spaces, `-` and `_` alike).
HEADER_ALIASES: Mapping[str, tuple[str, ...]] = {
    "reported_at": ("meldt", "meldt dato", "meldedato", "innmeldt", "registrert"),
    "occurred_at": ("hending", "hendt", "hendelse", "tidspunkt", "hendingstidspunkt"),
    "department": ("avdeling", "kommunalavdeling", "sektor"),
    "unit": ("eining", "enhet"),
    "category": ("kategori",),
    "severity": ("alvorsgrad", "alvorlighetsgrad", "alvor"),
    "description": ("skildring", "beskrivelse", "kva skjedde", "hva skjedde"),
    "location": ("stad", "sted"),
    "harm": ("skade", "skadetype"),
    "immediate_action": ("strakstiltak",),
    "measure": ("tiltak",),
    "status": (),
    "closed_at": ("lukka", "lukket", "avslutta", "avsluttet"),
    # The earlier system's own case number: two reports alike in every word are then still two.
    "source_id": ("id", "saksnummer", "saksnr", "avviksnummer", "case number", "case id"),
}

KEY_PREFIX = "import:"
SUBMISSION_KEY_MAX = 64
NAME_MAX = 200  # department, unit and location, as the tables hold them
EARLIEST_YEAR = 1970  # anything before is a typo in the year
NOON = time(12, 0)
_SHOWN_MAX = 40


@lru_cache(maxsize=4096)  # the same few labels and names, row after row
def _key(text: str) -> str:
    """How names and values are compared: as category names are (domain.categories)."""
    return name_key(text)


_COLUMN_BY_KEY = {
    _key(name): column for column, aliases in HEADER_ALIASES.items() for name in (column, *aliases)
}

C = TypeVar("C", Severity, Harm, Status)


# ---- the values -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Vocabulary:
    """What each coded column accepts, by `_key`: the codes and the catalogues' labels. The
    categories are the municipality's (`_CategoryNames`)."""

    severities: Mapping[str, Severity]
    harms: Mapping[str, Harm]
    harm_not_stated: frozenset[str]  # said in so many words: stored like an empty cell
    statuses: Mapping[str, Status]


_EXTRA_HARMS = {"nestenulykke": Harm.NEAR_MISS, "nesten ulukke": Harm.NEAR_MISS}
_EXTRA_STATUSES = {"avslutta": Status.CLOSED, "avsluttet": Status.CLOSED}


def _names(catalogues: Catalogues, section: str, codes: Iterable[C]) -> dict[str, C]:
    names: dict[str, C] = {}
    for code in codes:
        names[_key(code.value)] = code
        for texts in catalogues.all():
            name = _key(texts(f"{section}.{code.value}"))
            if names.setdefault(name, code) is not code:
                raise ValueError(f"{name!r} names two {section} codes in the catalogues")
    return names


@cache
def vocabulary() -> _Vocabulary:
    catalogues = Catalogues()
    return _Vocabulary(
        severities=_names(catalogues, "severity", Severity),
        harms={**_names(catalogues, "harm_short", Harm), **_EXTRA_HARMS},
        harm_not_stated=frozenset(
            _key(name)
            for name in (
                "unknown",
                *(t.messages.get("harm_short.unknown", "unknown") for t in catalogues.all()),
            )
        ),
        statuses={**_names(catalogues, "status", Status), **_EXTRA_STATUSES},
    )


@dataclass(frozen=True)
class _CategoryNames:
    """What the category column accepts: a name the map gives (the earlier system's own), or a
    code or label of one of the municipality's categories, retired ones too."""

    categories: Categories
    mapped: CategoryMap | None

    def code(self, value: str) -> str | None:
        mapped = self.mapped.get(value) if self.mapped is not None else None
        if mapped is not None:
            return mapped
        category = self.categories.find(value)
        return category.code if category is not None else None

    @property
    def accepted(self) -> str:
        labels = ", ".join(f"«{c.label('nn')}»" for c in self.categories)
        codes = ", ".join(c.code for c in self.categories)
        return (
            f"one of {labels}, the same in bokmål or English, or a code ({codes}); "
            "or map the earlier system's names to these with --category-map (docs/history.md)"
        )


# ---- the rows -------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryRow:
    """One report of the history, checked and in stored form (codes, aware UTC times)."""

    line: int
    reported_at: datetime
    occurred_at: datetime
    occurred_time_known: bool
    department: str  # as in the file, tidied (domain.vocabulary.department_name)
    unit: str  # a unit's name (or code) as in the file
    category: str  # the code of one of the municipality's categories
    severity: Severity
    description: str
    location: str
    harm: str  # a Harm code, or "" when the file does not say
    immediate_action: str | None
    measure: str | None
    status: Status
    closed_at: datetime | None
    submission_key: str
    source_id: str | None = None  # the earlier system's case number, when the file has it


@dataclass(frozen=True)
class Repeated:
    """A row the file has twice: imported once, and said so."""

    line: int
    first_line: int

    def __str__(self) -> str:
        return f"line {self.line}: same as line {self.first_line}; imported once"


@dataclass(frozen=True)
class HistoryFile:
    """A file whose header could be read. `rows` are the rows that passed every check;
    `problems` are every reason for every other row (a row may have several)."""

    encoding: str
    rows: tuple[HistoryRow, ...]
    problems: tuple[RowProblem, ...]
    repeated: tuple[Repeated, ...]

    @property
    def rejected_lines(self) -> frozenset[int]:
        return frozenset(p.line for p in self.problems)

    @property
    def row_count(self) -> int:
        """Every data row in the file: accepted, rejected or repeated."""
        return len(self.rows) + len(self.rejected_lines) + len(self.repeated)


# ---- dates ----------------------------------------------------------------------------------

_ISO = re.compile(
    r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"
    r"(?:[ T](?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.\d+)?)?"
    r"\s*(?P<zone>Z|[+-]\d{2}:?\d{2})?)?"
)
_NORWEGIAN = re.compile(
    r"(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})"
    r"(?:(?:\s+kl\.?)?\s+(?P<H>\d{1,2})[:.](?P<M>\d{2})(?:[:.](?P<S>\d{2}))?)?"
)
_DATE_FORMATS = "YYYY-MM-DD or DD.MM.YYYY, with HH:MM after it when the time is known"


class _BadDate(ValueError):
    pass


@dataclass(frozen=True)
class _When:
    """A date from the file: an exact moment, or a day whose time nobody knows."""

    day: date  # in Europe/Oslo
    moment: datetime | None  # aware UTC; None for a day without a time

    @property
    def exact(self) -> bool:
        return self.moment is not None

    @property
    def key(self) -> str:
        return self.moment.isoformat() if self.moment is not None else self.day.isoformat()

    def later_than(self, now: datetime) -> bool:
        if self.moment is not None:
            return self.moment > now
        return self.day > now.astimezone(OSLO).date()

    def nominal(self) -> datetime:
        """The moment stored: the exact one, or noon in Voss that day."""
        if self.moment is not None:
            return self.moment
        return datetime.combine(self.day, NOON, tzinfo=OSLO).astimezone(UTC)


def _zone(text: str) -> timezone:
    if text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def from_oslo(local: datetime) -> datetime:
    """A naive Europe/Oslo wall-clock time as aware UTC. In the autumn's repeated hour the
    first one (summer time) is meant; a time in the spring's skipped hour raises ValueError."""
    aware = local.replace(tzinfo=OSLO, fold=0)
    moment = aware.astimezone(UTC)
    if moment.astimezone(OSLO).replace(tzinfo=None) != local:
        raise ValueError("no such time in Norway")
    return moment


def parse_when(text: str) -> _When:
    """`YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS]` (or with `T`), `DD.MM.YYYY [HH:MM[:SS]]`, in
    Europe/Oslo unless the value ends in `Z` or an offset. Raises _BadDate with the reason."""
    match = _ISO.fullmatch(text) or _NORWEGIAN.fullmatch(text)
    if match is None:
        raise _BadDate(f"not a date; use {_DATE_FORMATS}")
    parts = match.groupdict()
    try:
        day = date(int(parts["y"]), int(parts["m"]), int(parts["d"]))
        clock = time(int(parts["H"]), int(parts["M"]), int(parts["S"] or 0)) if parts["H"] else None
    except ValueError as error:
        raise _BadDate(f"no such date or time ({error})") from error
    if day.year < EARLIEST_YEAR:
        raise _BadDate(f"before {EARLIEST_YEAR}; is the year right?")
    if clock is None:
        return _When(day, None)
    local = datetime.combine(day, clock)
    zone = parts.get("zone")
    if zone:
        moment = local.replace(tzinfo=_zone(zone)).astimezone(UTC)
        return _When(moment.astimezone(OSLO).date(), moment)
    try:
        return _When(day, from_oslo(local))
    except ValueError:
        raise _BadDate(
            "this time does not exist in Norway: the clocks went forward an hour that night"
        ) from None


# ---- one row --------------------------------------------------------------------------------


def _shown(value: str) -> str:
    """A cell quoted in a message, cut short: a slipped column may hold report text."""
    return repr(value if len(value) <= _SHOWN_MAX else value[: _SHOWN_MAX - 1] + "…")


def _clean(text: str) -> str:
    """NFC (a Mac export may decompose å), line breaks as \\n, no spaces around."""
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.strip()


def _read_header(line: int, record: list[str]) -> Header | list[RowProblem]:
    problems: list[RowProblem] = []
    index: dict[str, int] = {}
    spelled: dict[str, str] = {}
    nameless: list[int] = []
    for position, raw in enumerate(record):
        name = _clean(raw)
        column = _COLUMN_BY_KEY.get(_key(name))
        if not name:
            nameless.append(position)
        elif column is None:
            message = f"unknown column; the columns are {', '.join(COLUMNS)} (docs/history.md)"
            problems.append(RowProblem(line, name, message))
        elif column in index:
            message = f"the column appears twice (as {spelled[column]!r} and {name!r})"
            problems.append(RowProblem(line, column, message))
        else:
            index[column] = position
            spelled[column] = name
    problems.extend(
        RowProblem(line, column, "required column missing from the header")
        for column in REQUIRED_COLUMNS
        if column not in index
    )
    return problems or Header(line, index, tuple(nameless), len(record))


class _Row(Row):
    """A row of the history file, checked against `now` (nothing may happen after it)."""

    def __init__(
        self,
        line: int,
        header: Header,
        record: list[str],
        now: datetime,
        categories: _CategoryNames,
    ) -> None:
        super().__init__(line, header, record, [], clean=_clean)
        self.now = now
        self.categories = categories

    def category(self) -> str | None:
        value = self.get("category")
        if not value:
            return None
        code = self.categories.code(value)
        if code is None:
            self.problem(
                "category", f"unknown category {_shown(value)}; use {self.categories.accepted}"
            )
        return code

    def text(self, column: str, *, required: bool = False, max_length: int | None = None) -> str:
        value = self.get(column)
        if required and not value:
            self.problem(column, "required")
        elif max_length is not None and len(value) > max_length:
            self.problem(column, f"longer than {max_length} characters")
        return value

    def coded(self, column: str, names: Mapping[str, C], accepted: str) -> C | None:
        value = self.get(column)
        if not value:
            return None
        code = names.get(_key(value))
        if code is None:
            self.problem(column, f"unknown {column} {_shown(value)}; use {accepted}")
        return code

    def when(self, column: str, *, required: bool) -> _When | None:
        value = self.get(column)
        if not value:
            if required:
                self.problem(column, "required")
            return None
        try:
            when = parse_when(value)
        except _BadDate as error:
            self.problem(column, f"{_shown(value)} is {error}")
            return None
        if when.later_than(self.now):
            self.problem(column, f"{_shown(value)} is in the future")
        return when


def _later(first: _When, second: _When) -> bool:
    """Whether `first` is later than `second`, to the precision both have."""
    if first.moment is not None and second.moment is not None:
        return second.moment < first.moment
    return second.day < first.day


def _clamp(moment: datetime, low: datetime | None, high: datetime | None) -> datetime:
    if low is not None and moment < low:
        moment = low
    if high is not None and moment > high:
        moment = high
    return moment


def _moments(
    occurred: _When, reported: _When, closed: _When | None, now: datetime
) -> tuple[datetime, datetime, datetime | None]:
    """The moments to store. A day without a time is stored at noon, moved within that day
    where noon would put it out of order (occurred ≤ reported ≤ closed ≤ now)."""
    reported_at = reported.moment or _clamp(
        reported.nominal(), occurred.moment, min(closed.moment or now, now) if closed else now
    )
    occurred_at = occurred.moment or min(occurred.nominal(), reported_at)
    closed_at = None
    if closed is not None:
        closed_at = closed.moment or _clamp(closed.nominal(), reported_at, now)
    return occurred_at, reported_at, closed_at


def submission_key(fields: Iterable[str]) -> str:
    digest = hashlib.sha256("\x1f".join(fields).encode("utf-8")).hexdigest()
    return (KEY_PREFIX + digest)[:SUBMISSION_KEY_MAX]


def _history_row(row: _Row) -> tuple[HistoryRow, tuple[str, ...]] | None:
    """The row in stored form and what decides whether two rows are the same, or None (with
    its problems in `row.problems`)."""
    words = vocabulary()
    reported = row.when("reported_at", required=True)
    occurred = row.when("occurred_at", required=True)
    closed = row.when("closed_at", required=False)
    department = row.text("department", required=True, max_length=NAME_MAX)
    unit = row.text("unit", required=True, max_length=NAME_MAX)
    description = row.text("description", required=True)
    location = row.text("location", max_length=NAME_MAX)
    source_id = row.text("source_id", max_length=SOURCE_ID_MAX) or None
    category = row.category()
    severity = row.coded("severity", words.severities, "Låg, Middels or Høg (or Lav/Høy, low…)")
    harm = (
        None
        if _key(row.get("harm")) in words.harm_not_stated
        else row.coded("harm", words.harms, "skade or nestenulukke (or leave it empty)")
    )
    status = row.coded(
        "status", words.statuses, "Ny, Motteke, Under handsaming or Lukka (or leave it empty)"
    )
    for column in ("category", "severity"):
        if not row.get(column):
            row.problem(column, "required")

    if occurred and reported and _later(occurred, reported):
        row.problem("occurred_at", "after reported_at: it cannot be reported before it happened")
    if closed and reported and _later(reported, closed):
        row.problem("closed_at", "before reported_at")
    elif closed and occurred and _later(occurred, closed):
        row.problem("closed_at", "before occurred_at")
    if status is None and not row.get("status"):
        status = Status.CLOSED if closed else Status.NEW
    if closed and status is not None and status is not Status.CLOSED:
        row.problem(
            "closed_at", f"given, but the status is {status.value}: leave it empty or close it"
        )

    if row.problems or not (reported and occurred and category and severity and status):
        return None
    occurred_at, reported_at, closed_at = _moments(occurred, reported, closed, row.now)
    content = (
        reported.key,
        occurred.key,
        _key(department),
        _key(unit),
        category,
        severity.value,
        description,
        location,
        harm.value if harm else "",
    )
    # With the earlier system's case number, that number is the report; without it, only
    # its content can tell one row from another (docs/history.md, «Importing twice»).
    identity = ("source_id", source_id) if source_id else content
    immediate_action = row.get("immediate_action") or None
    measure = row.get("measure") or None
    history_row = HistoryRow(
        line=row.line,
        reported_at=reported_at,
        occurred_at=occurred_at,
        occurred_time_known=occurred.exact,
        department=department_name(department),
        unit=unit,
        category=category,
        severity=severity,
        description=description,
        location=location,
        harm=harm.value if harm else "",
        immediate_action=immediate_action,
        measure=measure,
        status=status,
        closed_at=closed_at,
        submission_key=submission_key(identity),
        source_id=source_id,
    )
    whole = (
        *content,
        source_id or "",
        immediate_action or "",
        measure or "",
        status.value,
        closed_at or "",
    )
    return history_row, tuple(str(part) for part in whole)


# ---- the file -------------------------------------------------------------------------------


def parse_history_csv(
    data: bytes,
    *,
    now: datetime,
    categories: Categories,
    category_map: CategoryMap | None = None,
) -> HistoryFile | list[RowProblem]:
    """The rows of the file with every problem of every row, or, when the file as a whole
    cannot be read (encoding, header, empty, broken quoting), why not. `now` (aware) is when
    the import runs: nothing may happen after it. A category is one of `categories` by code
    or label, or a name `category_map` gives one of them."""
    names = _CategoryNames(categories, category_map)
    decoded = decode_csv(data)
    if isinstance(decoded, RowProblem):
        return [decoded]
    text, encoding = decoded
    text = text.removeprefix("\ufeff")
    header_text = next((line for line in re.split(r"\r\n|\r|\n", text) if line.strip()), None)
    if header_text is None:
        return [RowProblem(1, None, f"the file is empty; it needs a header: {','.join(COLUMNS)}")]

    header: Header | None = None
    rows: list[HistoryRow] = []
    problems: list[RowProblem] = []
    repeated: list[Repeated] = []
    first: dict[str, tuple[int, tuple[str, ...]]] = {}
    try:
        for line, record in records(text, delimiter_of(header_text)):
            if not any(cell.strip() for cell in record):
                continue  # blank lines, and Excel's rows of only separators
            if header is None:
                read = _read_header(line, record)
                if isinstance(read, list):
                    return read
                header = read
                continue
            row = _Row(line, header, record, now, names)
            parsed = _history_row(row)
            if parsed is None:
                problems.extend(row.problems)
                continue
            history_row, whole = parsed
            seen = first.get(history_row.submission_key)
            if seen is None:
                first[history_row.submission_key] = (line, whole)
                rows.append(history_row)
            elif seen[1] == whole:
                repeated.append(Repeated(line, seen[0]))
            elif history_row.source_id:
                message = f"source_id {history_row.source_id!r} is already on line {seen[0]}"
                problems.append(RowProblem(line, "source_id", message))
            else:
                message = (
                    f"the same report as line {seen[0]} (same dates, unit, category, severity "
                    "and description) but with another status, closing or measure; keep one"
                )
                problems.append(RowProblem(line, None, message))
    except Unreadable as unreadable:
        # Past a broken quote nothing can be trusted to be where it seems: the whole file.
        return [*problems, unreadable.problem]
    if header is None:
        return problems
    if not rows and not problems and not repeated:
        return [RowProblem(header.line, None, "no rows to import")]
    return HistoryFile(encoding, tuple(rows), tuple(problems), tuple(repeated))
