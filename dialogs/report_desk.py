"""What the report dialog needs from the rest of the bot; wired up in `bot.app`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from dialogs.report_draft import ReportDraft
from dialogs.turn import Reporter
from domain.categories import Categories


@dataclass(frozen=True)
class KnownUnit:
    id: int
    name: str


@dataclass(frozen=True)
class Receipt:
    case_number: str
    created: bool  # False when this draft or card was already stored (a repeated submit)
    report_id: int = 0
    first: bool = False  # the reporter's first report: someone new, offered the training


class ReportDesk(Protocol):
    async def unit_of(self, reporter: Reporter) -> KnownUnit | None:
        """The reporter's own unit, when the organisation knows them."""

    async def find_unit(self, name: str) -> KnownUnit | None:
        """The unit a typed name means, when exactly one does."""

    async def categories(self) -> Categories:
        """The municipality's categories; a report chooses among the active ones."""

    async def submit(self, draft: ReportDraft, reporter: Reporter, language: str) -> Receipt:
        """Store the confirmed report once, however often it is submitted."""
