"""Loading sick-leave figures into the database, all or nothing (docs/under-reporting.md).

`parse_sick_leave_csv` (domain.readers.sick_leave) checks the file alone; `apply_sick_leave_plan`
checks its unit codes against the organisation and writes it, in the caller's transaction. A
figure for a (unit, year, quarter) that is already there is replaced, so importing the same
file again changes nothing, and a corrected file corrects exactly what it changes.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from domain.readers.records import RowProblem
from domain.readers.sick_leave import SickLeavePlan, SickLeaveRow
from storage.db import SessionFactory, one_transaction
from storage.models import SickLeave, Unit

_Key = tuple[int | None, int, int]  # unit id (None: the sector), year, quarter


class SickLeaveImportRefused(Exception):
    """The file names unit codes the organisation does not have; nothing was written."""

    def __init__(self, problems: Sequence[RowProblem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the sick-leave file")
        self.problems = tuple(problems)


@dataclass
class SickLeaveChanges:
    added: int = 0
    replaced: int = 0  # there was a different figure for that unit and quarter
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.replaced)


def _unknown_unit(row: SickLeaveRow, codes: dict[str, int]) -> RowProblem:
    message = f"no unit with code {row.unit_code!r}"
    folded = {code.casefold(): code for code in codes}
    near = folded.get((row.unit_code or "").casefold())
    if near:
        message += f" (did you mean {near!r}?)"
    message += "; leave it empty, or write sektor, for the municipal sector's figure"
    return RowProblem(row.line, "unit", message)


async def _unit_ids(session: AsyncSession, plan: SickLeavePlan) -> dict[str, int]:
    """Unit code → id, for every unit; raises `SickLeaveImportRefused` for unknown codes."""
    rows = await session.execute(
        select(col(Unit.code), col(Unit.id)).where(col(Unit.code).is_not(None))
    )
    codes = {code: unit_id for code, unit_id in rows.all() if code and unit_id is not None}
    problems = [
        _unknown_unit(row, codes)
        for row in plan.rows
        if row.unit_code is not None and row.unit_code not in codes
    ]
    if problems:
        raise SickLeaveImportRefused(problems)
    return codes


async def apply_sick_leave_plan(session: AsyncSession, plan: SickLeavePlan) -> SickLeaveChanges:
    """Write the figures in the session's transaction (the caller commits or rolls back)."""
    codes = await _unit_ids(session, plan)
    years = sorted({row.year for row in plan.rows})
    stored: dict[_Key, list[SickLeave]] = defaultdict(list)
    for figure in await session.scalars(
        select(SickLeave).where(col(SickLeave.year).in_(years)).order_by(col(SickLeave.id))
    ):
        stored[(figure.unit_id, figure.year, figure.quarter)].append(figure)
    changes = SickLeaveChanges()
    for row in plan.rows:
        unit_id = codes[row.unit_code] if row.unit_code is not None else None
        have = stored.get((unit_id, row.year, row.quarter), [])
        if not have:
            session.add(
                SickLeave(unit_id=unit_id, year=row.year, quarter=row.quarter, percent=row.percent)
            )
            changes.added += 1
        elif len(have) == 1 and math.isclose(have[0].percent, row.percent, abs_tol=1e-9):
            changes.unchanged += 1
        else:
            first, *twins = have  # twins: left by two imports at once; one figure remains
            first.percent = row.percent
            for twin in twins:
                await session.delete(twin)
            changes.replaced += 1
    await session.flush()
    return changes


async def import_sick_leave_plan(
    sessions: SessionFactory, plan: SickLeavePlan, *, dry_run: bool = False
) -> SickLeaveChanges:
    """Apply the plan in one transaction: committed, or rolled back for a dry run or on error."""
    async with one_transaction(sessions, dry_run=dry_run) as session:
        return await apply_sick_leave_plan(session, plan)


def summary_line(changes: SickLeaveChanges) -> str:
    return (
        f"sick-leave figures: {changes.added} added, {changes.replaced} replaced, "
        f"{changes.unchanged} unchanged"
    )
