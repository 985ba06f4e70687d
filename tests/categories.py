"""The default category list (a new database's), for tests that build documents by hand."""

from __future__ import annotations

from sqlalchemy import Connection, delete, insert

from domain.categories import Categories, Category
from domain.readers.categories import default_categories
from storage.categories import category_row
from storage.models import CategoryRow

DEFAULT: Categories = default_categories()


def category(code: str) -> Category:
    found = DEFAULT.get(code)
    assert found is not None, code
    return found


def reset_categories(connection: Connection) -> None:
    """The category list back to a new database's: a test may have replaced it."""
    connection.execute(delete(CategoryRow))
    connection.execute(insert(CategoryRow), [category_row(c) for c in DEFAULT])
