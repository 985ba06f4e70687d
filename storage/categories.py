"""The municipality's category list in the database: read it, export it, replace it.

A replacement is all or nothing and never loses history: a code that reports use cannot be
removed (retire it: active no), and a name that means a category in use cannot move to another
code. What reports use is read from `report_count`, which the database keeps in step.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.categories import Categories, Category, name_key
from domain.readers.categories import CategoryPlan
from domain.readers.records import RowProblem
from storage.models import CategoryRow, CauseRow, Report, ReportCount

# The causes (domain.causes) are a list of the same shape in a table of the same columns.
ListRow = CategoryRow | CauseRow


def _category(row: ListRow) -> Category:
    labels = {"nn": row.label_nn}
    if row.label_nb:
        labels["nb"] = row.label_nb
    if row.label_en:
        labels["en"] = row.label_en
    return Category(row.code, labels, row.sort_order, row.active)


async def load_categories(session: AsyncSession) -> Categories:
    rows = (await session.execute(select(CategoryRow))).scalars().all()
    return Categories(_category(row) for row in rows)


async def load_causes(session: AsyncSession) -> Categories:
    rows = (await session.execute(select(CauseRow))).scalars().all()
    return Categories(_category(row) for row in rows)


async def reports_per_cause(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(
        select(col(Report.cause), func.count())
        .where(col(Report.cause).is_not(None))
        .group_by(col(Report.cause))
    )
    return {str(code): int(n) for code, n in rows}


@dataclass(frozen=True)
class CodeList:
    """Categories or causes: the table, what counts its use, and the word for one."""

    table: type[ListRow]
    in_use: Callable[[AsyncSession], Awaitable[dict[str, int]]]
    noun: str
    load: Callable[[AsyncSession], Awaitable[Categories]]


async def reports_per_category(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(
        select(col(ReportCount.category), func.sum(col(ReportCount.n)))
        .group_by(col(ReportCount.category))
        .having(func.sum(col(ReportCount.n)) > 0)
    )
    return {code: int(n) for code, n in rows}


CATEGORIES = CodeList(CategoryRow, reports_per_category, "category", load_categories)
CAUSES = CodeList(CauseRow, reports_per_cause, "cause", load_causes)


class CategoryImportRefused(Exception):
    def __init__(self, problems: Sequence[RowProblem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the category file")
        self.problems = tuple(problems)


@dataclass
class CategoryChanges:
    created: list[str] = field(default_factory=list)
    relabelled: list[str] = field(default_factory=list)  # a label or the order changed
    retired: list[str] = field(default_factory=list)
    reactivated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # never used by a report
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(
            self.created or self.relabelled or self.retired or self.reactivated or self.removed
        )


def _problems(
    plan: CategoryPlan, now: Categories, in_use: dict[str, int], noun: str
) -> list[RowProblem]:
    problems: list[RowProblem] = []
    wanted = {c.code for c in plan.categories}
    for category in now:
        used = in_use.get(category.code, 0)
        if used and category.code not in wanted:
            message = (
                f"{category.code} «{category.label('nn')}» is used by {used} report(s) and "
                f"cannot be removed; keep its row with active = no to retire it (no longer "
                f"offered as a {noun}, kept in history and statistics)"
            )
            problems.append(RowProblem(plan.header_line, "code", message))
    # A name of a category in use that the file gives to another code would change what
    # those reports mean.
    used_names = {
        name_key(name): category
        for category in now
        if in_use.get(category.code)
        for name in category.labels.values()
    }
    for category in plan.categories:
        for language, label in category.labels.items():
            holder = used_names.get(name_key(label))
            if holder is not None and holder.code != category.code:
                message = (
                    f"«{label}» is {holder.code}, used by {in_use[holder.code]} report(s): a "
                    f"{noun}'s code never changes. Keep {holder.code} (with active = no to "
                    f"retire it) and give a new {noun} a name of its own"
                )
                problems.append(RowProblem(plan.lines[category.code], language, message))
    return sorted(problems, key=lambda p: p.line)


def category_row(category: Category) -> dict[str, object]:
    """The table's columns for `category`."""
    return {
        "code": category.code,
        "label_nn": category.labels["nn"],
        "label_nb": category.labels.get("nb"),
        "label_en": category.labels.get("en"),
        "sort_order": category.order,
        "active": category.active,
    }


async def replace_categories(
    session: AsyncSession, plan: CategoryPlan, kind: CodeList = CATEGORIES
) -> CategoryChanges:
    """Make the list (the categories, or with `kind` the causes) the plan's, in the caller's
    transaction; raise `CategoryImportRefused` with every problem, having changed nothing,
    when it would lose a code in use."""
    # Locked (PostgreSQL) against a report being stored with one of them at the same moment:
    # `submit_report` holds its category's row for share until it commits.
    found = await session.execute(select(kind.table).with_for_update())
    locked: list[ListRow] = [row for row in found.scalars().all() if isinstance(row, ListRow)]
    rows = {r.code: r for r in locked}
    now = Categories(_category(r) for r in rows.values())
    in_use = await kind.in_use(session)
    problems = _problems(plan, now, in_use, kind.noun)
    if problems:
        raise CategoryImportRefused(problems)
    changes = CategoryChanges()
    wanted = {c.code for c in plan.categories}
    changes.removed = sorted(code for code in rows if code not in wanted)
    if changes.removed:
        await session.execute(delete(kind.table).where(col(kind.table.code).in_(changes.removed)))
    for category in plan.categories:
        values = category_row(category)
        row = rows.get(category.code)
        if row is None:
            session.add(kind.table.model_validate(values))
            changes.created.append(category.code)
            continue
        before = _category(row)
        if before == category:
            changes.unchanged += 1
            continue
        if before.active and not category.active:
            changes.retired.append(category.code)
        elif category.active and not before.active:
            changes.reactivated.append(category.code)
        if (before.labels, before.order) != (category.labels, category.order):
            changes.relabelled.append(category.code)
        for name, value in values.items():
            setattr(row, name, value)
    await session.flush()
    return changes


def summary_lines(changes: CategoryChanges, categories: Categories) -> list[str]:
    def named(codes: list[str]) -> str:
        return ", ".join(f"{c} «{categories.label(c, 'nn')}»" for c in codes) or "none"

    return [
        f"created: {named(changes.created)}",
        f"labels or order changed: {named(changes.relabelled)}",
        f"retired (hidden from new reports, kept in history): {named(changes.retired)}",
        f"active again: {named(changes.reactivated)}",
        f"removed (no report used them): {', '.join(changes.removed) or 'none'}",
        f"unchanged: {changes.unchanged}",
    ]
