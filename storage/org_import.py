"""Loading the organisation file into the database, all or nothing (docs/organisation.md).

`parse_org_csv` (domain.readers.organisation) checks the file alone; `apply_org_plan` checks
it against the database (leaders and unit codes that must exist) and writes it, in the caller's
transaction. Matching is by the ids the municipality owns: a unit's code, a person's Entra
object id. Names are data, so a renamed unit keeps its id, its reports and its leaders.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.readers.organisation import OrgPlan, PersonRow, UnitRow
from domain.readers.records import RowProblem
from domain.vocabulary import Role, department_key
from storage.db import SessionFactory, one_transaction
from storage.models import Department, Person, PersonRole, Unit, UnitLeader
from storage.types import utcnow

T = TypeVar("T")
Progress = Callable[[int], object]  # told how many more rows are written

# Keeps every IN (…) list well under SQLite's and PostgreSQL's limits on bound parameters.
_CHUNK = 500
# Rows written per flush: the progress bar moves as the database works, not before.
_FLUSH_EVERY = 200


class OrgImportRefused(Exception):
    """The file names things the database does not have; nothing was written."""

    def __init__(self, problems: Sequence[RowProblem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the organisation file")
        self.problems = tuple(problems)


@dataclass
class Tally:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class OrgChanges:
    departments: Tally = field(default_factory=Tally)
    units: Tally = field(default_factory=Tally)
    persons: Tally = field(default_factory=Tally)
    roles_added: int = 0
    roles_removed: int = 0
    # Of roles_added: leiar given because the person leads a unit and the file did not say so.
    leader_roles_added: int = 0
    leader_links_added: int = 0
    leader_links_removed: int = 0
    leader_links_changed: int = 0  # a leader became a deputy, or the other way round

    @property
    def changed(self) -> bool:
        return any(
            (
                self.departments.created,
                self.departments.updated,
                self.units.created,
                self.units.updated,
                self.persons.created,
                self.persons.updated,
                self.roles_added,
                self.roles_removed,
                self.leader_links_added,
                self.leader_links_removed,
                self.leader_links_changed,
            )
        )


def _chunks(items: Iterable[T]) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == _CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def _id(row: Department | Unit | Person) -> int:
    assert row.id is not None, "flushed rows have ids"
    return row.id


async def _units_by_code(session: AsyncSession, codes: set[str]) -> dict[str, Unit]:
    found: dict[str, Unit] = {}
    for batch in _chunks(sorted(codes)):
        for unit in (
            await session.execute(select(Unit).where(col(Unit.code).in_(batch)))
        ).scalars():
            assert unit.code is not None
            found[unit.code] = unit
    return found


async def _units_by_name(session: AsyncSession, names: set[str]) -> list[Unit]:
    """Units whose name is one of `names`, in any case: a unit the history import created
    as «vossevangen skule» is the organisation's «Vossevangen skule». Compared in Python,
    since SQLite's lower() leaves æ, ø and å alone; a municipality has hundreds of units."""
    wanted = {name.casefold() for name in names}
    every = (await session.execute(select(Unit))).scalars()
    return [unit for unit in every if unit.name.casefold() in wanted]


async def _persons_by_object_id(session: AsyncSession, ids: set[str]) -> dict[str, Person]:
    found: dict[str, Person] = {}
    for batch in _chunks(sorted(ids)):
        statement = select(Person).where(col(Person.aad_object_id).in_(batch))
        for person in (await session.execute(statement)).scalars():
            found[person.aad_object_id] = person
    return found


async def _roles_of(session: AsyncSession, person_ids: set[int]) -> dict[int, set[str]]:
    roles: dict[int, set[str]] = {person_id: set() for person_id in person_ids}
    for batch in _chunks(sorted(person_ids)):
        rows = await session.execute(
            select(col(PersonRole.person_id), col(PersonRole.role)).where(
                col(PersonRole.person_id).in_(batch)
            )
        )
        for person_id, role in rows:
            roles[person_id].add(role)
    return roles


async def _leaders_of(session: AsyncSession, unit_ids: set[int]) -> dict[int, dict[int, bool]]:
    links: dict[int, dict[int, bool]] = {unit_id: {} for unit_id in unit_ids}
    for batch in _chunks(sorted(unit_ids)):
        rows = await session.execute(
            select(
                col(UnitLeader.unit_id), col(UnitLeader.person_id), col(UnitLeader.deputy)
            ).where(col(UnitLeader.unit_id).in_(batch))
        )
        for unit_id, person_id, deputy in rows:
            links[unit_id][person_id] = deputy
    return links


@dataclass
class _Known:
    """What the database already holds of the things the file names."""

    departments: dict[str, Department]  # by department_key
    units: dict[str, Unit]  # by code; includes codeless units the file gives a code
    persons: dict[str, Person]  # by Entra object id


async def _check_against_database(session: AsyncSession, plan: OrgPlan) -> _Known:
    """Load what the file touches; raise `OrgImportRefused` with every reference that fails."""
    file_persons = {p.aad_object_id for p in plan.persons}
    file_units = {u.code for u in plan.units}
    named_leaders = {i for u in plan.units for i in (*u.leaders, *u.deputies)}
    named_units = {p.unit_code for p in plan.persons if p.unit_code}

    departments = {
        department_key(d.name): d for d in (await session.execute(select(Department))).scalars()
    }
    department_names = {_id(d): key for key, d in departments.items()}
    units = await _units_by_code(session, file_units | named_units)
    persons = await _persons_by_object_id(session, file_persons | named_leaders)
    problems: list[RowProblem] = []

    for unit in plan.units:
        for column, ids in (("leaders", unit.leaders), ("deputies", unit.deputies)):
            problems.extend(
                RowProblem(unit.line, column, f"{i} is not a person in this file or the database")
                for i in ids
                if i not in file_persons and i not in persons
            )
    problems.extend(
        RowProblem(p.line, "unit", f"no unit with code {p.unit_code!r} in this file or database")
        for p in plan.persons
        if p.unit_code and p.unit_code not in file_units and p.unit_code not in units
    )

    # A department holds one unit of a name. A unit from before codes existed, with the same
    # name in the same department, is taken to be this one and gets its code.
    by_place = {(department_key(u.department), u.name.casefold()): u for u in plan.units}
    for holder in await _units_by_name(session, {u.name for u in plan.units}):
        row = by_place.get((department_names[holder.department_id], holder.name.casefold()))
        if row is None or holder.code == row.code:
            continue
        if holder.code is None and row.code not in units:
            units[row.code] = holder
        elif holder.code is None or holder.code not in file_units:
            owner = f"unit {holder.code}" if holder.code else "a unit without a code"
            message = f"{owner} already has the name {row.name!r} in {row.department}"
            problems.append(RowProblem(row.line, "name", message))

    if problems:
        raise OrgImportRefused(sorted(problems, key=lambda p: p.line))
    return _Known(departments, units, persons)


def _apply_departments(session: AsyncSession, plan: OrgPlan, known: _Known, tally: Tally) -> None:
    for name in dict.fromkeys(u.department for u in plan.units):  # in the file's order
        department = known.departments.get(department_key(name))
        if department is None:
            department = Department(name=name)
            session.add(department)
            known.departments[department_key(name)] = department
            tally.created += 1
        elif department.name != name:  # the same one spelled otherwise: the file is the register
            department.name = name
            tally.updated += 1
        else:
            tally.unchanged += 1


async def _apply_units(
    session: AsyncSession, plan: OrgPlan, known: _Known, tally: Tally, progress: Progress
) -> None:
    department_ids = {key: _id(d) for key, d in known.departments.items()}

    def place(row: UnitRow) -> tuple[int, str]:
        return department_ids[department_key(row.department)], row.name

    def state(unit: Unit) -> tuple[object, ...]:
        return unit.code, unit.department_id, unit.name, unit.headcount

    before = {code: state(unit) for code, unit in known.units.items()}
    # Units that move or change name step aside first, so that two units can swap names
    # without tripping the one-name-per-department constraint halfway.
    for row in plan.units:
        unit = known.units.get(row.code)
        if unit is not None and (unit.department_id, unit.name) != place(row):
            unit.name = f"(renaming unit {unit.id})"
    await session.flush()

    async for row in _in_batches(session, plan.units, progress):
        department_id, name = place(row)
        unit = known.units.get(row.code)
        if unit is None:
            unit = Unit(code=row.code, department_id=department_id, name=name)
            unit.headcount = row.headcount
            session.add(unit)
            known.units[row.code] = unit
            tally.created += 1
        else:
            unit.code, unit.department_id, unit.name = row.code, department_id, name
            if "headcount" in plan.columns:
                unit.headcount = row.headcount
            if state(unit) != before[row.code]:
                tally.updated += 1
            else:
                tally.unchanged += 1


async def _in_batches(
    session: AsyncSession, rows: Sequence[T], progress: Progress
) -> AsyncIterator[T]:
    """The rows one by one, flushed to the database every so often and counted as written."""
    for written, row in enumerate(rows, 1):
        yield row
        if written % _FLUSH_EVERY == 0:
            await session.flush()
            progress(_FLUSH_EVERY)
    await session.flush()
    progress(len(rows) % _FLUSH_EVERY)


async def _apply_persons(
    session: AsyncSession, plan: OrgPlan, known: _Known, tally: Tally, progress: Progress
) -> None:
    async for row in _in_batches(session, plan.persons, progress):
        unit_id = _id(known.units[row.unit_code]) if row.unit_code else None
        person = known.persons.get(row.aad_object_id)
        if person is None:
            person = Person(
                aad_object_id=row.aad_object_id,
                name=row.name,
                upn=row.upn,
                unit_id=unit_id,
                created_at=utcnow(),
            )
            session.add(person)
            known.persons[row.aad_object_id] = person
            tally.created += 1
        else:
            # The person's language is their own choice in the bot: never touched here.
            before = (person.name, person.upn, person.unit_id)
            person.name = row.name
            if "upn" in plan.columns:
                person.upn = row.upn
            if "unit" in plan.columns:
                person.unit_id = unit_id
            if (person.name, person.upn, person.unit_id) != before:
                tally.updated += 1
            else:
                tally.unchanged += 1


async def _apply_roles(
    session: AsyncSession, plan: OrgPlan, known: _Known, changes: OrgChanges
) -> None:
    leaders = {i for u in plan.units for i in (*u.leaders, *u.deputies)}
    listed: dict[str, PersonRow] = {p.aad_object_id: p for p in plan.persons}
    person_ids = {i: _id(known.persons[i]) for i in listed.keys() | leaders}
    existing = await _roles_of(session, set(person_ids.values()))

    added: list[dict[str, object]] = []
    for object_id, person_id in person_ids.items():
        have = existing[person_id]
        row = listed.get(object_id)
        if row is None:  # a leader from the database, not in the file: only leiar is added
            want = set(have)
        elif "roles" in plan.columns or not have:
            want = {role.value for role in row.roles}
        else:  # the file has no roles column: keep what the person has
            want = set(have)
        if object_id in leaders and Role.LEADER.value not in want:
            want.add(Role.LEADER.value)
            changes.leader_roles_added += int(Role.LEADER.value not in have)
        removed = have - want
        if removed:
            await session.execute(
                delete(PersonRole).where(
                    col(PersonRole.person_id) == person_id, col(PersonRole.role).in_(removed)
                )
            )
        added.extend({"person_id": person_id, "role": role} for role in sorted(want - have))
        changes.roles_removed += len(removed)
    changes.roles_added += len(added)
    if added:
        await session.execute(insert(PersonRole), added)


async def _apply_leaders(
    session: AsyncSession, plan: OrgPlan, known: _Known, changes: OrgChanges
) -> None:
    # A column the file leaves out is not managed: a file without `deputies` keeps them.
    managed = {d for c, d in (("leaders", False), ("deputies", True)) if c in plan.columns}
    if not managed:
        return
    unit_ids = {row.code: _id(known.units[row.code]) for row in plan.units}
    existing = await _leaders_of(session, set(unit_ids.values()))
    added: list[dict[str, object]] = []
    for row in plan.units:
        unit_id = unit_ids[row.code]
        have = existing[unit_id]
        want = {p: deputy for p, deputy in have.items() if deputy not in managed}
        want |= {_id(known.persons[i]): False for i in row.leaders}
        want |= {_id(known.persons[i]): True for i in row.deputies}
        gone = have.keys() - want.keys()
        if gone:
            await session.execute(
                delete(UnitLeader).where(
                    col(UnitLeader.unit_id) == unit_id, col(UnitLeader.person_id).in_(gone)
                )
            )
        for person_id in sorted(have.keys() & want.keys()):
            if have[person_id] != want[person_id]:
                await session.execute(
                    update(UnitLeader)
                    .where(
                        col(UnitLeader.unit_id) == unit_id,
                        col(UnitLeader.person_id) == person_id,
                    )
                    .values(deputy=want[person_id])
                )
                changes.leader_links_changed += 1
        added.extend(
            {"unit_id": unit_id, "person_id": p, "deputy": want[p]}
            for p in sorted(want.keys() - have.keys())
        )
        changes.leader_links_removed += len(gone)
    changes.leader_links_added += len(added)
    if added:
        await session.execute(insert(UnitLeader), added)


def _no_progress(_rows: int) -> None:
    pass


async def apply_org_plan(
    session: AsyncSession, plan: OrgPlan, *, progress: Progress | None = None
) -> OrgChanges:
    """Write the plan in the session's transaction (the caller commits or rolls back).

    Raises `OrgImportRefused` with every leader who is not a person and every unknown unit
    code before anything is written. `progress` is told how many rows were written, as they are.
    """
    tick = progress or _no_progress
    known = await _check_against_database(session, plan)
    changes = OrgChanges()
    _apply_departments(session, plan, known, changes.departments)
    await session.flush()
    await _apply_units(session, plan, known, changes.units, tick)
    await _apply_persons(session, plan, known, changes.persons, tick)
    await _apply_roles(session, plan, known, changes)
    await _apply_leaders(session, plan, known, changes)
    return changes


async def import_org_plan(
    sessions: SessionFactory,
    plan: OrgPlan,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> OrgChanges:
    """Apply the plan in one transaction: committed, or rolled back for a dry run or on error."""
    async with one_transaction(sessions, dry_run=dry_run) as session:
        return await apply_org_plan(session, plan, progress=progress)


def summary_lines(changes: OrgChanges) -> list[str]:
    """What an import did (or would do), for the admin who ran it."""

    def tally(kind: str, t: Tally) -> str:
        return f"{kind}: {t.created} created, {t.updated} updated, {t.unchanged} unchanged"

    implied = changes.leader_roles_added
    because = f" ({implied} of them leiar, for leading a unit)" if implied else ""
    return [
        tally("departments", changes.departments),
        tally("units", changes.units),
        tally("persons", changes.persons),
        f"roles: {changes.roles_added} added{because}, {changes.roles_removed} removed",
        f"leader links: {changes.leader_links_added} added, {changes.leader_links_removed} "
        f"removed, {changes.leader_links_changed} switched between leader and deputy",
    ]
