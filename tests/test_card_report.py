"""Reporting by card over the real HTTP path: one report per card, however it is clicked."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.app import create_app
from storage.db import create_async_db_engine, session_factory
from storage.models import Report
from tests.chat import NN, NOW
from tests.fake_connector import FakeConnector, teams_message
from tests.test_http import ClientMaker, Teams, dev_settings

FILLED_IN = {
    "description": "Elev kasta stein mot assistent i friminuttet. Ingen vart treft.",
    "harm": "near_miss",
    "category": "violence_threats",
    "severity": "medium",
    "unit": "Vossevangen skule",
    "location": "Skuleplassen",
    "date": "2026-11-24",
    "time": "10:15",
    "immediate_action": "Snakka med eleven.",
    "suggested_measure": "",
}


class CardUser(Teams):
    """A Teams user who also asks for the form and presses its submit button."""

    async def send(self, text: str) -> list[dict[str, Any]]:
        """Every activity the bot sent back to a typed message."""
        self.sequence += 1
        message = teams_message(
            text, service_url=self.connector.url, sequence=self.sequence, **self.who
        )
        assert await self.post(message) == 201
        return self.take()

    async def ask_for_form(self) -> tuple[str, dict[str, Any]]:
        """The form message's id (as the connector gave it) and its card."""
        [sent] = await self.send("skjema")
        [attachment] = sent["attachments"]
        return sent["id"], attachment["content"]

    def submit_body(self, card: dict[str, Any], form_id: str, **inputs: Any) -> dict[str, Any]:
        """What Teams posts when the button is pressed: the button's data and every input."""
        self.sequence += 1
        value = {**card["actions"][0]["data"], **inputs}
        return teams_message(
            None,
            service_url=self.connector.url,
            sequence=self.sequence,
            value=value,
            replyToId=form_id,
            **self.who,
        )

    async def submit(
        self, card: dict[str, Any], form_id: str, **inputs: Any
    ) -> list[dict[str, Any]]:
        assert await self.post(self.submit_body(card, form_id, **inputs)) == 201
        return self.take()

    def take(self) -> list[dict[str, Any]]:
        sent = list(self.connector.sent[self.conversation_id])
        self.connector.sent[self.conversation_id].clear()
        return sent


def words(activity: dict[str, Any]) -> str:
    """The text of a message, with any card's texts."""
    cards = [a["content"] for a in activity.get("attachments") or []]
    return " ".join(
        [activity.get("text") or "", *(json.dumps(c, ensure_ascii=False) for c in cards)]
    ).strip()


async def stored(url: str) -> list[Report]:
    engine = create_async_db_engine(url)
    async with session_factory(engine)() as session:
        reports = list((await session.scalars(select(Report))).all())
    await engine.dispose()
    return reports


async def start(aiohttp_client: ClientMaker, url: str) -> TestClient[Any, Any]:
    return await aiohttp_client(create_app(dev_settings(url), clock=lambda: NOW))


async def test_a_report_by_card_gets_a_receipt_and_retires_the_form(
    aiohttp_client: ClientMaker, connector: FakeConnector, sqlite_url: str
) -> None:
    kari = CardUser(await start(aiohttp_client, sqlite_url), connector)
    form_id, card = await kari.ask_for_form()
    assert card["body"][0]["text"] == NN("card.form_title")

    [receipt] = await kari.submit(card, form_id, **FILLED_IN)
    assert NN("card.receipt_title", case="2026-0001") in words(receipt)
    # The filled-in form becomes what was sent, with no button left to press by mistake.
    [(updated_id, replacement)] = connector.updated[kari.conversation_id]
    assert updated_id == form_id
    [sent] = [a["content"] for a in replacement["attachments"]]
    assert "actions" not in sent
    assert FILLED_IN["description"] in words(replacement)
    assert NN("card.form_sent", case="2026-0001") in words(replacement)

    [report] = await stored(sqlite_url)
    assert (report.case_number, report.category, report.harm, report.severity) == (
        "2026-0001",
        "violence_threats",
        "near_miss",
        "medium",
    )
    assert report.description == FILLED_IN["description"]
    assert (report.unit_text, report.location) == ("Vossevangen skule", "Skuleplassen")
    assert report.occurred_at.isoformat().startswith("2026-11-24T09:15")  # 10:15 in Voss

    [mine] = await kari.send("mine avvik")
    assert f"2026-0001 · {NN('status.new')}" in words(mine)


async def test_a_double_click_stores_one_report(
    aiohttp_client: ClientMaker, connector: FakeConnector, sqlite_url: str
) -> None:
    kari = CardUser(await start(aiohttp_client, sqlite_url), connector)
    form_id, card = await kari.ask_for_form()
    body = kari.submit_body(card, form_id, **FILLED_IN)
    statuses = await asyncio.gather(kari.post(body), kari.post(body))
    assert statuses == [201, 201]
    answers = sorted(words(a) for a in kari.take())
    assert len(answers) == 2
    assert any(NN("card.receipt_title", case="2026-0001") in a for a in answers)
    assert NN("report.already_submitted", case="2026-0001") in answers
    # Pressing it again later, or Teams retrying, changes nothing either.
    [again] = await kari.submit(card, form_id, **FILLED_IN)
    assert again["text"] == NN("report.already_submitted", case="2026-0001")
    assert len(await stored(sqlite_url)) == 1


async def test_a_card_with_bad_fields_names_them_and_stores_nothing(
    aiohttp_client: ClientMaker, connector: FakeConnector, sqlite_url: str
) -> None:
    kari = CardUser(await start(aiohttp_client, sqlite_url), connector)
    form_id, card = await kari.ask_for_form()
    bad = {**FILLED_IN, "description": "Fall", "severity": "catastrophic", "date": "2026-12-24"}
    [answer] = await kari.submit(card, form_id, **bad)
    assert answer["text"].startswith(NN("card.problems"))
    for field in ("description", "severity", "when"):
        assert f"**{NN(f'field.{field}')}**" in answer["text"]
    assert await stored(sqlite_url) == []
    assert connector.updated[kari.conversation_id] == []  # the form stays to be corrected

    [receipt] = await kari.submit(card, form_id, **FILLED_IN)
    assert NN("card.receipt_title", case="2026-0001") in words(receipt)


async def test_someone_elses_card_is_refused(
    aiohttp_client: ClientMaker, connector: FakeConnector, sqlite_url: str
) -> None:
    client = await start(aiohttp_client, sqlite_url)
    kari = CardUser(client, connector)
    form_id, card = await kari.ask_for_form()
    await kari.submit(card, form_id, **FILLED_IN)

    per = CardUser(
        client,
        connector,
        conversation_id="a:1per-personal",
        aad_object_id="aad-per",
        user_id="29:1per",
    )
    # Kari's card as it is, posted in Per's chat: it names Kari's conversation.
    [answer] = await per.submit(card, form_id, **FILLED_IN)
    assert answer["text"] == NN("problem.form_foreign")
    # Kari's card id, forged onto Per's conversation: the stored report is Kari's.
    forged = {**card["actions"][0]["data"], "conversation": per.conversation_id}
    [answer] = await per.submit({"actions": [{"data": forged}]}, form_id, **FILLED_IN)
    assert answer["text"] == NN("problem.form_foreign")
    assert "2026-0001" not in answer["text"]
    assert len(await stored(sqlite_url)) == 1


async def test_a_card_sent_during_a_typed_report_leaves_the_typed_one_open(
    aiohttp_client: ClientMaker, connector: FakeConnector, sqlite_url: str
) -> None:
    kari = CardUser(await start(aiohttp_client, sqlite_url), connector)
    form_id, card = await kari.ask_for_form()
    await kari.say("meld avvik")
    assert any(
        NN("report.ask_harm") in t for t in await kari.say("Glatt trapp ved hovudinngangen.")
    )

    [receipt] = await kari.submit(card, form_id, **FILLED_IN)
    assert NN("card.receipt_title", case="2026-0001") in words(receipt)
    # The typed report goes on from where it was.
    assert any(NN("report.ask_category") in t for t in await kari.say("Nestenulukke"))


async def test_no_card_report_in_a_group_chat(
    aiohttp_client: ClientMaker, connector: FakeConnector, sqlite_url: str
) -> None:
    kari = CardUser(await start(aiohttp_client, sqlite_url), connector)
    form_id, card = await kari.ask_for_form()
    body = kari.submit_body(card, form_id, **FILLED_IN)
    body["conversation"] = {"conversationType": "groupChat", "id": "19:group@thread.v2"}
    body["value"]["conversation"] = "19:group@thread.v2"
    assert await kari.post(body) == 201
    assert connector.texts("19:group@thread.v2") == [NN("menu.personal_only")]
    assert await stored(sqlite_url) == []
