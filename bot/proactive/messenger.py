"""Messages the bot starts itself (to leaders, advisers, reporters): through the connector,
within Teams' rate limits, retried when Teams asks for it.

Teams allows 50 requests per second per app and tenant; above that it answers 429, and under
load 412, 502 or 504. Those are retried with exponential backoff and full jitter, honouring
`Retry-After`; anything else (403: the app is not installed for that person; 404) is final and
reported to the caller. The Bot Framework SDK does neither.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from aiolimiter import AsyncLimiter
from botbuilder.core import CloudAdapterBase, TurnContext
from botbuilder.schema import (
    Activity,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
    ConversationReference,
)
from msrest.exceptions import ClientRequestError, HttpOperationError
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from storage.conversations import ConversationAddress

logger = logging.getLogger(__name__)

RETRIED_STATUSES = frozenset({412, 429, 502, 504})
REQUESTS_PER_SECOND = 50


def steady_limiter(per_second: int) -> AsyncLimiter:
    """At most `per_second` requests in any one-second window. A leaky bucket holding N lets
    N through at once and then N per second, up to 2N in the first second; a bucket of one
    released every 1/(N-1) s never holds more than 1 + (N-1) = N in a second."""
    return AsyncLimiter(1, 1 / (per_second - 1))


class DeliveryFailed(Exception):
    """Teams did not take the message: with the HTTP status (None when no answer came: a
    timeout, a closed connection), how long Teams asked to wait, and its error code (such as
    «MessageWritesBlocked»)."""

    def __init__(
        self,
        conversation_id: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(conversation_id)
        self.status = status
        self.retry_after = retry_after
        self.code = code

    @property
    def reason(self) -> str:
        if self.status is None:
            return "no answer from Teams (timeout or connection closed)"
        return f"{self.status} {self.code}" if self.code else str(self.status)


def error_code_of(error: BaseException) -> str | None:
    """The connector's own error code from its error body, when it sent one."""
    body = getattr(getattr(error, "error", None), "error", None)
    code = getattr(body, "code", None)
    return code if isinstance(code, str) and code else None


class Messenger(Protocol):
    async def send(self, address: ConversationAddress, activity: Activity) -> str:
        """Post a new message; returns its id, for updating it later."""

    async def update(
        self, address: ConversationAddress, activity_id: str, activity: Activity
    ) -> None:
        """Replace a message the bot sent before."""

    async def open_chat(self, place: ChatPlace, aad_object_id: str) -> str:
        """Open (or find) the bot's 1:1 chat with a person who has the app; its id."""


@dataclass(frozen=True)
class ChatPlace:
    """Where in Teams a new 1:1 chat is opened: the tenant's connector and the bot there."""

    service_url: str
    tenant_id: str
    bot_id: str
    channel_id: str = "msteams"


def status_of(error: BaseException) -> int | None:
    response = getattr(error, "response", None)
    # requests calls it status_code, aiohttp status (bot/edge/connector_transport.py).
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    return status if isinstance(status, int) else None


def _retryable(error: BaseException) -> bool:
    # ClientRequestError: refused, reset or timed out on the way (bot/edge/connector_transport.py)
    return isinstance(error, ClientRequestError) or status_of(error) in RETRIED_STATUSES


def _retry_after(error: BaseException | None) -> float | None:
    headers = getattr(getattr(error, "response", None), "headers", None) or {}
    value = headers.get("Retry-After")
    try:
        return min(float(value), 60.0) if value is not None else None
    except ValueError:
        return None


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    first_wait: float = 0.5  # seconds; doubled each time, drawn at random below that
    longest_wait: float = 20.0


# For the outbox's sender, which keeps its own pace and tries again later, not at once.
ONE_TRY = RetryPolicy(attempts=1)


class TeamsMessenger:
    def __init__(
        self,
        adapter: CloudAdapterBase,
        app_id: str,
        *,
        policy: RetryPolicy = RetryPolicy(),
        limiter_factory: Callable[[], AsyncLimiter] | None = lambda: steady_limiter(
            REQUESTS_PER_SECOND
        ),
    ) -> None:
        self._adapter = adapter
        self._app_id = app_id
        self._policy = policy
        self._limiter_factory = limiter_factory
        self._limiters: dict[str, AsyncLimiter] = {}  # per tenant

    async def send(self, address: ConversationAddress, activity: Activity) -> str:
        sent: list[str] = []

        async def post(turn_context: TurnContext) -> None:
            response = await turn_context.send_activity(activity)
            sent.append(response.id if response and response.id else "")

        await self._deliver(address, post)
        return sent[0]

    async def update(
        self, address: ConversationAddress, activity_id: str, activity: Activity
    ) -> None:
        async def put(turn_context: TurnContext) -> None:
            activity.id = activity_id
            await turn_context.update_activity(activity)

        await self._deliver(address, put)

    async def open_chat(self, place: ChatPlace, aad_object_id: str) -> str:
        """Bot Connector `create_conversation` with the person's Entra id: Teams answers with
        the 1:1 chat when the app is installed for them, 403 «BotNotInConversationRoster» when
        it is not."""
        opened: list[str] = []

        async def note(turn_context: TurnContext) -> None:
            opened.append(turn_context.activity.conversation.id)

        parameters = ConversationParameters(
            is_group=False,
            bot=ChannelAccount(id=place.bot_id),
            members=[ChannelAccount(id=aad_object_id)],
            tenant_id=place.tenant_id,
            channel_data={"tenant": {"id": place.tenant_id}},
        )
        try:
            await self._adapter.create_conversation(
                self._app_id,
                note,
                parameters,
                channel_id=place.channel_id,
                service_url=place.service_url,
            )
        except (HttpOperationError, ClientRequestError) as error:
            raise DeliveryFailed(
                "(new chat)",
                status=status_of(error),
                retry_after=_retry_after(error),
                code=error_code_of(error),
            ) from error
        if not opened or not opened[0]:
            raise DeliveryFailed("(new chat)", status=None, code="no conversation id")
        return opened[0]

    async def _deliver(
        self, address: ConversationAddress, action: Callable[[TurnContext], Any]
    ) -> None:
        tenant = address.tenant_id or ""
        limiter: AbstractAsyncContextManager[object] = contextlib.nullcontext()
        if self._limiter_factory is not None:
            limiter = self._limiters.get(tenant) or self._limiters.setdefault(
                tenant, self._limiter_factory()
            )
        retrying = AsyncRetrying(
            retry=retry_if_exception(_retryable),
            stop=stop_after_attempt(self._policy.attempts),
            wait=self._wait,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    async with limiter:
                        await self._once(address, action)
        except (HttpOperationError, ClientRequestError) as error:
            logger.warning(
                "proactive message to %s failed (%s)", address.conversation_id, status_of(error)
            )
            raise DeliveryFailed(
                address.conversation_id,
                status=status_of(error),
                retry_after=_retry_after(error),
                code=error_code_of(error),
            ) from error

    async def _once(
        self, address: ConversationAddress, action: Callable[[TurnContext], Any]
    ) -> None:
        # The adapter hands an error inside the callback to its turn-error handler (which
        # would apologise into the very conversation that failed) instead of raising it.
        failures: list[HttpOperationError | ClientRequestError] = []

        async def guarded(turn_context: TurnContext) -> None:
            try:
                await action(turn_context)
            except (HttpOperationError, ClientRequestError) as error:
                failures.append(error)

        await self._adapter.continue_conversation(
            _reference(address), guarded, bot_app_id=self._app_id
        )
        if failures:
            raise failures[0]

    def _wait(self, state: RetryCallState) -> float:
        jittered = wait_random_exponential(
            multiplier=self._policy.first_wait, max=self._policy.longest_wait
        )(state)
        error = state.outcome.exception() if state.outcome else None
        return max(jittered, _retry_after(error) or 0.0)


def _reference(address: ConversationAddress) -> ConversationReference:
    return ConversationReference(
        channel_id=address.channel_id,
        service_url=address.service_url,
        conversation=ConversationAccount(
            id=address.conversation_id,
            conversation_type=address.conversation_type,
            tenant_id=address.tenant_id,
        ),
        bot=ChannelAccount(id=address.bot_id),
    )
