"""The municipality's avvik categories: data, not code (DOMAIN.md: «a proposal, configurable»).

Each has a stable code (what reports store), a label in nn (and, where given, nb and en; a
missing one falls back to nn), a sort order and an «active» flag. A retired category is hidden
from new reports and stays in history and statistics. The list lives in the database
(`storage.categories`); a new database starts from `categories-default.csv` beside this file,
the nine categories of the customer's proposal.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

LABEL_LANGUAGES = ("nn", "nb", "en")
FALLBACK_LANGUAGE = "nn"
CODE_MAX = 40  # report.category holds at most this
LABEL_MAX = 100  # a choice in a card or a chat; longer ones are cut by Teams
CODE_PATTERN = re.compile(r"[a-z0-9][a-z0-9_]{0,39}")
# The catch-all: a chart puts it last wherever its count would put it, as people expect.
CATCH_ALL = "other"


def name_key(text: str) -> str:
    """How a typed or imported name is matched: any case, `-` and `_` as spaces, spaces folded,
    and «å» the same whether a Mac wrote it as one character or two."""
    folded = unicodedata.normalize("NFC", text).casefold()
    return " ".join(folded.replace("-", " ").replace("_", " ").split())


@dataclass(frozen=True)
class Category:
    code: str
    labels: Mapping[str, str]  # language → label; always has nn
    order: int
    active: bool = True

    def label(self, language: str) -> str:
        return self.labels.get(language) or self.labels[FALLBACK_LANGUAGE]

    @property
    def names(self) -> tuple[str, ...]:
        """Everything that names it: the code and every label."""
        return (self.code, *self.labels.values())


class Categories:
    """One municipality's list, in its sort order."""

    def __init__(self, categories: Iterable[Category]) -> None:
        self._all = tuple(sorted(categories, key=lambda c: (c.order, c.code)))
        self._by_code = {c.code: c for c in self._all}
        self._by_name: dict[str, Category] = {}
        for category in self._all:
            for name in category.names:
                self._by_name.setdefault(name_key(name), category)

    def __iter__(self) -> Iterator[Category]:
        return iter(self._all)

    def __len__(self) -> int:
        return len(self._all)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def active(self) -> tuple[Category, ...]:
        return tuple(c for c in self._all if c.active)

    def get(self, code: str) -> Category | None:
        return self._by_code.get(code)

    def label(self, code: str | None, language: str) -> str:
        """The label a reader sees; a code the list has lost shows as itself, never fails."""
        category = self._by_code.get(code or "")
        return category.label(language) if category is not None else (code or "")

    def find(self, name: str) -> Category | None:
        """The category a code or any label names (any case), retired ones too."""
        return self._by_name.get(name_key(name))
