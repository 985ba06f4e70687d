"""The outbox: every message the bot starts itself, as a row written in the same transaction
as the change that causes it (docs/outbox.md).

A row is `queued` until a sender claims it with a lease (`claim_due`: PostgreSQL's `FOR
UPDATE SKIP LOCKED`, so senders in several processes never take the same row; on SQLite the
claiming UPDATE is one write, which SQLite serialises), and then `sent`, `failed` with its
reason, or `waiting` for a person the bot cannot reach yet. A sender records an outcome only
for a row it still holds. Enqueueing is idempotent by `dedupe_key`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import and_, case, delete, func, or_, select, text, type_coerce, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import (
    ConversationRef,
    OutboxRow,
    OutboxSender,
    Person,
    PersonRole,
    UnitLeader,
)
from storage.sql import insert_for
from storage.types import UtcDateTime

QUEUED, SENT, FAILED, WAITING = "queued", "sent", "failed", "waiting"
ERROR_MAX = 500


@dataclass(frozen=True)
class OutboxItem:
    id: int
    person_id: int
    kind: str
    payload: Mapping[str, Any]
    attempts: int  # before this one
    dedupe_key: str


async def enqueue(
    session: AsyncSession,
    *,
    person_id: int,
    kind: str,
    payload: Mapping[str, Any],
    dedupe_key: str,
    now: datetime,
    not_before: datetime | None = None,
) -> bool:
    """Add the message in the caller's transaction; False when its key is there already."""
    added = await session.scalar(
        insert_for(session, OutboxRow)
        .values(
            dedupe_key=dedupe_key[:200],
            person_id=person_id,
            kind=kind,
            payload=json.dumps(dict(payload), sort_keys=True),
            status=QUEUED,
            not_before=not_before or now,
            attempts=0,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(col(OutboxRow.id))
    )
    return added is not None


@dataclass(frozen=True)
class NewRow:
    person_id: int
    kind: str
    payload: Mapping[str, Any]
    dedupe_key: str


ROWS_PER_INSERT = 1000  # 8 values a row: well under SQLite's and PostgreSQL's limits


async def enqueue_many(session: AsyncSession, rows: Sequence[NewRow], *, now: datetime) -> None:
    """Many messages in the caller's transaction, a thousand to a statement (a tip to 10,000
    people is ten inserts, not 10,000); keys already there add nothing."""
    for start in range(0, len(rows), ROWS_PER_INSERT):
        chunk = rows[start : start + ROWS_PER_INSERT]
        await session.execute(
            insert_for(session, OutboxRow)
            .values(
                [
                    {
                        "dedupe_key": row.dedupe_key[:200],
                        "person_id": row.person_id,
                        "kind": row.kind,
                        "payload": json.dumps(dict(row.payload), sort_keys=True),
                        "status": QUEUED,
                        "not_before": now,
                        "attempts": 0,
                        "created_at": now,
                    }
                    for row in chunk
                ]
            )
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
        )


async def existing_keys(session: AsyncSession, keys: Sequence[str]) -> set[str]:
    """Which of these dedupe keys the outbox has already (queued, sent, failed or waiting)."""
    found: set[str] = set()
    for start in range(0, len(keys), 500):  # bound the size of one IN list
        chunk = sorted({k[:200] for k in keys[start : start + 500]})
        found.update(
            await session.scalars(
                select(col(OutboxRow.dedupe_key)).where(col(OutboxRow.dedupe_key).in_(chunk))
            )
        )
    return found


async def claim_due(
    session: AsyncSession, *, owner: str, now: datetime, lease: timedelta, limit: int
) -> list[OutboxItem]:
    """Take up to `limit` due rows for `owner` until `now + lease`, oldest first, in the
    caller's transaction (commit it to hold them). A lease that ran out (its sender died) is
    free again."""
    due = (
        select(col(OutboxRow.id))
        .where(
            col(OutboxRow.status) == QUEUED,
            col(OutboxRow.not_before) <= now,
            or_(col(OutboxRow.lease_expires).is_(None), col(OutboxRow.lease_expires) < now),
        )
        .order_by(col(OutboxRow.not_before), col(OutboxRow.id))
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    rows = await session.execute(
        update(OutboxRow)
        .where(col(OutboxRow.id).in_(due.scalar_subquery()))
        .values(lease_owner=owner, lease_expires=now + lease)
        .returning(
            col(OutboxRow.id),
            col(OutboxRow.person_id),
            col(OutboxRow.kind),
            col(OutboxRow.payload),
            col(OutboxRow.attempts),
            col(OutboxRow.dedupe_key),
        )
    )
    items = [
        OutboxItem(cast(int, row_id), person, kind, json.loads(payload), attempts, key)
        for row_id, person, kind, payload, attempts, key in rows
    ]
    return sorted(items, key=lambda item: item.id)


async def next_due(session: AsyncSession) -> datetime | None:
    """When the next queued row may be claimed: its not-before time, or when the lease of a
    row held by a sender that died runs out, if later."""
    free_at = case(
        (col(OutboxRow.lease_expires) > col(OutboxRow.not_before), col(OutboxRow.lease_expires)),
        else_=col(OutboxRow.not_before),
    )
    earliest = type_coerce(func.min(free_at), UtcDateTime())
    found: datetime | None = await session.scalar(
        select(earliest).where(col(OutboxRow.status) == QUEUED)
    )
    return found


def _held(item_id: int, owner: str) -> Any:
    return and_(col(OutboxRow.id) == item_id, col(OutboxRow.lease_owner) == owner)


async def _finish(session: AsyncSession, item_id: int, owner: str, **values: Any) -> bool:
    result = await session.execute(
        update(OutboxRow)
        .where(_held(item_id, owner))
        .values(lease_owner=None, lease_expires=None, **values)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def mark_sent(session: AsyncSession, *, item_id: int, owner: str, now: datetime) -> bool:
    """False when the row is no longer this sender's (its lease ran out and another took it)."""
    return await _finish(
        session, item_id, owner, status=SENT, sent_at=now, attempts=OutboxRow.attempts + 1
    )


async def retry_later(
    session: AsyncSession, *, item_id: int, owner: str, not_before: datetime, error: str
) -> bool:
    return await _finish(
        session,
        item_id,
        owner,
        not_before=not_before,
        attempts=OutboxRow.attempts + 1,
        last_error=error[:ERROR_MAX],
    )


async def defer(session: AsyncSession, *, item_id: int, owner: str, not_before: datetime) -> bool:
    """Not to be sent before `not_before` (outside working hours): no try is counted."""
    return await _finish(session, item_id, owner, not_before=not_before)


async def mark_failed(session: AsyncSession, *, item_id: int, owner: str, error: str) -> bool:
    return await _finish(
        session,
        item_id,
        owner,
        status=FAILED,
        attempts=OutboxRow.attempts + 1,
        last_error=error[:ERROR_MAX],
    )


async def release(session: AsyncSession, *, item_id: int, owner: str) -> bool:
    """Give a held row back unsent, as it was (a stop, or a lease about to run out)."""
    return await _finish(session, item_id, owner)


async def fail_person(session: AsyncSession, *, person_id: int, owner: str, error: str) -> int:
    """Every queued or waiting row to a person, failed with `error` (Teams blocks writes to
    their chat: asking again would only hammer it); rows another sender holds are its own."""
    result = await session.execute(
        update(OutboxRow)
        .where(
            col(OutboxRow.person_id) == person_id,
            col(OutboxRow.status).in_([QUEUED, WAITING]),
            or_(col(OutboxRow.lease_owner).is_(None), col(OutboxRow.lease_owner) == owner),
        )
        .values(status=FAILED, last_error=error[:ERROR_MAX], lease_owner=None, lease_expires=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def mark_waiting(session: AsyncSession, *, item_id: int, owner: str, error: str) -> bool:
    """The person cannot be reached yet (the app is not installed for them): the row waits for
    `wake_person`."""
    return await _finish(session, item_id, owner, status=WAITING, last_error=error[:ERROR_MAX])


async def cancel_prefix(session: AsyncSession, *, prefix: str, error: str) -> int:
    """Rows not sent yet whose key starts with `prefix` fail with `error` (a sending called
    off); how many. One a sender is sending just now may still go, and is then recorded sent."""
    result = await session.execute(
        update(OutboxRow)
        .where(
            col(OutboxRow.dedupe_key).like(f"{prefix}%"),
            col(OutboxRow.status).in_([QUEUED, WAITING]),
        )
        .values(status=FAILED, last_error=error[:ERROR_MAX])
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def wake_person(session: AsyncSession, *, aad_object_id: str) -> int:
    """The person can be reached now (they installed the app): their waiting rows are due."""
    person = select(col(Person.id)).where(col(Person.aad_object_id) == aad_object_id)
    result = await session.execute(
        update(OutboxRow)
        .where(col(OutboxRow.status) == WAITING, col(OutboxRow.person_id).in_(person))
        .values(status=QUEUED)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def wake_reachable(session: AsyncSession) -> int:
    """Waiting rows whose person has a chat with the bot by now: due again. The sender looks
    now and then, whoever wrote the conversation down (another replica, an install event).
    Asked row by row of the waiting ones (found by the status index), so that it costs nothing
    when nothing waits, however many people and chats there are."""
    reachable = (
        select(col(Person.id))
        .join(
            ConversationRef, col(ConversationRef.person_aad_object_id) == col(Person.aad_object_id)
        )
        .where(
            col(ConversationRef.conversation_type) == "personal",
            col(Person.id) == col(OutboxRow.person_id),
        )
        .exists()
    )
    result = await session.execute(
        update(OutboxRow).where(col(OutboxRow.status) == WAITING, reachable).values(status=QUEUED)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


# ---- the senders, who share the rate --------------------------------------------------------


async def heartbeat(session: AsyncSession, *, owner: str, now: datetime, alive: timedelta) -> int:
    """Say `owner` is sending; how many senders are (seen within `alive`), itself included.
    Those not seen for ten times as long are forgotten."""
    await session.execute(
        insert_for(session, OutboxSender)
        .values(owner=owner, seen_at=now)
        .on_conflict_do_update(index_elements=["owner"], set_={"seen_at": now})
    )
    await session.execute(delete(OutboxSender).where(col(OutboxSender.seen_at) < now - 10 * alive))
    count = await session.scalar(
        select(func.count()).where(col(OutboxSender.seen_at) >= now - alive)
    )
    return max(1, int(count or 0))


async def leave(session: AsyncSession, *, owner: str) -> None:
    await session.execute(delete(OutboxSender).where(col(OutboxSender.owner) == owner))


# ---- what is waiting ------------------------------------------------------------------------


@dataclass(frozen=True)
class OutboxStatus:
    queued: int
    due: int
    sent: int
    failed: dict[str, int]  # by reason
    waiting: dict[str, int]  # by reason
    oldest_due_seconds: float | None

    def as_json(self) -> dict[str, Any]:
        return {
            "queued": self.queued,
            "due": self.due,
            "sent": self.sent,
            "failed": self.failed,
            "unreachable": self.waiting,
            "oldest_due_seconds": self.oldest_due_seconds,
        }


async def outbox_status(session: AsyncSession, *, now: datetime) -> OutboxStatus:
    counts = dict(
        (
            await session.execute(
                select(col(OutboxRow.status), func.count()).group_by(col(OutboxRow.status))
            )
        ).all()
    )
    due_filter = and_(col(OutboxRow.status) == QUEUED, col(OutboxRow.not_before) <= now)
    due = await session.scalar(select(func.count()).where(due_filter))
    oldest = await session.scalar(select(func.min(col(OutboxRow.not_before))).where(due_filter))

    async def by_reason(status: str) -> dict[str, int]:
        rows = await session.execute(
            select(func.coalesce(col(OutboxRow.last_error), text("''")), func.count())
            .where(col(OutboxRow.status) == status)
            .group_by(func.coalesce(col(OutboxRow.last_error), text("''")))
        )
        return {reason or "unknown": int(n) for reason, n in rows}

    return OutboxStatus(
        queued=int(counts.get(QUEUED, 0)),
        due=int(due or 0),
        sent=int(counts.get(SENT, 0)),
        failed=await by_reason(FAILED),
        waiting=await by_reason(WAITING),
        oldest_due_seconds=(now - oldest).total_seconds() if oldest is not None else None,
    )


# ---- who can be reached ---------------------------------------------------------------------


@dataclass(frozen=True)
class Reach:
    """One person as the bot can reach them now."""

    person_id: int
    aad_object_id: str
    name: str
    roles: tuple[str, ...]
    leads: bool  # leads or is deputy of a unit: told of its reports
    reachable: bool
    reason: str | None  # why not, or why the last message to them failed
    waiting: int  # messages waiting for them

    def as_json(self) -> dict[str, Any]:
        return {
            "aad_object_id": self.aad_object_id,
            "name": self.name,
            "roles": list(self.roles),
            "leads_a_unit": self.leads,
            "reachable": self.reachable,
            "reason": self.reason,
            "waiting": self.waiting,
        }


NO_CHAT = "no chat with the bot"
NOT_INSTALLED = "the app is not installed for them"


async def reach(session: AsyncSession) -> list[Reach]:
    """Everyone the organisation lists, whether the bot can write to them, and if not why:
    no chat with the bot, or Teams refused the last message (the app was removed, writes
    blocked). Those who cannot be reached first, leaders first among them."""
    people = (await session.scalars(select(Person).order_by(col(Person.name)))).all()
    chats = set(
        await session.scalars(
            select(col(ConversationRef.person_aad_object_id)).where(
                col(ConversationRef.conversation_type) == "personal"
            )
        )
    )
    roles: dict[int, list[str]] = {}
    for person_id, role in await session.execute(
        select(col(PersonRole.person_id), col(PersonRole.role)).order_by(col(PersonRole.role))
    ):
        roles.setdefault(person_id, []).append(role)
    leaders = set(await session.scalars(select(col(UnitLeader.person_id))))
    waiting: dict[int, int] = {}
    why_waiting: dict[int, str] = {}  # the latest word on why (Teams, Graph)
    for person_id, error in await session.execute(
        select(col(OutboxRow.person_id), col(OutboxRow.last_error))
        .where(col(OutboxRow.status) == WAITING)
        .order_by(col(OutboxRow.id))
    ):
        waiting[person_id] = waiting.get(person_id, 0) + 1
        if error:
            why_waiting[person_id] = error
    # The last message that was settled, sent or failed: a failure that a later message
    # got past is over.
    last: dict[int, str | None] = {}
    settled = await session.execute(
        select(col(OutboxRow.person_id), col(OutboxRow.status), col(OutboxRow.last_error))
        .where(col(OutboxRow.status).in_([SENT, FAILED]))
        .order_by(col(OutboxRow.id))
    )
    for person_id, status, error in settled:
        last[person_id] = (error or "refused") if status == FAILED else None
    found = []
    for person in people:
        assert person.id is not None
        has_chat = person.aad_object_id in chats
        refused = last.get(person.id)
        reachable = has_chat and refused is None
        reason: str | None = None
        if not has_chat:
            reason = f"{NO_CHAT}: {why_waiting.get(person.id, NOT_INSTALLED)}"
        else:
            reason = f"Teams refused: {refused}" if refused else None
        found.append(
            Reach(
                person.id,
                person.aad_object_id,
                person.name,
                tuple(roles.get(person.id, ())),
                person.id in leaders,
                reachable,
                reason,
                int(waiting.get(person.id, 0)),
            )
        )
    return sorted(found, key=lambda r: (r.reachable, not r.leads, r.name.casefold()))
