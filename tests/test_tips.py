"""«HMS i små dosar»: the adviser writes a tip in Teams, previews it, sends it to a department's
leaders through the outbox; they vote; the report card follows. Bad input is explained, and
only the adviser (or an admin) may write, send or stop a tip. Over HTTP against the fake
connector, on SQLite and PostgreSQL; the pure parts (domain/tips.py) on their own."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from bot.cards.tips import tip_card
from bot.cli.main import main
from bot.proactive.tips import TipsScheduler
from domain.oslo_time import OSLO
from domain.tips import (
    Audience,
    AudienceKind,
    Link,
    Schedule,
    Tip,
    TipFile,
    When,
    card_size_problem,
    check_schedule,
    check_tip,
    check_url,
    from_markdown,
    read_links,
    to_markdown,
)
from domain.working_time import WorkingCalendar
from storage.db import create_async_db_engine, session_factory
from storage.models import OutboxRow, TipVote
from tests.chat import NN, NOW
from tests.fake_connector import FakeConnector, teams_message
from tests.test_card_report import CardUser, words
from tests.test_cards import card_errors
from tests.test_http import ClientMaker
from tests.test_leader_handling import Voss, actions, voss_in_teams
from tests.test_statistics_teams import Clock

CALENDAR = WorkingCalendar()
ROOT = Path(__file__).resolve().parents[1]


# ---- the pure parts --------------------------------------------------------------------------


def test_links_must_be_http_or_https() -> None:
    assert check_url("https://www.arbeidstilsynet.no/hms/")
    assert check_url("http://voss.kommune.no")
    for bad in ("javascript:alert(1)", "ftp://x.no/a", "https://", "www.voss.no", "https://a b.no"):
        assert not check_url(bad), bad
    links, problems = read_links(
        "Arbeidstilsynet | https://www.arbeidstilsynet.no\nhttps://voss.kommune.no\nfil://x"
    )
    assert links == [
        Link("Arbeidstilsynet", "https://www.arbeidstilsynet.no"),
        Link("https://voss.kommune.no", "https://voss.kommune.no"),
    ]
    assert [(p.key, p.values["line"]) for p in problems] == [("link", 3)]
    _, problems = read_links("\n".join(f"https://x{n}.no" for n in range(6)))
    assert [p.key for p in problems] == ["links_many"]


def test_an_empty_tip_and_a_tip_too_large_for_teams() -> None:
    assert [p.key for p in check_tip(Tip("", {}))] == ["title_empty", "empty"]
    big = Tip("Stor", {name: "å" * 2000 for name in ("news", "example")} | {"tools": "x" * 9000})
    assert [p.key for p in check_tip(big)] == ["section_long"]
    # Every part as long as the form allows, and five long links: over Teams' 40 KB.
    long_url = "https://www.example.no/" + "a" * 1900
    huge = Tip(
        "Stor",
        {name: "å" * 2000 for name in ("news", "example", "reflection", "tools", "deadline")},
        tuple(Link(f"Lenkje {n}", long_url) for n in range(5)),
    )
    assert check_tip(huge) == []
    problem = card_size_problem(tip_card(NN, huge, delivery_id=1))
    assert problem is not None
    assert problem.key == "too_large"
    assert int(str(problem.values["cut"])) > 0
    assert card_size_problem(tip_card(NN, Tip("Lite", {"news": "Kort."}), delivery_id=1)) is None


def test_when_a_tip_may_go() -> None:
    now = datetime(2026, 11, 24, 14, 30, tzinfo=OSLO)

    def keys(schedule: Schedule) -> list[str]:
        return [p.key for p in check_schedule(schedule, now, CALENDAR)]

    assert keys(Schedule(When.AT, at=now - timedelta(minutes=1))) == ["when_past"]
    assert keys(Schedule(When.SERIES, at=now + timedelta(days=1), every_weeks=0)) == ["every_weeks"]
    assert keys(Schedule(When.BEFORE_DEADLINE, deadline=now.date(), days_before=3)) == [
        "deadline_past"
    ]
    assert keys(Schedule(When.BEFORE_DEADLINE, deadline=None, days_before=3)) == [
        "deadline_missing"
    ]
    assert keys(Schedule(When.AT, at=now + timedelta(days=1))) == []


def test_a_tip_file_reads_back_as_it_was_written() -> None:
    tip = Tip(
        "Glatt skuleplass",
        {"example": "SFO-tilsett skli.\n\nTiltak: strøing.", "reflection": "Kva gjer de?"},
        (Link("Arbeidstilsynet", "https://www.arbeidstilsynet.no"),),
    )
    text = to_markdown(
        TipFile(tip, Audience(AudienceKind.PLACES, (1,)), Schedule()),
        audience_names={"departments": ["Oppvekst"]},
    )
    read, front = from_markdown(text)
    assert read == tip
    assert front["audience"] == "places"
    assert front["departments"] == ["Oppvekst"]


# ---- in Teams --------------------------------------------------------------------------------

FORM = {
    "tip_title": "Glatt skuleplass",
    "tip_example": "Ein SFO-tilsett skli på glatt skuleplass som ikkje var strødd. Tiltak: "
    "tydelegare rutinar for strøing, og broddar for tilsette.",
    "tip_reflection": "Kva gjer de når det er glatt?",
    "tip_links": "Arbeidstilsynet | https://www.arbeidstilsynet.no",
    "tip_when": "now",
}


async def ask(user: CardUser, text: str) -> list[dict[str, Any]]:
    """Say something; everything the bot answered (cards too)."""
    user.sequence += 1
    activity = teams_message(
        text, service_url=user.connector.url, sequence=user.sequence, **user.who
    )
    assert await user.post(activity) == 201
    conversation = user.who["conversation_id"]
    answered = list(user.connector.sent[conversation])
    user.connector.sent[conversation].clear()
    return answered


async def press(user: CardUser, data: dict[str, Any], **inputs: Any) -> list[dict[str, Any]]:
    body = user.submit_body({"actions": [{"data": data}]}, "card-1", **inputs)
    assert await user.post(body) == 201
    conversation = user.who["conversation_id"]
    answered = list(user.connector.sent[conversation])
    user.connector.sent[conversation].clear()
    return answered


def submits(card: Any) -> dict[str, dict[str, Any]]:
    """Every submit button's data anywhere on a card, by its action (the last of each)."""
    found: dict[str, dict[str, Any]] = {}
    if isinstance(card, dict):
        if card.get("type") == "Action.Submit":
            found[card["data"]["action"]] = card["data"]
        for value in card.values():
            found.update(submits(value))
    elif isinstance(card, list):
        for value in card:
            found.update(submits(value))
    return found


def votes_of(card: dict[str, Any]) -> list[dict[str, Any]]:
    """The «Nyttig» and «Ikkje nyttig» buttons' data, under the tip."""
    return [
        a["data"]
        for e in card["body"]
        if e["type"] == "ActionSet"
        for a in e["actions"]
        if a["type"] == "Action.Submit"
    ]


def content(message: dict[str, Any]) -> dict[str, Any]:
    return message["attachments"][0]["content"]  # type: ignore[no-any-return]


async def department(voss: Voss, name: str) -> int:
    from storage.models import Department

    engine = create_async_db_engine(voss.url)
    async with session_factory(engine)() as session:
        found = await session.scalar(select(col(Department.id)).where(col(Department.name) == name))
    await engine.dispose()
    assert found is not None
    return found


async def compose(voss: Voss, **changes: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Hanne asks for the form and fills it in; what the bot answers, and the preview's buttons."""
    hanne = voss.user("hanne")
    [form] = await ask(hanne, "nytt tips")
    assert card_errors(content(form)) == []
    compose_button = content(form)["actions"][0]["data"]
    answered = await press(hanne, compose_button, **{**FORM, **changes})
    buttons = actions(content(answered[-1])) if answered[-1].get("attachments") else {}
    return answered, buttons


async def scheduler_tick(voss: Voss, at: datetime = NOW) -> None:
    engine = create_async_db_engine(voss.url)
    await TipsScheduler(session_factory(engine), lambda: at, CALENDAR).queue_due()
    await engine.dispose()
    await voss.settle()


@pytest.fixture
async def voss(aiohttp_client: ClientMaker, connector: FakeConnector, database_url: str) -> Voss:
    return await voss_in_teams(aiohttp_client, connector, database_url)


async def test_a_tip_to_one_department_from_form_to_report(voss: Voss) -> None:
    oppvekst = await department(voss, "Oppvekst")
    answered, buttons = await compose(voss, tip_audience=f"dep:{oppvekst}")
    preview, info = answered
    # The preview is the tip exactly as the leaders will get it, then what it reaches now.
    shown = json.dumps(content(preview), ensure_ascii=False)
    assert "Glatt skuleplass" in shown
    assert NN("tips.section_example") in shown
    assert '"url": "https://www.arbeidstilsynet.no"' in shown
    assert card_errors(content(preview)) == card_errors(content(info)) == []
    info_text = json.dumps(content(info), ensure_ascii=False)
    assert NN("tips.preview_count", count=2, reachable=2) in info_text  # Liv and Lars
    assert set(buttons) == {"tip.send", "tip.edit", "tip.discard"}

    hanne = voss.user("hanne")
    [sent] = await press(hanne, buttons["tip.send"])
    assert sent["text"] == NN("tips.sending", count=2)
    await voss.settle()
    for name in ("liv", "lars"):
        [tip] = voss.inbox(name)
        assert content(tip)["body"][1]["text"] == "Glatt skuleplass"
    assert voss.inbox("siri") == []  # a leader in Helse og omsorg
    [report] = voss.inbox("hanne")
    assert card_errors(content(report)) == []

    # Liv finds it useful, changes her mind, and back: one vote, the latest.
    useful, not_useful = votes_of(content(tip))  # Lars's copy: the same buttons
    liv = voss.user("liv")
    for data in (useful, not_useful, useful):
        [thanks] = await press(liv, data)
        assert thanks["text"] == NN("tips.thanks")
    # Siri was not sent it: her press (a forwarded card) counts nothing.
    [refused] = await press(voss.user("siri"), useful)
    assert refused["text"] == NN("tips.vote_not_yours")

    await scheduler_tick(voss)
    [(activity_id, updated)] = voss.connector.updated["a:1hanne-personal"][-1:]
    figures = {f["title"]: f["value"] for f in content(updated)["body"][2]["facts"]}
    assert figures[NN("tips.report_sent")] == "2"
    assert figures[NN("tips.useful")] == "1"
    assert figures[NN("tips.not_useful")] == "0"
    assert activity_id == report["id"]  # the same card, updated in place
    # She changes her mind again, and back: the card follows, though its figures were shown.
    for data, shown in ((not_useful, ("0", "1")), (useful, ("1", "0"))):
        await press(liv, data)
        await scheduler_tick(voss)
        [(_, updated)] = voss.connector.updated["a:1hanne-personal"][-1:]
        figures = {f["title"]: f["value"] for f in content(updated)["body"][2]["facts"]}
        assert (figures[NN("tips.useful")], figures[NN("tips.not_useful")]) == shown
    engine = create_async_db_engine(voss.url)
    async with session_factory(engine)() as session:
        votes = list(await session.scalars(select(TipVote)))
    await engine.dispose()
    assert [(v.useful) for v in votes] == [True]


async def test_only_the_adviser_or_an_admin_writes_and_sends(voss: Voss) -> None:
    [no] = await ask(voss.user("liv"), "nytt tips")
    assert no["text"] == NN("tips.not_allowed")
    _, buttons = await compose(voss)
    # Liv presses a forged «Send» with the tip's id: refused, and nothing is queued.
    [no] = await press(voss.user("liv"), buttons["tip.send"])
    assert no["text"] == NN("tips.not_allowed")
    await voss.settle()
    assert voss.inbox("lars") == []
    [ok] = await ask(voss.user("ingrid"), "nytt tips")  # an admin may
    assert ok.get("attachments")


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"tip_example": "", "tip_reflection": ""}, NN("tips.problem_empty")),
        (
            {"tip_links": "Lurelenkje | javascript:alert(1)"},
            NN("tips.problem_link", line=1, url="javascript:alert(1)"),
        ),
        (
            {"tip_when": "at", "tip_date": "2026-11-20", "tip_time": "10:00"},
            NN("tips.problem_when_past"),
        ),
        (
            {"tip_when": "series", "tip_date": "2026-12-01", "tip_every": "0"},
            NN("tips.problem_every_weeks", most=52),
        ),
    ],
    ids=["empty", "bad link", "in the past", "series every 0 weeks"],
)
async def test_bad_input_is_explained_and_nothing_is_saved(
    voss: Voss, changes: dict[str, str], expected: str
) -> None:
    answered, buttons = await compose(voss, **changes)
    [answer] = answered
    text = words(answer)
    assert text.startswith(NN("tips.problems"))
    assert expected in text
    assert buttons == {}


async def test_an_audience_of_nobody_cannot_be_sent(voss: Voss) -> None:
    answered, buttons = await compose(voss, tip_audience="unit:999")
    assert NN("tips.problem_nobody") in json.dumps(content(answered[-1]), ensure_ascii=False)
    assert "tip.send" not in buttons


async def test_a_time_in_quiet_hours_goes_at_the_next_working_moment(
    aiohttp_client: ClientMaker, connector: FakeConnector, database_url: str
) -> None:
    clock = Clock(NOW)
    voss = await voss_in_teams(aiohttp_client, connector, database_url, clock=clock)
    answered, buttons = await compose(voss, tip_when="at", tip_date="2026-12-24", tip_time="10:00")
    info = json.dumps(content(answered[-1]), ensure_ascii=False)
    assert "måndag 28.12.2026 kl. 08:00" in info  # julaften is a day off
    [scheduled] = await press(voss.user("hanne"), buttons["tip.send"])
    assert scheduled["text"] == NN("tips.scheduled", when="måndag 28.12.2026 kl. 08:00")
    for moment in (datetime(2026, 12, 24, 10, tzinfo=OSLO), datetime(2026, 12, 28, 8, tzinfo=OSLO)):
        clock.now = moment
        await scheduler_tick(voss, moment)
        assert len(voss.inbox("liv")) == (moment.day == 28)


async def test_stopping_a_tip_half_sent(voss: Voss) -> None:
    # Teams is busy for Liv and Lars: theirs wait to be tried again when Hanne stops the tip.
    voss.connector.busy |= {"a:1liv-personal", "a:1lars-personal"}
    _, buttons = await compose(voss, tip_audience="everyone")
    [sent] = await press(voss.user("hanne"), buttons["tip.send"])
    assert sent["text"] == NN("tips.sending", count=8)
    # The sender is under way (how far it has come with the others by the press is the
    # machine's business): stop it. What was not sent yet never goes; what went, went once.
    [library] = await ask(voss.user("hanne"), "tips")
    assert card_errors(content(library)) == []
    cancel = submits(content(library))["tip.cancel"]
    [stopped] = await press(voss.user("hanne"), cancel)
    await voss.settle()
    engine = create_async_db_engine(voss.url)
    async with session_factory(engine)() as session:
        rows = list(
            await session.execute(
                select(col(OutboxRow.status), col(OutboxRow.last_error)).where(
                    col(OutboxRow.kind) == "tip"
                )
            )
        )
    await engine.dispose()
    cancelled = sum(1 for _, error in rows if error == "cancelled by the adviser")
    sent = sum(1 for status, _ in rows if status == "sent")
    assert cancelled >= 2  # Liv's and Lars's at least
    assert (cancelled + sent, len(rows)) == (8, 8)
    voss.connector.busy.clear()
    await voss.settle()
    assert voss.inbox("liv") == voss.inbox("lars") == []
    # The answer counts what was stopped, and what had gone by then (one in flight goes too).
    told = {NN("tips.cancelled", stopped=cancelled, reached=n) for n in range(sent + 1)}
    assert stopped["text"] in told
    tips_received = [
        activity
        for conversation, activities in voss.connector.sent.items()
        if conversation != "a:1hanne-personal"
        for activity in activities
        if "Glatt skuleplass" in json.dumps(activity, ensure_ascii=False)
    ]
    assert len(tips_received) == sent  # each one who got it, once


async def test_a_tip_teams_finds_too_big_fails_with_the_reason(voss: Voss) -> None:
    _, buttons = await compose(voss, tip_audience="role:verneombod")
    await press(voss.user("hanne"), buttons["tip.send"])
    voss.connector.failures.append((413, {}))  # Vera's, the first message to go
    await voss.settle()
    await scheduler_tick(voss)
    updated = voss.connector.updated["a:1hanne-personal"][-1][1]
    shown = json.dumps(content(updated), ensure_ascii=False)
    assert "1 × 413 Failed" in shown


async def test_tips_export_and_import(
    voss: Voss, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv("DATABASE_URL", voss.url)
    monkeypatch.setenv("AVVIK_ENV_FILE", "/dev/null")
    monkeypatch.setenv("AVVIK_LOG_LEVEL", "WARNING")
    starters = ROOT / "docs" / "tips"
    assert await asyncio.to_thread(main, ["tips", "import", str(starters), "--dry-run"]) == 0
    assert "6 tip(s) read" in capsys.readouterr().out
    assert await asyncio.to_thread(main, ["tips", "import", str(starters)]) == 0
    capsys.readouterr()
    assert await asyncio.to_thread(main, ["tips", "export", str(tmp_path)]) == 0
    written = await asyncio.to_thread(
        lambda: [p.read_text("utf-8") for p in sorted(tmp_path.glob("*.md"))]
    )
    assert len(written) == 6
    for text in written:
        tip, _front = from_markdown(text)
        assert check_tip(tip) == []
    bad = tmp_path / "bad"
    await asyncio.to_thread(bad.mkdir)
    await asyncio.to_thread((bad / "x.md").write_text, "no front matter", "utf-8")
    await asyncio.to_thread(
        (bad / "y.md").write_text,
        '---\ntitle: "T"\nlanguage: sv\n---\n\n## Godt døme\n\nX\n',
        "utf-8",
    )
    await asyncio.to_thread(
        (bad / "z.md").write_text,
        '---\ntitle: "Kurs"\ntraining: kva-er-eit-avvk\n---\n\n## Godt døme\n\nTa kurset.\n',
        "utf-8",
    )
    assert await asyncio.to_thread(main, ["tips", "import", str(bad)]) == 2
    errors = capsys.readouterr().err
    assert "x.md: no front matter" in errors
    assert "y.md: language must be one of" in errors
    assert "z.md: training: no module 'kva-er-eit-avvk'; the modules: korleis-melde" in errors


async def test_a_series_goes_every_n_weeks_and_a_deadline_tip_before_its_deadline(
    aiohttp_client: ClientMaker, connector: FakeConnector, database_url: str
) -> None:
    clock = Clock(NOW)
    voss = await voss_in_teams(aiohttp_client, connector, database_url, clock=clock)
    _, buttons = await compose(
        voss,
        tip_audience="role:verneombod",
        tip_when="series",
        tip_date="2026-11-25",
        tip_time="09:00",
        tip_every="2",
    )
    [scheduled] = await press(voss.user("hanne"), buttons["tip.send"])
    assert scheduled["text"] == NN("tips.scheduled", when="onsdag 25.11.2026 kl. 09:00")
    # A deadline: the vernerunde on 1 March, five working days before, at 09:00.
    _, deadline_buttons = await compose(
        voss,
        tip_title="Frist for vernerunde 1. mars",
        tip_audience="role:verneombod",
        tip_when="before_deadline",
        tip_deadline="Vernerunden skal vere ferdig 1. mars.",  # the «Frist» section's text
        tip_deadline_date="2027-03-01",
        tip_days_before="5",
    )
    [later] = await press(voss.user("hanne"), deadline_buttons["tip.send"])
    assert later["text"] == NN("tips.scheduled", when="måndag 22.02.2027 kl. 09:00")
    got = []
    for moment in (
        datetime(2026, 11, 25, 9, 0, tzinfo=OSLO),
        datetime(2026, 12, 2, 9, 0, tzinfo=OSLO),  # not a week later
        datetime(2026, 12, 9, 9, 0, tzinfo=OSLO),  # two weeks later
        # The deadline's reminder; and the series, whose occurrences were missed while the
        # clock jumped, goes once now and not in a burst.
        datetime(2027, 2, 22, 9, 0, tzinfo=OSLO),
        datetime(2027, 2, 22, 9, 1, tzinfo=OSLO),
    ):
        clock.now = moment
        await scheduler_tick(voss, moment)
        got.append(
            [content(m)["body"][1]["text"] for m in voss.inbox("vera") if m.get("attachments")]
        )
    assert got == [
        ["Glatt skuleplass"],
        [],
        ["Glatt skuleplass"],
        ["Glatt skuleplass", "Frist for vernerunde 1. mars"],
        [],
    ]


async def test_a_scheduled_tip_changed_goes_once_at_its_new_time(
    aiohttp_client: ClientMaker, connector: FakeConnector, database_url: str
) -> None:
    clock = Clock(NOW)
    voss = await voss_in_teams(aiohttp_client, connector, database_url, clock=clock)
    hanne = voss.user("hanne")
    first = {"tip_when": "at", "tip_date": "2026-11-26", "tip_time": "10:00"}
    _, buttons = await compose(voss, tip_audience="role:verneombod", **first)
    await press(hanne, buttons["tip.send"])
    [library] = await ask(hanne, "tips")
    assert "tip.cancel" in submits(content(library))
    # «Endre» from the preview: the form again, with what she wrote; a new time.
    [form] = await press(hanne, buttons["tip.edit"])
    shown = {e.get("id"): e.get("value") for e in content(form)["body"]}
    assert (shown["tip_title"], shown["tip_date"], shown["tip_time"]) == (
        "Glatt skuleplass",
        "2026-11-26",
        "10:00",
    )
    compose_again = content(form)["actions"][0]["data"]
    answered = await press(
        hanne,
        compose_again,
        **{**FORM, "tip_audience": "role:verneombod", **first, "tip_date": "2026-11-27"},
    )
    [scheduled] = await press(hanne, actions(content(answered[-1]))["tip.send"])
    assert scheduled["text"] == NN("tips.scheduled", when="fredag 27.11.2026 kl. 10:00")
    for moment in (
        datetime(2026, 11, 26, 10, 0, tzinfo=OSLO),
        datetime(2026, 11, 27, 10, 0, tzinfo=OSLO),
    ):
        clock.now = moment
        await scheduler_tick(voss, moment)
    assert len([m for m in voss.inbox("vera") if m.get("attachments")]) == 1


async def test_send_pressed_twice_and_other_odd_presses(voss: Voss) -> None:
    hanne = voss.user("hanne")
    _, buttons = await compose(
        voss,
        tip_audience="role:verneombod",
        tip_when="series",
        tip_date="2026-11-24",
        tip_time="14:30",  # now: the series' first goes at once
        tip_every="1",
    )
    [sent] = await press(hanne, buttons["tip.send"])
    assert sent["text"] == NN("tips.sending", count=1)
    [again] = await press(hanne, buttons["tip.send"])  # a double tap, or a resent turn
    assert again["text"] == NN("tips.already_sent")
    engine = create_async_db_engine(voss.url)
    async with session_factory(engine)() as session:
        from storage import tips as stored_tips

        tip_id = int(buttons["tip.send"]["tip"])
        deliveries = await stored_tips.deliveries_of(session, tip_id)
    await engine.dispose()
    # One sending under way, and the series' next one planned a week on.
    assert [(d.status, d.due_at.astimezone(OSLO).day) for d in deliveries] == [
        ("sending", 24),
        ("scheduled", 1),
    ]
    # Card data from outside: odd numbers are a friendly answer, not a crash. (The report
    # card the sending queued for Hanne is sent first, so that only the answers are read.)
    await voss.settle()
    voss.connector.sent[hanne.who["conversation_id"]].clear()
    for odd in ("²", "1e400", 10**30, -1):
        [answer] = await press(hanne, {**buttons["tip.send"], "tip": odd})
        assert answer["text"] == NN("tips.gone")


async def test_a_draft_once_scheduled_can_be_discarded(voss: Voss) -> None:
    hanne = voss.user("hanne")
    first = {"tip_when": "at", "tip_date": "2026-11-26", "tip_time": "10:00"}
    _, buttons = await compose(voss, tip_audience="role:verneombod", **first)
    await press(hanne, buttons["tip.send"])
    [form] = await press(hanne, buttons["tip.edit"])
    answered = await press(
        hanne,
        content(form)["actions"][0]["data"],
        **{**FORM, "tip_audience": "role:verneombod", **first},
    )
    [dropped] = await press(hanne, actions(content(answered[-1]))["tip.discard"])
    assert dropped["text"] == NN("tips.discarded")
