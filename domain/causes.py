"""Why an avvik happened (årsak), as the leader judges it: Arbeidstilsynet asks that the cause
be recorded as well as the event, so that the same thing does not happen again.

Causes are data like categories and have their shape (a code, labels in nn/nb/en, an order, an
«active» flag; `domain.categories`): a new database starts from `causes-default.csv` beside
this file, a cause in use is retired, never deleted, and the list is replaced with
`python -m bot causes import FILE` (docs/causes.md).
"""

from __future__ import annotations

from importlib import resources

from domain.categories import Categories, Category
from domain.readers.categories import CategoryPlan, parse_categories_csv

# One cause is one entry of the list; the list reads and labels like the category list.
Cause = Category
Causes = Categories

CAUSE_TEXT_MAX = 500  # the optional free text beside the choice


def default_causes() -> Causes:
    """The list a new database starts with: the eight of the issue (rutine manglar … anna)."""
    data = resources.files("domain").joinpath("causes-default.csv").read_bytes()
    plan = parse_categories_csv(data)
    assert isinstance(plan, CategoryPlan), [str(p) for p in plan]
    return Causes(plan.categories)
