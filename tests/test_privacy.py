"""Personal data over time, on SQLite and PostgreSQL: retention anonymises old closed reports
once, a person's export holds their data and nobody else's, and forgetting a person leaves the
statistics as they were and no trace of them. And the command line that runs it."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select as select_columns
from sqlalchemy import update
from sqlmodel import SQLModel, col, select

from bot.cli.main import main
from bot.config import SettingsError, load_settings
from domain.vocabulary import Status
from storage import audit, handling
from storage.conversations import ConversationAddress, remember_conversation
from storage.db import SessionFactory, create_async_db_engine, session_factory
from storage.models import (
    BotState,
    ConversationRef,
    Measure,
    Nudge,
    Person,
    Report,
    ReportCard,
    ReportEvent,
)
from storage.privacy import (
    ANONYMISED,
    ClosedReport,
    due_for_anonymising,
    export_person,
    forget_person,
    run_retention,
    years_before,
)
from storage.reports import NewReport, submit_report
from tests.voss_org import make_voss

NOW = datetime(2026, 11, 24, 13, 30, tzinfo=UTC)
FIVE_YEARS_AGO = years_before(NOW, 5)
A_WEEK_AGO = NOW - timedelta(days=7)
KARI_WROTE = "Bebuar slo Kari i armen under stell. Kari fekk blåmerke."
PER_WROTE = "Per skli på glatt golv i gangen på Bu 3. Kari Nordmann hjelpte han opp."
LIV_MEASURE = "Gå gjennom skjermingsplanen med alle på vakt"
LIV_CAUSE = "Liv skreiv: for få på vakt den kvelden."
LIV_NOTE = "Skjermingsplanen er gjennomgått med alle tilsette på avdelinga."


# ---- the setting ------------------------------------------------------------------------------


def test_retention_is_five_years_unless_set() -> None:
    assert load_settings({"AVVIK_DEV_MODE": "1"}).retention_years == 5
    assert load_settings({"AVVIK_DEV_MODE": "1", "AVVIK_RETENTION_YEARS": " 10 "}).retention_years
    assert (
        load_settings({"AVVIK_DEV_MODE": "1", "AVVIK_RETENTION_YEARS": "10"}).retention_years == 10
    )


@pytest.mark.parametrize("years", ["0", "-1", "fem", "2.5", "101", "²"])
def test_a_retention_that_is_no_number_of_years_is_refused(years: str) -> None:
    with pytest.raises(SettingsError, match="AVVIK_RETENTION_YEARS"):
        load_settings({"AVVIK_DEV_MODE": "1", "AVVIK_RETENTION_YEARS": years})


def test_the_example_environment_documents_the_setting() -> None:
    example = (Path(__file__).resolve().parents[1] / ".env.example").read_text("utf-8")
    assert "\nAVVIK_RETENTION_YEARS=5\n" in example


# ---- what is due (pure) -----------------------------------------------------------------------


def closed(days_after_the_cutoff: float, report_id: int = 1) -> ClosedReport:
    at = FIVE_YEARS_AGO + timedelta(days=days_after_the_cutoff)
    return ClosedReport(report_id, f"2021-{report_id:04d}", at)


def test_due_is_closed_more_than_the_years_ago() -> None:
    older, younger, exactly = closed(-1, 1), closed(1, 2), closed(0, 3)
    assert due_for_anonymising([younger, older, exactly], now=NOW, years=5) == [older]
    assert due_for_anonymising([younger], now=NOW + timedelta(days=2), years=5) == [younger]
    assert due_for_anonymising([older], now=NOW, years=6) == []


def test_years_before_counts_calendar_years() -> None:
    assert years_before(NOW, 5) == datetime(2021, 11, 24, 13, 30, tzinfo=UTC)
    leap = datetime(2028, 2, 29, 12, tzinfo=UTC)
    assert years_before(leap, 5) == datetime(2023, 2, 28, 12, tzinfo=UTC)
    assert years_before(leap, 4) == datetime(2024, 2, 29, 12, tzinfo=UTC)


# ---- a small world with history ---------------------------------------------------------------


async def person_id(sessions: SessionFactory, aad: str) -> int:
    async with sessions() as session:
        found = await session.scalar(select(col(Person.id)).where(col(Person.aad_object_id) == aad))
    assert isinstance(found, int)
    return found


async def a_report(
    sessions: SessionFactory,
    *,
    reporter: str = "aad-kari",
    name: str = "Kari Nordmann",
    description: str = KARI_WROTE,
    unit_id: int | None = None,
    reported_at: datetime = NOW,
    closed_at: datetime | None = None,
) -> int:
    """A report, and when `closed_at` is given, handled by Liv: read, acknowledged, a measure,
    closed with a note; Liv's card is kept."""
    submitted = await submit_report(
        sessions,
        NewReport(
            submission_key=uuid.uuid4().hex,
            reporter_aad_object_id=reporter,
            reporter_name=name,
            description=description,
            harm="injury",
            category="violence_threats",
            severity="medium",
            unit_id=unit_id,
            unit_text=None if unit_id else "Bu 3",
            location="Stova på Bu 3",
            occurred_at=reported_at - timedelta(hours=2),
            occurred_time_known=True,
            immediate_action="Kollega tok over stellet.",
            suggested_measure="To på stell hos denne bebuaren.",
            language="nn",
            reported_at=reported_at,
        ),
    )
    if closed_at is None:
        return submitted.report_id
    liv = await person_id(sessions, "aad-liv")
    report_id = submitted.report_id
    async with sessions() as session, session.begin():
        await audit.record_read(
            session, report_id=report_id, reader_id=liv, via=audit.DELIVERED, now=reported_at
        )
        await handling.record_card(
            session,
            report_id=report_id,
            person_id=liv,
            conversation_id="a:1liv-personal",
            activity_id="card-1",
            now=reported_at,
        )
        version = await handling.change_report(
            session,
            report_id=report_id,
            version=1,
            status=Status.IN_PROGRESS,
            actor_id=liv,
            kind="measure_added",
            now=closed_at - timedelta(days=1),
            detail={"from": "new", "to": "in_progress", "measure": LIV_MEASURE},
            measure=handling.NewMeasure(LIV_MEASURE, "Kari Nordmann", date(2021, 12, 1)),
        )
        await handling.change_report(
            session,
            report_id=report_id,
            version=version,
            status=Status.CLOSED,
            actor_id=liv,
            kind="closed",
            now=closed_at,
            detail={"from": "in_progress", "to": "closed", "note": LIV_NOTE},
            changes=handling.Changes(cause=("staffing", LIV_CAUSE)),
        )
    return report_id


def address(conversation_id: str, aad: str) -> ConversationAddress:
    return ConversationAddress(
        conversation_id=conversation_id,
        conversation_type="personal",
        person_aad_object_id=aad,
        channel_id="msteams",
        service_url="https://smba.example.invalid/emea/",
        tenant_id="tenant",
        bot_id="28:avviksboten",
    )


async def chats(sessions: SessionFactory) -> None:
    """Kari and Per have talked to the bot: conversation references and dialog state."""
    async with sessions() as session, session.begin():
        for who in ("kari", "per"):
            await remember_conversation(session, address(f"a:1{who}-personal", f"aad-{who}"))
            for key in (
                f"msteams/conversations/a:1{who}-personal",
                f"msteams/conversations/a:1{who}-personal/users/29:1{who}",
            ):
                document = json.dumps({"draft": f"{who} skreiv noko"})
                session.add(BotState(key=key, document=document, e_tag="1"))
        # Someone else's conversation whose id starts the same must not be taken for Kari's.
        session.add(
            BotState(key="msteams/conversations/a:1kari-personal2", document="{}", e_tag="1")
        )


async def everything(sessions: SessionFactory) -> str:
    """Every value in every table, as one text to search in."""
    async with sessions() as session:
        rows = []
        for table in SQLModel.metadata.sorted_tables:
            rows += [repr(tuple(r)) for r in await session.execute(table.select())]
    return "\n".join(rows)


async def statistics(sessions: SessionFactory) -> Counter[tuple[Any, ...]]:
    async with sessions() as session:
        rows = await session.execute(
            select_columns(
                col(Report.case_number),
                col(Report.category),
                col(Report.severity),
                col(Report.harm),
                col(Report.unit_id),
                col(Report.unit_text),
                col(Report.status),
                col(Report.reported_at),
                col(Report.occurred_at),
            )
        )
        return Counter(tuple(r) for r in rows)


async def reports(sessions: SessionFactory) -> dict[int, Report]:
    async with sessions() as session:
        return {r.id: r for r in await session.scalars(select(Report)) if r.id is not None}


async def events_of(sessions: SessionFactory, report_id: int) -> list[ReportEvent]:
    async with sessions() as session:
        return list(
            await session.scalars(
                select(ReportEvent)
                .where(col(ReportEvent.report_id) == report_id)
                .order_by(col(ReportEvent.id))
            )
        )


# ---- retention --------------------------------------------------------------------------------


async def test_retention_anonymises_what_closed_five_years_and_a_day_ago_and_no_later(
    sessions: SessionFactory,
) -> None:
    voss = await make_voss(sessions)
    old = await a_report(
        sessions,
        unit_id=voss.home,
        reported_at=FIVE_YEARS_AGO - timedelta(days=30),
        closed_at=FIVE_YEARS_AGO - timedelta(days=1),
    )
    young = await a_report(
        sessions,
        unit_id=voss.home,
        reported_at=FIVE_YEARS_AGO - timedelta(days=30),
        closed_at=FIVE_YEARS_AGO + timedelta(days=1),
    )
    still_open = await a_report(sessions, reported_at=FIVE_YEARS_AGO - timedelta(days=400))
    before = await reports(sessions)
    statistics_before = await statistics(sessions)

    due = await run_retention(sessions, now=NOW, years=5)
    assert [d.report_id for d in due] == [old]
    assert due[0].closed_at == FIVE_YEARS_AGO - timedelta(days=1)

    after = await reports(sessions)
    report = after[old]
    assert report.reporter_id is None
    assert (report.description, report.location) == (ANONYMISED, ANONYMISED)
    assert (report.immediate_action, report.suggested_measure) == (ANONYMISED, ANONYMISED)
    # The cause's words are someone's; the cause itself is a code, and stays.
    assert (report.cause, report.cause_text) == ("staffing", ANONYMISED)
    # What the statistics count stays as it was.
    assert await statistics(sessions) == statistics_before
    assert (report.unit_id, report.status, report.reported_at) == (
        voss.home,
        "closed",
        before[old].reported_at,
    )
    events = await events_of(sessions, old)
    assert [e.kind for e in events] == ["created", "read", "measure_added", "closed", "anonymised"]
    assert all(e.actor_id is None for e in events)
    shown = " ".join(e.detail or "" for e in events)
    assert LIV_MEASURE not in shown
    assert LIV_NOTE not in shown
    assert json.loads(events[3].detail or "") == {
        "from": "in_progress",
        "to": "closed",
        "note": ANONYMISED,
    }
    async with sessions() as session:
        [measure] = await session.scalars(select(Measure).where(col(Measure.report_id) == old))
        cards = list(await session.scalars(select(ReportCard)))
    assert (measure.description, measure.owner, measure.created_by_id) == (
        ANONYMISED,
        ANONYMISED,
        None,
    )
    assert measure.due == date(2021, 12, 1)
    assert [c.report_id for c in cards] == [young]
    # The younger report and the open one are as they were.
    for kept in (young, still_open):
        assert after[kept].description == KARI_WROTE
        assert after[kept].reporter_id == before[kept].reporter_id is not None


async def test_retention_runs_once_and_a_dry_run_changes_nothing(sessions: SessionFactory) -> None:
    await make_voss(sessions)
    await a_report(sessions, closed_at=FIVE_YEARS_AGO - timedelta(days=1))
    untouched = await everything(sessions)
    [due] = await run_retention(sessions, now=NOW, years=5, dry_run=True)
    assert await everything(sessions) == untouched

    assert await run_retention(sessions, now=NOW, years=5) == [due]
    done = await everything(sessions)
    assert done.count("Kari Nordmann") == 1  # her person row; retention is about reports
    assert KARI_WROTE not in done
    # A second run, a year later too, finds nothing: the report is marked anonymised.
    assert await run_retention(sessions, now=NOW, years=5) == []
    assert await run_retention(sessions, now=NOW + timedelta(days=365), years=5) == []
    assert await everything(sessions) == done


# ---- export -----------------------------------------------------------------------------------


async def test_the_export_holds_karis_data_and_not_pers(sessions: SessionFactory) -> None:
    voss = await make_voss(sessions)
    karis = await a_report(sessions, unit_id=voss.school, reported_at=A_WEEK_AGO, closed_at=NOW)
    await a_report(sessions, reporter="aad-per", name="Per Hansen", description=PER_WROTE)
    await chats(sessions)
    async with sessions() as session:
        export = await export_person(session, aad_object_id="aad-kari", now=NOW)
    assert export is not None
    text = json.dumps(export, ensure_ascii=False)

    assert export["person"]["name"] == "Kari Nordmann"
    assert export["person"]["unit"]["name"] == "Vossevangen skule"
    assert export["roles"] == ["tilsett"]
    assert export["leads_units"] == []
    [report] = export["reports"]
    assert (report["case_number"], report["description"]) == ("2026-0001", KARI_WROTE)
    assert report["suggested_measure"] == "To på stell hos denne bebuaren."
    assert [(h["kind"], h["by"]) for h in report["history"]] == [
        ("created", "you"),
        ("read", "someone else"),
        ("measure_added", "someone else"),
        ("closed", "someone else"),
    ]
    # Liv's words and name, and the owner she wrote, are hers, not Kari's.
    assert report["history"][3]["detail"] == {"from": "in_progress", "to": "closed"}
    assert report["measures"] == [
        {
            "created_at": (NOW - timedelta(days=1)).isoformat(),
            "due": "2021-12-01",
            "done_at": None,
            "by": "someone else",
        }
    ]
    for others in ("Liv Leiar", "aad-liv", LIV_MEASURE, LIV_NOTE, "Per Hansen", "aad-per"):
        assert others not in text, others
    assert PER_WROTE not in text
    assert "per skreiv" not in text
    # How the bot reaches her, and what it keeps of their chat.
    assert [c["conversation_id"] for c in export["conversations"]] == ["a:1kari-personal"]
    assert [s["key"] for s in export["bot_state"]] == [
        "msteams/conversations/a:1kari-personal",
        "msteams/conversations/a:1kari-personal/users/29:1kari",
    ]
    assert export["bot_state"][0]["document"] == {"draft": "kari skreiv noko"}
    assert karis == 1


async def test_a_leaders_export_shows_what_they_did_and_not_the_reporter(
    sessions: SessionFactory,
) -> None:
    voss = await make_voss(sessions)
    await a_report(sessions, unit_id=voss.school, reported_at=A_WEEK_AGO, closed_at=NOW)
    async with sessions() as session:
        export = await export_person(session, aad_object_id="aad-liv", now=NOW)
    assert export is not None
    assert export["reports"] == []
    assert export["roles"] == ["leiar"]
    assert export["leads_units"] == [
        {
            "unit": {
                "id": voss.school,
                "code": "OPP-01",
                "name": "Vossevangen skule",
                "department": "Oppvekst",
            },
            "deputy": False,
        }
    ]
    assert [(a["case_number"], a["kind"]) for a in export["actions_on_other_reports"]] == [
        ("2026-0001", "read"),
        ("2026-0001", "measure_added"),
        ("2026-0001", "closed"),
    ]
    assert export["actions_on_other_reports"][2]["detail"]["note"] == LIV_NOTE
    [measure] = export["measures_written"]
    assert (measure["description"], measure["due"]) == (LIV_MEASURE, "2021-12-01")
    [card] = export["handling_cards_received"]
    assert (card["case_number"], card["conversation_id"]) == ("2026-0001", "a:1liv-personal")
    text = json.dumps(export, ensure_ascii=False)
    assert KARI_WROTE not in text
    assert "aad-kari" not in text


async def test_a_leaders_export_shows_the_nudges_they_got(sessions: SessionFactory) -> None:
    voss = await make_voss(sessions)
    async with sessions() as session, session.begin():
        liv = await session.scalar(select(Person).where(col(Person.aad_object_id) == "aad-liv"))
        assert liv is not None
        assert liv.id is not None
        session.add(Nudge(unit_id=voss.school, person_id=liv.id, month=202611, sent_at=NOW))
    async with sessions() as session:
        export = await export_person(session, aad_object_id="aad-liv", now=NOW)
    assert export is not None
    [nudge] = export["under_reporting_nudges"]
    assert (nudge["unit"]["name"], nudge["month"]) == ("Vossevangen skule", 202611)


async def test_nothing_to_export_about_a_stranger(sessions: SessionFactory) -> None:
    await make_voss(sessions)
    async with sessions() as session:
        assert await export_person(session, aad_object_id="aad-nobody", now=NOW) is None


# ---- forget -----------------------------------------------------------------------------------


async def test_forgetting_kari_keeps_the_statistics_and_no_trace_of_her(
    sessions: SessionFactory,
) -> None:
    voss = await make_voss(sessions)
    karis = await a_report(sessions, unit_id=voss.school, closed_at=NOW)
    await a_report(sessions, unit_id=voss.school)  # another, still open
    pers = await a_report(
        sessions, reporter="aad-per", name="Per Hansen", description=PER_WROTE, unit_id=voss.home
    )
    # Per's leader named her in the cause she recorded.
    async with sessions() as session, session.begin():
        await session.execute(
            update(Report)
            .where(col(Report.id) == pers)
            .values(cause="training", cause_text="Kari Nordmann hadde ikkje fått opplæring.")
        )
    await chats(sessions)
    kari = await person_id(sessions, "aad-kari")
    statistics_before = await statistics(sessions)
    assert "Kari Nordmann" in await everything(sessions)

    forgotten = await forget_person(sessions, aad_object_id="aad-kari", now=NOW)
    assert (forgotten.found, forgotten.reports, forgotten.conversations, forgotten.states) == (
        True,
        2,
        1,
        2,
    )
    assert forgotten.actions == 2  # the two «created» events
    assert forgotten.mentions == 2  # Per wrote her name, and his leader in the cause

    assert await statistics(sessions) == statistics_before
    left = await everything(sessions)
    for trace in ("Kari Nordmann", "aad-kari", KARI_WROTE, "kari skreiv", "a:1kari-personal'"):
        assert trace not in left, trace
    # Her reports are still there, unlinked, and what was written about them is gone.
    after = await reports(sessions)
    assert after[karis].reporter_id is None
    assert after[karis].description == ANONYMISED
    events = await events_of(sessions, karis)
    assert [e.kind for e in events] == [
        "created",
        "read",
        "measure_added",
        "closed",
        "reporter_erased",
    ]
    assert events[0].actor_id is None
    # Who handled it is the unit's HMS record and stays.
    assert {e.actor_id for e in events[1:4]} == {await person_id(sessions, "aad-liv")}
    assert LIV_NOTE not in left
    # Her person row is nobody now.
    async with sessions() as session:
        row = await session.get(Person, kari)
        refs = list(await session.scalars(select(col(ConversationRef.conversation_id))))
        states = list(await session.scalars(select(col(BotState.key)).order_by(BotState.key)))
    assert row is not None
    assert (row.name, row.upn, row.unit_id, row.language) == ("", None, None, None)
    assert row.aad_object_id.startswith("forgotten:")
    # Per's report is his, but for her name.
    assert after[pers].description == PER_WROTE.replace("Kari Nordmann", ANONYMISED)
    assert refs == ["a:1per-personal"]
    assert states == [
        "msteams/conversations/a:1kari-personal2",
        "msteams/conversations/a:1per-personal",
        "msteams/conversations/a:1per-personal/users/29:1per",
    ]
    assert "Per Hansen" in left


async def test_forgetting_twice_or_a_dry_run_changes_nothing(sessions: SessionFactory) -> None:
    await make_voss(sessions)
    await a_report(sessions, closed_at=NOW)
    await chats(sessions)
    untouched = await everything(sessions)
    counted = await forget_person(sessions, aad_object_id="aad-kari", now=NOW, dry_run=True)
    assert (counted.found, counted.reports, counted.conversations) == (True, 1, 1)
    assert await everything(sessions) == untouched

    await forget_person(sessions, aad_object_id="aad-kari", now=NOW)
    done = await everything(sessions)
    again = await forget_person(sessions, aad_object_id="aad-kari", now=NOW)
    assert not again.found
    assert await everything(sessions) == done


async def test_forgetting_a_leader_unlinks_their_actions_and_keeps_the_record(
    sessions: SessionFactory,
) -> None:
    voss = await make_voss(sessions)
    karis = await a_report(sessions, unit_id=voss.school, closed_at=NOW)
    forgotten = await forget_person(sessions, aad_object_id="aad-liv", now=NOW)
    assert (forgotten.reports, forgotten.actions) == (0, 4)  # read, measure, closed; the measure
    events = await events_of(sessions, karis)
    assert [e.actor_id is None for e in events] == [False, True, True, True]
    assert json.loads(events[3].detail or "")["note"] == LIV_NOTE
    left = await everything(sessions)
    assert "Liv Leiar" not in left
    assert "aad-liv" not in left
    async with sessions() as session:
        assert list(await session.scalars(select(ReportCard))) == []
    assert (await reports(sessions))[karis].description == KARI_WROTE


# ---- the command line -------------------------------------------------------------------------


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_url: str) -> str:
    """No secret and no dev mode: these commands serve nothing."""
    monkeypatch.setenv("AVVIK_ENV_FILE", str(tmp_path / "no.env"))
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    for key in ("MicrosoftAppId", "MicrosoftAppPassword", "AVVIK_DEV_MODE"):
        monkeypatch.delenv(key, raising=False)
    return sqlite_url


async def run_cli(*args: str) -> int:
    """`python -m bot …` in a thread: it calls asyncio.run (see tests/test_org_import.py)."""
    return await asyncio.to_thread(main, list(args))


async def seeded(url: str) -> SessionFactory:
    engine = create_async_db_engine(url)
    sessions = session_factory(engine)
    voss = await make_voss(sessions)
    await a_report(sessions, unit_id=voss.school, closed_at=datetime(2020, 1, 10, tzinfo=UTC))
    await a_report(sessions, reporter="aad-per", name="Per Hansen", description=PER_WROTE)
    await chats(sessions)
    await engine.dispose()
    return sessions


async def test_the_privacy_commands(
    cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await seeded(cli_env)

    out = tmp_path / "kari.json"
    assert await run_cli("privacy", "export", "--person", "aad-kari", "--out", str(out)) == 0
    export = json.loads(out.read_text("utf-8"))
    assert export["person"]["name"] == "Kari Nordmann"
    assert PER_WROTE not in out.read_text("utf-8")
    capsys.readouterr()
    assert await run_cli("privacy", "export", "--person", "aad-per") == 0
    assert json.loads(capsys.readouterr().out)["reports"][0]["description"] == PER_WROTE

    assert await run_cli("privacy", "retention", "--dry-run") == 0
    assert (
        "1 report(s) closed more than 5 year(s) ago would be anonymised (dry run):\n  2026-0001"
        in (capsys.readouterr().out)
    )
    assert await run_cli("privacy", "retention") == 0
    assert "1 report(s) closed more than 5 year(s) ago anonymised:" in capsys.readouterr().out
    assert await run_cli("privacy", "retention") == 0
    assert "0 report(s) closed more than 5 year(s) ago anonymised." in capsys.readouterr().out

    assert await run_cli("privacy", "forget", "--person", "aad-kari") == 0
    assert "Forgot aad-kari:" in capsys.readouterr().out
    assert await run_cli("privacy", "export", "--person", "aad-kari") == 2
    assert "nothing is kept about aad-kari" in capsys.readouterr().err
    assert await run_cli("privacy", "forget", "--person", "aad-kari") == 2
    assert await run_cli("privacy", "forget") == 2
    assert "needs --person" in capsys.readouterr().err
