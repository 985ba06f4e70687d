"""«Statistikk» in Teams over HTTP: who sees which figures, the charts and downloads behind
the card's links, and links that must stop working (forged, expired, rights taken away)."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import openpyxl
import pytest
from PIL import Image
from sqlalchemy import delete
from sqlmodel import col

from bot.app import create_app
from bot.config import Settings, SettingsError, load_settings
from domain.oslo_time import month_of
from domain.vocabulary import Harm, Severity
from storage.db import create_async_db_engine, session_factory
from storage.models import Report, SickLeave, UnitLeader
from tests.chat import EN, NN
from tests.fake_connector import FakeConnector, teams_message
from tests.test_card_report import CardUser, words
from tests.test_cards import card_errors
from tests.test_http import ClientMaker
from tests.voss_org import Voss, make_voss

NOW = datetime(2026, 11, 24, 13, 30, tzinfo=UTC)
PUBLIC = "https://avvik.voss.test"


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Town:
    client: Any
    connector: FakeConnector
    url: str
    voss: Voss
    clock: Clock
    users: dict[str, CardUser] = field(default_factory=dict)

    def user(self, name: str, **who: Any) -> CardUser:
        if name not in self.users:
            self.users[name] = CardUser(
                self.client,
                self.connector,
                conversation_id=f"a:1{name}-personal",
                aad_object_id=f"aad-{name}",
                user_id=f"29:1{name}",
                **who,
            )
        return self.users[name]

    async def ask(self, name: str, text: str) -> dict[str, Any]:
        [reply] = await self.user(name).send(text)
        return reply

    async def fetch(self, url: str) -> tuple[int, bytes, Any]:
        assert url.startswith(PUBLIC)
        response = await self.client.get(urlsplit(url).path)
        return response.status, await response.read(), response.headers


def _report(number: int, unit_id: int, at: datetime, category: str) -> Report:
    return Report(
        case_number=f"{at.year}-{number:04d}",
        submission_key=f"key-{number}",
        unit_id=unit_id,
        location="Skuleplassen",
        occurred_at=at,
        reported_at=at,
        reported_month=month_of(at),
        description="Glatt skuleplass",
        harm=Harm.NEAR_MISS.value,
        category=category,
        severity=(Severity.LOW if number % 3 else Severity.HIGH).value,
    )


async def _history(url: str, voss: Voss) -> None:
    """School: 6 in 2025 and 2 in 2024; home: 3 in 2025; sick leave for the school."""
    engine = create_async_db_engine(url)
    async with session_factory(engine)() as session, session.begin():
        n = 0
        for unit, year, count in (
            (voss.school, 2025, 6),
            (voss.school, 2024, 2),
            (voss.home, 2025, 3),
        ):
            for i in range(count):
                n += 1
                at = datetime(year, 9, 1 + i, 10, tzinfo=UTC)
                session.add(_report(n, unit, at, "violence_threats" if i % 2 else "fall_accident"))
        session.add(SickLeave(unit_id=voss.school, year=2025, quarter=3, percent=8.4))
        session.add(SickLeave(unit_id=None, year=2025, quarter=3, percent=7.1))
    await engine.dispose()


@pytest.fixture
async def town(aiohttp_client: ClientMaker, connector: FakeConnector, database_url: str) -> Town:
    clock = Clock()
    settings = Settings(dev_mode=True, database_url=database_url, public_url=PUBLIC)
    client = await aiohttp_client(create_app(settings, clock=clock))
    engine = create_async_db_engine(database_url)
    voss = await make_voss(session_factory(engine))
    await engine.dispose()
    await _history(database_url, voss)
    return Town(client, connector, database_url, voss, clock)


def card_of(reply: dict[str, Any]) -> dict[str, Any]:
    [attachment] = reply["attachments"]
    return attachment["content"]  # type: ignore[no-any-return]


def images(card: dict[str, Any]) -> list[str]:
    return [block["url"] for block in card["body"] if block["type"] == "Image"]


def open_urls(card: dict[str, Any]) -> dict[str, str]:
    return {a["title"]: a["url"] for a in card["actions"] if a["type"] == "Action.OpenUrl"}


def facts_of(card: dict[str, Any]) -> dict[str, str]:
    return {
        fact["title"]: fact["value"]
        for block in card["body"]
        if block["type"] == "FactSet"
        for fact in block["facts"]
    }


async def test_the_adviser_sees_the_whole_year_with_charts_and_files(town: Town) -> None:
    reply = await town.ask("hanne", "statistikk 2025")
    card = card_of(reply)
    assert card_errors(card) == []
    assert reply["summary"] == NN("stats.summary", year=2025)
    text = words(reply)
    assert "**9** avvik i 2025 (2 i 2024" in text
    assert NN("stats.title", year=2025, scope=NN("stats.scope_all")) in text
    assert facts_of(card)["Helse og omsorg"] == "3 (2024: 0)"
    assert facts_of(card)["Oppvekst"] == "6 (2024: 2)"
    # The sector's sick leave beside the quarter's avvik.
    assert NN("stats.quarter_sector", count="9", percent="7,1") in text
    charts = images(card)
    assert len(charts) == 4
    for url in charts:
        status, body, headers = await town.fetch(url)
        assert status == 200
        assert headers["Content-Type"] == "image/png"
        assert Image.open(io.BytesIO(body)).format == "PNG"
    status, body, headers = await town.fetch(open_urls(card)[NN("stats.xlsx")])
    assert status == 200
    assert "attachment" in headers["Content-Disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(body))
    cells = [c for sheet in workbook for row in sheet.iter_rows(values_only=True) for c in row]
    assert "Bu- og miljøteneste aust" in cells
    status, body, _ = await town.fetch(open_urls(card)[NN("stats.csv")])
    assert status == 200
    assert "Vossevangen skule" in body.decode("utf-8-sig")


async def test_a_leader_sees_their_own_units_only(town: Town) -> None:
    card = card_of(await town.ask("liv", "statistikk 2025"))
    assert card_errors(card) == []
    text = json.dumps(card, ensure_ascii=False)
    assert NN("stats.scope_units") in text
    assert "Vossevangen skule" in text
    assert "Bu- og miljøteneste aust" not in text
    assert "**6** avvik i 2025 (2 i 2024" in text
    # Her unit's own sick leave, beside its avvik.
    assert NN("stats.quarter_unit", count="6", percent="8,4") in text
    # No under-reporting list for a leader: that is the adviser's.
    assert all(a["title"] != NN("stats.under_reporting") for a in card["actions"])
    _, body, _ = await town.fetch(open_urls(card)[NN("stats.csv")])
    assert "Bu- og miljøteneste aust" not in body.decode("utf-8-sig")


async def test_staff_get_a_friendly_no(town: Town) -> None:
    reply = await town.ask("kari", "statistikk")
    assert reply.get("attachments") is None
    assert reply["text"] == NN("stats.not_allowed")


async def test_this_year_is_compared_month_for_month(town: Town) -> None:
    card = card_of(await town.ask("hanne", "statistikk"))
    text = json.dumps(card, ensure_ascii=False)
    assert NN("stats.total_so_far", year=2026, count="0") in text
    # The year so far is set against the same complete months of last year, never a whole year.
    assert "januar–oktober 2026: 0 avvik, mot 9 same månadene i 2025" in text


async def test_a_department_and_the_year_before_by_button(town: Town) -> None:
    card = card_of(await town.ask("hanne", "statistikk oppvekst 2025"))
    assert "Oppvekst" in card["body"][0]["text"]
    assert "**6** avvik i 2025" in json.dumps(card, ensure_ascii=False)
    [previous] = [a for a in card["actions"] if a["title"] == NN("stats.show_year", year=2024)]
    user = town.user("hanne")
    assert await user.post(user.submit_body({"actions": [previous]}, "card-1")) == 201
    [reply] = user.take()
    older = json.dumps(card_of(reply), ensure_ascii=False)
    assert "**2** avvik i 2024 (0 i 2023" in older


async def test_what_cannot_be_shown_is_said(town: Town) -> None:
    assert (await town.ask("liv", "statistikk oppvekst"))["text"] == NN(
        "stats.department_not_allowed"
    )
    unknown = (await town.ask("hanne", "statistikk økonomi"))["text"]
    assert unknown == NN(
        "stats.unknown_department", name="økonomi", known="Helse og omsorg, Oppvekst"
    )
    assert (await town.ask("hanne", "statistikk 1999"))["text"] == NN(
        "stats.bad_year", current=2026
    )
    assert (await town.ask("hanne", "statistikk 2027"))["text"] == NN(
        "stats.bad_year", current=2026
    )


async def test_english_readers_get_english_figures(town: Town) -> None:
    user = town.user("hanne", locale="en-GB")
    [reply] = await user.send("statistics 2025")
    text = words(reply)
    assert EN("stats.title", year=2025, scope=EN("stats.scope_all")) in text
    assert "**9** deviations in 2025" in text


async def test_links_stop_working_when_forged_renamed_expired_or_rights_go(town: Town) -> None:
    card = card_of(await town.ask("siri", "statistikk 2025"))
    chart = images(card)[0]
    assert (await town.fetch(chart))[0] == 200
    token = urlsplit(chart).path.split("/")[2]
    forged = chart.replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    assert (await town.fetch(forged))[0] == 404
    assert (await town.fetch(chart.replace(".png", ".xlsx")))[0] == 404
    # Siri stops leading the unit: her old card's links show nothing any more.
    engine = create_async_db_engine(town.url)
    async with session_factory(engine)() as session, session.begin():
        await session.execute(delete(UnitLeader).where(col(UnitLeader.unit_id) == town.voss.home))
    await engine.dispose()
    assert (await town.fetch(chart))[0] == 404
    xlsx = open_urls(card_of(await town.ask("hanne", "statistikk 2025")))[NN("stats.xlsx")]
    town.clock.now = NOW + timedelta(days=8)
    assert (await town.fetch(xlsx))[0] == 404  # a week old: expired


async def test_the_adviser_sees_the_under_reporting_list(town: Town) -> None:
    card = card_of(await town.ask("hanne", "statistikk 2025"))
    [button] = [a for a in card["actions"] if a["title"] == NN("stats.under_reporting")]
    user = town.user("hanne")
    assert await user.post(user.submit_body({"actions": [button]}, "card-2")) == 201
    [reply] = user.take()
    assert card_errors(card_of(reply)) == []
    assert (await town.ask("liv", "underrapportering"))["text"] == NN(
        "stats.under_reporting_not_allowed"
    )


async def test_not_in_a_group_chat(town: Town) -> None:
    user = town.user("hanne")
    user.sequence += 1
    message = teams_message(
        "statistikk",
        service_url=town.connector.url,
        sequence=user.sequence,
        conversation_id="19:group-chat",
        aad_object_id="aad-hanne",
        user_id="29:1hanne",
    )
    message["conversation"]["conversationType"] = "groupChat"
    assert await user.post(message) == 201
    assert town.connector.take_texts("19:group-chat") == [NN("menu.personal_only")]


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"AVVIK_PUBLIC_URL": "https://avvik.voss.test"}, "AVVIK_LINK_SECRET must be set"),
        (
            {"AVVIK_PUBLIC_URL": "https://avvik.voss.test", "AVVIK_LINK_SECRET": "short"},
            "AVVIK_LINK_SECRET must be set",
        ),
        ({"AVVIK_PUBLIC_URL": "http://avvik.voss.test"}, "must be an https:// address"),
    ],
)
def test_links_need_https_and_a_shared_secret_when_serving(
    env: dict[str, str], problem: str
) -> None:
    """A key made at start would break last week's charts at every restart, and at random
    between two instances."""
    secrets = {"MicrosoftAppId": "bot-id", "MicrosoftAppPassword": "password"}
    with pytest.raises(SettingsError, match=problem):
        load_settings({**secrets, **env})
    good = {**secrets, "AVVIK_PUBLIC_URL": PUBLIC + "/", "AVVIK_LINK_SECRET": "k" * 32}
    assert load_settings(good).public_url == PUBLIC
    assert load_settings({"AVVIK_DEV_MODE": "1"}).public_url == "http://localhost:3978"


async def test_the_adviser_gets_the_amu_report_of_a_quarter(town: Town) -> None:
    reply = await town.ask("hanne", "AMU-rapport 2025Q3")
    card = card_of(reply)
    assert card_errors(card) == []
    title = NN("amu.title", period="3. kvartal 2025")
    assert reply["summary"] == title
    assert "9 avvik vart melde i 3. kvartal 2025, mot 2 i 3. kvartal 2024" in words(reply)
    status, body, headers = await town.fetch(open_urls(card)[NN("amu.card_pdf")])
    assert status == 200
    assert headers["Content-Type"] == "application/pdf"
    assert 'filename="amu-2025Q3.pdf"' in headers["Content-Disposition"]
    assert body.startswith(b"%PDF-")
    status, body, _ = await town.fetch(open_urls(card)[NN("amu.card_xlsx")])
    assert status == 200
    overview = openpyxl.load_workbook(io.BytesIO(body))[NN("amu.heading_overview")]
    assert next(overview.iter_rows(min_row=2, values_only=True))[:3] == ("Totalt", 9, 2)
    # Without a quarter: the last one that is over (the clock says November 2026).
    assert "3. kvartal 2026" in words(await town.ask("hanne", "amu-rapport"))
    # Written as two words too, whatever order the phrases were learnt in.
    assert reply["summary"] == (await town.ask("hanne", "AMU rapport 2025Q3"))["summary"]


async def test_the_amu_report_is_the_advisers_and_a_bad_quarter_is_said(town: Town) -> None:
    assert words(await town.ask("liv", "AMU-rapport 2025Q3")) == NN("amu.not_allowed")
    assert words(await town.ask("hanne", "AMU-rapport 2025Q5")) == NN("amu.problem_number")
    assert words(await town.ask("hanne", "AMU-rapport tredje")) == NN("amu.problem_malformed")
    assert words(await town.ask("hanne", "AMU-rapport 2027Q1")) == NN("amu.problem_future")
    # A link renamed to another quarter is no link.
    url = open_urls(card_of(await town.ask("hanne", "amu-rapport 2025q3")))[NN("amu.card_pdf")]
    assert (await town.fetch(url.replace("2025Q3", "2025Q2")))[0] == 404
