"""The adviser's tips (domain.tips) in the database: drafts, sendings, who they reach, how far
a sending has come (read from its outbox rows), and the recipients' votes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from domain.tips import Audience, AudienceKind, Schedule, Tip, When, allowed, next_in_series
from domain.working_time import WorkingCalendar
from storage import outbox
from storage.models import (
    ConversationRef,
    Department,
    OutboxRow,
    Person,
    PersonRole,
    TipDelivery,
    TipRow,
    TipVote,
    Unit,
    UnitLeader,
)
from storage.sql import insert_for

TIP = "tip"  # the outbox kind of a tip to one recipient
TIP_REPORT = "tip_report"  # the adviser's report card
DRAFT, ACTIVE, DONE, CANCELLED = "draft", "active", "done", "cancelled"
SCHEDULED, SENDING = "scheduled", "sending"
CANCELLED_REASON = "cancelled by the adviser"


@dataclass(frozen=True)
class StoredTip:
    id: int
    tip: Tip
    audience: Audience
    schedule: Schedule
    status: str
    created_by_id: int | None
    version: int


def _stored(row: TipRow) -> StoredTip:
    assert row.id is not None
    content = json.loads(row.content)
    return StoredTip(
        row.id,
        Tip.from_json({**content, "title": row.title, "language": row.language}),
        Audience.from_json(json.loads(row.audience)),
        Schedule.from_json(json.loads(row.schedule)),
        row.status,
        row.created_by_id,
        row.version,
    )


async def save_draft(
    session: AsyncSession,
    *,
    tip: Tip,
    audience: Audience,
    schedule: Schedule,
    author_id: int | None,
    now: datetime,
    tip_id: int | None = None,
) -> int:
    """A new draft, or the draft (or scheduled tip not yet started) `tip_id` changed."""
    content = json.dumps(
        {k: v for k, v in tip.content_json().items() if k in ("sections", "links", "training")},
        ensure_ascii=False,
    )
    values = {
        "title": tip.title,
        "language": tip.language,
        "content": content,
        "audience": json.dumps(audience.as_json()),
        "schedule": json.dumps(schedule.as_json()),
    }
    if tip_id is not None:
        # A tip scheduled but not started becomes a draft again, its time called off: the
        # adviser sends it anew, with the time as she has now set it.
        started = select(col(TipDelivery.id)).where(
            col(TipDelivery.tip_id) == tip_id,
            col(TipDelivery.status).not_in([SCHEDULED, CANCELLED]),
        )
        result = await session.execute(
            update(TipRow)
            .where(
                col(TipRow.id) == tip_id,
                col(TipRow.status).in_([DRAFT, ACTIVE]),
                ~started.exists(),
            )
            .values(**values, status=DRAFT, version=TipRow.version + 1)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            await session.execute(
                update(TipDelivery)
                .where(col(TipDelivery.tip_id) == tip_id, col(TipDelivery.status) == SCHEDULED)
                .values(status=CANCELLED)
            )
            return tip_id
    row = TipRow(
        title=tip.title,
        language=tip.language,
        content=content,
        audience=values["audience"],
        schedule=values["schedule"],
        status=DRAFT,
        created_by_id=author_id,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    assert row.id is not None
    return row.id


async def get_tip(session: AsyncSession, tip_id: int) -> StoredTip | None:
    row = await session.get(TipRow, tip_id)
    return _stored(row) if row else None


async def audience_ids(session: AsyncSession, audience: Audience) -> list[int]:
    """Who the audience is right now (person ids), each once."""
    query: Any
    if audience.kind is AudienceKind.EVERYONE:
        query = select(col(Person.id)).where(
            or_(
                col(Person.unit_id).is_not(None),
                col(Person.id).in_(select(col(PersonRole.person_id))),
            )
        )
    elif audience.kind is AudienceKind.ROLE and audience.role is not None:
        query = select(col(PersonRole.person_id)).where(col(PersonRole.role) == audience.role.value)
    elif audience.kind is AudienceKind.PLACES:
        units = select(col(Unit.id)).where(
            or_(
                col(Unit.id).in_(audience.units or (-1,)),
                col(Unit.department_id).in_(audience.departments or (-1,)),
            )
        )
        query = select(col(UnitLeader.person_id)).where(col(UnitLeader.unit_id).in_(units))
    else:
        query = select(col(UnitLeader.person_id))
    return sorted({int(p) for p in await session.scalars(query) if p is not None})


async def reachable_count(session: AsyncSession, person_ids: list[int]) -> int:
    """How many of these people have a chat with the bot now."""
    if not person_ids:
        return 0
    found = await session.scalar(
        select(func.count(func.distinct(col(Person.id))))
        .join(
            ConversationRef, col(ConversationRef.person_aad_object_id) == col(Person.aad_object_id)
        )
        .where(
            col(ConversationRef.conversation_type) == "personal",
            col(Person.id).in_(person_ids),
        )
    )
    return int(found or 0)


class NotADraft(Exception):
    """The tip was sent (or changed) meanwhile: a second press, or another replica."""


async def send_draft(
    session: AsyncSession, *, tip_id: int, version: int, planned_at: datetime, due_at: datetime
) -> int:
    """The draft, as it was at `version`, becomes active and is to go at `due_at`; the
    sending's id. Raises NotADraft when it is no longer that draft: it is sent once."""
    result = await session.execute(
        update(TipRow)
        .where(
            col(TipRow.id) == tip_id, col(TipRow.status) == DRAFT, col(TipRow.version) == version
        )
        .values(status=ACTIVE)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise NotADraft(tip_id)
    return await schedule_delivery(session, tip_id=tip_id, planned_at=planned_at, due_at=due_at)


async def schedule_delivery(
    session: AsyncSession, *, tip_id: int, planned_at: datetime, due_at: datetime
) -> int:
    """Another sending of an active tip (a series' next occurrence); its id."""
    delivery = TipDelivery(tip_id=tip_id, planned_at=planned_at, due_at=due_at)
    session.add(delivery)
    await session.flush()
    assert delivery.id is not None
    return delivery.id


async def due_deliveries(session: AsyncSession, *, now: datetime) -> list[int]:
    """Sendings whose time has come, claimed for this caller (a second scheduler skips them)."""
    query = (
        select(col(TipDelivery.id))
        .where(col(TipDelivery.status) == SCHEDULED, col(TipDelivery.due_at) <= now)
        .order_by(col(TipDelivery.due_at), col(TipDelivery.id))
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return [int(d) for d in await session.scalars(query) if d is not None]


async def start_delivery(session: AsyncSession, *, delivery_id: int, now: datetime) -> int:
    """Every recipient's row in the outbox, and the adviser's report card; how many people.
    Run in one transaction: a crash leaves the sending scheduled, to start again whole."""
    delivery = await session.get(TipDelivery, delivery_id)
    if delivery is None or delivery.status != SCHEDULED:
        return 0
    stored = await get_tip(session, delivery.tip_id)
    if stored is None or stored.status != ACTIVE:  # stopped meanwhile
        await session.execute(
            update(TipDelivery).where(col(TipDelivery.id) == delivery_id).values(status=CANCELLED)
        )
        return 0
    people = await audience_ids(session, stored.audience)
    if stored.created_by_id is not None:
        # First, so that the adviser's report card is there as the sending begins.
        await outbox.enqueue(
            session,
            person_id=stored.created_by_id,
            kind=TIP_REPORT,
            payload={"delivery_id": delivery_id},
            dedupe_key=f"{TIP_REPORT}:{delivery_id}:start",
            now=now,
        )
    await outbox.enqueue_many(
        session,
        [
            outbox.NewRow(
                person, TIP, {"delivery_id": delivery_id}, f"{TIP}:{delivery_id}:{person}"
            )
            for person in people
        ],
        now=now,
    )
    await session.execute(
        update(TipDelivery)
        .where(col(TipDelivery.id) == delivery_id)
        .values(status=SENDING, recipients=len(people), started_at=now)
    )
    return len(people)


async def cancel(session: AsyncSession, *, tip_id: int) -> int:
    """Stop a tip: sendings not started are cancelled, and rows not sent yet fail with the
    reason; how many rows were stopped."""
    await session.execute(update(TipRow).where(col(TipRow.id) == tip_id).values(status=CANCELLED))
    deliveries = select(col(TipDelivery.id)).where(col(TipDelivery.tip_id) == tip_id)
    await session.execute(
        update(TipDelivery)
        .where(col(TipDelivery.tip_id) == tip_id, col(TipDelivery.status) == SCHEDULED)
        .values(status=CANCELLED)
    )
    ids = [int(d) for d in await session.scalars(deliveries) if d is not None]
    stopped = 0
    for delivery_id in ids:
        stopped += await outbox.cancel_prefix(
            session, prefix=f"{TIP}:{delivery_id}:", error=CANCELLED_REASON
        )
    return stopped


async def discard_draft(session: AsyncSession, *, tip_id: int) -> bool:
    draft = await session.get(TipRow, tip_id)
    if draft is None or draft.status != DRAFT:
        return False
    # A draft that was scheduled once keeps its called-off sending: it goes with it.
    await session.execute(delete(TipDelivery).where(col(TipDelivery.tip_id) == tip_id))
    result = await session.execute(
        delete(TipRow).where(col(TipRow.id) == tip_id, col(TipRow.status) == DRAFT)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Figures:
    """How far a sending has come."""

    recipients: int
    sent: int
    queued: int
    failed: dict[str, int]  # reason → how many
    waiting: dict[str, int]  # people the bot cannot reach yet, by reason
    useful: int
    not_useful: int

    @property
    def key(self) -> str:
        """Changes whenever what the report card shows does."""
        return (
            f"{self.sent}-{self.queued}-{sum(self.failed.values())}-"
            f"{sum(self.waiting.values())}-{self.useful}-{self.not_useful}"
        )


async def last_report(session: AsyncSession, *, delivery_id: int) -> tuple[int, str | None]:
    """The adviser's report card's last redraw queued for a sending: its number (0 for none
    but the first card) and the figures it was queued for. Keys of redraws are
    `tip_report:<sending>:<number>:<figures>`, so figures that come back to an earlier state
    (a vote changed and changed back) are queued again, and no key is ever used twice."""
    prefix = f"{TIP_REPORT}:{delivery_id}:"
    keys = await session.scalars(
        select(col(OutboxRow.dedupe_key)).where(
            col(OutboxRow.kind) == TIP_REPORT, col(OutboxRow.dedupe_key).startswith(prefix)
        )
    )
    numbered = [
        (int(number), shown)
        for number, _, shown in (k.removeprefix(prefix).partition(":") for k in keys)
        if number.isdigit()
    ]
    return max(numbered, default=(0, None))


async def figures(session: AsyncSession, *, delivery_id: int) -> Figures:
    delivery = await session.get(TipDelivery, delivery_id)
    recipients = delivery.recipients if delivery else 0
    rows = await session.execute(
        select(col(OutboxRow.status), col(OutboxRow.last_error), func.count())
        .where(col(OutboxRow.dedupe_key).like(f"{TIP}:{delivery_id}:%"))
        .group_by(col(OutboxRow.status), col(OutboxRow.last_error))
    )
    sent = queued = 0
    failed: dict[str, int] = {}
    waiting: dict[str, int] = {}
    for status, error, count in rows:
        if status == outbox.SENT:
            sent += int(count)
        elif status == outbox.QUEUED:
            queued += int(count)
        elif status == outbox.FAILED:
            failed[error or "?"] = failed.get(error or "?", 0) + int(count)
        else:
            waiting[error or "?"] = waiting.get(error or "?", 0) + int(count)
    votes = dict(
        (
            await session.execute(
                select(col(TipVote.useful), func.count())
                .where(col(TipVote.delivery_id) == delivery_id)
                .group_by(col(TipVote.useful))
            )
        ).all()
    )
    return Figures(
        recipients, sent, queued, failed, waiting, int(votes.get(True, 0)), int(votes.get(False, 0))
    )


async def vote(
    session: AsyncSession, *, delivery_id: int, person_id: int, useful: bool, now: datetime
) -> bool:
    """One vote per person and sending, the latest counts; False when the person was not sent
    this tip (a forwarded card, a forged press)."""
    received = await session.scalar(
        select(func.count()).where(
            col(OutboxRow.dedupe_key) == f"{TIP}:{delivery_id}:{person_id}",
            col(OutboxRow.status) == outbox.SENT,
        )
    )
    if not received:
        return False
    await session.execute(
        insert_for(session, TipVote)
        .values(delivery_id=delivery_id, person_id=person_id, useful=useful, at=now)
        .on_conflict_do_update(
            index_elements=["delivery_id", "person_id"], set_={"useful": useful, "at": now}
        )
    )
    return True


async def record_report_card(
    session: AsyncSession, *, delivery_id: int, conversation_id: str, activity_id: str
) -> None:
    await session.execute(
        update(TipDelivery)
        .where(col(TipDelivery.id) == delivery_id)
        .values(report_conversation_id=conversation_id, report_activity_id=activity_id)
    )


@dataclass(frozen=True)
class DeliveryView:
    id: int
    tip_id: int
    status: str
    planned_at: datetime
    due_at: datetime
    recipients: int
    report_activity_id: str | None
    report_conversation_id: str | None


def _delivery(row: TipDelivery) -> DeliveryView:
    assert row.id is not None
    return DeliveryView(
        row.id,
        row.tip_id,
        row.status,
        row.planned_at,
        row.due_at,
        row.recipients,
        row.report_activity_id,
        row.report_conversation_id,
    )


async def delivery(session: AsyncSession, delivery_id: int) -> DeliveryView | None:
    row = await session.get(TipDelivery, delivery_id)
    return _delivery(row) if row else None


async def deliveries_of(session: AsyncSession, tip_id: int) -> list[DeliveryView]:
    rows = await session.scalars(
        select(TipDelivery).where(col(TipDelivery.tip_id) == tip_id).order_by(col(TipDelivery.id))
    )
    return [_delivery(r) for r in rows]


async def sending(session: AsyncSession) -> list[DeliveryView]:
    """Sendings under way whose report card is out: the scheduler redraws them as they move."""
    rows = await session.scalars(
        select(TipDelivery).where(
            col(TipDelivery.status) == SENDING, col(TipDelivery.report_activity_id).is_not(None)
        )
    )
    return [_delivery(r) for r in rows]


async def latest_tips(session: AsyncSession, limit: int = 15) -> list[StoredTip]:
    rows = await session.scalars(select(TipRow).order_by(col(TipRow.id).desc()).limit(limit))
    return [_stored(r) for r in rows]


async def all_tips(session: AsyncSession) -> list[StoredTip]:
    rows = await session.scalars(select(TipRow).order_by(col(TipRow.id)))
    return [_stored(r) for r in rows]


async def mark_done(session: AsyncSession, *, tip_id: int) -> None:
    await session.execute(
        update(TipRow)
        .where(col(TipRow.id) == tip_id, col(TipRow.status) == ACTIVE)
        .values(status=DONE)
    )


async def places(session: AsyncSession) -> tuple[dict[int, str], dict[int, str]]:
    """Every department and unit by id, for choosing an audience."""
    departments = {
        int(i): name
        for i, name in await session.execute(select(col(Department.id), col(Department.name)))
        if i is not None
    }
    units = {
        int(i): name
        for i, name in await session.execute(select(col(Unit.id), col(Unit.name)))
        if i is not None
    }
    return departments, units


async def drafts_by_title(session: AsyncSession) -> dict[str, int]:
    """The drafts, by title as written (an import updates the draft of the same title)."""
    return {
        row.title: row.id
        for row in await session.scalars(select(TipRow).where(col(TipRow.status) == DRAFT))
        if row.id is not None
    }


async def plan_next(
    session: AsyncSession, *, delivery_id: int, now: datetime, calendar: WorkingCalendar
) -> None:
    """A series plans its next occurrence when one starts: N weeks on from the planned time,
    the first one ahead of `now` (occurrences missed while the bot was stopped are not sent in
    a burst), moved out of quiet hours."""
    delivery = await session.get(TipDelivery, delivery_id)
    if delivery is None:
        return
    stored = await get_tip(session, delivery.tip_id)
    if stored is None or stored.status != ACTIVE or stored.schedule.when is not When.SERIES:
        return
    planned = next_in_series(delivery.planned_at, stored.schedule)
    while planned <= now:
        planned = next_in_series(planned, stored.schedule)
    await schedule_delivery(
        session, tip_id=stored.id, planned_at=planned, due_at=allowed(planned, calendar)
    )
