"""Reading the organisation file (docs/organisation.md): a pure parser, no database.

Everything that can be checked from the file alone is checked here, and every problem is
reported at once, so that an admin fixes the file in one round. What needs the database
(does this leader exist, does this unit code exist) is left to `storage.org_import`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from domain.readers.records import Header, Row, RowProblem, Unreadable, delimiter_of, records
from domain.vocabulary import DEPARTMENT_NAME_MAX, Role, department_key, department_name

COLUMNS = (
    "kind",
    "id",
    "name",
    "department",
    "unit",
    "headcount",
    "upn",
    "roles",
    "leaders",
    "deputies",
)
REQUIRED_COLUMNS = ("kind", "id", "name")
# Columns that only mean something on one kind of row; a value elsewhere is a misplaced cell.
_UNIT_ONLY = ("department", "headcount", "leaders", "deputies")
_PERSON_ONLY = ("unit", "upn", "roles")

# `|` works in comma- and semicolon-separated files alike; `;` is accepted too, since a quoted
# value may hold it. Entra object ids and role codes contain neither.
LIST_SEPARATORS = re.compile(r"[|;]")

UNIT_CODE_MAX = 64
UNIT_NAME_MAX = 200
PERSON_ID_MAX = 200
PERSON_NAME_MAX = 300
UPN_MAX = 300
HEADCOUNT_MAX = 100_000

_ROLES_BY_KEY = {role.value.casefold(): role for role in Role}


@dataclass(frozen=True)
class UnitRow:
    line: int
    code: str
    name: str
    department: str  # as the file first spells it (domain.vocabulary.department_name)
    headcount: int | None
    leaders: tuple[str, ...]  # Entra object ids
    deputies: tuple[str, ...]


@dataclass(frozen=True)
class PersonRow:
    line: int
    aad_object_id: str
    name: str
    upn: str | None
    unit_code: str | None
    roles: frozenset[Role]  # never empty: no roles in the file means tilsett


@dataclass(frozen=True)
class OrgPlan:
    """A file that parsed cleanly. `columns` are those in its header: a column the file does
    not have is left alone in the database, so a file without `roles` keeps everyone's roles."""

    columns: frozenset[str]
    units: tuple[UnitRow, ...]
    persons: tuple[PersonRow, ...]

    @property
    def row_count(self) -> int:
        return len(self.units) + len(self.persons)


def decode_org_csv(data: bytes) -> str | RowProblem:
    """The file's text (UTF-8, with or without BOM), or where it stops being UTF-8."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        return RowProblem(
            line,
            None,
            "the file is not UTF-8 text; in Excel, save it as «CSV UTF-8 (comma delimited)»",
        )


def _read_header(line: int, record: list[str], problems: list[RowProblem]) -> Header:
    index: dict[str, int] = {}
    nameless: list[int] = []
    for position, raw in enumerate(record):
        name = raw.strip().lower()
        if not name:
            nameless.append(position)
        elif name not in COLUMNS:
            problems.append(
                RowProblem(
                    line, raw.strip(), f"unknown column; the columns are {', '.join(COLUMNS)}"
                )
            )
        elif name in index:
            problems.append(RowProblem(line, name, "the column appears twice"))
        else:
            index[name] = position
    for name in REQUIRED_COLUMNS:
        if name not in index:
            problems.append(RowProblem(line, name, "required column missing from the header"))
    return Header(line, index, tuple(nameless), len(record))


class _Row(Row):
    """A row of the organisation file."""

    def required(self, column: str, *, max_length: int) -> str:
        value = self.get(column)
        if not value:
            self.problem(column, "required")
        elif len(value) > max_length:
            self.problem(column, f"longer than {max_length} characters")
        return value

    def optional(self, column: str, *, max_length: int) -> str | None:
        value = self.get(column)
        if len(value) > max_length:
            self.problem(column, f"longer than {max_length} characters")
        return value or None

    def only_for(self, kind: str, columns: tuple[str, ...]) -> None:
        for column in columns:
            if self.get(column):
                self.problem(column, f"only for {kind} rows; leave it empty here")

    def id_list(self, column: str) -> tuple[str, ...]:
        # Teams sends Entra object ids in lower case; a spreadsheet may have upper-cased them.
        ids = [part.strip().lower() for part in LIST_SEPARATORS.split(self.get(column))]
        for person_id in ids:
            if len(person_id) > PERSON_ID_MAX:
                self.problem(column, f"a person id longer than {PERSON_ID_MAX} characters")
        return tuple(dict.fromkeys(i for i in ids if i))


def _unit(row: _Row) -> UnitRow:
    row.only_for("person", _PERSON_ONLY)
    code = row.required("id", max_length=UNIT_CODE_MAX)
    name = row.required("name", max_length=UNIT_NAME_MAX)
    department = department_name(row.required("department", max_length=DEPARTMENT_NAME_MAX))
    headcount: int | None = None
    headcount_text = row.get("headcount")
    if headcount_text:
        if re.fullmatch(r"[0-9]+", headcount_text) and int(headcount_text) <= HEADCOUNT_MAX:
            headcount = int(headcount_text)
        else:
            row.problem(
                "headcount",
                f"must be a whole number from 0 to {HEADCOUNT_MAX}, not {headcount_text!r}",
            )
    leaders, deputies = row.id_list("leaders"), row.id_list("deputies")
    for person_id in set(leaders) & set(deputies):
        row.problem("deputies", f"{person_id} is both a leader and a deputy of this unit")
    return UnitRow(row.line, code, name, department, headcount, leaders, deputies)


def _person(row: _Row) -> PersonRow:
    row.only_for("unit", _UNIT_ONLY)
    person_id = row.required("id", max_length=PERSON_ID_MAX).lower()  # as Teams sends it
    name = row.required("name", max_length=PERSON_NAME_MAX)
    upn = row.optional("upn", max_length=UPN_MAX)
    if upn and "@" not in upn:
        row.problem("upn", f"{upn!r} is not a user principal name (name@domain)")
    unit_code = row.optional("unit", max_length=UNIT_CODE_MAX)
    roles: set[Role] = set()
    for code in filter(None, (p.strip() for p in LIST_SEPARATORS.split(row.get("roles")))):
        role = _ROLES_BY_KEY.get(code.casefold())
        if role is None:
            known = ", ".join(r.value for r in Role)
            row.problem("roles", f"unknown role {code!r}; use one of {known}")
        else:
            roles.add(role)
    return PersonRow(row.line, person_id, name, upn, unit_code, frozenset(roles or {Role.STAFF}))


def _check_unique(kind: str, ids: list[tuple[int, str]], problems: list[RowProblem]) -> None:
    first_line: dict[str, int] = {}
    for line, key in ids:
        if key in first_line:
            message = f"{kind} {key} is already on line {first_line[key]}"
            problems.append(RowProblem(line, "id", message))
        elif key:
            first_line[key] = line


def _one_spelling(units: list[UnitRow]) -> list[UnitRow]:
    """Each department as the file first spells it: «Oppvekst» and «oppvekst » are one."""
    spelling: dict[str, str] = {}
    for unit in units:
        spelling.setdefault(department_key(unit.department), unit.department)
    return [replace(u, department=spelling[department_key(u.department)]) for u in units]


def _check_unit_names(units: tuple[UnitRow, ...], problems: list[RowProblem]) -> None:
    # The database holds one unit of a name per department.
    first_line: dict[tuple[str, str], int] = {}
    for unit in units:
        key = (unit.department, unit.name)
        if not all(key):
            continue
        if key in first_line:
            problems.append(
                RowProblem(
                    unit.line,
                    "name",
                    f"{unit.name!r} in {unit.department} is already on line {first_line[key]}",
                )
            )
        else:
            first_line[key] = unit.line


def parse_org_csv(text: str) -> OrgPlan | list[RowProblem]:
    """The plan in the file, or every problem found in it (in line order)."""
    text = text.removeprefix("\ufeff")
    header_text = next((line for line in re.split(r"\r\n|\r|\n", text) if line.strip()), None)
    if header_text is None:
        return [RowProblem(1, None, f"the file is empty; it needs a header: {','.join(COLUMNS)}")]

    problems: list[RowProblem] = []
    header: Header | None = None
    units: list[UnitRow] = []
    persons: list[PersonRow] = []
    try:
        for line, record in records(text, delimiter_of(header_text)):
            if not any(cell.strip() for cell in record):
                continue  # blank lines, and Excel's rows of only separators
            if header is None:
                header = _read_header(line, record, problems)
                if any(name not in header.index for name in REQUIRED_COLUMNS):
                    return problems  # every row would repeat the same complaint
                continue
            row = _Row(line, header, record, problems)
            kind = row.get("kind").lower()
            if kind == "unit":
                units.append(_unit(row))
            elif kind == "person":
                persons.append(_person(row))
            elif not kind:
                row.problem("kind", "required: unit or person")
            else:
                row.problem("kind", f"unknown kind {row.get('kind')!r}; use unit or person")
    except Unreadable as unreadable:
        problems.append(unreadable.problem)

    if header is None:  # the only non-blank line could not be read
        return problems
    if not units and not persons and not problems:
        problems.append(RowProblem(header.line, None, "no unit or person rows to import"))
    _check_unique("unit", [(u.line, u.code) for u in units], problems)
    _check_unique("person", [(p.line, p.aad_object_id) for p in persons], problems)
    units = _one_spelling(units)
    _check_unit_names(tuple(units), problems)
    if problems:
        return sorted(problems, key=lambda p: p.line)
    return OrgPlan(frozenset(header.index), tuple(units), tuple(persons))
