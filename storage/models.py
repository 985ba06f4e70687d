"""The tables. Timestamps are aware UTC; people read them in Europe/Oslo at the edge."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UtcDateTime, utcnow


def _timestamp(*, nullable: bool = False) -> Column[datetime]:
    return Column(UtcDateTime(), nullable=nullable)


class Department(SQLModel, table=True):
    """A kommunalavdeling, e.g. Helse og omsorg."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=200)


class Unit(SQLModel, table=True):
    """An eining inside a department; the headcount feeds the under-reporting finder."""

    __table_args__ = (UniqueConstraint("department_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    # The municipality's own id for the unit (from its HR or org chart): what the
    # organisation import matches on, so a renamed unit keeps its reports.
    code: str | None = Field(default=None, unique=True, max_length=64)
    department_id: int = Field(foreign_key="department.id", index=True)
    name: str = Field(max_length=200)
    headcount: int | None = None


class Person(SQLModel, table=True):
    """Someone the bot knows, identified by their Teams (Entra ID) object id, never by name."""

    id: int | None = Field(default=None, primary_key=True)
    aad_object_id: str = Field(unique=True, max_length=200)
    name: str = Field(default="", max_length=300)
    upn: str | None = Field(default=None, max_length=300)
    unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    language: str | None = Field(default=None, max_length=8)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_timestamp())


class PersonRole(SQLModel, table=True):
    """tilsett, leiar, hms-rådgjevar, verneombod or admin; a person may hold several."""

    __tablename__ = "person_role"

    person_id: int = Field(foreign_key="person.id", primary_key=True)
    role: str = Field(primary_key=True, max_length=40)


class UnitLeader(SQLModel, table=True):
    __tablename__ = "unit_leader"

    unit_id: int = Field(foreign_key="unit.id", primary_key=True)
    person_id: int = Field(foreign_key="person.id", primary_key=True)
    deputy: bool = False


class CodeListColumns(SQLModel):
    """A municipality's list of codes with labels in nn/nb/en, an order and «active»: the
    categories and the causes (domain.categories, domain.causes) share these columns."""

    code: str = Field(primary_key=True, max_length=40)
    label_nn: str = Field(max_length=100)
    label_nb: str | None = Field(default=None, max_length=100)
    label_en: str | None = Field(default=None, max_length=100)
    sort_order: int = 0
    active: bool = True


class CategoryRow(CodeListColumns, table=True):
    """One of the municipality's avvik categories (domain.categories): reports store the code;
    a retired one (active false) is hidden from new reports and kept for history."""

    __tablename__ = "category"


class CauseRow(CodeListColumns, table=True):
    """One of the causes a leader chooses from (domain.causes)."""

    __tablename__ = "cause"


class CaseCounter(SQLModel, table=True):
    """The last case number handed out per year; bumped inside the report's own transaction."""

    __tablename__ = "case_counter"

    year: int = Field(primary_key=True)
    last: int = 0


class Report(SQLModel, table=True):
    # What a raw count over the reports reads (the check of `report_count`, and
    # bench/stats.py's baseline): one pass, in order, with no table lookups.
    __table_args__ = (
        Index("ix_report_stats", "reported_month", "unit_id", "severity", "category"),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_number: str = Field(unique=True, max_length=20)
    # Set when the report is drafted; a second submit of the same draft finds the first report.
    submission_key: str = Field(unique=True, max_length=64)
    reporter_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    # What the reporter typed when the unit is not (yet) known to the organisation.
    unit_text: str | None = Field(default=None, max_length=200)
    location: str = Field(max_length=200)
    occurred_at: datetime = Field(sa_column=_timestamp())
    occurred_time_known: bool = True
    reported_at: datetime = Field(default_factory=utcnow, sa_column=_timestamp())
    # The Europe/Oslo month of reported_at as yyyymm (202509): what statistics count by,
    # fixed when the report is stored (domain.oslo_time.month_of).
    reported_month: int
    # Where the report came from: "teams", or "import" for history from an earlier system.
    source: str = Field(default="teams", max_length=20)
    description: str = Field(sa_column=Column(Text, nullable=False))
    harm: str = Field(max_length=20)
    category: str = Field(max_length=40, index=True)
    severity: str = Field(max_length=10, index=True)
    immediate_action: str | None = Field(default=None, sa_column=Column(Text))
    suggested_measure: str | None = Field(default=None, sa_column=Column(Text))
    status: str = Field(default="new", max_length=20, index=True)
    # The reporter asked not to be named to the leader; the HMS adviser still sees who it was.
    anonymous: bool = False
    language: str = Field(default="nn", max_length=8)
    version: int = 1
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_timestamp())
    # The leader put its reminders off until this day (domain.reminders).
    snoozed_until: date | None = None
    # The reporter's own severity and category, kept when the leader first changes either
    # (None: never changed): the reporter's choice is a first guess, the judgement is recorded.
    reported_severity: str | None = Field(default=None, max_length=10)
    reported_category: str | None = Field(default=None, max_length=40)
    # Why it happened, as the leader judged it (domain.causes); required before closing.
    cause: str | None = Field(default=None, max_length=40)
    cause_text: str | None = Field(default=None, sa_column=Column(Text))
    # The leader's first move on it, and its closing: what the handling times count from.
    acknowledged_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    closed_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))


class ReportCount(SQLModel, table=True):
    """How many reports there are per (month, unit, severity, category), kept by database
    triggers on `report` (migration 0005) in the same transaction as every insert, update
    and delete: statistics read these few thousand rows instead of every report."""

    __tablename__ = "report_count"

    reported_month: int = Field(primary_key=True)
    # 0 for reports without a known unit: a key column cannot be NULL.
    unit_id: int = Field(primary_key=True)
    severity: str = Field(primary_key=True, max_length=10)
    category: str = Field(primary_key=True, max_length=40)
    n: int = 0


class ReportEvent(SQLModel, table=True):
    """Append-only history of a report: the audit trail."""

    __tablename__ = "report_event"

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id", index=True)
    actor_id: int | None = Field(default=None, foreign_key="person.id")
    kind: str = Field(max_length=40)
    detail: str | None = Field(default=None, sa_column=Column(Text))
    at: datetime = Field(default_factory=utcnow, sa_column=_timestamp())


class Measure(SQLModel, table=True):
    """A tiltak: what will be done, who answers for it, by when."""

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id", index=True)
    description: str = Field(sa_column=Column(Text, nullable=False))
    owner: str = Field(max_length=200)
    due: date
    created_by_id: int | None = Field(default=None, foreign_key="person.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_timestamp())
    done_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))


class ReportDuty(SQLModel, table=True):
    """The leader's answer to one legal duty of a report (domain.duties); the history of
    answers is in report_event."""

    __tablename__ = "report_duty"

    report_id: int = Field(foreign_key="report.id", primary_key=True)
    duty: str = Field(primary_key=True, max_length=40)
    answer: str = Field(max_length=20)  # done, not_relevant, later
    later_until: date | None = None
    answered_by_id: int | None = Field(default=None, foreign_key="person.id")
    answered_at: datetime = Field(sa_column=_timestamp())


class ReportCard(SQLModel, table=True):
    """A handling card sent to a leader or adviser: kept so that every copy can be updated in
    place when anyone moves the report on."""

    __tablename__ = "report_card"

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id", index=True)
    person_id: int = Field(foreign_key="person.id")
    conversation_id: str = Field(max_length=512)
    activity_id: str = Field(max_length=200)
    sent_at: datetime = Field(default_factory=utcnow, sa_column=_timestamp())


class BotState(SQLModel, table=True):
    """botbuilder's dialog, user and conversation state, one JSON document per key."""

    __tablename__ = "bot_state"

    key: str = Field(primary_key=True, max_length=1024)
    document: str = Field(sa_column=Column(Text, nullable=False))
    e_tag: str = Field(max_length=64)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_timestamp())


class ConversationRef(SQLModel, table=True):
    """What a proactive message needs to reach a conversation; refreshed on every activity."""

    __tablename__ = "conversation_ref"

    conversation_id: str = Field(primary_key=True, max_length=512)
    conversation_type: str = Field(default="personal", max_length=40)
    # Set for a personal chat: the person the conversation is with.
    person_aad_object_id: str | None = Field(default=None, max_length=200, index=True)
    channel_id: str = Field(max_length=40)
    service_url: str = Field(max_length=512)
    tenant_id: str | None = Field(default=None, max_length=100)
    bot_id: str = Field(max_length=200)
    # When the welcome was sent: Teams announces an install twice (installationUpdate and
    # conversationUpdate), and the welcome must come once.
    welcomed_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_timestamp())


class SickLeave(SQLModel, table=True):
    """Sick leave in percent for a quarter (SSB/KS figures): a unit's, or with no unit the
    municipal sector's, shown beside the avvik counts."""

    __tablename__ = "sick_leave"

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    year: int
    quarter: int
    percent: float


class Nudge(SQLModel, table=True):
    """A monthly under-reporting nudge claimed for one leader of one unit: claimed before it
    is sent, so that a restart or a second instance never sends it twice."""

    __table_args__ = (UniqueConstraint("unit_id", "person_id", "month"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id")
    person_id: int = Field(foreign_key="person.id")
    month: int  # yyyymm, Europe/Oslo
    sent_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))


class OutboxRow(SQLModel, table=True):
    """One proactive message to one person, written in the same transaction as the change that
    causes it (storage.outbox). What it says is drawn when it is sent, in the recipient's
    language then; `payload` holds the ids it is drawn from, never free text."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "not_before"),)

    id: int | None = Field(default=None, primary_key=True)
    # Enqueueing the same message twice (a retry, two schedulers) adds nothing.
    dedupe_key: str = Field(unique=True, max_length=200)
    person_id: int = Field(index=True)
    kind: str = Field(max_length=40)
    payload: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default="queued", max_length=20)
    not_before: datetime = Field(sa_column=_timestamp())
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=500)
    lease_owner: str | None = Field(default=None, max_length=100)
    lease_expires: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_timestamp())
    sent_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))


class OutboxSender(SQLModel, table=True):
    """A running sender and when it was last seen: the senders share Teams' rate per tenant."""

    __tablename__ = "outbox_sender"

    owner: str = Field(primary_key=True, max_length=100)
    seen_at: datetime = Field(sa_column=_timestamp())


class TipRow(SQLModel, table=True):
    """An HMS adviser's tip (domain.tips): its content, audience and schedule, kept as JSON."""

    __tablename__ = "tip"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=300)
    language: str = Field(default="nn", max_length=8)
    content: str = Field(sa_column=Column(Text, nullable=False))  # sections and links
    audience: str = Field(sa_column=Column(Text, nullable=False))
    schedule: str = Field(sa_column=Column(Text, nullable=False))
    # draft (not sent yet), active (scheduled, sending or a series), done, cancelled
    status: str = Field(default="draft", max_length=20, index=True)
    created_by_id: int | None = Field(default=None, foreign_key="person.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_timestamp())
    version: int = 1


class TipDelivery(SQLModel, table=True):
    """One sending of a tip (a series has one per occurrence): an outbox row per recipient."""

    __tablename__ = "tip_delivery"

    id: int | None = Field(default=None, primary_key=True)
    tip_id: int = Field(foreign_key="tip.id", index=True)
    planned_at: datetime = Field(sa_column=_timestamp())  # as scheduled
    due_at: datetime = Field(sa_column=_timestamp())  # moved into working hours
    # scheduled, sending (rows queued), cancelled
    status: str = Field(default="scheduled", max_length=20, index=True)
    recipients: int = 0
    started_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    # The adviser's report card, updated in place.
    report_conversation_id: str | None = Field(default=None, max_length=300)
    report_activity_id: str | None = Field(default=None, max_length=300)


class TipVote(SQLModel, table=True):
    """«Nyttig» or «Ikkje nyttig»: one vote per person and sending, changeable."""

    __tablename__ = "tip_vote"

    delivery_id: int = Field(foreign_key="tip_delivery.id", primary_key=True)
    person_id: int = Field(foreign_key="person.id", primary_key=True)
    useful: bool
    at: datetime = Field(default_factory=utcnow, sa_column=_timestamp())


class TrainingProgress(SQLModel, table=True):
    """How far a person has come in one training module (domain.training): the next card,
    and how many questions they answered and got right. Never which answer they gave."""

    __tablename__ = "training_progress"

    person_id: int = Field(foreign_key="person.id", primary_key=True)
    module: str = Field(primary_key=True, max_length=60)
    step: int = 0  # the card they are at
    answered: int = 0
    right: int = 0
    started_at: datetime = Field(sa_column=_timestamp())
    updated_at: datetime = Field(sa_column=_timestamp())
    completed_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))


class RiskFrame(SQLModel, table=True):
    """One version of a shared risk-assessment frame (domain.risk): the adviser's factors,
    published to a set of units. A new version of the same title is a new row."""

    __tablename__ = "risk_frame"
    __table_args__ = (UniqueConstraint("title", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    version: int = 1
    published_at: datetime = Field(sa_column=_timestamp())


class RiskFactorRow(SQLModel, table=True):
    """A factor of one frame version, in the frame's order."""

    __tablename__ = "risk_factor"

    frame_id: int = Field(foreign_key="risk_frame.id", primary_key=True)
    key: str = Field(primary_key=True, max_length=40)
    position: int = 0
    situation: str = Field(sa_column=Column(Text, nullable=False))
    probability: int
    consequence: int
    existing: str = Field(default="", sa_column=Column(Text, nullable=False))
    suggested: str = Field(default="", sa_column=Column(Text, nullable=False))


class RiskAssessment(SQLModel, table=True):
    """A unit's assessment on one frame version. Once signed it stays as signed; a change
    afterwards is a new revision (a new row with the answers copied)."""

    __tablename__ = "risk_assessment"
    __table_args__ = (UniqueConstraint("frame_id", "unit_id", "revision"),)

    id: int | None = Field(default=None, primary_key=True)
    frame_id: int = Field(foreign_key="risk_frame.id", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    revision: int = 1
    verneombod: str | None = Field(default=None, max_length=200)
    signed_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    signed_by_id: int | None = Field(default=None, foreign_key="person.id")
    updated_at: datetime = Field(sa_column=_timestamp())


class RiskAnswer(SQLModel, table=True):
    """A unit's answer to a factor, or a factor of its own (decision «local»)."""

    __tablename__ = "risk_answer"

    assessment_id: int = Field(foreign_key="risk_assessment.id", primary_key=True)
    key: str = Field(primary_key=True, max_length=40)
    decision: str = Field(max_length=20)  # domain.risk.Decision
    probability: int | None = None
    consequence: int | None = None
    measures: str = Field(default="", sa_column=Column(Text, nullable=False))
    reason: str = Field(default="", sa_column=Column(Text, nullable=False))
    situation: str = Field(default="", sa_column=Column(Text, nullable=False))  # local only
    carried: bool = False  # taken over unchanged from the previous version
    answered_by_id: int | None = Field(default=None, foreign_key="person.id")
    answered_at: datetime = Field(sa_column=_timestamp())


class ReportRiskFactor(SQLModel, table=True):
    """A «vald og truslar» report tied by its leader to a factor of the unit's assessment:
    «this happened; review the factor»."""

    __tablename__ = "report_risk_factor"

    report_id: int = Field(foreign_key="report.id", primary_key=True)
    assessment_id: int = Field(foreign_key="risk_assessment.id", index=True)
    key: str = Field(max_length=40)
    linked_by_id: int | None = Field(default=None, foreign_key="person.id")
    linked_at: datetime = Field(sa_column=_timestamp())
