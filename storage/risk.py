"""The shared risk-assessment frame in the database (domain.risk, docs/risk.md): versions of
a frame, each unit's assessment of the current one (a signed assessment changed later is a new
revision, the signed one kept as it was), the answers, and reports tied to a factor."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import delete, func, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from domain.risk import LOCAL_PREFIX, Answer, Decision, Factor, changed_keys
from storage.models import (
    Department,
    Person,
    ReportRiskFactor,
    RiskAnswer,
    RiskAssessment,
    RiskFactorRow,
    RiskFrame,
    Unit,
)


class NoUnits(Exception):
    """A first version of a frame must say which units it is for."""


@dataclass(frozen=True)
class FrameInfo:
    id: int
    title: str
    version: int
    published_at: datetime


@dataclass(frozen=True)
class AssessmentView:
    id: int
    frame: FrameInfo
    unit_id: int
    unit: str
    department: str
    revision: int
    verneombod: str | None
    signed_at: datetime | None
    signed_by: str | None
    factors: tuple[Factor, ...]
    answers: dict[str, Answer]
    changed: frozenset[str]  # new or changed since the previous version (all, in version 1)
    current: bool  # the latest revision (the one to edit)
    linked: dict[str, int] = field(default_factory=dict)  # factor → reports tied to it

    @property
    def status(self) -> str:
        if self.signed_at is not None:
            return "signed"
        return "in_progress" if self.answers else "not_started"

    @property
    def answered(self) -> int:
        return sum(1 for f in self.factors if f.key in self.answers)

    @property
    def local(self) -> list[Answer]:
        return [a for a in self.answers.values() if a.decision is Decision.LOCAL]

    def factor(self, key: str) -> Factor | None:
        return next((f for f in self.factors if f.key == key), None)


def _info(row: RiskFrame) -> FrameInfo:
    assert row.id is not None
    return FrameInfo(row.id, row.title, row.version, row.published_at)


async def _factors(session: AsyncSession, frame_id: int) -> tuple[Factor, ...]:
    rows = await session.scalars(
        select(RiskFactorRow)
        .where(col(RiskFactorRow.frame_id) == frame_id)
        .order_by(col(RiskFactorRow.position))
    )
    return tuple(
        Factor(r.key, r.situation, r.probability, r.consequence, r.existing, r.suggested)
        for r in rows
    )


async def _answers(session: AsyncSession, assessment_id: int) -> dict[str, Answer]:
    rows = await session.scalars(
        select(RiskAnswer)
        .where(col(RiskAnswer.assessment_id) == assessment_id)
        .order_by(col(RiskAnswer.answered_at), col(RiskAnswer.key))
    )
    return {
        r.key: Answer(
            r.key,
            Decision(r.decision),
            r.probability,
            r.consequence,
            r.measures,
            r.reason,
            r.situation,
            r.carried,
        )
        for r in rows
    }


async def _previous(session: AsyncSession, frame: RiskFrame) -> RiskFrame | None:
    return (
        await session.scalars(
            select(RiskFrame).where(
                col(RiskFrame.title) == frame.title, col(RiskFrame.version) == frame.version - 1
            )
        )
    ).first()


async def latest_frame(session: AsyncSession, title: str) -> RiskFrame | None:
    return (
        await session.scalars(
            select(RiskFrame)
            .where(col(RiskFrame.title) == title)
            .order_by(col(RiskFrame.version).desc())
            .limit(1)
        )
    ).first()


async def frame_factors(session: AsyncSession, frame_id: int) -> tuple[Factor, ...]:
    return await _factors(session, frame_id)


async def _current_revisions(session: AsyncSession, frame_id: int) -> list[RiskAssessment]:
    """Each unit's latest revision on one frame version."""
    latest = (
        select(col(RiskAssessment.unit_id), func.max(RiskAssessment.revision).label("revision"))
        .where(col(RiskAssessment.frame_id) == frame_id)
        .group_by(col(RiskAssessment.unit_id))
        .subquery()
    )
    rows = await session.scalars(
        select(RiskAssessment)
        .join(
            latest,
            (latest.c.unit_id == col(RiskAssessment.unit_id))
            & (latest.c.revision == col(RiskAssessment.revision)),
        )
        .where(col(RiskAssessment.frame_id) == frame_id)
    )
    return list(rows)


@dataclass(frozen=True)
class Published:
    frame: FrameInfo
    units: int
    to_review: dict[int, int]  # unit → factors it is asked about (all, or the changed ones)
    carried: dict[int, int]  # unit → answers taken over from the previous version
    changed: int = 0  # factors new or changed since the version before (all, for version 1)


async def publish(
    session: AsyncSession,
    *,
    title: str,
    factors: tuple[Factor, ...],
    unit_ids: list[int] | None,
    now: datetime,
) -> Published:
    """A frame's next version (the first when the title is new), to `unit_ids` or, for a new
    version, to the units of the version before. A unit that assessed the version before keeps
    its answers to the factors that did not change, and its local factors; it is asked only
    about the rest."""
    before = await latest_frame(session, title)
    previous_factors = await _factors(session, before.id) if before and before.id else ()
    previous = (
        {a.unit_id: a for a in await _current_revisions(session, before.id)}
        if before and before.id
        else {}
    )
    if unit_ids is None:
        if not previous:
            raise NoUnits(title)
        unit_ids = sorted(previous)
    frame = RiskFrame(title=title, version=(before.version + 1) if before else 1, published_at=now)
    session.add(frame)
    await session.flush()
    assert frame.id is not None
    session.add_all(
        RiskFactorRow(
            frame_id=frame.id,
            key=f.key,
            position=n,
            situation=f.situation,
            probability=f.probability,
            consequence=f.consequence,
            existing=f.existing,
            suggested=f.suggested,
        )
        for n, f in enumerate(factors)
    )
    changed = changed_keys(previous_factors, factors)
    keys = {f.key for f in factors}
    to_review: dict[int, int] = {}
    carried: dict[int, int] = {}
    for unit_id in unit_ids:
        assessment = RiskAssessment(frame_id=frame.id, unit_id=unit_id, updated_at=now)
        session.add(assessment)
        await session.flush()
        assert assessment.id is not None
        kept = []
        earlier = previous[unit_id].id if unit_id in previous else None
        if earlier is not None:
            for answer in (await _answers(session, earlier)).values():
                local = answer.decision is Decision.LOCAL
                if local or (answer.key in keys and answer.key not in changed):
                    kept.append(answer)
        session.add_all(
            RiskAnswer(
                assessment_id=assessment.id,
                key=a.key,
                decision=a.decision.value,
                probability=a.probability,
                consequence=a.consequence,
                measures=a.measures,
                reason=a.reason,
                situation=a.situation,
                carried=True,
                answered_at=now,
            )
            for a in kept
        )
        to_review[unit_id] = sum(1 for f in factors if f.key not in {a.key for a in kept})
        carried[unit_id] = len(kept)
    return Published(_info(frame), len(unit_ids), to_review, carried, len(changed))


async def load(session: AsyncSession, assessment_id: int) -> AssessmentView | None:
    row = await session.get(RiskAssessment, assessment_id)
    if row is None or row.id is None:
        return None
    frame = await session.get(RiskFrame, row.frame_id)
    unit = await session.get(Unit, row.unit_id)
    if frame is None or unit is None:
        return None
    department = await session.get(Department, unit.department_id)
    factors = await _factors(session, row.frame_id)
    before = await _previous(session, frame)
    changed = (
        changed_keys(await _factors(session, before.id), factors)
        if before is not None and before.id is not None
        else frozenset(f.key for f in factors)
    )
    signer = await session.get(Person, row.signed_by_id) if row.signed_by_id else None
    newest = await session.scalar(
        select(func.max(RiskAssessment.revision)).where(
            col(RiskAssessment.frame_id) == row.frame_id,
            col(RiskAssessment.unit_id) == row.unit_id,
        )
    )
    latest = await latest_frame(session, frame.title)
    links = await frame_links(session, frame.title)
    linked = {key: n for (unit_id, key), n in links.items() if unit_id == row.unit_id}
    return AssessmentView(
        row.id,
        _info(frame),
        row.unit_id,
        unit.name,
        department.name if department else "",
        row.revision,
        row.verneombod,
        row.signed_at,
        signer.name if signer else None,
        factors,
        await _answers(session, row.id),
        changed,
        current=newest == row.revision and latest is not None and latest.id == frame.id,
        linked=linked,
    )


async def current_frames(session: AsyncSession) -> list[FrameInfo]:
    """The latest version of every frame, newest first."""
    newest = (
        select(col(RiskFrame.title), func.max(RiskFrame.version).label("version"))
        .group_by(col(RiskFrame.title))
        .subquery()
    )
    rows = await session.scalars(
        select(RiskFrame)
        .join(
            newest,
            (newest.c.title == col(RiskFrame.title)) & (newest.c.version == col(RiskFrame.version)),
        )
        .order_by(col(RiskFrame.published_at).desc(), col(RiskFrame.id).desc())
    )
    return [_info(r) for r in rows]


async def assessments_of_frame(
    session: AsyncSession, frame_id: int, *, unit_ids: list[int] | None = None
) -> list[AssessmentView]:
    """Every unit's (or these units') current revision on a frame version, by department and
    unit. Only those asked for are loaded: a leader's card does not read every unit's."""
    views = [
        view
        for row in await _current_revisions(session, frame_id)
        if row.id is not None
        and (unit_ids is None or row.unit_id in unit_ids)
        and (view := await load(session, row.id)) is not None
    ]
    return sorted(views, key=lambda v: (v.department, v.unit))


async def current_for_units(session: AsyncSession, unit_ids: list[int]) -> list[AssessmentView]:
    """The current assessments of these units, on every frame's latest version."""
    found = []
    for frame in await current_frames(session):
        found += await assessments_of_frame(session, frame.id, unit_ids=unit_ids)
    return found


async def _hold(session: AsyncSession, assessment_id: int) -> RiskAssessment | None:
    """Hold the assessment row for the rest of this transaction: a second leader of the unit
    changing it at the same moment waits here. An UPDATE that changes nothing, because it
    locks on both databases: PostgreSQL locks the row, and SQLite (whose reads before a write
    take no lock) the database."""
    await session.execute(
        update(RiskAssessment)
        .where(col(RiskAssessment.id) == assessment_id)
        .values(updated_at=col(RiskAssessment.updated_at))
    )
    return (
        await session.scalars(
            select(RiskAssessment)
            .where(col(RiskAssessment.id) == assessment_id)
            .execution_options(populate_existing=True)
        )
    ).first()


async def _open_for_change(session: AsyncSession, assessment_id: int) -> bool:
    """Held, and still open to change: not signed in the meantime."""
    row = await _hold(session, assessment_id)
    return row is not None and row.signed_at is None


async def save_answer(
    session: AsyncSession, *, assessment_id: int, answer: Answer, by: int | None, now: datetime
) -> bool:
    """The unit's answer to a factor; False (nothing saved) once the assessment is signed."""
    if not await _open_for_change(session, assessment_id):
        return False
    await _put(session, assessment_id, answer, by, now)
    return True


async def add_local(
    session: AsyncSession, *, assessment_id: int, answer: Answer, by: int | None, now: datetime
) -> str | None:
    """A factor of the unit's own under the next free local key (two leaders adding at once
    get one each); None once the assessment is signed."""
    if not await _open_for_change(session, assessment_id):
        return None
    keys = await session.scalars(
        select(col(RiskAnswer.key)).where(col(RiskAnswer.assessment_id) == assessment_id)
    )
    numbers = [
        int(k.removeprefix(LOCAL_PREFIX))
        for k in keys
        if k.startswith(LOCAL_PREFIX) and k.removeprefix(LOCAL_PREFIX).isdigit()
    ]
    key = f"{LOCAL_PREFIX}{max(numbers, default=0) + 1}"
    await _put(session, assessment_id, replace(answer, key=key), by, now)
    return key


async def remove_local(session: AsyncSession, *, assessment_id: int, key: str) -> bool:
    """A local factor taken away again; False (nothing changed) once the assessment is signed."""
    if not await _open_for_change(session, assessment_id):
        return False
    await session.execute(
        delete(RiskAnswer).where(
            col(RiskAnswer.assessment_id) == assessment_id,
            col(RiskAnswer.key) == key,
            col(RiskAnswer.decision) == Decision.LOCAL.value,
        )
    )
    return True


async def _put(
    session: AsyncSession, assessment_id: int, answer: Answer, by: int | None, now: datetime
) -> None:
    row = await session.get(RiskAnswer, (assessment_id, answer.key))
    if row is None:
        row = RiskAnswer(assessment_id=assessment_id, key=answer.key, decision="", answered_at=now)
        session.add(row)
    row.decision = answer.decision.value
    row.probability, row.consequence = answer.probability, answer.consequence
    row.measures, row.reason, row.situation = answer.measures, answer.reason, answer.situation
    row.carried, row.answered_by_id, row.answered_at = False, by, now
    await session.execute(
        update(RiskAssessment).where(col(RiskAssessment.id) == assessment_id).values(updated_at=now)
    )


async def sign(
    session: AsyncSession, *, assessment_id: int, verneombod: str, by: int | None, now: datetime
) -> bool:
    """Signed off; False when it was signed already (two presses, or two leaders)."""
    result = await session.execute(
        update(RiskAssessment)
        .where(col(RiskAssessment.id) == assessment_id, col(RiskAssessment.signed_at).is_(None))
        .values(signed_at=now, signed_by_id=by, verneombod=verneombod, updated_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def new_revision(session: AsyncSession, *, view: AssessmentView, now: datetime) -> int:
    """A signed assessment opened again: the next revision with its answers, unsigned; or the
    revision already opened, when another press got there first."""
    await _hold(session, view.id)  # two leaders at once: the second waits, then finds it
    existing = (
        await session.scalars(
            select(RiskAssessment).where(
                col(RiskAssessment.frame_id) == view.frame.id,
                col(RiskAssessment.unit_id) == view.unit_id,
                col(RiskAssessment.revision) == view.revision + 1,
            )
        )
    ).first()
    if existing is not None and existing.id is not None:
        return existing.id
    row = RiskAssessment(
        frame_id=view.frame.id, unit_id=view.unit_id, revision=view.revision + 1, updated_at=now
    )
    session.add(row)
    await session.flush()
    assert row.id is not None
    copies = await session.scalars(
        select(RiskAnswer).where(col(RiskAnswer.assessment_id) == view.id)
    )
    # The unit's own answers still: who gave them and when kept, none «from a version before».
    session.add_all(
        RiskAnswer(**{**a.model_dump(), "assessment_id": row.id, "carried": False})
        for a in list(copies)
    )
    return row.id


async def link_report(
    session: AsyncSession,
    *,
    report_id: int,
    assessment_id: int,
    key: str,
    by: int | None,
    now: datetime,
) -> None:
    """Tie a report to a factor (again, to another one, if the leader changes their mind)."""
    row = await session.get(ReportRiskFactor, report_id)
    if row is None:
        session.add(
            ReportRiskFactor(
                report_id=report_id,
                assessment_id=assessment_id,
                key=key,
                linked_by_id=by,
                linked_at=now,
            )
        )
        return
    row.assessment_id, row.key, row.linked_by_id, row.linked_at = assessment_id, key, by, now


async def linked_factor(session: AsyncSession, report_id: int) -> tuple[str, str] | None:
    """The frame (by title) and factor a report is tied to, if it is."""
    row = (
        await session.execute(
            select(col(RiskFrame.title), col(ReportRiskFactor.key))
            .join(RiskAssessment, col(RiskAssessment.id) == col(ReportRiskFactor.assessment_id))
            .join(RiskFrame, col(RiskFrame.id) == col(RiskAssessment.frame_id))
            .where(col(ReportRiskFactor.report_id) == report_id)
        )
    ).first()
    return (str(row[0]), str(row[1])) if row else None


async def frame_links(session: AsyncSession, title: str) -> Counter[tuple[int, str]]:
    """Reports tied to each (unit, factor) of a frame, over all its versions and revisions: a
    new version does not lose what happened. A local factor's key is the unit's own."""
    rows = await session.execute(
        select(col(RiskAssessment.unit_id), col(ReportRiskFactor.key))
        .join(RiskAssessment, col(RiskAssessment.id) == col(ReportRiskFactor.assessment_id))
        .join(RiskFrame, col(RiskFrame.id) == col(RiskAssessment.frame_id))
        .where(col(RiskFrame.title) == title)
    )
    return Counter((int(unit_id), str(key)) for unit_id, key in rows)


async def latest_signed(
    session: AsyncSession, *, unit_id: int, title: str
) -> AssessmentView | None:
    """The unit's last signed assessment of a frame (of any version): what its binder holds."""
    found = await session.scalar(
        select(col(RiskAssessment.id))
        .join(RiskFrame, col(RiskFrame.id) == col(RiskAssessment.frame_id))
        .where(
            col(RiskFrame.title) == title,
            col(RiskAssessment.unit_id) == unit_id,
            col(RiskAssessment.signed_at).is_not(None),
        )
        .order_by(col(RiskFrame.version).desc(), col(RiskAssessment.revision).desc())
        .limit(1)
    )
    return await load(session, found) if found is not None else None


@dataclass(frozen=True)
class UnitRow:
    id: int
    code: str | None
    name: str
    department: str


async def all_units(session: AsyncSession) -> list[UnitRow]:
    """Every unit with its department, for choosing the units a frame goes to."""
    rows = await session.execute(
        select(Unit.id, Unit.code, Unit.name, Department.name)
        .join(Department, col(Department.id) == col(Unit.department_id))
        .order_by(col(Department.name), col(Unit.name))
    )
    return [UnitRow(int(i), code, name, department) for i, code, name, department in rows]
