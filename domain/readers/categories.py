"""Reading a category list (`python -m bot categories import`, docs/categories.md) and a map
from an earlier system's category names to ours (`history import --category-map`): pure
parsers, no database. What needs the database (which codes reports use) is left to
`storage.categories`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from importlib import resources

from domain.categories import (
    CODE_MAX,
    CODE_PATTERN,
    LABEL_LANGUAGES,
    LABEL_MAX,
    Categories,
    Category,
    name_key,
)
from domain.readers.records import Row, RowProblem, header_and_rows

# `reports` is written by the export, so the admin sees which are in use; an import ignores it.
COLUMNS = ("code", "nn", "nb", "en", "order", "active", "reports")
REQUIRED_COLUMNS = ("code", "nn")
HEADER_ALIASES: Mapping[str, tuple[str, ...]] = {
    "code": ("kode",),
    "nn": ("nynorsk", "label nn", "namn nn"),
    "nb": ("bokmål", "bokmal", "label nb", "navn nb"),
    "en": ("english", "engelsk", "label en"),
    "order": ("sort order", "sortering", "rekkefølgje", "rekkefølge"),
    "active": ("aktiv",),
    "reports": ("avvik", "in use", "i bruk"),
}
ORDER_MAX = 9999
YES = frozenset({"yes", "y", "ja", "j", "true", "1", "x", "aktiv", "active"})
NO = frozenset({"no", "n", "nei", "false", "0", "retired", "pensjonert", "inaktiv"})

MAP_COLUMNS = ("from", "to")
MAP_ALIASES: Mapping[str, tuple[str, ...]] = {"from": ("frå", "fra"), "to": ("til",)}


@dataclass(frozen=True)
class CategoryPlan:
    """A category file that parsed cleanly: the whole list, and the line of each code."""

    categories: tuple[Category, ...]
    lines: Mapping[str, int]
    header_line: int = 1


@dataclass(frozen=True)
class CategoryMap:
    """An earlier system's category names (by `name_key`) → our codes."""

    codes: Mapping[str, str]

    def get(self, name: str) -> str | None:
        return self.codes.get(name_key(name))


# ---- the category list ----------------------------------------------------------------------


def _category(row: Row) -> Category | None:
    """The row's category; an empty order is -1 until `_in_order` gives it its place."""
    code = row.get("code").lower()
    if not code:
        row.problem("code", "required")
    elif len(code) > CODE_MAX or not CODE_PATTERN.fullmatch(code):
        row.problem(
            "code",
            f"{code[:CODE_MAX]!r} is not a code: use up to {CODE_MAX} lower-case letters a–z, "
            "digits and _ (it is stored on every report and never changes)",
        )
    labels: dict[str, str] = {}
    for language in LABEL_LANGUAGES:
        label = " ".join(row.get(language).split())
        if len(label) > LABEL_MAX:
            row.problem(language, f"longer than {LABEL_MAX} characters")
        elif label:
            labels[language] = label
    if not row.get("nn"):
        row.problem("nn", "required: the Nynorsk label (Bokmål and English fall back to it)")
    order = -1
    order_text = row.get("order")
    if order_text:
        if order_text.isascii() and order_text.isdigit() and int(order_text) <= ORDER_MAX:
            order = int(order_text)
        else:
            row.problem(
                "order", f"must be a whole number from 0 to {ORDER_MAX}, not {order_text!r}"
            )
    active_text = row.get("active").casefold()
    active = active_text in YES or not active_text
    if active_text and active_text not in YES | NO:
        row.problem("active", f"{row.get('active')!r}: write yes or no (ja or nei)")
    if row.problems:
        return None
    return Category(code, labels, order, active)


def _check_names(categories: list[tuple[int, Category]], problems: list[RowProblem]) -> None:
    """Each code once, and no name (a code or a label) that means two categories."""
    first: dict[str, tuple[int, str]] = {}
    seen_codes: dict[str, int] = {}
    for line, category in categories:
        if category.code in seen_codes:
            message = f"code {category.code} is already on line {seen_codes[category.code]}"
            problems.append(RowProblem(line, "code", message))
            continue
        seen_codes[category.code] = line
        for column, name in (("code", category.code), *category.labels.items()):
            key = name_key(name)
            holder = first.setdefault(key, (line, category.code))
            if holder[1] != category.code:
                message = (
                    f"«{name}» also names {holder[1]} on line {holder[0]}: "
                    "each name may mean one category only"
                )
                problems.append(RowProblem(line, column, message))


def _in_order(categories: list[Category]) -> tuple[Category, ...]:
    """Rows without an order come after every row with one, in the file's order."""
    last = max((c.order for c in categories), default=0)
    unordered = (c for c in categories if c.order < 0)
    placed = {c.code: replace(c, order=last + n) for n, c in enumerate(unordered, 1)}
    return tuple(placed.get(c.code, c) for c in categories)


def parse_categories_csv(data: bytes) -> CategoryPlan | list[RowProblem]:
    """The whole list in the file, or every problem in it (by line). UTF-8 (with or without
    BOM) or Windows-1252, `,` or `;`."""
    read = header_and_rows(data, {c: HEADER_ALIASES[c] for c in COLUMNS}, REQUIRED_COLUMNS)
    if isinstance(read, list):
        return read
    header, found = read
    problems: list[RowProblem] = []
    categories: list[tuple[int, Category]] = []
    for line, record in found:
        row = Row(line, header, record, [])
        category = _category(row)
        problems.extend(row.problems)
        if category is not None:
            categories.append((line, category))
    _check_names(categories, problems)
    if not problems and not any(c.active for _, c in categories):
        message = "no category is active: a new report needs at least one to choose from"
        problems.append(RowProblem(header.line, "active", message))
    if problems:
        return sorted(problems, key=lambda p: p.line)
    return CategoryPlan(
        _in_order([c for _, c in categories]),
        {c.code: line for line, c in categories},
        header.line,
    )


def default_categories() -> Categories:
    """The list a new database starts with: the customer's proposal (DOMAIN.md)."""
    data = resources.files("domain").joinpath("categories-default.csv").read_bytes()
    plan = parse_categories_csv(data)
    assert isinstance(plan, CategoryPlan), [str(p) for p in plan]
    return Categories(plan.categories)


# ---- an earlier system's names --------------------------------------------------------------


def parse_category_map(data: bytes, categories: Categories) -> CategoryMap | list[RowProblem]:
    """`from,to`: an earlier system's category name, and the code or any label of one of
    `categories` (retired ones too: history is history). Names are matched ignoring case and
    spaces; a name mapped twice to two categories is refused."""
    read = header_and_rows(data, MAP_ALIASES, MAP_COLUMNS)
    if isinstance(read, list):
        return read
    header, found = read
    problems: list[RowProblem] = []
    codes: dict[str, str] = {}
    first_line: dict[str, int] = {}
    for line, record in found:
        row = Row(line, header, record, problems)
        source, target = row.get("from"), row.get("to")
        if not source:
            row.problem("from", "required: the name the earlier system used")
        if not target:
            row.problem("to", "required: one of our categories, by code or label")
            continue
        category = categories.find(target)
        if category is None:
            known = ", ".join(f"{c.code} «{c.label('nn')}»" for c in categories)
            row.problem("to", f"unknown category {target[:40]!r}; use a code or label of: {known}")
            continue
        key = name_key(source)
        if not key:
            continue
        if key in codes and codes[key] != category.code:
            message = (
                f"{source[:40]!r} is already mapped to {codes[key]} on line {first_line[key]}; "
                "map each name to one category"
            )
            row.problem("from", message)
            continue
        codes.setdefault(key, category.code)
        first_line.setdefault(key, line)
    if problems:
        return sorted(problems, key=lambda p: p.line)
    return CategoryMap(codes)
