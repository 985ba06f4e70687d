"""A leader's handling, end to end over HTTP: told at once, acknowledges, adds a measure,
closes; the reporter hears the outcome; nobody else can touch the report."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from bot.app import OUTBOX, create_app
from storage.db import create_async_db_engine, session_factory
from storage.models import Measure, OutboxRow, Report, ReportEvent
from tests.chat import NN, NOW
from tests.fake_connector import FakeConnector, teams_message
from tests.test_card_report import FILLED_IN, CardUser, words
from tests.test_http import ClientMaker, dev_settings
from tests.test_statistics_teams import Clock
from tests.voss_org import make_voss


@dataclass
class Voss:
    connector: FakeConnector
    client: Any
    url: str

    def user(self, name: str) -> CardUser:
        return CardUser(
            self.client,
            self.connector,
            conversation_id=f"a:1{name}-personal",
            aad_object_id=f"aad-{name}",
            user_id=f"29:1{name}",
        )

    async def settle(self) -> None:
        """Send what the outbox holds (telling leaders, redrawing cards), as the sender would."""
        await self.client.app[OUTBOX].drain()

    def inbox(self, name: str) -> list[dict[str, Any]]:
        sent = list(self.connector.sent[f"a:1{name}-personal"])
        self.connector.sent[f"a:1{name}-personal"].clear()
        return sent

    def latest_card(self, name: str) -> dict[str, Any]:
        """The current state of the last handling card in someone's chat, updates included."""
        conversation = f"a:1{name}-personal"
        updates = self.connector.updated[conversation]
        if updates:
            return updates[-1][1]["attachments"][0]["content"]  # type: ignore[no-any-return]
        raise AssertionError(f"no card was updated for {name}")

    async def reports(self) -> list[Report]:
        engine = create_async_db_engine(self.url)
        async with session_factory(engine)() as session:
            found = list((await session.scalars(select(Report).order_by(col(Report.id)))).all())
        await engine.dispose()
        return found

    async def history(self) -> list[str]:
        engine = create_async_db_engine(self.url)
        async with session_factory(engine)() as session:
            kinds = list(
                await session.scalars(select(col(ReportEvent.kind)).order_by(col(ReportEvent.id)))
            )
        await engine.dispose()
        return kinds


@pytest.fixture
async def voss(aiohttp_client: ClientMaker, connector: FakeConnector, database_url: str) -> Voss:
    return await voss_in_teams(aiohttp_client, connector, database_url)


async def voss_in_teams(
    aiohttp_client: ClientMaker,
    connector: FakeConnector,
    database_url: str,
    clock: Callable[[], datetime] = lambda: NOW,
    *,
    public_url: str = "",
) -> Voss:
    """The bot over HTTP with Voss's organisation, where everyone has opened the bot once in
    Teams, so it can write to them. With `public_url`, cards link to charts and files."""
    settings = replace(dev_settings(database_url), public_url=public_url)
    client = await aiohttp_client(create_app(settings, clock=clock))
    engine = create_async_db_engine(database_url)
    await make_voss(session_factory(engine))
    await engine.dispose()
    world = Voss(connector, client, database_url)
    for name in ("kari", "liv", "lars", "siri", "per", "hanne", "vera"):
        await world.user(name).say("hei")
    connector.sent.clear()
    return world


def actions(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every submit button on a card, by its op, including those inside «show card» and in
    the card's body (the duties' answers)."""
    found: dict[str, dict[str, Any]] = {}
    in_body = [a for e in card.get("body", []) if e["type"] == "ActionSet" for a in e["actions"]]
    for action in [*card.get("actions", []), *in_body]:
        if action["type"] == "Action.Submit":
            found[action["data"].get("op", action["data"]["action"])] = action["data"]
        elif action["type"] == "Action.ShowCard":
            found.update(actions(action["card"]))
    return found


async def press(user: CardUser, card_id: str, data: dict[str, Any], **inputs: Any) -> list[str]:
    """Press a card's button; the answer in the chat. What the press queued (every copy of the
    card redrawn, the reporter told) is sent before this returns."""
    body = user.submit_body({"actions": [{"data": data}]}, card_id, **inputs)
    assert await user.post(body) == 201
    answer = [words(a) for a in user.take()]
    await user.client.app[OUTBOX].drain()
    return answer


async def report_by_card(voss: Voss, name: str = "kari", **changes: Any) -> None:
    reporter = voss.user(name)
    voss.inbox(name)  # what the bot wrote them before
    form_id, form = await reporter.ask_for_form()
    await reporter.submit(form, form_id, **{**FILLED_IN, **changes})
    await voss.settle()


async def test_leaders_are_told_at_once_and_others_are_not(voss: Voss) -> None:
    await report_by_card(voss)
    for leader in ("liv", "lars"):  # the leader and the deputy of Vossevangen skule
        [message] = voss.inbox(leader)
        assert message["summary"] == NN("handling.new_for_leader", case="2026-0001")
        card = message["attachments"][0]["content"]
        assert FILLED_IN["description"] in words(message)
        assert "Kari Nordmann" in words(message)
        assert set(actions(card)) == {
            *("acknowledge", "measure", "judge", "cause", "snooze", "close"),
            "duties",  # vald og truslar: the kap. 23A follow-up
            "link_form",  # and tying it to a factor of the unit's risk assessment
        }
    for other in ("siri", "per", "hanne", "vera"):  # medium severity: not the adviser
        assert voss.inbox(other) == []


async def test_a_serious_injury_goes_to_the_adviser_and_verneombod_and_names_the_duty(
    voss: Voss,
) -> None:
    await report_by_card(voss, severity="high", harm="injury")
    [to_hanne] = voss.inbox("hanne")
    [to_liv] = voss.inbox("liv")
    [to_vera] = voss.inbox("vera")  # the verneombod of the school's department
    assert to_vera["summary"] == NN("handling.new_serious", case="2026-0001")
    assert NN("duty.notify_authorities") in words(to_liv)
    assert "https://lovdata.no/lov/2005-06-17-62/§5-2" in words(to_liv)
    assert set(actions(to_hanne["attachments"][0]["content"])) == {
        "acknowledge",
        "measure",
        "judge",
        "cause",
        "snooze",
        "close",
        "duties",
        "link_form",  # the FILLED_IN report is vald og truslar: its risk assessment
    }
    assert actions(to_vera["attachments"][0]["content"]) == {}  # she reads, she does not handle


async def test_a_report_without_a_known_unit_goes_to_the_adviser(voss: Voss) -> None:
    await report_by_card(voss, "per", unit="Ein eining som ikkje finst")
    [to_hanne] = voss.inbox("hanne")
    assert NN("handling.no_unit", unit="Ein eining som ikkje finst") in words(to_hanne)
    assert voss.inbox("siri") == []


async def test_acknowledge_measure_close_and_the_reporter_hears_back(voss: Voss) -> None:
    await report_by_card(voss)
    [card_message] = voss.inbox("liv")
    liv, card_id = voss.user("liv"), card_message["id"]
    buttons = actions(card_message["attachments"][0]["content"])

    assert await press(liv, card_id, buttons["acknowledge"]) == [NN("handling.acknowledged")]
    card = voss.latest_card("liv")
    assert NN("handling.status_line", status=NN("status.acknowledged")) in json.dumps(
        card, ensure_ascii=False
    )
    assert "acknowledge" not in actions(card)
    # Lars's copy of the card shows the same state: every copy is redrawn.
    assert "acknowledge" not in actions(voss.latest_card("lars"))

    buttons = actions(card)
    measure = {
        "measure_what": "Strø skuleplassen før kl. 07.30",
        "measure_owner": "Vaktmeister Ola",
        "measure_due": "2026-12-01",
    }
    assert await press(liv, card_id, buttons["measure"], **measure) == [
        NN("handling.measure_added")
    ]
    card = voss.latest_card("liv")
    shown = json.dumps(card, ensure_ascii=False)
    assert "Strø skuleplassen før kl. 07.30 – Vaktmeister Ola, frist 01.12.2026" in shown
    assert NN("status.in_progress") in shown

    note = "Vaktmeisteren strør no før skulestart, og brodder ligg i personalrommet."
    buttons = actions(card)
    assert await press(
        liv, card_id, buttons["close"], close_cause="equipment", close_note=note
    ) == [NN("handling.closed")]
    card = voss.latest_card("liv")
    assert actions(card) == {}  # a closed report has no buttons left
    assert note in json.dumps(card, ensure_ascii=False)

    [outcome] = voss.inbox("kari")
    assert outcome["text"] == NN("handling.outcome", case="2026-0001", note=note)
    [report] = await voss.reports()
    assert (report.status, report.version) == ("closed", 4)
    # The cards delivered to Liv and Lars are reads (the audit trail records who saw it).
    assert await voss.history() == [
        "created",
        "read",
        "read",
        "acknowledged",
        "measure_added",
        "closed",
    ]


async def test_a_stale_card_cannot_undo_a_newer_change(voss: Voss) -> None:
    await report_by_card(voss)
    [to_liv] = voss.inbox("liv")
    [to_lars] = voss.inbox("lars")
    liv, lars = voss.user("liv"), voss.user("lars")
    old_buttons = actions(to_lars["attachments"][0]["content"])
    note = "Ingen tiltak trengst; rutinen vart følgd og alt gjekk bra."
    await press(
        liv,
        to_liv["id"],
        actions(to_liv["attachments"][0]["content"])["close"],
        close_cause="equipment",
        close_note=note,
    )
    # Lars presses the measure button on his card drawn before Liv closed the report.
    measure = {"measure_what": "Ny rutine", "measure_owner": "Lars", "measure_due": "2026-12-01"}
    assert await press(lars, to_lars["id"], old_buttons["measure"], **measure) == [
        NN("handling.refused_closed")
    ]
    # Two leaders acknowledging at once: the second one's card is behind.
    await report_by_card(voss, description="Ein elev sparka ein tilsett på leggen i gymsalen.")
    [to_liv] = voss.inbox("liv")
    [to_lars] = voss.inbox("lars")
    await press(liv, to_liv["id"], actions(to_liv["attachments"][0]["content"])["acknowledge"])
    stale_measure = actions(to_lars["attachments"][0]["content"])["measure"]
    assert await press(lars, to_lars["id"], stale_measure, **measure) == [
        NN("handling.refused_stale")
    ]
    [first, second] = await voss.reports()
    assert (first.status, second.status) == ("closed", "acknowledged")
    assert await _measures(voss.url) == 0


async def _measures(url: str) -> int:
    engine = create_async_db_engine(url)
    async with session_factory(engine)() as session:
        count = len(list(await session.scalars(select(Measure))))
    await engine.dispose()
    return count


async def test_nobody_outside_the_unit_can_touch_the_report(voss: Voss) -> None:
    await report_by_card(voss)
    [to_liv] = voss.inbox("liv")
    buttons = actions(to_liv["attachments"][0]["content"])
    note = "Lukka av nokon som ikkje har noko med det å gjere."
    # Siri leads another unit; Per is staff; Vera is verneombod (read-only); a forged report id.
    for name in ("siri", "per"):
        assert await press(
            voss.user(name),
            to_liv["id"],
            buttons["close"],
            close_cause="equipment",
            close_note=note,
        ) == [NN("handling.not_found")]
    assert await press(
        voss.user("vera"), to_liv["id"], buttons["close"], close_cause="equipment", close_note=note
    ) == [NN("handling.refused_not_allowed")]
    forged = {**buttons["acknowledge"], "report": 999}
    assert await press(voss.user("siri"), to_liv["id"], forged) == [NN("handling.not_found")]
    [report] = await voss.reports()
    assert (report.status, report.version) == ("new", 1)
    assert voss.inbox("kari") == []


async def test_open_reports_oldest_first_and_only_ones_own(voss: Voss) -> None:
    await report_by_card(voss, description="Første: glatt trapp ved inngangen til skulen.")
    await report_by_card(voss, "per", unit="Bu- og miljøteneste aust", severity="high")
    await report_by_card(voss, description="Andre: elev kasta stol i klasserommet.")
    voss.connector.sent.clear()

    async def listed(name: str) -> str:
        [message] = await voss.user(name).send("opne avvik")
        return words(message)

    liv_sees = await listed("liv")
    assert liv_sees.index("2026-0001") < liv_sees.index("2026-0003")
    assert "2026-0002" not in liv_sees
    hanne_sees = await listed("hanne")
    assert all(case in hanne_sees for case in ("2026-0001", "2026-0002", "2026-0003"))
    vera_sees = await listed("vera")  # verneombod in Oppvekst: the school, read-only
    assert "2026-0001" in vera_sees
    assert "2026-0002" not in vera_sees
    assert await listed("kari") == NN("open.not_a_leader")


async def test_show_gives_a_read_only_card_to_the_verneombod(voss: Voss) -> None:
    await report_by_card(voss)
    vera = voss.user("vera")
    [opened] = await vera.send("opne avvik")
    [show] = [
        a["data"]
        for item in opened["attachments"][0]["content"]["body"]
        for part in item.get("items", [])
        if part["type"] == "ActionSet"
        for a in part["actions"]
    ]
    assert await vera.post(vera.submit_body({"actions": [{"data": show}]}, opened["id"])) == 201
    [card] = vera.take()
    assert FILLED_IN["description"] in words(card)
    assert actions(card["attachments"][0]["content"]) == {}


async def test_an_anonymous_reporter_is_named_to_the_adviser_only(voss: Voss) -> None:
    await report_by_card(voss, severity="high", anonymous="true")
    [to_liv] = voss.inbox("liv")
    [to_hanne] = voss.inbox("hanne")
    assert "Kari Nordmann" not in words(to_liv)
    assert NN("handling.anonymous") in words(to_liv)
    assert "Kari Nordmann" in words(to_hanne)
    # The outcome still reaches Kari: anonymity is towards the leader, not from the bot.
    note = "Vi har gått gjennom rutinane for skjerming med alle tilsette."
    await press(
        voss.user("liv"),
        to_liv["id"],
        actions(to_liv["attachments"][0]["content"])["close"],
        close_cause="equipment",
        close_note=note,
    )
    [outcome] = voss.inbox("kari")
    assert note in outcome["text"]


async def test_a_bad_measure_changes_nothing(voss: Voss) -> None:
    await report_by_card(voss)
    [to_liv] = voss.inbox("liv")
    buttons = actions(to_liv["attachments"][0]["content"])
    [answer] = await press(
        voss.user("liv"),
        to_liv["id"],
        buttons["measure"],
        measure_what="Strø",
        measure_owner="",
        measure_due="2026-11-01",
    )
    assert answer.startswith(NN("card.problems"))
    assert NN("problem.due_past") in answer
    assert f"**{NN('field.measure_owner')}**" in answer
    [report] = await voss.reports()
    assert report.version == 1
    assert await _measures(voss.url) == 0


async def test_a_leader_who_never_opened_the_bot_gets_the_card_once_they_do(
    aiohttp_client: ClientMaker, connector: FakeConnector, database_url: str
) -> None:
    """Liv has never opened the bot: her card waits, Hanne (the HMS adviser) is told once that
    Liv cannot be reached, and the card reaches Liv the moment she opens the bot."""
    client = await aiohttp_client(create_app(dev_settings(database_url), clock=lambda: NOW))
    engine = create_async_db_engine(database_url)
    await make_voss(session_factory(engine))
    await engine.dispose()
    voss = Voss(connector, client, database_url)
    for name in ("kari", "lars", "hanne"):  # everyone but Liv
        await voss.user(name).say("hei")
    connector.sent.clear()
    await report_by_card(voss)
    await report_by_card(voss, description="Ein elev sparka ein tilsett på leggen i gymsalen.")
    assert len(voss.inbox("lars")) == 2  # the deputy is told at once
    assert voss.inbox("liv") == []
    [to_hanne] = voss.inbox("hanne")  # once, for both reports
    assert to_hanne["text"] == NN("outbox.unreachable", name="Liv Leiar")

    answered = await voss.user("liv").send("hei")  # the bot may send the cards meanwhile
    await voss.settle()
    cards = [m for m in answered + voss.inbox("liv") if m.get("attachments")]
    assert [m["summary"] for m in cards] == [
        NN("handling.new_for_leader", case="2026-0001"),
        NN("handling.new_for_leader", case="2026-0002"),
    ]
    assert voss.inbox("hanne") == []


async def test_a_reporter_who_removed_the_app_fails_with_the_reason(voss: Voss) -> None:
    await report_by_card(voss)
    [to_liv] = voss.inbox("liv")
    close = actions(to_liv["attachments"][0]["content"])["close"]
    voss.connector.refused.add("a:1kari-personal")  # Teams answers 403: the app was removed
    note = "Vi har ordna med betre lys i gangen og sett opp skilt."
    await press(voss.user("liv"), to_liv["id"], close, close_cause="equipment", close_note=note)
    engine = create_async_db_engine(voss.url)
    async with session_factory(engine)() as session:
        rows = (
            (await session.execute(select(OutboxRow).where(col(OutboxRow.kind) == "outcome")))
            .scalars()
            .all()
        )
    await engine.dispose()
    assert [(r.status, (r.last_error or "")[:3]) for r in rows] == [("failed", "403")]


async def test_a_leader_snoozes_the_reminders_and_a_bad_date_is_explained(voss: Voss) -> None:
    await report_by_card(voss)
    [to_liv] = voss.inbox("liv")
    liv, card_id = voss.user("liv"), to_liv["id"]
    buttons = actions(to_liv["attachments"][0]["content"])
    for day, problem in (("2026-11-24", "snooze_past"), ("2027-06-01", "snooze_far")):
        [answer] = await press(liv, card_id, buttons["snooze"], snooze_until=day)
        assert NN(f"problem.{problem}") in answer
    [report] = await voss.reports()
    assert (report.snoozed_until, report.version) == (None, 1)
    assert await press(liv, card_id, buttons["snooze"], snooze_until="2026-12-07") == [
        NN("handling.snoozed", case="2026-0001", date="07.12.2026")
    ]
    [report] = await voss.reports()
    assert str(report.snoozed_until) == "2026-12-07"
    assert report.status == "new"  # a snooze acknowledges nothing
    shown = json.dumps(voss.latest_card("lars"), ensure_ascii=False)
    assert NN("handling.snoozed_line", date="07.12.2026") in shown
    assert await voss.history() == ["created", "read", "read", "snoozed"]


async def test_forfalne_is_the_advisers_overview(voss: Voss) -> None:
    await report_by_card(voss)
    hanne, liv = voss.user("hanne"), voss.user("liv")
    voss.inbox("hanne")
    activity = teams_message("forfalne", service_url=voss.connector.url, sequence=9, **hanne.who)
    assert await hanne.post(activity) == 201
    [card] = voss.inbox("hanne")
    shown = json.dumps(card["attachments"][0]["content"], ensure_ascii=False)
    # Reported at NOW: not two working days old yet, and no measure is late.
    assert NN("overdue.none") in shown
    voss.inbox("liv")
    assert await liv.say("forfalne") == [NN("overdue.not_adviser")]


async def test_the_running_bot_reminds_after_two_working_days_and_escalates_after_five(
    aiohttp_client: ClientMaker, connector: FakeConnector, database_url: str
) -> None:
    """The service as it runs, its scheduler looking every second: Kari's report at Tuesday
    14:30 is not acknowledged; Liv (and Lars, her deputy) get one reminder on Thursday at 14:30,
    Hanne one escalation the Tuesday after, and nobody anything twice."""
    clock = Clock(NOW)
    settings = replace(dev_settings(database_url), reminders=True, scheduler_seconds=1)
    client = await aiohttp_client(create_app(settings, clock=clock))
    engine = create_async_db_engine(database_url)
    await make_voss(session_factory(engine))
    await engine.dispose()
    world = Voss(connector, client, database_url)
    for name in ("kari", "liv", "lars", "hanne"):
        await world.user(name).say("hei")
    await report_by_card(world)
    [case] = [r.case_number for r in await world.reports()]
    for name in ("liv", "lars", "hanne"):
        world.inbox(name)

    async def after(moment: datetime) -> dict[str, list[str]]:
        clock.now = moment
        await asyncio.sleep(1.5)  # a look of the scheduler (every second), and the sender
        await world.settle()
        return {n: [a.get("text") or "" for a in world.inbox(n)] for n in ("liv", "lars", "hanne")}

    assert await after(NOW + timedelta(days=2) - timedelta(minutes=1)) == {
        "liv": [],
        "lars": [],
        "hanne": [],
    }
    thursday = await after(NOW + timedelta(days=2, minutes=1))
    assert [case in t for t in thursday["liv"]] == [True]
    assert [case in t for t in thursday["lars"]] == [True]
    assert thursday["hanne"] == []
    assert await after(NOW + timedelta(days=2, minutes=5)) == {"liv": [], "lars": [], "hanne": []}
    tuesday = await after(NOW + timedelta(days=7, minutes=1))
    assert [case in t for t in tuesday["hanne"]] == [True]
    assert tuesday["liv"] == tuesday["lars"] == []
