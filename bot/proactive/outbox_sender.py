"""The one way the bot's own messages leave: rows of the outbox (storage.outbox), claimed,
drawn in the recipient's language as it is now, paced under Teams' limits and sent.

Teams allows 50 requests per second per app and tenant, shared here by every sender process
(each takes its share: the rate ÷ the senders seen in the last seconds), and per conversation
7 in one second, 8 in two and 60 in thirty. 412, 429, 500, 502, 503, 504 and no answer at all
are tried again later, with exponential backoff, full jitter and Teams' `Retry-After`; other
refusals fail the row at once with the reason kept, and 403 «MessageWritesBlocked» stops every
message to that person. A person the bot cannot reach yet (no chat with the bot) waits, and the
HMS adviser is told once. A process killed between sending and recording may send that one
message again when its lease runs out; every other path sends each row once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from botbuilder.schema import Activity
from sqlalchemy.ext.asyncio import AsyncSession

from bot.proactive.messenger import DeliveryFailed, Messenger
from dialogs.turn import Clock
from storage import outbox
from storage.conversations import ConversationAddress
from storage.db import SessionFactory
from storage.outbox import NOT_INSTALLED, OutboxItem

logger = logging.getLogger(__name__)

RETRIED = frozenset({412, 429, 500, 502, 503, 504})
BLOCKED = "MessageWritesBlocked"
# Per conversation: at most this many sends in each window of so many seconds.
CONVERSATION_WINDOWS = ((1.0, 7), (2.0, 8), (30.0, 60))
_LONGEST_WINDOW = max(seconds for seconds, _ in CONVERSATION_WINDOWS)
_MARGIN = 1.0  # messages per second each sender keeps under its share
_CONVERSATIONS_KEPT = 10_000
_SHORTEST_SLEEP = 0.05  # seconds
_STARTING_BEATS = 1.5  # a new sender's wait before it sends, in heartbeats
# A sender not seen for so many heartbeats is gone. More than the starting wait: two senders
# started together still count each other's first beat when they start.
_ALIVE_BEATS = 2.0


@dataclass(frozen=True)
class SenderSettings:
    tenant_rate: int = 50  # requests per second per tenant, for all senders together
    batch: int = 50
    # Sends under way at once; the pace is kept by Pacer. At Teams' 100–300 ms a request, 50 a
    # second needs 15 or more in flight (bench/broadcast.py --latency 0.2: 8 gave 37 a second).
    concurrency: int = 32
    lease: timedelta = timedelta(minutes=2)
    poll_seconds: float = 1.0
    heartbeat_seconds: float = 1.0
    max_attempts: int = 12
    first_wait_seconds: float = 1.0
    longest_wait_seconds: float = 600.0


@dataclass(frozen=True)
class Drawn:
    """A row made into a message: where, what, and (for a card redrawn in place) which."""

    address: ConversationAddress
    activity: Activity
    replaces: str | None = None


@dataclass(frozen=True)
class Unreachable:
    """The person cannot be written to; the row waits until they can."""

    reason: str


@dataclass(frozen=True)
class NotYet:
    """Not before `until`: a reminder or a tip woken or retried outside working hours waits
    for the next working morning rather than arrive at night."""

    until: datetime


@dataclass(frozen=True)
class Later:
    """Not now, but soon (Teams busy, an installation under way): try the row again."""

    reason: str
    retry_after: float | None = None


class ChatOpener(Protocol):
    """Opens a 1:1 chat with someone who has none with the bot (bot.proactive.chat_opener)."""

    async def open(
        self, person_id: int, pace: Callable[[str], Awaitable[None]]
    ) -> ConversationAddress | Unreachable | Later:
        """The new chat (written down); Unreachable or Later when it cannot be had. `pace`
        takes a turn under the tenant's rate before each request to Teams."""


class MessageDrawer(Protocol):
    """Makes an outbox row the message for its recipient now (bot.proactive.outbox_messages)."""

    async def draw(
        self, session: AsyncSession, item: OutboxItem
    ) -> Drawn | Unreachable | NotYet | None:
        """The message; Unreachable when the person has no chat with the bot; None when there
        is nothing to say any more."""

    async def delivered(
        self,
        session: AsyncSession,
        item: OutboxItem,
        address: ConversationAddress,
        activity_id: str,
    ) -> None:
        """Record what sending it to `address` means (a card to redraw later, a read)."""

    async def unreachable(self, session: AsyncSession, item: OutboxItem, reason: str) -> None:
        """Tell whoever must know that the person cannot be reached."""

    def records_delivery(self, item: OutboxItem) -> bool:
        """Whether `delivered` has anything to record for this row (a transaction saved when
        not: a broadcast is thousands of rows)."""


@dataclass
class _Sent:
    """Whether Teams took the message: after that, nothing may send it again."""

    done: bool = False


class Pacer:
    """Evenly spaced slots at `rate` per second. Slots are taken one at a time (`turn`), never
    booked ahead, so that a new rate (another sender started or stopped) holds from the next
    slot on."""

    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now
        self._next = 0.0
        self._lock = asyncio.Lock()

    def reserve(self, rate: float) -> float:
        """Seconds to wait for the next slot, which is then taken."""
        now = self._now()
        slot = max(now, self._next)
        self._next = slot + 1.0 / rate
        return slot - now

    async def turn(self, rate: Callable[[], float]) -> None:
        """Wait for the next slot at the rate as it is when the slot is taken."""
        async with self._lock:
            wait = self.reserve(rate())
            if wait > 0:
                await asyncio.sleep(wait)


class ConversationWindows:
    """Teams' limits per conversation, as sliding windows of past sends."""

    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now
        self._sent: dict[str, deque[float]] = {}

    def reserve(self, conversation_id: str) -> float:
        """Seconds until a send to the conversation keeps every window; the send is booked."""
        now = self._now()
        if len(self._sent) > _CONVERSATIONS_KEPT:
            self._forget_before(now - _LONGEST_WINDOW)
        sent = self._sent.setdefault(conversation_id, deque())
        while sent and sent[0] <= now - _LONGEST_WINDOW:
            sent.popleft()
        at, moved = now, True
        while moved:  # a later moment may break another window: look again
            moved = False
            for seconds, most in CONVERSATION_WINDOWS:
                inside = [t for t in sent if t > at - seconds]
                if len(inside) >= most:
                    at, moved = inside[-most] + seconds, True
        sent.append(at)
        return at - now

    def _forget_before(self, moment: float) -> None:
        for conversation_id in [c for c, sent in self._sent.items() if sent[-1] <= moment]:
            del self._sent[conversation_id]


class OutboxSender:
    def __init__(
        self,
        sessions: SessionFactory,
        messenger: Messenger,
        drawer: MessageDrawer,
        clock: Clock,
        settings: SenderSettings = SenderSettings(),
        *,
        owner: str | None = None,
        bell: asyncio.Event | None = None,
        on_throttled: Callable[[], None] = lambda: None,
        opener: ChatOpener | None = None,
    ) -> None:
        self._on_throttled = on_throttled
        self._opener = opener
        self._sessions = sessions
        self._messenger = messenger
        self._drawer = drawer
        self._clock = clock
        self._settings = settings
        self.owner = owner or f"sender-{uuid.uuid4().hex[:12]}"
        self._wake = bell or asyncio.Event()
        self._pacers: dict[str, Pacer] = {}
        self._windows = ConversationWindows(time.monotonic)
        self._senders = 1
        self._slots = asyncio.Semaphore(settings.concurrency)
        self._busy = 0  # batches under way in this process
        self._idle = asyncio.Event()

    def wake(self) -> None:
        """Something was enqueued: look now, not at the next poll."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Send what is due until `stop`; an error is logged and the loop goes on. It first
        says it is here and waits a heartbeat and a half, so that the other senders learn of
        it before it sends: together they keep to the tenant's rate."""
        await self._beat()
        # Every other sender beats once a heartbeat, and so has learnt of this one (and taken
        # a smaller share) before it sends its first message; not much sooner, for until then
        # they send less than the rate allows.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), _STARTING_BEATS * self._settings.heartbeat_seconds)
        await self._beat()
        beat = asyncio.create_task(self._heartbeats(stop), name="outbox-heartbeat")
        try:
            while not stop.is_set():
                self._wake.clear()  # a ring from now on is for the next look
                try:
                    sent = await self.send_due(stop)
                except Exception:
                    logger.exception("the outbox sender failed; trying again shortly")
                    sent = 0
                if sent:
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        _first(stop.wait(), self._wake.wait()), await self._until_next_due()
                    )
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat
            with contextlib.suppress(Exception):
                async with self._sessions() as session, session.begin():
                    await outbox.leave(session, owner=self.owner)

    async def drain(self) -> int:
        """Send everything due now, until nothing is, and wait for what this sender's own loop
        has under way (tests, and a clean stop)."""
        total = 0
        while True:
            sent = await self.send_due()
            total += sent
            if sent:
                continue
            if not self._busy:
                return total
            self._idle.clear()
            await self._idle.wait()

    async def send_due(self, stop: asyncio.Event | None = None) -> int:
        """Claim one batch of due rows and send them; how many were claimed."""
        self._busy += 1
        try:
            async with self._sessions() as session, session.begin():
                items = await outbox.claim_due(
                    session,
                    owner=self.owner,
                    now=self._clock(),
                    lease=self._settings.lease,
                    limit=self._settings.batch,
                )
            # One person's messages one after another, in the order they were queued; different
            # people's side by side.
            by_person: dict[int, list[OutboxItem]] = {}
            for item in items:
                by_person.setdefault(item.person_id, []).append(item)
            claimed = time.monotonic()
            await asyncio.gather(
                *(self._send_in_order(group, claimed, stop) for group in by_person.values()),
                return_exceptions=True,
            )
            return len(items)
        finally:
            self._busy -= 1
            if not self._busy:
                self._idle.set()

    async def _until_next_due(self) -> float:
        """Seconds to sleep: until the next row is due (a retry's backoff ends), at most a
        poll; a ring wakes it sooner."""
        poll = self._settings.poll_seconds
        try:
            async with self._sessions() as session:
                due = await outbox.next_due(session)
        except Exception:
            logger.warning("could not read when the outbox is next due", exc_info=True)
            return poll
        if due is None:
            return poll
        # Not less than a moment: a due row may be another sender's, locked while it claims.
        return min(poll, max(_SHORTEST_SLEEP, (due - self._clock()).total_seconds()))

    async def _heartbeats(self, stop: asyncio.Event) -> None:
        """A beat every heartbeat, on time however long a beat takes: the others count a
        sender gone after two."""
        beat = self._settings.heartbeat_seconds
        next_beat = time.monotonic()
        while not stop.is_set():
            await self._beat()
            next_beat = max(next_beat + beat, time.monotonic())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), next_beat - time.monotonic())

    async def _beat(self) -> None:
        """Say this sender is here, learn how many are, and free rows waiting for a person
        who can be reached by now."""
        # Not seen for two beats, a sender is gone (killed): the others take its share.
        alive = timedelta(seconds=_ALIVE_BEATS * self._settings.heartbeat_seconds)
        try:
            async with self._sessions() as session, session.begin():
                self._senders = await outbox.heartbeat(
                    session, owner=self.owner, now=self._clock(), alive=alive
                )
                if await outbox.wake_reachable(session):
                    self._wake.set()
        except Exception:
            logger.warning("outbox heartbeat failed", exc_info=True)

    async def _send_in_order(
        self, items: list[OutboxItem], claimed: float, stop: asyncio.Event | None
    ) -> None:
        for item in items:
            # A stop, or a lease that would run out before this one is sent: leave it, unsent
            # and free, to the next claim (this sender's or another's) rather than risk two.
            stale = time.monotonic() - claimed > self._settings.lease.total_seconds() / 2
            if (stop is not None and stop.is_set()) or stale:
                async with self._sessions() as session, session.begin():
                    await outbox.release(session, item_id=item.id, owner=self.owner)
                continue
            if await self._send_held(item):
                break  # Teams blocks this chat: the rest to this person failed with it

    async def _send_held(self, item: OutboxItem) -> bool:
        """Send one row; True when Teams blocks writes to the person."""
        async with self._slots:
            sent = _Sent()
            try:
                await self._send(item, sent)
            except Exception:
                if sent.done:
                    # Teams has it; only the record failed. The row stays held until its lease
                    # ends and is then sent again: the one documented duplicate, not a loop.
                    logger.exception("outbox row %s was sent but could not be recorded", item.id)
                    return False
                logger.exception("outbox row %s could not be sent", item.id)
                async with self._sessions() as session, session.begin():
                    if item.attempts + 1 >= self._settings.max_attempts:
                        error = f"gave up after {item.attempts + 1} tries: the bot failed"
                        await outbox.mark_failed(
                            session, item_id=item.id, owner=self.owner, error=error
                        )
                        return False
                    await outbox.retry_later(
                        session,
                        item_id=item.id,
                        owner=self.owner,
                        not_before=self._clock() + timedelta(seconds=self._backoff(item)),
                        error="the bot failed drawing or sending it",
                    )
            return False

    async def _send(self, item: OutboxItem, sent: _Sent) -> bool:
        drawn: Drawn | Unreachable | NotYet | Later | None = await self._draw(item)
        if isinstance(drawn, Unreachable) and drawn.reason == NOT_INSTALLED and self._opener:
            # No chat with the bot yet: open one (Teams, or an install through Graph).
            opened = await self._opener.open(item.person_id, self._pace_tenant)
            drawn = await self._draw(item) if isinstance(opened, ConversationAddress) else opened
        if drawn is None:
            return False
        if isinstance(drawn, NotYet):
            async with self._sessions() as session, session.begin():
                await outbox.defer(
                    session, item_id=item.id, owner=self.owner, not_before=drawn.until
                )
            return False
        if isinstance(drawn, Later):
            await self._later(item, drawn)
            return False
        if isinstance(drawn, Unreachable):
            await self._wait_for_person(item, drawn.reason)
            return False
        await self._pace(drawn.address)
        try:
            if drawn.replaces is not None:
                await self._messenger.update(drawn.address, drawn.replaces, drawn.activity)
                activity_id = drawn.replaces
            else:
                activity_id = await self._messenger.send(drawn.address, drawn.activity)
        except DeliveryFailed as failed:
            return await self._failed(item, failed)
        sent.done = True
        async with self._sessions() as session, session.begin():
            recorded = await outbox.mark_sent(
                session, item_id=item.id, owner=self.owner, now=self._clock()
            )
        if not recorded:
            logger.warning("outbox row %s was sent after its lease ran out", item.id)
            return False
        # What sending it means (a card to redraw later, a read), apart: should it fail, the
        # message is still sent once.
        if not self._drawer.records_delivery(item):
            return False
        try:
            async with self._sessions() as session, session.begin():
                await self._drawer.delivered(session, item, drawn.address, activity_id)
        except Exception:
            logger.exception("outbox row %s: recording what it meant failed", item.id)
        return False

    async def _draw(self, item: OutboxItem) -> Drawn | Unreachable | NotYet | None:
        """The row as a message now; a row with nothing to say any more is done."""
        async with self._sessions() as session, session.begin():
            drawn = await self._drawer.draw(session, item)
            if drawn is None:
                await outbox.mark_failed(
                    session, item_id=item.id, owner=self.owner, error="nothing to say any more"
                )
            return drawn

    async def _wait_for_person(self, item: OutboxItem, reason: str) -> None:
        async with self._sessions() as session, session.begin():
            if await outbox.mark_waiting(session, item_id=item.id, owner=self.owner, error=reason):
                await self._drawer.unreachable(session, item, reason)

    async def _later(self, item: OutboxItem, later: Later) -> None:
        """Tried again soon; after the last try it waits for the person, and the adviser hears."""
        tries = item.attempts + 1
        if tries >= self._settings.max_attempts:
            await self._wait_for_person(item, f"gave up after {tries} tries: {later.reason}")
            return
        wait = timedelta(seconds=self._backoff(item, later.retry_after))
        async with self._sessions() as session, session.begin():
            await outbox.retry_later(
                session,
                item_id=item.id,
                owner=self.owner,
                not_before=self._clock() + wait,
                error=later.reason,
            )

    async def _pace_tenant(self, tenant: str) -> None:
        pacer = self._pacers.setdefault(tenant, Pacer(time.monotonic))
        await pacer.turn(self._share)

    async def _pace(self, address: ConversationAddress) -> None:
        await self._pace_tenant(address.tenant_id or "")
        # Booked when it is about to go, so the windows hold the real moments of sending.
        wait = self._windows.reserve(address.conversation_id)
        if wait > 0:
            await asyncio.sleep(wait)

    def _share(self) -> float:
        """This sender's part of the tenant's rate, one message a second under it: the
        senders' slots fall at independent moments, and any one second must hold no more than
        the rate."""
        return max(0.1, self._settings.tenant_rate / self._senders - _MARGIN)

    def _backoff(self, item: OutboxItem, retry_after: float | None = None) -> float:
        ceiling = min(
            self._settings.longest_wait_seconds,
            self._settings.first_wait_seconds * 2**item.attempts,
        )
        return max(random.uniform(0, ceiling), retry_after or 0.0)  # noqa: S311  (jitter)

    async def _failed(self, item: OutboxItem, failed: DeliveryFailed) -> bool:
        """Record the refusal; True when Teams blocks writes to the person."""
        reason = failed.reason
        if failed.status == 429:
            self._on_throttled()
        async with self._sessions() as session, session.begin():
            if failed.status == 403 and failed.code == BLOCKED:
                await outbox.mark_failed(session, item_id=item.id, owner=self.owner, error=reason)
                stopped = await outbox.fail_person(
                    session, person_id=item.person_id, owner=self.owner, error=reason
                )
                logger.warning(
                    "Teams blocks messages to person %s; %d more stopped", item.person_id, stopped
                )
                return True
            elif failed.status is None or failed.status in RETRIED:
                if item.attempts + 1 >= self._settings.max_attempts:
                    error = f"gave up after {item.attempts + 1} tries: {reason}"
                    await outbox.mark_failed(
                        session, item_id=item.id, owner=self.owner, error=error
                    )
                    return False
                wait = self._backoff(item, failed.retry_after)
                await outbox.retry_later(
                    session,
                    item_id=item.id,
                    owner=self.owner,
                    not_before=self._clock() + timedelta(seconds=wait),
                    error=reason,
                )
            else:
                await outbox.mark_failed(session, item_id=item.id, owner=self.owner, error=reason)
        return False


async def _first(*waits: Awaitable[object]) -> None:
    """Return when the first of the waits does; cancel the others."""
    tasks = [asyncio.ensure_future(wait) for wait in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
