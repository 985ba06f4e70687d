"""Training progress in the database (domain.training): where each person is in each module,
moved on only from the card the press was made on, so an answer sent twice or a button from an
old card changes nothing; and completion counted per unit (never who got what wrong)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlalchemy import select as select_columns
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from storage.models import Department, Person, TrainingProgress, Unit


@dataclass(frozen=True)
class Progress:
    module: str
    step: int
    answered: int
    right: int
    completed: bool


async def progress_of(session: AsyncSession, *, person_id: int) -> dict[str, Progress]:
    rows = await session.scalars(
        select(TrainingProgress).where(col(TrainingProgress.person_id) == person_id)
    )
    return {
        r.module: Progress(r.module, r.step, r.answered, r.right, r.completed_at is not None)
        for r in rows
    }


async def start(
    session: AsyncSession, *, person_id: int, module: str, cards: int, now: datetime
) -> int:
    """Begin a module, or take up one under way where the person is, or take a completed one
    again from the first card with a fresh score (it stays completed); the card to show."""
    row = await session.get(TrainingProgress, (person_id, module))
    if row is None:
        session.add(
            TrainingProgress(person_id=person_id, module=module, started_at=now, updated_at=now)
        )
        return 0
    if row.step < cards:
        return row.step
    row.step, row.answered, row.right, row.updated_at = 0, 0, 0, now
    return 0


async def advance(
    session: AsyncSession,
    *,
    person_id: int,
    module: str,
    step: int,
    cards: int,
    now: datetime,
    right: bool | None = None,
) -> bool:
    """Move on from card `step` if the person is still at it; with `right`, the card was a
    question answered (rightly or not). The last card done completes the module. False when
    they were not at that card (answered already, or an old card)."""
    values: dict[str, object] = {"step": step + 1, "updated_at": now}
    if right is not None:
        values["answered"] = col(TrainingProgress.answered) + 1
        values["right"] = col(TrainingProgress.right) + (1 if right else 0)
    if step + 1 >= cards:
        values["completed_at"] = func.coalesce(col(TrainingProgress.completed_at), now)
    result = await session.execute(
        update(TrainingProgress)
        .where(
            col(TrainingProgress.person_id) == person_id,
            col(TrainingProgress.module) == module,
            col(TrainingProgress.step) == step,
        )
        .values(**values)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def complete(session: AsyncSession, *, person_id: int, module: str, now: datetime) -> None:
    """Completed: for someone past the last card of a module that has since lost cards."""
    await session.execute(
        update(TrainingProgress)
        .where(
            col(TrainingProgress.person_id) == person_id,
            col(TrainingProgress.module) == module,
            col(TrainingProgress.completed_at).is_(None),
        )
        .values(completed_at=now, updated_at=now)
    )


async def has_started_any(session: AsyncSession, *, person_id: int) -> bool:
    found = await session.scalar(
        select(func.count()).where(col(TrainingProgress.person_id) == person_id)
    )
    return bool(found)


@dataclass(frozen=True)
class UnitCompletion:
    unit_id: int
    unit: str
    department: str
    people: int  # who the bot knows in the unit
    completed: dict[str, int]  # module → how many of them completed it
    all_modules: int = 0  # how many completed every module asked about


async def completion(
    session: AsyncSession, *, unit_ids: list[int] | None, modules: list[str]
) -> list[UnitCompletion]:
    """Per unit (all, or those given): people, how many completed each module, and how many
    completed all of `modules`."""
    units: Any = select_columns(
        col(Unit.id), col(Unit.name), col(Department.name).label("department")
    ).join(Department, col(Department.id) == col(Unit.department_id))
    if unit_ids is not None:
        units = units.where(col(Unit.id).in_(unit_ids))
    people = dict(
        (
            await session.execute(
                select_columns(col(Person.unit_id), func.count())
                .where(col(Person.unit_id).is_not(None))
                .group_by(col(Person.unit_id))
            )
        ).all()
    )
    done: dict[int, dict[str, int]] = {}
    for unit_id, module, n in await session.execute(
        select_columns(col(Person.unit_id), col(TrainingProgress.module), func.count())
        .join(Person, col(Person.id) == col(TrainingProgress.person_id))
        .where(col(TrainingProgress.completed_at).is_not(None), col(Person.unit_id).is_not(None))
        .group_by(col(Person.unit_id), col(TrainingProgress.module))
    ):
        if unit_id is not None:
            done.setdefault(unit_id, {})[module] = int(n)
    finished = (
        select_columns(col(TrainingProgress.person_id))
        .where(
            col(TrainingProgress.completed_at).is_not(None),
            col(TrainingProgress.module).in_(modules),
        )
        .group_by(col(TrainingProgress.person_id))
        .having(func.count() == len(modules))
        .subquery()
    )
    everything = dict(
        (
            await session.execute(
                select_columns(col(Person.unit_id), func.count())
                .join(finished, finished.c.person_id == col(Person.id))
                .where(col(Person.unit_id).is_not(None))
                .group_by(col(Person.unit_id))
            )
        ).all()
    )
    return [
        UnitCompletion(
            u.id,
            u.name,
            u.department,
            int(people.get(u.id, 0)),
            done.get(u.id, {}),
            int(everything.get(u.id, 0)),
        )
        for u in await session.execute(units.order_by(col(Department.name), col(Unit.name)))
    ]
