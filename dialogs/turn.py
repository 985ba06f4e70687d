"""What the handler puts on each turn for the dialogs to read: language, reporter, clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from domain.i18n import Texts

TEXTS_KEY = "avvik.texts"
REPORTER_KEY = "avvik.reporter"

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Reporter:
    """Who is typing: the Teams (Entra ID) object id, and the name Teams shows (display only)."""

    identity: str
    name: str


class HasTurnState(Protocol):
    turn_state: dict[str, Any]


def texts_of(context: HasTurnState) -> Texts:
    texts = context.turn_state[TEXTS_KEY]
    assert isinstance(texts, Texts)
    return texts


def reporter_of(context: HasTurnState) -> Reporter:
    reporter = context.turn_state[REPORTER_KEY]
    assert isinstance(reporter, Reporter)
    return reporter
