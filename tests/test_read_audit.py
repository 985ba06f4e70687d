"""Reads are in the audit trail: every handling card that shows a report to a leader or an
adviser is a «read» event; a reporter looking at their own reports is not."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import col, select

from storage.db import create_async_db_engine, session_factory
from storage.models import Person, ReportEvent
from tests import test_leader_handling as leaders
from tests.chat import NN
from tests.test_card_report import FILLED_IN, words
from tests.test_leader_handling import Voss, report_by_card

# Leaders and advisers, the reporters, in the small Voss of tests/voss_org.py.
voss = leaders.voss


async def trail(url: str) -> list[tuple[str, str | None, dict[str, Any] | None]]:
    """(kind, whose aad id, detail) of every event, in order."""
    engine = create_async_db_engine(url)
    async with session_factory(engine)() as session:
        rows = await session.execute(
            select(ReportEvent, Person.aad_object_id)
            .outerjoin(Person, col(Person.id) == col(ReportEvent.actor_id))
            .order_by(col(ReportEvent.id))
        )
        found = [(e.kind, who, json.loads(e.detail) if e.detail else None) for e, who in rows.all()]
    await engine.dispose()
    return found


def reads(events: list[tuple[str, str | None, dict[str, Any] | None]]) -> list[tuple[str, str]]:
    return [
        (str(who), str((detail or {}).get("via"))) for kind, who, detail in events if kind == "read"
    ]


async def show(voss: Voss, name: str, case: str) -> dict[str, Any]:
    """«opne avvik», then «Vis og handsam» on the case: the card the bot answers with."""
    user = voss.user(name)
    voss.inbox(name)  # the cards the bot sent them before
    [opened] = await user.send("opne avvik")
    [data] = [
        a["data"]
        for item in opened["attachments"][0]["content"]["body"]
        for part in item.get("items", [])
        if part["type"] == "ActionSet"
        for a in part["actions"]
        if case in a["title"]
    ]
    assert await user.post(user.submit_body({"actions": [{"data": data}]}, opened["id"])) == 201
    [card] = user.take()
    return card


async def test_each_delivered_handling_card_is_a_read(voss: Voss) -> None:
    await report_by_card(voss)
    events = await trail(voss.url)
    assert events[0][:2] == ("created", "aad-kari")
    assert sorted(reads(events)) == [("aad-lars", "card"), ("aad-liv", "card")]


async def test_a_leaders_vis_is_a_read_and_the_reporters_mine_avvik_is_not(voss: Voss) -> None:
    await report_by_card(voss)
    before = await trail(voss.url)

    card = await show(voss, "liv", "2026-0001")
    assert FILLED_IN["description"] in words(card)
    after_vis = await trail(voss.url)
    assert after_vis[: len(before)] == before
    assert after_vis[len(before) :] == [("read", "aad-liv", {"via": "show"})]

    [mine] = await voss.user("kari").send("mine avvik")
    assert "2026-0001" in words(mine)
    assert await trail(voss.url) == after_vis


async def test_the_adviser_and_the_verneombod_reading_are_recorded_too(voss: Voss) -> None:
    # A serious injury: the card goes to Hanne and to Vera, the verneombod, at once.
    await report_by_card(voss, severity="high", harm="injury")
    await show(voss, "vera", "2026-0001")
    assert sorted(reads(await trail(voss.url))) == [
        ("aad-hanne", "card"),
        ("aad-lars", "card"),
        ("aad-liv", "card"),
        ("aad-vera", "card"),
        ("aad-vera", "show"),
    ]


async def test_a_leader_reading_their_own_report_is_no_read(voss: Voss) -> None:
    # Liv reports in the unit she leads: the card comes to her too, and to Lars.
    await report_by_card(voss, "liv")
    assert reads(await trail(voss.url)) == [("aad-lars", "card")]
    await show(voss, "liv", "2026-0001")
    assert reads(await trail(voss.url)) == [("aad-lars", "card")]


async def test_someone_who_may_not_see_it_gets_no_card_and_leaves_no_read(voss: Voss) -> None:
    await report_by_card(voss)
    siri = voss.user("siri")  # leads another unit
    [to_liv] = voss.inbox("liv")
    forged = {"action": "avvik.show", "report": 1}
    assert await siri.post(siri.submit_body({"actions": [{"data": forged}]}, to_liv["id"])) == 201
    [answer] = siri.take()
    assert answer["text"] == NN("handling.not_found")
    assert ("aad-siri", "show") not in reads(await trail(voss.url))
