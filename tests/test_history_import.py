"""`python -m bot history import`: the history in the database, on SQLite and PostgreSQL."""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlmodel import col

from bot.cards.handling import handling_card
from bot.cli import history as history_cli
from bot.config import load_settings
from domain.access import Actor
from domain.i18n import Catalogues
from domain.readers.history import COLUMNS, HistoryFile, parse_history_csv
from domain.readers.organisation import OrgPlan, parse_org_csv
from domain.vocabulary import Role
from storage.db import SessionFactory
from storage.handling import handling_view, open_reports
from storage.history_import import (
    HistoryImported,
    HistoryImportRefused,
    import_history,
    summary_lines,
)
from storage.models import CaseCounter, Department, Measure, Report, ReportEvent, Unit
from storage.org_import import Tally, import_org_plan
from storage.reports import submit_report
from tests.categories import DEFAULT
from tests.test_history_csv import lines, row
from tests.test_reports_storage import new_report

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def history_of(data: bytes) -> HistoryFile:
    history = parse_history_csv(data, now=NOW, categories=DEFAULT)
    assert isinstance(history, HistoryFile), [str(p) for p in history]
    return history


async def load(
    sessions: SessionFactory, *rows: str, skip_invalid: bool = False, dry_run: bool = False
) -> HistoryImported:
    history = history_of(lines(*rows))
    return await import_history(sessions, history, skip_invalid=skip_invalid, dry_run=dry_run)


_SNAPSHOT = {
    "department": "SELECT * FROM department ORDER BY id",
    "unit": "SELECT * FROM unit ORDER BY id",
    "report": "SELECT * FROM report ORDER BY id",
    "report_event": "SELECT * FROM report_event ORDER BY id",
    "measure": "SELECT * FROM measure ORDER BY id",
    "case_counter": "SELECT * FROM case_counter ORDER BY year",
}


async def snapshot(sessions: SessionFactory) -> dict[str, list[tuple[object, ...]]]:
    async with sessions() as session:
        return {
            table: [tuple(r) for r in await session.execute(text(query))]
            for table, query in _SNAPSHOT.items()
        }


async def reports(sessions: SessionFactory) -> list[Report]:
    async with sessions() as session:
        found = await session.execute(select(Report).order_by(col(Report.case_number)))
        return list(found.scalars())


async def units(sessions: SessionFactory) -> dict[tuple[str, str], Unit]:
    async with sessions() as session:
        rows = await session.execute(
            select(col(Department.name), Unit).join(
                Unit, col(Unit.department_id) == col(Department.id)
            )
        )
        return {(department, unit.name): unit for department, unit in rows}


async def add_unit(sessions: SessionFactory, department: str, name: str, code: str) -> None:
    async with sessions() as session, session.begin():
        holder = Department(name=department)
        session.add(holder)
        await session.flush()
        assert holder.id is not None
        session.add(Unit(code=code, name=name, department_id=holder.id, headcount=10))


SCHOOL = {"department": "Oppvekst", "unit": "Vossevangen skule"}
HOME = {"department": "Helse og omsorg", "unit": "Vossatun sjukeheim"}


# ---- importing ------------------------------------------------------------------------------


async def test_an_import_creates_reports_departments_and_units(sessions: SessionFactory) -> None:
    result = await load(
        sessions,
        row(**SCHOOL, measure="Ny rutine", status="Lukka", closed_at="2025-09-20 09:30"),
        row(**HOME, reported_at="2025-09-05", occurred_at="04.09.2025", harm=""),
        row(
            department="  OPPVEKST ",  # the department of the first row, in another case
            unit="vossevangen SKULE",
            reported_at="2024-12-31 23:30",
            occurred_at="2024-12-31 22:00",
        ),
    )
    assert (result.imported, result.already_imported, result.rejected) == (3, 0, ())
    assert result.departments_created == ["Helse og omsorg", "Oppvekst"]
    assert result.units_created == [
        ("Helse og omsorg", "Vossatun sjukeheim"),
        ("Oppvekst", "Vossevangen skule"),
    ]
    assert result.case_numbers == {
        2024: ("2024-0001", "2024-0001"),
        2025: ("2025-0001", "2025-0002"),
    }
    assert summary_lines(result)[:6] == [
        "reports imported: 3 (case numbers 2024-0001 to 2024-0001, 2025-0001 to 2025-0002)",
        "already imported before: 0",
        "repeated in the file, imported once: 0",
        "rows rejected: 0",
        "departments created: Helse og omsorg, Oppvekst",
        "units created: 2",
    ]
    assert summary_lines(result)[6:] == [
        "  Helse og omsorg: Vossatun sjukeheim",
        "  Oppvekst: Vossevangen skule",
    ]

    december, closed, home = await reports(sessions)
    the_units = await units(sessions)
    school = the_units[("Oppvekst", "Vossevangen skule")]
    assert (school.code, school.headcount) == (None, None)
    assert december.unit_id == closed.unit_id == school.id
    assert home.unit_id == the_units[("Helse og omsorg", "Vossatun sjukeheim")].id
    # Numbered by when they were reported, within the Norwegian year.
    assert (closed.case_number, home.case_number) == ("2025-0001", "2025-0002")
    assert closed.reported_month == 202509
    assert december.reported_month == 202412
    for report in (december, closed, home):
        assert (report.source, report.reporter_id, report.language, report.anonymous) == (
            "import",
            None,
            "nn",
            False,
        )
        assert (report.unit_text, report.suggested_measure, report.version) == (None, None, 1)
    assert (closed.status, closed.harm, closed.severity, closed.category) == (
        "closed",
        "injury",
        "medium",
        "violence_threats",
    )
    assert closed.updated_at == datetime(2025, 9, 20, 7, 30, tzinfo=UTC)
    assert (home.status, home.harm, home.occurred_time_known) == ("new", "", False)
    assert home.occurred_at == datetime(2025, 9, 4, 10, 0, tzinfo=UTC)

    async with sessions() as session:
        events = (
            (await session.execute(select(ReportEvent).order_by(col(ReportEvent.id))))
            .scalars()
            .all()
        )
        measures = (await session.execute(select(Measure))).scalars().all()
    by_report: dict[tuple[int | None, str], ReportEvent] = {
        (e.report_id, e.kind): e for e in events
    }
    assert len(events) == 4
    created = by_report[(closed.id, "created")]
    assert (json.loads(created.detail or ""), created.at, created.actor_id) == (
        {"imported": True, "line": 2},
        closed.reported_at,
        None,
    )
    closing = by_report[(closed.id, "closed")]
    assert (json.loads(closing.detail or ""), closing.at) == ({"imported": True}, closed.updated_at)
    assert json.loads(by_report[(home.id, "created")].detail or "") == {"imported": True, "line": 3}
    (measure,) = measures
    assert (measure.report_id, measure.description, measure.owner) == (closed.id, "Ny rutine", "")
    assert (measure.due, measure.done_at) == (date(2025, 9, 20), closed.updated_at)


async def test_a_second_import_adds_nothing(sessions: SessionFactory) -> None:
    source = (row(**SCHOOL), row(**HOME, status="Lukka", measure="Tiltak"), row(**SCHOOL, harm=""))
    await load(sessions, *source)
    before = await snapshot(sessions)
    again = await load(sessions, *source)
    assert (again.imported, again.already_imported) == (0, 3)
    assert (again.departments_created, again.units_created, again.case_numbers) == ([], [], {})
    assert await snapshot(sessions) == before
    # A later export that overlaps brings only what is new.
    more = await load(sessions, *source, row(**SCHOOL, description="Ny hending"))
    assert (more.imported, more.already_imported) == (1, 3)
    assert more.case_numbers == {2025: ("2025-0004", "2025-0004")}


async def test_a_row_twice_in_the_file_is_imported_once(sessions: SessionFactory) -> None:
    result = await load(sessions, row(**SCHOOL), row(**HOME), row(**SCHOOL))
    assert result.imported == 2
    assert [str(r) for r in result.repeated] == ["line 4: same as line 2; imported once"]
    assert summary_lines(result)[2] == "repeated in the file, imported once: 1"
    assert summary_lines(result)[-1] == "line 4: same as line 2; imported once"


async def test_one_bad_row_and_nothing_is_imported(sessions: SessionFactory) -> None:
    await load(sessions, row(**SCHOOL))
    await add_unit(sessions, "Teknisk", "Veg og park", "TEK-VEG")
    before = await snapshot(sessions)
    history = history_of(
        lines(
            row(**HOME), row(**SCHOOL, severity="Kritisk"), row(department="Skule", unit="TEK-VEG")
        )
    )
    with pytest.raises(HistoryImportRefused) as refused:
        await import_history(sessions, history)
    assert [str(p) for p in refused.value.problems] == [
        "line 3, column severity: unknown severity 'Kritisk'; use Låg, Middels or Høg "
        "(or Lav/Høy, low…)",
        "line 4, column unit: unit TEK-VEG is in Teknisk, not in the department given",
    ]
    assert refused.value.rejected_rows == 2
    assert await snapshot(sessions) == before


async def test_skip_invalid_imports_the_rest(sessions: SessionFactory) -> None:
    await add_unit(sessions, "Teknisk", "Veg og park", "TEK-VEG")
    history = history_of(
        lines(
            row(**HOME),
            row(**SCHOOL, severity="Kritisk", occurred_at="i går"),
            row(department="Skule", unit="TEK-VEG"),
            row(department="Skule", unit="TEK-VEG"),
            row(**SCHOOL),
        )
    )
    result = await import_history(sessions, history, skip_invalid=True)
    assert (result.imported, result.rejected_rows, result.accepted) == (2, 3, 2)
    assert [(p.line, p.column) for p in result.rejected] == [
        (3, "occurred_at"),
        (3, "severity"),
        (4, "unit"),
        (5, None),  # the same as the rejected line 4: not imported either
    ]
    assert result.repeated == ()
    assert result.departments_created == ["Helse og omsorg", "Oppvekst"]
    assert [r.unit_id is not None for r in await reports(sessions)] == [True, True]
    # The file fixed and imported again: only the rows that were rejected come in.
    fixed = await load(sessions, row(**HOME), row(**SCHOOL, severity="Høg"), row(**SCHOOL))
    assert (fixed.imported, fixed.already_imported) == (1, 2)


async def test_a_dry_run_writes_nothing(sessions: SessionFactory) -> None:
    before = await snapshot(sessions)
    result = await load(sessions, row(**SCHOOL), row(**HOME), dry_run=True)
    assert (result.imported, len(result.units_created)) == (2, 2)
    assert await snapshot(sessions) == before


async def test_case_numbers_continue_the_bots_counter(sessions: SessionFactory) -> None:
    bot_report = datetime(2025, 10, 1, 8, 0, tzinfo=UTC)
    first = await submit_report(sessions, new_report(reported_at=bot_report))
    assert first.case_number == "2025-0001"
    result = await load(
        sessions,
        row(**SCHOOL),
        row(**HOME),
        row(**HOME, reported_at="2025-01-01 00:10", occurred_at="2024-12-31 23:00"),
    )
    assert result.case_numbers == {2025: ("2025-0002", "2025-0004")}
    after = await submit_report(sessions, new_report(reported_at=bot_report))
    assert after.case_number == "2025-0005"
    numbers = [r.case_number for r in await reports(sessions)]
    assert numbers == ["2025-0001", "2025-0002", "2025-0003", "2025-0004", "2025-0005"]
    async with sessions() as session:
        counter = await session.get(CaseCounter, 2025)
    assert counter is not None
    assert counter.last == 5


async def test_a_unit_is_found_by_name_or_code(sessions: SessionFactory) -> None:
    await add_unit(sessions, "Oppvekst", "Vossevangen skule", "OPP-VVS")
    result = await load(
        sessions,
        row(department="OPPVEKST", unit="  vossevangen   skule "),
        row(department="Oppvekst", unit="opp-vvs", description="Anna sak"),
    )
    assert (result.imported, result.departments_created, result.units_created) == (2, [], [])
    school = (await units(sessions))[("Oppvekst", "Vossevangen skule")]
    assert {r.unit_id for r in await reports(sessions)} == {school.id}


async def test_a_unit_code_of_another_department_is_refused(sessions: SessionFactory) -> None:
    await add_unit(sessions, "Oppvekst", "Vossevangen skule", "OPP-VVS")
    with pytest.raises(HistoryImportRefused) as refused:
        await load(sessions, row(department="Teknisk", unit="OPP-VVS"))
    assert [str(p) for p in refused.value.problems] == [
        "line 2, column unit: unit OPP-VVS is in Oppvekst, not in the department given"
    ]


async def test_the_organisation_import_adopts_a_unit_the_history_made(
    sessions: SessionFactory,
) -> None:
    await load(sessions, row(**SCHOOL), row(**HOME))
    made = (await units(sessions))[("Oppvekst", "Vossevangen skule")]
    plan = parse_org_csv(
        "kind,id,name,department,headcount\n"
        "unit,OPP-VVS,Vossevangen skule,Oppvekst,62\n"
        "unit,HO-VT,Vossatun sjukeheim,Helse og omsorg,90\n"
    )
    assert isinstance(plan, OrgPlan)
    changes = await import_org_plan(sessions, plan)
    assert changes.units == Tally(updated=2)
    assert changes.departments == Tally(unchanged=2)
    after = await units(sessions)
    school = after[("Oppvekst", "Vossevangen skule")]
    assert (school.id, school.code, school.headcount) == (made.id, "OPP-VVS", 62)
    assert len(after) == 2
    assert {r.unit_id for r in await reports(sessions)} == {
        school.id,
        after[("Helse og omsorg", "Vossatun sjukeheim")].id,
    }


async def test_the_adopted_unit_may_be_spelt_in_another_case(sessions: SessionFactory) -> None:
    await load(sessions, row(department="Oppvekst", unit="vossevangen skule"))
    [made] = (await units(sessions)).values()
    plan = parse_org_csv("kind,id,name,department\nunit,OPP-VVS,Vossevangen skule,Oppvekst\n")
    assert isinstance(plan, OrgPlan)
    assert (await import_org_plan(sessions, plan)).units == Tally(updated=1)
    [school] = (await units(sessions)).values()
    # One unit, with the organisation's code and spelling, and the history's reports.
    assert (school.id, school.code, school.name) == (made.id, "OPP-VVS", "Vossevangen skule")


async def test_imported_open_reports_do_not_bury_todays_in_open_reports(
    sessions: SessionFactory,
) -> None:
    await load(sessions, row(**SCHOOL, status="Ny"))
    await submit_report(sessions, new_report(submission_key="today"))
    adviser = Actor(person_id=None, roles=frozenset({Role.ADVISER}))
    async with sessions() as session:
        waiting = await open_reports(session, actor=adviser)
    assert [line.case_number for line in waiting] == ["2026-0001"]


async def test_an_imported_report_without_harm_shows_on_a_handling_card(
    sessions: SessionFactory,
) -> None:
    await load(sessions, row(**SCHOOL, harm=""))
    (report,) = await reports(sessions)
    assert report.id is not None
    async with sessions() as session:
        view = await handling_view(session, report_id=report.id)
    nynorsk = Catalogues()["nn"]
    card = handling_card(
        nynorsk, view, DEFAULT, show_reporter=True, can_handle=True, today=NOW.date()
    )
    assert nynorsk("harm_short.unknown") in json.dumps(card, ensure_ascii=False)


# ---- the command line -----------------------------------------------------------------------


def command(*arguments: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot")
    history_cli.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["history", "import", *arguments])


async def run(database_url: str, *arguments: str) -> int:
    """The command, in a thread: it calls asyncio.run (see tests/test_org_import.py)."""
    settings = load_settings({"DATABASE_URL": database_url}, serving=False)
    return await asyncio.to_thread(history_cli.run, settings, command(*arguments), now=NOW)


async def count_reports(sessions: SessionFactory) -> int:
    return len(await reports(sessions))


async def test_the_command_imports_then_finds_nothing_new(
    database_url: str, sessions: SessionFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "historikk.csv"
    path.write_bytes(lines(row(**SCHOOL), row(**HOME), row(**SCHOOL)))

    assert await run(database_url, "--dry-run", str(path)) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Dry run, nothing saved. Importing {path} (read as UTF-8) would give:")
    assert await count_reports(sessions) == 0

    assert await run(database_url, str(path)) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        f"Imported {path} (read as UTF-8):",
        "  reports imported: 2 (case numbers 2025-0001 to 2025-0002)",
        "  already imported before: 0",
        "  repeated in the file, imported once: 1",
        "  rows rejected: 0",
        "  departments created: Helse og omsorg, Oppvekst",
        "  units created: 2",
        "    Helse og omsorg: Vossatun sjukeheim",
        "    Oppvekst: Vossevangen skule",
        "  line 4: same as line 2; imported once",
    ]
    assert captured.err == ""  # no progress bar where stderr is not a terminal

    assert await run(database_url, str(path)) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Nothing new: every report in {path} is already imported")
    assert "already imported before: 2" in out
    assert await count_reports(sessions) == 2


async def test_the_command_refuses_a_bad_file_and_exits_2(
    database_url: str, sessions: SessionFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "historikk.csv"
    path.write_bytes(lines(row(**SCHOOL), row(**HOME, reported_at="2025-13-01"), row(**HOME)))
    assert await run(database_url, str(path)) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        f"Nothing imported: 1 problem(s) in {path}, 1 row(s) rejected",
        "line 3, column reported_at: '2025-13-01' is no such date or time (month must be in 1..12)",
        "Fix them, or run again with --skip-invalid to import the other rows.",
    ]
    assert await count_reports(sessions) == 0

    assert await run(database_url, "--skip-invalid", str(path)) == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        f"Rejected 1 row(s) of {path}, not imported:",
        "line 3, column reported_at: '2025-13-01' is no such date or time (month must be in 1..12)",
    ]
    assert "  reports imported: 2 (case numbers 2025-0001 to 2025-0002)" in captured.out
    assert "  rows rejected: 1" in captured.out
    assert await count_reports(sessions) == 2

    path.write_bytes(lines(row(**SCHOOL, severity="?")))
    assert await run(database_url, "--skip-invalid", str(path)) == 2
    assert "Nothing imported: no row of" in capsys.readouterr().out

    path.write_bytes(b"")
    assert await run(database_url, str(path)) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"Nothing imported: 1 problem(s) in {path}",
        f"line 1: the file is empty; it needs a header: {','.join(COLUMNS)}",
    ]

    assert await run(database_url, str(tmp_path / "missing.csv")) == 2
    assert "cannot read" in capsys.readouterr().err
    assert await count_reports(sessions) == 2


async def test_the_command_says_which_encoding_it_read(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "historikk.csv"
    path.write_bytes(
        lines(row(department="Rådmannens stab", unit="Økonomi")).decode().encode("cp1252")
    )
    assert await run(database_url, str(path)) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Imported {path} (read as Windows-1252):")
    assert "Rådmannens stab: Økonomi" in out
