"""The one place a failed turn ends: log it with its traceback, apologise in the user's language.

Dialog state is not thrown away (the SDK samples do that): the next message picks up where the
user was, and «avbryt» is always there as a way out. When the database could not be reached,
nothing of this turn was saved, so the user is asked to send the same message again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from botbuilder.core import TurnContext
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from dialogs.turn import TEXTS_KEY
from domain.i18n import Texts

logger = logging.getLogger(__name__)

TurnErrorHandler = Callable[[TurnContext, Exception], Awaitable[None]]


def database_unavailable(error: BaseException) -> bool:
    """The database refused, dropped or never answered the connection (or, on SQLite, stayed
    locked): the turn saved nothing, and the same message sent again later will do."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, OperationalError | InterfaceError | PoolTimeout):
            return True
        if isinstance(seen, DBAPIError) and seen.connection_invalidated:
            return True
        seen = seen.__cause__
    return False


def make_turn_error_handler(
    texts_for_locale: Callable[[str | None], Texts],
    *,
    on_failure: Callable[[], None] = lambda: None,
) -> TurnErrorHandler:
    async def on_turn_error(turn_context: TurnContext, error: Exception) -> None:
        on_failure()
        logger.error("turn failed (activity type %s)", turn_context.activity.type, exc_info=error)
        texts = turn_context.turn_state.get(TEXTS_KEY)
        if not isinstance(texts, Texts):
            texts = texts_for_locale(turn_context.activity.locale)
        key = "problem.database_down" if database_unavailable(error) else "problem.turn_error"
        try:
            await turn_context.send_activity(texts(key))
        except Exception:  # the connector itself may be what failed; the log has the cause
            logger.warning("could not tell the user that the turn failed", exc_info=True)

    return on_turn_error
