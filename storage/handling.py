"""A leader's handling of reports: who may act, what a report looks like to them, and changes
that refuse a stale card. The rules themselves are in `domain.access`; this is the SQL."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, or_, update
from sqlalchemy import select as select_columns  # sqlmodel's select takes at most 4
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from domain.access import Actor, ReportScope
from domain.duties import Answer, Duty, DutyAnswer, duties_of, is_serious
from domain.vocabulary import Role, Severity, Status
from storage import outbox
from storage.conversations import ConversationAddress, address_of_ref, personal_conversation_of
from storage.models import (
    ConversationRef,
    Department,
    Measure,
    Person,
    PersonRole,
    Report,
    ReportCard,
    ReportDuty,
    ReportEvent,
    Unit,
    UnitLeader,
)


class StaleReport(Exception):
    """The report changed since the card was drawn (someone else acted first)."""


class ReportNotFound(Exception):
    pass


# Report ids are the database's INTEGER: a larger number from a card names no report, and
# PostgreSQL refuses to compare a column with it.
_LARGEST_ID = 2**31 - 1


@dataclass(frozen=True)
class MeasureLine:
    description: str
    owner: str
    due: date
    done: bool


@dataclass(frozen=True)
class HandlingView:
    """A report as a leader's card shows it."""

    id: int
    case_number: str
    version: int
    status: Status
    reporter_id: int | None
    reporter_name: str
    anonymous: bool
    unit_id: int | None
    unit_name: str | None  # None: reported without a unit the organisation knows
    unit_text: str | None  # what the reporter typed then
    location: str
    occurred_at: datetime
    occurred_time_known: bool
    reported_at: datetime
    description: str
    harm: str
    category: str
    severity: str
    immediate_action: str | None
    suggested_measure: str | None
    measures: tuple[MeasureLine, ...]
    closing_note: str | None
    snoozed_until: date | None = None  # the leader put reminders off until this day
    reported_severity: str | None = None  # the reporter's, when the leader changed it
    reported_category: str | None = None
    cause: str | None = None
    cause_text: str | None = None
    duty_answers: tuple[DutyAnswer, ...] = ()

    @property
    def scope(self) -> ReportScope:
        return ReportScope(self.reporter_id, self.unit_id, self.status, self.anonymous)

    @property
    def duties(self) -> tuple[Duty, ...]:
        """The legal duties the report sets off as it stands now (domain.duties)."""
        return duties_of(harm=self.harm, severity=self.severity, category=self.category)

    @property
    def answers(self) -> dict[Duty, DutyAnswer]:
        return {a.duty: a for a in self.duty_answers}


@dataclass(frozen=True)
class Recipient:
    person_id: int
    aad_object_id: str
    language: str | None
    address: ConversationAddress | None  # None: the bot is not installed for them yet


@dataclass(frozen=True)
class CardCopy:
    person_id: int
    activity_id: str
    address: ConversationAddress
    card_id: int = 0


@dataclass(frozen=True)
class OpenLine:
    id: int
    case_number: str
    reported_at: datetime
    unit_name: str | None
    category: str
    severity: str
    status: Status


async def actor_of(session: AsyncSession, *, aad_object_id: str) -> Actor:
    person = (
        await session.execute(
            select(col(Person.id), col(Person.unit_id)).where(
                col(Person.aad_object_id) == aad_object_id
            )
        )
    ).first()
    if person is None:
        return Actor(person_id=None)
    roles = frozenset(
        Role(code)
        for code in await session.scalars(
            select(col(PersonRole.role)).where(col(PersonRole.person_id) == person.id)
        )
        if code in Role._value2member_map_
    )
    led = frozenset(
        await session.scalars(
            select(col(UnitLeader.unit_id)).where(col(UnitLeader.person_id) == person.id)
        )
    )
    area: frozenset[int] = frozenset()
    if Role.SAFETY_REP in roles and person.unit_id is not None:
        department = select(col(Unit.department_id)).where(col(Unit.id) == person.unit_id)
        area = frozenset(
            await session.scalars(
                select(col(Unit.id)).where(col(Unit.department_id) == department.scalar_subquery())
            )
        )
    return Actor(person_id=person.id, roles=roles, led_units=led, area_units=area)


async def handling_view(session: AsyncSession, *, report_id: int) -> HandlingView:
    if not 0 < report_id <= _LARGEST_ID:
        raise ReportNotFound(report_id)
    row = (
        await session.execute(
            select(Report, Person.name, Unit.name)
            .outerjoin(Person, col(Person.id) == col(Report.reporter_id))
            .outerjoin(Unit, col(Unit.id) == col(Report.unit_id))
            .where(col(Report.id) == report_id)
        )
    ).first()
    if row is None:
        raise ReportNotFound(report_id)
    report, reporter_name, unit_name = row
    measures = tuple(
        MeasureLine(m.description, m.owner, m.due, m.done_at is not None)
        for m in await session.scalars(
            select(Measure).where(col(Measure.report_id) == report_id).order_by(col(Measure.id))
        )
    )
    closing = await session.scalar(
        select(col(ReportEvent.detail))
        .where(col(ReportEvent.report_id) == report_id, col(ReportEvent.kind) == "closed")
        .order_by(col(ReportEvent.id).desc())
        .limit(1)
    )
    answers = tuple(
        DutyAnswer(Duty(d.duty), Answer(d.answer), d.later_until)
        for d in await session.scalars(
            select(ReportDuty)
            .where(col(ReportDuty.report_id) == report_id)
            .order_by(col(ReportDuty.duty))
        )
        if d.duty in Duty._value2member_map_ and d.answer in Answer._value2member_map_
    )
    assert report.id is not None
    return HandlingView(
        id=report.id,
        case_number=report.case_number,
        version=report.version,
        status=Status(report.status),
        reporter_id=report.reporter_id,
        reporter_name=reporter_name or "",
        anonymous=report.anonymous,
        unit_id=report.unit_id,
        unit_name=unit_name,
        unit_text=report.unit_text,
        location=report.location,
        occurred_at=report.occurred_at,
        occurred_time_known=report.occurred_time_known,
        reported_at=report.reported_at,
        description=report.description,
        harm=report.harm,
        category=report.category,
        severity=report.severity,
        immediate_action=report.immediate_action,
        suggested_measure=report.suggested_measure,
        measures=measures,
        closing_note=json.loads(closing)["note"] if closing else None,
        snoozed_until=report.snoozed_until,
        reported_severity=report.reported_severity,
        reported_category=report.reported_category,
        cause=report.cause,
        cause_text=report.cause_text,
        duty_answers=answers,
    )


@dataclass(frozen=True)
class NewMeasure:
    description: str
    owner: str
    due: date


@dataclass(frozen=True)
class Changes:
    """What a leader's move sets on the report besides its status (each None: unchanged)."""

    snooze_until: date | None = None
    severity: str | None = None  # the leader's judgement; the reporter's first is kept
    category: str | None = None
    cause: tuple[str, str | None] | None = None  # code and optional words
    duty_answers: tuple[DutyAnswer, ...] = ()


async def change_report(
    session: AsyncSession,
    *,
    report_id: int,
    version: int,
    status: Status,
    actor_id: int | None,
    kind: str,
    now: datetime,
    detail: dict[str, object] | None = None,
    measure: NewMeasure | None = None,
    changes: Changes = Changes(),
) -> int:
    """Move the report on, if it is still at `version`; returns the new version. Every change is
    an event; a card drawn before someone else's change raises `StaleReport` and changes nothing.
    The first move away from «ny» is when it was acknowledged; closing, when it was closed."""
    values: dict[str, object] = {"status": status.value, "version": version + 1, "updated_at": now}
    if status is not Status.NEW:
        values["acknowledged_at"] = func.coalesce(col(Report.acknowledged_at), now)
    if status is Status.CLOSED:
        values["closed_at"] = now
    if changes.snooze_until is not None:
        values["snoozed_until"] = changes.snooze_until
    # SET reads the row as it was: the first change keeps the reporter's value beside it.
    if changes.severity is not None:
        values["severity"] = changes.severity
        values["reported_severity"] = func.coalesce(
            col(Report.reported_severity), col(Report.severity)
        )
    if changes.category is not None:
        values["category"] = changes.category
        values["reported_category"] = func.coalesce(
            col(Report.reported_category), col(Report.category)
        )
    if changes.cause is not None:
        values["cause"], values["cause_text"] = changes.cause
    result = await session.execute(
        update(Report)
        .where(col(Report.id) == report_id, col(Report.version) == version)
        .values(**values)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise StaleReport(report_id)
    if measure is not None:
        session.add(
            Measure(
                report_id=report_id,
                description=measure.description,
                owner=measure.owner,
                due=measure.due,
                created_by_id=actor_id,
                created_at=now,
            )
        )
    session.add(
        ReportEvent(
            report_id=report_id,
            actor_id=actor_id,
            kind=kind,
            detail=json.dumps(detail, ensure_ascii=False, default=str) if detail else None,
            at=now,
        )
    )
    for answer in changes.duty_answers:
        await _answer_duty(session, report_id, answer, actor_id, now)
    return version + 1


async def _answer_duty(
    session: AsyncSession, report_id: int, answer: DutyAnswer, actor_id: int | None, now: datetime
) -> None:
    row = await session.get(ReportDuty, (report_id, answer.duty.value))
    if row is None:
        row = ReportDuty(report_id=report_id, duty=answer.duty.value, answered_at=now, answer="")
        session.add(row)
    row.answer = answer.answer.value
    row.later_until = answer.later_until
    row.answered_by_id = actor_id
    row.answered_at = now


async def _recipient(session: AsyncSession, person: Person) -> Recipient:
    assert person.id is not None
    address = await personal_conversation_of(session, aad_object_id=person.aad_object_id)
    return Recipient(person.id, person.aad_object_id, person.language, address)


async def recipients_of_new_report(session: AsyncSession, *, report_id: int) -> list[Recipient]:
    """The unit's leaders and deputies; the HMS advisers too when severity is high, or when no
    known unit (and so no leader) would otherwise see the report; and for a serious personal
    injury (domain.duties) the verneombod of the unit's department as well."""
    report = await session.get(Report, report_id)
    if report is None:
        raise ReportNotFound(report_id)
    await session.refresh(report)  # a judgement in this transaction may have changed it
    wanted = []
    if report.unit_id is not None:
        wanted.append(
            col(Person.id).in_(
                select(col(UnitLeader.person_id)).where(col(UnitLeader.unit_id) == report.unit_id)
            )
        )
    leaders_known = report.unit_id is not None and bool(
        await session.scalar(select(func.count()).where(col(UnitLeader.unit_id) == report.unit_id))
    )
    if report.severity == Severity.HIGH.value or not leaders_known:
        wanted.append(
            col(Person.id).in_(
                select(col(PersonRole.person_id)).where(col(PersonRole.role) == Role.ADVISER.value)
            )
        )
    if report.unit_id is not None and is_serious(report.harm, report.severity):
        department = select(col(Unit.department_id)).where(col(Unit.id) == report.unit_id)
        wanted.append(
            col(Person.id).in_(
                select(col(PersonRole.person_id))
                .join(Person, col(Person.id) == col(PersonRole.person_id))
                .join(Unit, col(Unit.id) == col(Person.unit_id))
                .where(
                    col(PersonRole.role) == Role.SAFETY_REP.value,
                    col(Unit.department_id) == department.scalar_subquery(),
                )
            )
        )
    people = await session.scalars(select(Person).where(or_(*wanted)).order_by(col(Person.id)))
    return [await _recipient(session, person) for person in people.all()]


async def person_by_id(session: AsyncSession, *, person_id: int) -> Recipient | None:
    person = await session.get(Person, person_id)
    return await _recipient(session, person) if person else None


async def reporter_of(session: AsyncSession, *, report_id: int) -> Recipient | None:
    person = await session.scalar(
        select(Person)
        .join(Report, col(Report.reporter_id) == col(Person.id))
        .where(col(Report.id) == report_id)
    )
    return await _recipient(session, person) if person else None


async def record_card(
    session: AsyncSession,
    *,
    report_id: int,
    person_id: int,
    conversation_id: str,
    activity_id: str,
    now: datetime,
) -> None:
    session.add(
        ReportCard(
            report_id=report_id,
            person_id=person_id,
            conversation_id=conversation_id,
            activity_id=activity_id,
            sent_at=now,
        )
    )


async def cards_of(session: AsyncSession, *, report_id: int) -> list[CardCopy]:
    rows = await session.execute(
        select(ReportCard, ConversationRef)
        .join(
            ConversationRef,
            col(ConversationRef.conversation_id) == col(ReportCard.conversation_id),
        )
        .where(col(ReportCard.report_id) == report_id)
        .order_by(col(ReportCard.id))
    )
    return [
        CardCopy(card.person_id, card.activity_id, address_of_ref(ref), card.id or 0)
        for card, ref in rows.all()
    ]


async def card_copy(session: AsyncSession, *, card_id: int) -> CardCopy | None:
    row = (
        await session.execute(
            select(ReportCard, ConversationRef)
            .join(
                ConversationRef,
                col(ConversationRef.conversation_id) == col(ReportCard.conversation_id),
            )
            .where(col(ReportCard.id) == card_id)
        )
    ).first()
    if row is None:
        return None
    card, ref = row
    return CardCopy(card.person_id, card.activity_id, address_of_ref(ref), card.id or 0)


# ---- what the outbox sends for a report (storage.outbox) -------------------------------------

NEW_REPORT, CARD_UPDATE, OUTCOME = "new_report", "card_update", "outcome"


async def enqueue_report_notices(session: AsyncSession, *, report_id: int, now: datetime) -> int:
    """The handling card for every leader who must be told of a new report (and the advisers
    where due), in the report's own transaction; how many."""
    queued = 0
    for recipient in await recipients_of_new_report(session, report_id=report_id):
        queued += await outbox.enqueue(
            session,
            person_id=recipient.person_id,
            kind=NEW_REPORT,
            payload={"report_id": report_id},
            dedupe_key=f"{NEW_REPORT}:{report_id}:{recipient.person_id}",
            now=now,
        )
    return queued


async def enqueue_card_updates(
    session: AsyncSession, *, report_id: int, version: int, now: datetime, again: str = ""
) -> None:
    """Every copy of the report's card, to be redrawn as it stands at `version`; `again`
    (a moment) asks once more for copies redrawn at that version before."""
    for copy in await cards_of(session, report_id=report_id):
        await outbox.enqueue(
            session,
            person_id=copy.person_id,
            kind=CARD_UPDATE,
            payload={"report_id": report_id, "card_id": copy.card_id},
            dedupe_key=f"{CARD_UPDATE}:{copy.card_id}:{version}{again}",
            now=now,
        )


async def enqueue_outcome(session: AsyncSession, *, report_id: int, now: datetime) -> bool:
    """The closing note to the reporter; False when there is no reporter to tell (imported,
    forgotten) or the bot cannot write to them yet (then it waits until it can)."""
    reporter = await reporter_of(session, report_id=report_id)
    if reporter is None:
        return False
    await outbox.enqueue(
        session,
        person_id=reporter.person_id,
        kind=OUTCOME,
        payload={"report_id": report_id},
        dedupe_key=f"{OUTCOME}:{report_id}",
        now=now,
    )
    return reporter.address is not None


async def closing_note(session: AsyncSession, *, report_id: int) -> str:
    """What the leader wrote when closing the report."""
    detail = await session.scalar(
        select(col(ReportEvent.detail))
        .where(col(ReportEvent.report_id) == report_id, col(ReportEvent.kind) == "closed")
        .order_by(col(ReportEvent.id).desc())
        .limit(1)
    )
    note = json.loads(detail).get("note") if detail else None
    return note if isinstance(note, str) else ""


async def open_reports(session: AsyncSession, *, actor: Actor, limit: int = 25) -> list[OpenLine]:
    """Reports not yet closed that the actor follows, oldest first: the longest waiting on top.
    Imported history is left out: its handling stayed in the system it came from, and years
    of it would bury what waits today (docs/history.md)."""
    query = (
        select_columns(
            col(Report.id),
            col(Report.case_number),
            col(Report.reported_at),
            col(Unit.name),
            col(Report.category),
            col(Report.severity),
            col(Report.status),
        )
        .outerjoin(Unit, col(Unit.id) == col(Report.unit_id))
        .where(col(Report.status) != Status.CLOSED.value, col(Report.source) != "import")
        .order_by(col(Report.reported_at), col(Report.id))
        .limit(limit)
    )
    if not actor.is_adviser:
        units = actor.led_units | (actor.area_units if actor.watches_area else frozenset())
        query = query.where(col(Report.unit_id).in_(sorted(units)))
    rows = await session.execute(query)
    return [
        OpenLine(
            r.id, r.case_number, r.reported_at, r.name, r.category, r.severity, Status(r.status)
        )
        for r in rows
    ]


async def department_of_unit(session: AsyncSession, *, unit_id: int) -> str | None:
    name: str | None = await session.scalar(
        select(col(Department.name))
        .join(Unit, col(Unit.department_id) == col(Department.id))
        .where(col(Unit.id) == unit_id)
    )
    return name


async def reports_by(session: AsyncSession, *, person_id: int) -> int:
    """How many reports the person has made in Teams (history imported from elsewhere aside)."""
    found = await session.scalar(
        select(func.count()).where(
            col(Report.reporter_id) == person_id, col(Report.source) != "import"
        )
    )
    return int(found or 0)
