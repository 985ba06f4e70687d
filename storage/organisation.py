"""Departments, units and people: the lookups a report needs."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.vocabulary import Role
from storage.models import Person, PersonRole, Unit
from storage.sql import insert_for
from storage.types import utcnow


@dataclass(frozen=True)
class UnitRef:
    id: int
    name: str


async def unit_of_person(session: AsyncSession, *, aad_object_id: str) -> UnitRef | None:
    row = (
        await session.execute(
            select(col(Unit.id), col(Unit.name))
            .join(Person, col(Person.unit_id) == col(Unit.id))
            .where(col(Person.aad_object_id) == aad_object_id)
        )
    ).first()
    return UnitRef(row.id, row.name) if row else None


async def find_unit_by_name(session: AsyncSession, *, name: str) -> UnitRef | None:
    """A unit whose name matches exactly, ignoring case; None when none or several do."""
    rows = (
        await session.execute(
            select(col(Unit.id), col(Unit.name)).where(
                func.lower(col(Unit.name)) == name.strip().lower()
            )
        )
    ).all()
    return UnitRef(rows[0].id, rows[0].name) if len(rows) == 1 else None


async def ensure_person(session: AsyncSession, *, aad_object_id: str, name: str) -> int:
    """The person's id, creating a bare person (no unit, no roles) the first time we meet them.

    The name is what Teams showed at the time, kept for display only; identity is the object id.
    """
    await session.execute(
        insert_for(session, Person)
        .values(aad_object_id=aad_object_id, name=name[:300], created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["aad_object_id"])
    )
    person_id = await session.scalar(
        select(col(Person.id)).where(col(Person.aad_object_id) == aad_object_id)
    )
    assert isinstance(person_id, int)
    return person_id


async def language_of(session: AsyncSession, *, aad_object_id: str) -> str | None:
    """The language the person chose in the bot, if they did."""
    language: str | None = await session.scalar(
        select(col(Person.language)).where(col(Person.aad_object_id) == aad_object_id)
    )
    return language


async def choose_language(
    session: AsyncSession, *, aad_object_id: str, name: str, language: str
) -> None:
    """Remember the person's language; kept on the person so that notifications sent outside
    any conversation (to leaders, later) speak it too."""
    await session.execute(
        insert_for(session, Person)
        .values(
            aad_object_id=aad_object_id, name=name[:300], language=language, created_at=utcnow()
        )
        .on_conflict_do_update(index_elements=["aad_object_id"], set_={"language": language})
    )


async def adviser_ids(session: AsyncSession) -> list[int]:
    """The HMS advisers' person ids."""
    rows = await session.scalars(
        select(col(PersonRole.person_id))
        .where(col(PersonRole.role) == Role.ADVISER.value)
        .order_by(col(PersonRole.person_id))
    )
    return list(rows)


async def name_of(session: AsyncSession, *, person_id: int) -> str:
    person = await session.get(Person, person_id)
    return person.name if person is not None and person.name else ""
