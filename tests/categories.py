"""The default category list (a new database's), for tests that build documents by hand."""

from __future__ import annotations

from domain.categories import Categories, Category
from domain.readers.categories import default_categories

DEFAULT: Categories = default_categories()


def category(code: str) -> Category:
    found = DEFAULT.get(code)
    assert found is not None, code
    return found
