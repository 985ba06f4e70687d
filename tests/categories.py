"""The default category and cause lists (a new database's), for tests that build documents by
hand."""

from __future__ import annotations

from sqlalchemy import Connection, delete, insert

from domain.categories import Categories, Category
from domain.causes import default_causes
from domain.readers.categories import default_categories
from storage.categories import category_row
from storage.models import CategoryRow

DEFAULT: Categories = default_categories()
CAUSES: Categories = default_causes()


def category(code: str) -> Category:
    found = DEFAULT.get(code)
    assert found is not None, code
    return found


def reset_categories(connection: Connection) -> None:
    """The category list back to a new database's: a test may have replaced it."""
    connection.execute(delete(CategoryRow))
    connection.execute(insert(CategoryRow), [category_row(c) for c in DEFAULT])
