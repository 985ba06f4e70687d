"""Fuzz /api/messages with mutated Teams activities: never a 5xx, never a crashed turn, and a
consistent database afterwards.

Activities start as real ones (typed report answers, commands, report forms, a leader's
handling buttons, installs, reactions, invokes) from a handful of people in personal chats,
group chats and channels, and are then mutated: fields removed, replaced by JSON of any shape,
texts huge or full of control characters and odd Unicode, card `value`s of random shape. The
people share conversations across examples, so dialogs move on and reports are stored and
handled as the run goes. After each activity: the answer is not a 5xx (one exception, an
invoke the bot does not implement: see `FuzzedBot.take`) and nothing was logged at ERROR (a
failed turn, failed background work, a failed request). Every 50 activities every report is
whole; every 2,500 and at the end every stored dialog state restores.

10,000 activities over HTTP on PostgreSQL and 1,000 on SQLite, all through the real
`create_app` with the local fake connector. The time goes to the bot's own turns (about 9 ms
each here), so running them in-process without HTTP saves nothing (measured).
Repeatable: `derandomize=True` draws the same activities on every run.
"""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bot.app import create_app
from bot.config import Settings
from storage.db import SessionFactory, create_async_db_engine, session_factory
from tests.chat import NN, NOW
from tests.fake_connector import FakeConnector, teams_message
from tests.faults.store import assert_bot_state_readable, assert_reports_whole, reports_in
from tests.faults.talk import TYPED_REPORT
from tests.voss_org import make_voss

ClientMaker = Callable[[web.Application], Any]
Json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=4,
)

# (conversation id, type, user id, aad object id): people of the small Voss in tests/voss_org.py.
CONVERSATIONS = [
    ("a:1kari-personal", "personal", "29:1kari", "aad-kari"),
    ("a:1liv-personal", "personal", "29:1liv", "aad-liv"),
    ("a:1hanne-personal", "personal", "29:1hanne", "aad-hanne"),
    ("a:1ukjend-personal", "personal", "29:1ukjend", "aad-ukjend"),
    ("19:avvik-gruppe@thread.v2", "groupChat", "29:1kari", "aad-kari"),
    ("19:hms@thread.tacv2;messageid=1732000000001", "channel", "29:1liv", "aad-liv"),
]
LOCALES = ["nn-NO", "nb-NO", "en-US", "en-GB", "de-DE", "no", "", "nn", "xx-ÆØ"]
TYPED = [step.answer for step in TYPED_REPORT] + [
    "Send inn",
    "send anonymt",
    "Endre",
    "Avbryt",
    "Ja, avbryt",
    "Nei, hald fram",
    "hjelp",
    "start på nytt",
    "mine avvik",
    "skjema",
    "opne avvik",
    "språk engelsk",
    "language nynorsk",
    "hei",
    "1",
    "i går 10:00",
    "<at>Avviksboten</at> meld avvik",
]
# Long and odd texts: control characters, NUL, a lone surrogate, bidi overrides, mentions.
LONG = st.builds(
    lambda piece, times: piece * times,
    st.sampled_from(["a", "Æ ø å ", "\x00", "\u202e🦺", "<at>x</at>", "\r\n", "\ufeff", "\ud800"]),
    st.integers(min_value=1, max_value=5_000) | st.sampled_from([20_000, 70_000]),
)
# Mostly what people type, so that dialogs get somewhere; a long one now and then (a long
# text costs a turn much more than a short one, see the report of this suite).
TEXT = st.one_of(
    st.sampled_from(TYPED), st.sampled_from(TYPED), st.text(max_size=60), st.text(max_size=60), LONG
)
SHORT = st.text(max_size=60)
# Huge texts go where people write. Activity ids come from Teams, and the connector puts the
# one replied to in the URL of the reply: one it cannot route makes the reply fail, rightly.
ACTIVITY_ID = st.text(st.characters(categories=("L", "N"), include_characters=":-._"), max_size=40)
CARD_IDS = [uuid.UUID(int=n).hex for n in range(1, 4)]


def report_form(conversation_id: str) -> st.SearchStrategy[dict[str, Any]]:
    """A filled-in report form as Teams posts it, some of its answers changed."""
    return st.fixed_dictionaries(
        {
            "action": st.just("avvik.report.submit"),
            "card": st.sampled_from(CARD_IDS) | st.text(max_size=40),
            "conversation": st.just(conversation_id) | st.text(max_size=20),
            "description": st.just("Bebuar kasta ein stol mot tilsett i fellesstova.") | TEXT,
            "harm": st.sampled_from(["injury", "near_miss", "", "skade"]),
            "category": st.sampled_from(["fall_accident", "other", "x"]),
            "severity": st.sampled_from(["low", "medium", "high", "låg"]),
            "unit": st.sampled_from(["Vossevangen skule", "Ukjend stad"]) | TEXT,
            "location": st.just("Gymsalen") | TEXT,
            "date": st.sampled_from(["2026-11-24", "2026-11-23", "2099-01-01", "24.11.2026"]),
            "time": st.sampled_from(["12:00", "", "25:99"]),
            "immediate_action": st.just("") | TEXT,
            "suggested_measure": st.just(""),
            "anonymous": st.sampled_from(["false", "true", "kanskje"]),
        }
    )


HANDLE = st.fixed_dictionaries(
    {
        "action": st.just("avvik.handle"),
        "op": st.sampled_from(["acknowledge", "measure", "close", "reopen"]),
        "report": st.integers(min_value=-1, max_value=4) | Json,
        "version": st.integers(min_value=0, max_value=4) | Json,
    },
    optional={
        "measure_what": st.just("Strø skuleplassen kvar morgon.") | TEXT,
        "measure_owner": st.just("Vaktmeister") | TEXT,
        "measure_due": st.sampled_from(["2026-12-01", "2026-11-01", "2031-01-01", "i morgon"]),
        "close_note": st.just("Tiltaka er gjennomførte og fungerer.") | TEXT,
    },
)
SHOW = st.fixed_dictionaries(
    {"action": st.just("avvik.show"), "report": st.integers(min_value=-1, max_value=4) | Json}
)
ANY_ACTION = st.dictionaries(st.text(max_size=10), Json, max_size=4).flatmap(
    lambda rest: st.sampled_from(["avvik.report.submit", "avvik.handle", "avvik.show"]).map(
        lambda action: {**rest, "action": action}
    )
)
OTHER_KINDS = st.one_of(
    st.fixed_dictionaries(
        {
            "type": st.just("conversationUpdate"),
            "membersAdded": st.just([{"id": "28:avviksboten"}]) | Json,
        }
    ),
    st.fixed_dictionaries(
        {"type": st.just("installationUpdate"), "action": st.sampled_from(["add", "remove"]) | Json}
    ),
    st.fixed_dictionaries(
        {
            "type": st.just("invoke"),
            "name": st.sampled_from(["adaptiveCard/action", "task/fetch", "signin/verifyState"]),
            "value": Json,
        }
    ),
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(
                [
                    "messageReaction",
                    "event",
                    "typing",
                    "endOfConversation",
                    "messageUpdate",
                    "messageDelete",
                    "trace",
                    "handoff",
                    "contactRelationUpdate",
                    "meldavvik",
                ]
            ),
            "value": Json,
            "reactionsAdded": st.just([{"type": "like"}]) | Json,
        }
    ),
)
TOP_LEVEL = [
    "type",
    "id",
    "text",
    "value",
    "locale",
    "from",
    "recipient",
    "conversation",
    "channelData",
    "entities",
    "attachments",
    "replyToId",
    "textFormat",
    "timestamp",
    "membersAdded",
    "name",
    "action",
    "suggestedActions",
]
NESTED = {
    "from": ["id", "name", "aadObjectId", "role"],
    "conversation": ["conversationType", "tenantId", "isGroup", "name"],
    "recipient": ["id", "name"],
    "channelData": ["tenant", "team", "channel"],
    "value": ["action", "report", "version", "card", "conversation", "op"],
}
_DELETE = object()


@st.composite
def mutation(draw: st.DrawFn) -> tuple[tuple[str, ...], Any]:
    top = draw(st.sampled_from(TOP_LEVEL) | st.text(min_size=1, max_size=8))
    inner = NESTED.get(top)
    path = (top,) if not inner or draw(st.booleans()) else (top, draw(st.sampled_from(inner)))
    if path in (("id",), ("replyToId",)):
        value = draw(st.just(_DELETE) | st.none() | st.integers() | ACTIVITY_ID)
    else:
        value = draw(st.just(_DELETE) | Json | (TEXT if top in ("text", "value") else SHORT))
    return path, value


def _apply(activity: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    target: Any = activity
    for key in path[:-1]:
        if not isinstance(target.get(key), dict):
            target[key] = {}
        target = target[key]
    if value is _DELETE:
        target.pop(path[-1], None)
    else:
        target[path[-1]] = value


@st.composite
def activities(draw: st.DrawFn, service_url: str) -> dict[str, Any]:
    conversation_id, kind, user_id, aad = draw(st.sampled_from(CONVERSATIONS))
    activity = teams_message(
        None,
        service_url=service_url,
        conversation_id=conversation_id,
        aad_object_id=aad,
        user_id=user_id,
        locale=draw(st.sampled_from(LOCALES)),
        sequence=draw(st.integers(min_value=1, max_value=999_999_999)),
    )
    activity["conversation"]["conversationType"] = kind
    if kind != "personal":
        activity["entities"] = [
            {
                "type": "mention",
                "mentioned": {"id": "28:avviksboten", "name": "Avviksboten"},
                "text": "<at>Avviksboten</at>",
            }
        ]
    shape = draw(st.sampled_from(["typed", "typed", "typed", "form", "handle", "card", "other"]))
    if shape == "typed":
        activity["text"] = draw(TEXT)
    elif shape == "form":
        activity["value"] = draw(report_form(conversation_id))
    elif shape == "handle":
        activity["value"] = draw(HANDLE | SHOW)
    elif shape == "card":
        activity["value"] = draw(ANY_ACTION)
    else:
        activity.update(draw(OTHER_KINDS))
    for path, value in draw(st.lists(mutation(), max_size=3)):
        _apply(activity, path, value)
    return activity


class ErrorLog(logging.Handler):
    """Every ERROR the bot and the web server log: a failed turn, a failed request."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def take(self) -> list[str]:
        taken = [f"{r.name}: {r.getMessage()}\n{self.format(r)}" for r in self.records]
        self.records.clear()
        return taken


@pytest.fixture
def error_log() -> Iterator[ErrorLog]:
    handler = ErrorLog()
    root = logging.getLogger()
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)


@dataclass
class FuzzedBot:
    client: TestClient[Any, Any]
    sessions: SessionFactory
    connector: FakeConnector
    errors: ErrorLog
    taken: int = 0

    async def take(self, activity: dict[str, Any]) -> None:
        """Post one activity; check the answer and the logs, and now and then the database."""
        response = await self.client.post(
            "/api/messages",
            # A stream, not bytes: aiohttp warns of big bodies sent in one piece.
            data=io.BytesIO(json.dumps(activity).encode()),
            headers={"Content-Type": "application/json"},
        )
        await response.read()
        # The one 5xx allowed: the SDK's answer to an invoke the bot does not implement (it
        # has no Action.Execute, task modules or message extensions). That is the protocol's
        # «not implemented», which Teams does not retry, not a failure.
        unsupported_invoke = response.status == 501 and activity.get("type") == "invoke"
        assert response.status < 500 or unsupported_invoke, (response.status, activity)
        errors = self.errors.take()
        assert not errors, (errors, activity)
        self.taken += 1
        if self.taken % CHECK_REPORTS_EVERY == 0:
            assert_reports_whole(await reports_in(self.sessions))
        if self.taken % CHECK_STATE_EVERY == 0:
            await self.check_database()
        self.connector.sent.clear()
        self.connector.updated.clear()

    async def check_database(self) -> None:
        assert_reports_whole(await reports_in(self.sessions))
        await assert_bot_state_readable(self.sessions)


# Activities between two checks of the database (and both after the last one). Restoring every
# stored dialog state is the slow one: the fuzzer opens hundreds of conversations.
CHECK_REPORTS_EVERY = 50
CHECK_STATE_EVERY = 2_500


@asynccontextmanager
async def fuzzed_bot(
    aiohttp_client: ClientMaker, database_url: str, connector: FakeConnector, errors: ErrorLog
) -> AsyncIterator[FuzzedBot]:
    engine = create_async_db_engine(database_url)
    try:
        sessions = session_factory(engine)
        await make_voss(sessions)
        settings = Settings(dev_mode=True, database_url=database_url)
        client = await aiohttp_client(create_app(settings, clock=lambda: NOW))
        bot = FuzzedBot(client, sessions, connector, errors)
        yield bot
        await bot.check_database()  # the state the whole run left behind
    finally:
        await engine.dispose()


@pytest.fixture
async def bot_on_sqlite(
    aiohttp_client: ClientMaker, sqlite_url: str, connector: FakeConnector, error_log: ErrorLog
) -> AsyncIterator[FuzzedBot]:
    async with fuzzed_bot(aiohttp_client, sqlite_url, connector, error_log) as bot:
        yield bot


@pytest.fixture
async def bot_on_postgres(
    aiohttp_client: ClientMaker, postgres_url: str, connector: FakeConnector, error_log: ErrorLog
) -> AsyncIterator[FuzzedBot]:
    async with fuzzed_bot(aiohttp_client, postgres_url, connector, error_log) as bot:
        yield bot


FUZZING = settings(
    deadline=None,
    derandomize=True,
    database=None,
    # The database carries over from one activity to the next, so a shrunk example would run
    # against another state: the activity that failed is reported as drawn.
    phases=[Phase.explicit, Phase.generate],
    # One bot and one database for the whole run, on purpose; big texts, on purpose.
    suppress_health_check=list(HealthCheck),
)


@pytest.mark.postgres
@settings(FUZZING, max_examples=10_000)
@given(data=st.data())
async def test_fuzzed_activities_on_postgres(
    data: st.DataObject, bot_on_postgres: FuzzedBot
) -> None:
    """The 10,000 on PostgreSQL, production's database and the stricter one: it refuses texts
    longer than their columns and NUL bytes, where SQLite keeps them."""
    await bot_on_postgres.take(data.draw(activities(bot_on_postgres.connector.url)))


@settings(FUZZING, max_examples=1_000)
@given(data=st.data())
async def test_fuzzed_activities_on_sqlite(data: st.DataObject, bot_on_sqlite: FuzzedBot) -> None:
    """Fewer, for time: a turn on SQLite costs more here than on PostgreSQL."""
    await bot_on_sqlite.take(data.draw(activities(bot_on_sqlite.connector.url)))


# ---- what the fuzzer found, kept as plain cases ---------------------------------------------


def _group_message(service_url: str, text: str | None) -> dict[str, Any]:
    activity = teams_message(text, service_url=service_url, conversation_id="19:g@thread.v2")
    activity["conversation"]["conversationType"] = "groupChat"
    activity["entities"] = [
        {
            "type": "mention",
            "mentioned": {"id": "28:avviksboten", "name": "Avviksboten"},
            "text": "<at>Avviksboten</at>",
        }
    ]
    return activity


def _found(name: str, service_url: str) -> dict[str, Any]:
    """An activity that once crashed a turn or got a 500."""
    activity = teams_message("hei", service_url=service_url)
    if name == "mention-without-text":  # a card's button in a group chat
        activity = _group_message(service_url, None)
        activity["value"] = {"action": "avvik.show", "report": 1}
    elif name == "mention-without-type":
        activity = _group_message(service_url, "<at>Avviksboten</at> hjelp")
        del activity["entities"][0]["type"]
    elif name == "mention-of-no-one":
        activity = _group_message(service_url, "<at>Avviksboten</at> hjelp")
        del activity["entities"][0]["mentioned"]
    elif name == "no-recipient":
        del activity["recipient"]
    elif name == "recipient-without-id":
        activity["recipient"] = {"name": "Avviksboten"}
    elif name == "tenant-not-an-object":
        activity["channelData"] = {"tenant": "tenant-voss"}
    elif name == "member-that-is-null":
        activity = _group_message(service_url, None)
        activity.update(type="conversationUpdate", membersAdded=[None])
    elif name == "show-beyond-integer":  # report ids are INTEGER in PostgreSQL
        activity["value"] = {"action": "avvik.show", "report": 2**40}
    elif name == "handle-beyond-integer":
        activity["value"] = {"action": "avvik.handle", "op": "acknowledge", "report": 2**40}
        activity["value"]["version"] = 1
    elif name == "lone-surrogate":  # JSON may escape half a character; still text to us
        activity["text"] = "meld avvik \ud800"
    elif name == "card-action-invoke-without-value":
        activity.update(type="invoke", name="adaptiveCard/action")
        del activity["text"]
    elif name == "card-action-invoke-with-odd-action":
        activity.update(type="invoke", name="adaptiveCard/action", value={"action": "x"})
        del activity["text"]
    return activity


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("mention-without-text", 201),
        ("mention-without-type", 201),
        ("mention-of-no-one", 201),
        ("no-recipient", 201),
        ("recipient-without-id", 201),
        ("tenant-not-an-object", 201),
        ("member-that-is-null", 201),
        ("show-beyond-integer", 201),
        ("handle-beyond-integer", 201),
        ("lone-surrogate", 201),
        ("card-action-invoke-without-value", 501),
        ("card-action-invoke-with-odd-action", 501),
    ],
)
async def test_what_the_fuzzer_found_is_answered(
    name: str,
    status: int,
    aiohttp_client: ClientMaker,
    database_url: str,
    connector: FakeConnector,
    error_log: ErrorLog,
) -> None:
    async with fuzzed_bot(aiohttp_client, database_url, connector, error_log) as bot:
        response = await bot.client.post("/api/messages", json=_found(name, connector.url))
        assert response.status == status
        assert error_log.take() == []


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("conversation", "id"), "a:" + "x" * 600),
        (("conversation", "conversationType"), {"not": "a type"}),
        (("from", "name"), "Kari\x00Nordmann"),
        (("channelData", "tenant", "id"), "t" * 101),
    ],
    ids=["long-conversation-id", "type-not-text", "nul-in-name", "long-tenant"],
)
async def test_addresses_the_database_cannot_hold_get_400(
    path: tuple[str, ...],
    value: Any,
    aiohttp_client: ClientMaker,
    database_url: str,
    connector: FakeConnector,
    error_log: ErrorLog,
) -> None:
    async with fuzzed_bot(aiohttp_client, database_url, connector, error_log) as bot:
        activity = teams_message("meld avvik", service_url=connector.url)
        _apply(activity, path, value)
        response = await bot.client.post("/api/messages", json=activity)
        assert response.status == 400
        assert error_log.take() == []


async def test_the_bots_mention_is_taken_out_of_the_text(
    aiohttp_client: ClientMaker, sqlite_url: str, connector: FakeConnector, error_log: ErrorLog
) -> None:
    async with fuzzed_bot(aiohttp_client, sqlite_url, connector, error_log) as bot:
        for text in ("hjelp", "<at>Avviksboten</at> hjelp"):
            response = await bot.client.post(
                "/api/messages", json=_group_message(connector.url, text)
            )
            assert response.status == 201
        plain, mentioned = connector.texts("19:g@thread.v2")
        assert mentioned == plain
        assert NN("help.general") in plain
