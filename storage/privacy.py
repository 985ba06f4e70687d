"""Personal data over time: retention, a person's export (access) and erasure (forget).

- Retention: a report closed more than N years ago (`AVVIK_RETENTION_YEARS`, default 5; closed
  = its latest «closed» event) is anonymised: no link to its reporter or to anyone who handled
  it, every free text replaced by `ANONYMISED`, the handling cards' addresses deleted. Category,
  severity, harm, unit, dates and status stay, so the statistics stay true. An «anonymised»
  event marks it done; a second run finds nothing to do. `due_for_anonymising` decides what is
  due, from data and a clock; `run_retention` does it.
- Export (`export_person`): everything kept about one person, by their Entra object id, as
  plain JSON data. Other people appear only as «someone else», and their words not at all.
- Forget (`forget_person`): the person's row keeps no name, e-mail, language, unit, roles or
  Entra id; the reports they filed stay for the statistics but are unlinked and their free
  text is replaced; their actions elsewhere are unlinked; their full name is replaced wherever
  someone wrote it; their conversation references and those conversations' bot state go.

docs/PRIVACY.md describes what is kept where, and how to run these.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, or_, update
from sqlalchemy import select as select_columns
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from domain.vocabulary import Status
from storage.db import SessionFactory
from storage.models import (
    BotState,
    ConversationRef,
    Department,
    Measure,
    Nudge,
    Person,
    PersonRole,
    Report,
    ReportCard,
    ReportDuty,
    ReportEvent,
    ReportRiskFactor,
    RiskAnswer,
    RiskAssessment,
    TrainingProgress,
    Unit,
    UnitLeader,
)

# What replaces free text. The same word in Nynorsk and Bokmål.
ANONYMISED = "[anonymisert]"
CLOSED = "closed"
ANONYMISED_EVENT = "anonymised"  # by retention: the whole report
ERASED_EVENT = "reporter_erased"  # by forget: the reporter's part
# Event detail keys that hold codes, never free text; every other value is someone's words.
_CODE_KEYS = frozenset(
    {
        "from",
        "to",
        "severity",
        "category",
        "harm",
        "status",
        "via",
        "reason",
        "severity_from",
        "severity_to",
        "category_from",
        "category_to",
        "cause",
        "duties",
        "until",
    }
)
# A name this short is a word too («Bo», «Ola»): replaced in texts only when longer.
_NAME_MIN = 5


# ---- retention: what is due (pure) ------------------------------------------------------------


@dataclass(frozen=True)
class ClosedReport:
    report_id: int
    case_number: str
    closed_at: datetime


def years_before(moment: datetime, years: int) -> datetime:
    """The same moment `years` calendar years earlier (29 February becomes the 28th)."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:
        return moment.replace(year=moment.year - years, day=28)


def due_for_anonymising(
    closed: Iterable[ClosedReport], *, now: datetime, years: int
) -> list[ClosedReport]:
    """The reports closed more than `years` years before `now`, oldest first."""
    cutoff = years_before(now, years)
    return sorted((c for c in closed if c.closed_at < cutoff), key=lambda c: c.closed_at)


def scrub_detail(detail: str | None) -> str | None:
    """An event's detail with every free-text value replaced; codes stay."""
    if detail is None:
        return None
    try:
        parsed = json.loads(detail)
    except ValueError:
        return json.dumps({"text": ANONYMISED})
    if not isinstance(parsed, dict):
        return json.dumps({"text": ANONYMISED})
    return json.dumps(
        {
            key: value
            if key in _CODE_KEYS or not isinstance(value, str | list | dict)
            else ANONYMISED
            for key, value in parsed.items()
        },
        ensure_ascii=False,
    )


def coded_detail(detail: str | None) -> dict[str, Any]:
    """Only the codes of an event's detail: what an export shows of someone else's event."""
    try:
        parsed = json.loads(detail) if detail else {}
    except ValueError:
        return {}
    if not isinstance(parsed, dict):
        return {}
    return {key: value for key, value in parsed.items() if key in _CODE_KEYS}


def _json_or_text(detail: str | None) -> Any:
    try:
        return json.loads(detail) if detail else None
    except ValueError:
        return detail


# ---- retention: doing it --------------------------------------------------------------------


async def closed_reports_kept(session: AsyncSession) -> list[ClosedReport]:
    """Closed reports not yet anonymised, each with when it was (last) closed."""
    done = select(col(ReportEvent.report_id)).where(col(ReportEvent.kind) == ANONYMISED_EVENT)
    rows = await session.execute(
        select_columns(col(Report.id), col(Report.case_number), func.max(col(ReportEvent.at)))
        .join(ReportEvent, col(ReportEvent.report_id) == col(Report.id))
        .where(
            col(ReportEvent.kind) == CLOSED,
            col(Report.status) == Status.CLOSED.value,
            col(Report.id).not_in(done),
        )
        .group_by(col(Report.id), col(Report.case_number))
    )
    return [ClosedReport(int(r.id), r.case_number, r[2]) for r in rows]


def _replace_free_text(report: Report) -> None:
    report.description = ANONYMISED
    report.location = ANONYMISED
    if report.immediate_action:
        report.immediate_action = ANONYMISED
    if report.suggested_measure:
        report.suggested_measure = ANONYMISED
    if report.cause_text:
        report.cause_text = ANONYMISED


async def anonymise_report(session: AsyncSession, *, report_id: int, now: datetime) -> None:
    """Retention: nobody linked, no free text, no card addresses; the codes and dates stay."""
    report = await session.get(Report, report_id)
    if report is None:
        return
    report.reporter_id = None
    _replace_free_text(report)
    report.version += 1
    report.updated_at = now
    for event in await session.scalars(
        select(ReportEvent).where(col(ReportEvent.report_id) == report_id)
    ):
        event.actor_id = None
        event.detail = scrub_detail(event.detail)
    for measure in await session.scalars(
        select(Measure).where(col(Measure.report_id) == report_id)
    ):
        measure.description = ANONYMISED
        measure.owner = ANONYMISED
        measure.created_by_id = None
    await session.execute(delete(ReportCard).where(col(ReportCard.report_id) == report_id))
    await session.execute(
        update(ReportDuty).where(col(ReportDuty.report_id) == report_id).values(answered_by_id=None)
    )
    session.add(
        ReportEvent(
            report_id=report_id,
            kind=ANONYMISED_EVENT,
            detail=json.dumps({"reason": "retention"}),
            at=now,
        )
    )


async def run_retention(
    sessions: SessionFactory, *, now: datetime, years: int, dry_run: bool = False
) -> list[ClosedReport]:
    """Anonymise every report that is due (each in its own transaction); returns them."""
    async with sessions() as session:
        due = due_for_anonymising(await closed_reports_kept(session), now=now, years=years)
    if not dry_run:
        for report in due:
            async with sessions() as session, session.begin():
                await anonymise_report(session, report_id=report.report_id, now=now)
    return due


# ---- export: everything about one person ------------------------------------------------------


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _by(actor_id: int | None, person_id: int | None) -> str | None:
    if actor_id is None:
        return None
    return "you" if actor_id == person_id else "someone else"


async def _unit(session: AsyncSession, unit_id: int | None) -> dict[str, Any] | None:
    if unit_id is None:
        return None
    row = (
        await session.execute(
            select(Unit, Department.name)
            .join(Department, col(Department.id) == col(Unit.department_id))
            .where(col(Unit.id) == unit_id)
        )
    ).first()
    if row is None:
        return None
    unit, department = row
    return {"id": unit.id, "code": unit.code, "name": unit.name, "department": department}


async def _own_report(session: AsyncSession, report: Report, person_id: int) -> dict[str, Any]:
    events = await session.scalars(
        select(ReportEvent)
        .where(col(ReportEvent.report_id) == report.id)
        .order_by(col(ReportEvent.at), col(ReportEvent.id))
    )
    measures = await session.scalars(
        select(Measure).where(col(Measure.report_id) == report.id).order_by(col(Measure.id))
    )
    unit = await _unit(session, report.unit_id)
    return {
        "case_number": report.case_number,
        "reported_at": _iso(report.reported_at),
        "occurred_at": _iso(report.occurred_at),
        "occurred_time_known": report.occurred_time_known,
        "unit": unit["name"] if unit else None,
        "unit_text": report.unit_text,
        "location": report.location,
        "description": report.description,
        "harm": report.harm,
        "category": report.category,
        "severity": report.severity,
        "immediate_action": report.immediate_action,
        "suggested_measure": report.suggested_measure,
        "status": report.status,
        "anonymous": report.anonymous,
        "language": report.language,
        "updated_at": _iso(report.updated_at),
        # Who else did what, and when; their words are theirs, so only the codes are here.
        "history": [
            {
                "at": _iso(e.at),
                "kind": e.kind,
                "by": _by(e.actor_id, person_id),
                "detail": _json_or_text(e.detail)
                if e.actor_id == person_id
                else coded_detail(e.detail),
            }
            for e in events
        ],
        "measures": [
            {
                "created_at": _iso(m.created_at),
                "due": _iso(m.due),
                "done_at": _iso(m.done_at),
                "by": _by(m.created_by_id, person_id),
                **(
                    {"description": m.description, "owner": m.owner}
                    if m.created_by_id == person_id
                    else {}
                ),
            }
            for m in measures
        ],
    }


async def _case_numbers(session: AsyncSession, report_ids: set[int]) -> dict[int, str]:
    rows = await session.execute(
        select_columns(col(Report.id), col(Report.case_number)).where(
            col(Report.id).in_(sorted(report_ids))
        )
    )
    return {int(r.id): r.case_number for r in rows}


async def _as_handler(session: AsyncSession, person_id: int) -> dict[str, Any]:
    """What the person did with other people's reports: events, measures, cards received."""
    own = select(col(Report.id)).where(col(Report.reporter_id) == person_id)
    events = list(
        await session.scalars(
            select(ReportEvent)
            .where(col(ReportEvent.actor_id) == person_id, col(ReportEvent.report_id).not_in(own))
            .order_by(col(ReportEvent.at), col(ReportEvent.id))
        )
    )
    measures = list(
        await session.scalars(
            select(Measure)
            .where(col(Measure.created_by_id) == person_id, col(Measure.report_id).not_in(own))
            .order_by(col(Measure.id))
        )
    )
    cards = list(
        await session.scalars(
            select(ReportCard)
            .where(col(ReportCard.person_id) == person_id)
            .order_by(col(ReportCard.id))
        )
    )
    cases = await _case_numbers(
        session,
        {e.report_id for e in events}
        | {m.report_id for m in measures}
        | {c.report_id for c in cards},
    )
    return {
        "actions_on_other_reports": [
            {
                "case_number": cases[e.report_id],
                "at": _iso(e.at),
                "kind": e.kind,
                "detail": _json_or_text(e.detail),
            }
            for e in events
        ],
        "measures_written": [
            {
                "case_number": cases[m.report_id],
                "description": m.description,
                "owner": m.owner,
                "due": _iso(m.due),
                "done_at": _iso(m.done_at),
                "created_at": _iso(m.created_at),
            }
            for m in measures
        ],
        "handling_cards_received": [
            {
                "case_number": cases[c.report_id],
                "conversation_id": c.conversation_id,
                "activity_id": c.activity_id,
                "sent_at": _iso(c.sent_at),
            }
            for c in cards
        ],
    }


async def _conversations(session: AsyncSession, aad_object_id: str) -> list[ConversationRef]:
    return list(
        await session.scalars(
            select(ConversationRef)
            .where(col(ConversationRef.person_aad_object_id) == aad_object_id)
            .order_by(col(ConversationRef.conversation_id))
        )
    )


def _state_of(refs: Iterable[ConversationRef]) -> Any:
    """The bot state rows of these conversations (botbuilder's `channel/conversations/id`)."""
    keys = [f"{ref.channel_id}/conversations/{ref.conversation_id}" for ref in refs]
    return or_(
        col(BotState.key).in_(keys),
        *(col(BotState.key).startswith(f"{key}/", autoescape=True) for key in keys),
    )


async def export_person(
    session: AsyncSession, *, aad_object_id: str, now: datetime
) -> dict[str, Any] | None:
    """Everything kept about the person, as JSON-ready data; None when nothing is."""
    person = await session.scalar(select(Person).where(col(Person.aad_object_id) == aad_object_id))
    refs = await _conversations(session, aad_object_id)
    if person is None and not refs:
        return None
    states = (
        list(await session.scalars(select(BotState).where(_state_of(refs)).order_by(BotState.key)))
        if refs
        else []
    )
    export: dict[str, Any] = {
        "exported_at": _iso(now),
        "aad_object_id": aad_object_id,
        "person": None,
        "roles": [],
        "leads_units": [],
        "reports": [],
        "actions_on_other_reports": [],
        "measures_written": [],
        "handling_cards_received": [],
        "under_reporting_nudges": [],
        "training": [],
        "risk_assessment_work": [],
    }
    if person is not None:
        assert person.id is not None
        export["person"] = {
            "id": person.id,
            "name": person.name,
            "upn": person.upn,
            "language": person.language,
            "unit": await _unit(session, person.unit_id),
            "created_at": _iso(person.created_at),
        }
        export["roles"] = sorted(
            await session.scalars(
                select(col(PersonRole.role)).where(col(PersonRole.person_id) == person.id)
            )
        )
        export["leads_units"] = [
            {"unit": await _unit(session, link.unit_id), "deputy": link.deputy}
            for link in await session.scalars(
                select(UnitLeader)
                .where(col(UnitLeader.person_id) == person.id)
                .order_by(col(UnitLeader.unit_id))
            )
        ]
        reports = await session.scalars(
            select(Report)
            .where(col(Report.reporter_id) == person.id)
            .order_by(col(Report.reported_at), col(Report.id))
        )
        export["reports"] = [await _own_report(session, r, person.id) for r in reports.all()]
        export.update(await _as_handler(session, person.id))
        export["training"] = [
            {
                "module": row.module,
                "step": row.step,
                "answered": row.answered,
                "right": row.right,
                "started_at": _iso(row.started_at),
                "completed_at": _iso(row.completed_at),
            }
            for row in await session.scalars(
                select(TrainingProgress)
                .where(col(TrainingProgress.person_id) == person.id)
                .order_by(col(TrainingProgress.module))
            )
        ]
        export["risk_assessment_work"] = await _risk_work(session, person.id)
        export["under_reporting_nudges"] = [
            {
                "unit": await _unit(session, nudge.unit_id),
                "month": nudge.month,
                "sent_at": _iso(nudge.sent_at),
            }
            for nudge in await session.scalars(
                select(Nudge).where(col(Nudge.person_id) == person.id).order_by(col(Nudge.id))
            )
        ]
    export["conversations"] = [
        {
            "conversation_id": ref.conversation_id,
            "conversation_type": ref.conversation_type,
            "channel_id": ref.channel_id,
            "service_url": ref.service_url,
            "tenant_id": ref.tenant_id,
            "bot_id": ref.bot_id,
            "welcomed_at": _iso(ref.welcomed_at),
            "updated_at": _iso(ref.updated_at),
        }
        for ref in refs
    ]
    export["bot_state"] = [
        {"key": s.key, "updated_at": _iso(s.updated_at), "document": _json_or_text(s.document)}
        for s in states
    ]
    return export


async def _risk_work(session: AsyncSession, person_id: int) -> list[dict[str, Any]]:
    """What they did in units' risk assessments (docs/risk.md): answers given, sign-offs, and
    reports tied to a factor; the unit's record, listed because their name is on it."""
    found: list[dict[str, Any]] = []
    for answer in await session.scalars(
        select(RiskAnswer)
        .where(col(RiskAnswer.answered_by_id) == person_id)
        .order_by(col(RiskAnswer.answered_at))
    ):
        found.append(
            {
                "what": "answered",
                "assessment": answer.assessment_id,
                "factor": answer.key,
                "decision": answer.decision,
                "at": _iso(answer.answered_at),
            }
        )
    for assessment in await session.scalars(
        select(RiskAssessment).where(col(RiskAssessment.signed_by_id) == person_id)
    ):
        found.append(
            {
                "what": "signed",
                "assessment": assessment.id,
                "unit": await _unit(session, assessment.unit_id),
                "verneombod": assessment.verneombod,
                "at": _iso(assessment.signed_at),
            }
        )
    for link in await session.scalars(
        select(ReportRiskFactor).where(col(ReportRiskFactor.linked_by_id) == person_id)
    ):
        found.append(
            {
                "what": "tied_report",
                "report": link.report_id,
                "assessment": link.assessment_id,
                "factor": link.key,
                "at": _iso(link.linked_at),
            }
        )
    return found


# ---- forget: erase one person ---------------------------------------------------------------


@dataclass(frozen=True)
class Forgotten:
    found: bool  # anything at all was kept about the person
    reports: int  # reports they filed: unlinked, their words replaced
    actions: int  # events and measures of theirs on other reports: unlinked
    mentions: int  # texts where their full name was replaced
    conversations: int
    states: int


def _name_pattern(name: str) -> re.Pattern[str] | None:
    name = " ".join(name.split())
    if len(name) < _NAME_MIN:
        return None
    words = r"\s+".join(re.escape(w) for w in name.split(" "))
    return re.compile(rf"(?<!\w){words}(?!\w)", re.IGNORECASE)


def _without_name(pattern: re.Pattern[str], value: Any) -> Any:
    if isinstance(value, str):
        return pattern.sub(ANONYMISED, value)
    if isinstance(value, list):
        return [_without_name(pattern, v) for v in value]
    if isinstance(value, dict):
        return {k: _without_name(pattern, v) for k, v in value.items()}
    return value


async def _replace_name(session: AsyncSession, pattern: re.Pattern[str]) -> int:
    """Replace the name in every free text of every report, measure and event."""
    changed = 0
    texts = (
        "description",
        "location",
        "immediate_action",
        "suggested_measure",
        "unit_text",
        "cause_text",
    )
    for report in await session.scalars(select(Report)):
        hits = [f for f in texts if pattern.search(getattr(report, f) or "")]
        for field in hits:
            setattr(report, field, pattern.sub(ANONYMISED, getattr(report, field)))
        changed += len(hits)
    for measure in await session.scalars(select(Measure)):
        for field in ("description", "owner"):
            if pattern.search(getattr(measure, field)):
                setattr(measure, field, pattern.sub(ANONYMISED, getattr(measure, field)))
                changed += 1
    # A risk assessment names the verneombod who took part, and its words may name anyone.
    for assessment in await session.scalars(select(RiskAssessment)):
        if assessment.verneombod and pattern.search(assessment.verneombod):
            assessment.verneombod = pattern.sub(ANONYMISED, assessment.verneombod)
            changed += 1
    for answer in await session.scalars(select(RiskAnswer)):
        for field in ("measures", "reason", "situation"):
            if pattern.search(getattr(answer, field)):
                setattr(answer, field, pattern.sub(ANONYMISED, getattr(answer, field)))
                changed += 1
    for event in await session.scalars(
        select(ReportEvent).where(col(ReportEvent.detail).is_not(None))
    ):
        detail = _json_or_text(event.detail)
        cleaned = _without_name(pattern, detail)
        if cleaned != detail:
            event.detail = json.dumps(cleaned, ensure_ascii=False)
            changed += 1
    return changed


async def _forget_reports(session: AsyncSession, person_id: int, now: datetime) -> int:
    """The reports they filed stay for the statistics, unlinked and without their words, nor
    the words written about them (measures, notes). Who handled them stays: still the
    unit's HMS record."""
    reports = list(
        await session.scalars(select(Report).where(col(Report.reporter_id) == person_id))
    )
    for report in reports:
        assert report.id is not None
        report.reporter_id = None
        _replace_free_text(report)
        report.updated_at = now
        for event in await session.scalars(
            select(ReportEvent).where(col(ReportEvent.report_id) == report.id)
        ):
            event.detail = scrub_detail(event.detail)
        for measure in await session.scalars(
            select(Measure).where(col(Measure.report_id) == report.id)
        ):
            measure.description = ANONYMISED
            measure.owner = ANONYMISED
        session.add(
            ReportEvent(
                report_id=report.id,
                kind=ERASED_EVENT,
                detail=json.dumps({"reason": "erasure"}),
                at=now,
            )
        )
    return len(reports)


async def _unlink_actions(session: AsyncSession, person_id: int) -> int:
    events = list(
        await session.scalars(select(ReportEvent).where(col(ReportEvent.actor_id) == person_id))
    )
    for event in events:
        event.actor_id = None
    measures = list(
        await session.scalars(select(Measure).where(col(Measure.created_by_id) == person_id))
    )
    for measure in measures:
        measure.created_by_id = None
    await session.execute(delete(ReportCard).where(col(ReportCard.person_id) == person_id))
    # A leader's duty answers stay with the report, without the leader; training is theirs.
    await session.execute(
        update(ReportDuty)
        .where(col(ReportDuty.answered_by_id) == person_id)
        .values(answered_by_id=None)
    )
    await session.execute(
        delete(TrainingProgress).where(col(TrainingProgress.person_id) == person_id)
    )
    # A unit's risk assessment stays the unit's, without who answered or tied a report to it.
    for table, column in (
        (RiskAnswer, "answered_by_id"),
        (RiskAssessment, "signed_by_id"),
        (ReportRiskFactor, "linked_by_id"),
    ):
        await session.execute(
            update(table).where(getattr(table, column) == person_id).values({column: None})
        )
    return len(events) + len(measures)


async def _forget(session: AsyncSession, *, aad_object_id: str, now: datetime) -> Forgotten:
    person = await session.scalar(select(Person).where(col(Person.aad_object_id) == aad_object_id))
    refs = await _conversations(session, aad_object_id)
    states = 0
    if refs:
        states = len(list(await session.scalars(select(col(BotState.key)).where(_state_of(refs)))))
        await session.execute(delete(BotState).where(_state_of(refs)))
        await session.execute(
            delete(ConversationRef).where(
                col(ConversationRef.person_aad_object_id) == aad_object_id
            )
        )
    if person is None:
        return Forgotten(bool(refs), 0, 0, 0, len(refs), states)
    assert person.id is not None
    reports = await _forget_reports(session, person.id, now)
    actions = await _unlink_actions(session, person.id)
    pattern = _name_pattern(person.name)
    mentions = await _replace_name(session, pattern) if pattern else 0
    await session.execute(delete(PersonRole).where(col(PersonRole.person_id) == person.id))
    await session.execute(delete(UnitLeader).where(col(UnitLeader.person_id) == person.id))
    # The row stays, as nobody: nothing can lead back to them, and nothing that still points
    # at the row (a table added later) breaks.
    person.aad_object_id = f"forgotten:{uuid.uuid4().hex}"
    person.name = ""
    person.upn = None
    person.language = None
    person.unit_id = None
    return Forgotten(True, reports, actions, mentions, len(refs), states)


async def forget_person(
    sessions: SessionFactory, *, aad_object_id: str, now: datetime, dry_run: bool = False
) -> Forgotten:
    """Erase the person (all of it in one transaction); `dry_run` counts and changes nothing."""
    async with sessions() as session:
        transaction = await session.begin()
        try:
            forgotten = await _forget(session, aad_object_id=aad_object_id, now=now)
            await session.flush()
        except BaseException:
            await transaction.rollback()
            raise
        if dry_run:
            await transaction.rollback()
        else:
            await transaction.commit()
    return forgotten
