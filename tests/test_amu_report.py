"""The AMU report (issue 14): `python -m bot report amu --quarter … --out FILE.pdf` writes a PDF
and an XLSX of the same tables; the quarter beside the same quarter a year before, handling,
causes and duties; a quarter that cannot be shown is a clear answer, a quarter without avvik a
report that says so."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from bot.cli.main import main
from bot.statistics.amu import gather_amu, intro, tables
from domain.access import EVERYTHING
from domain.quarters import QuarterPeriod, QuarterProblem, parse_quarter
from domain.working_time import WorkingCalendar
from storage.db import SessionFactory, create_async_db_engine, session_factory
from storage.models import Report, ReportDuty
from tests.chat import CATALOGUES, NN
from tests.test_handling_times import report_fields
from tests.voss_org import make_voss

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("2025Q3", QuarterPeriod(2025, 3)),
        ("2025k3", QuarterPeriod(2025, 3)),
        (" 2025-Q4 ", QuarterPeriod(2025, 4)),
        ("2026Q4", QuarterPeriod(2026, 4)),  # under way: shown as far as it has come
        ("2025Q5", QuarterProblem.NUMBER),
        ("2025Q0", QuarterProblem.NUMBER),
        ("Q3", QuarterProblem.MALFORMED),
        ("2025", QuarterProblem.MALFORMED),
        ("tredje kvartal", QuarterProblem.MALFORMED),
        ("2027Q1", QuarterProblem.FUTURE),
        ("1999Q4", QuarterProblem.TOO_EARLY),
    ],
)
def test_a_quarter_as_people_write_it(text: str, found: QuarterPeriod | QuarterProblem) -> None:
    assert parse_quarter(text, now=NOW) == found


def _report(key: str, unit_id: int, at: datetime, **values: Any) -> Report:
    return Report(**{**report_fields(key, unit_id, at, "violence_threats"), **values})


async def _quarter_of_voss(sessions: SessionFactory) -> None:
    """2025 Q3: three at the school (one closed with a cause, one judged lower, one with its
    kap. 23A duties waiting), one at the home; 2024 Q3: one at the school. One in October."""
    voss = await make_voss(sessions)
    september = datetime(2025, 9, 1, 8, 0, tzinfo=UTC)  # a Monday, 10:00 in Voss
    async with sessions() as session, session.begin():
        closed = _report(
            "2025-0001",
            voss.school,
            september,
            status="closed",
            acknowledged_at=datetime(2025, 9, 1, 12, 0, tzinfo=UTC),
            closed_at=datetime(2025, 9, 5, 8, 0, tzinfo=UTC),
            cause="staffing",
        )
        judged = _report(
            "2025-0002",
            voss.school,
            september,
            status="acknowledged",
            severity="low",
            reported_severity="medium",
            acknowledged_at=datetime(2025, 9, 2, 8, 0, tzinfo=UTC),
        )
        waiting = _report("2025-0003", voss.school, september, harm="injury")
        session.add_all(
            [
                closed,
                judged,
                waiting,
                _report("2025-0004", voss.home, september, category="fall_accident"),
                _report("2024-0001", voss.school, datetime(2024, 8, 1, 8, 0, tzinfo=UTC)),
                _report("2025-0005", voss.school, datetime(2025, 10, 1, 8, 0, tzinfo=UTC)),
            ]
        )
        await session.flush()
        assert closed.id is not None
        session.add(
            ReportDuty(
                report_id=closed.id,
                duty="debrief",
                answer="done",
                answered_at=datetime(2025, 9, 2, 8, 0, tzinfo=UTC),
            )
        )


async def report_command(*arguments: str) -> int:
    return await asyncio.to_thread(main, ["report", "amu", *arguments])


@pytest.fixture
async def town(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    engine = create_async_db_engine(database_url)
    await _quarter_of_voss(session_factory(engine))
    await engine.dispose()
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("AVVIK_ENV_FILE", "/dev/null")
    monkeypatch.setenv("AVVIK_LOG_LEVEL", "WARNING")
    return database_url


def sheet(book: openpyxl.Workbook, title: str) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in book[title].iter_rows(values_only=True)]


async def test_the_quarter_as_pdf_and_xlsx(
    town: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "amu.pdf"
    assert await report_command("--quarter", "2025Q3", "--out", str(out)) == 0
    assert "4 reports (1 in 2024)" in capsys.readouterr().out
    pdf = out.read_bytes()
    assert pdf.startswith(b"%PDF-")
    # Tables and the four charts: more than one page, fonts for æøå embedded.
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf)) >= 3
    assert b"DejaVu" in pdf
    book = openpyxl.load_workbook(tmp_path / "amu.xlsx")
    overview = sheet(book, NN("amu.heading_overview"))
    assert overview[0] == (None, "3. kvartal 2025", "3. kvartal 2024", "Endring")
    assert overview[1][:3] == ("Totalt", 4, 1)  # October's report is not in the quarter
    assert overview[2][:3] == (NN("severity.low"), 1, 0)  # the judged one counts as low
    departments = {row[0]: row[1] for row in sheet(book, NN("amu.heading_department"))[1:]}
    assert departments == {"Oppvekst": 3, "Helse og omsorg": 1}
    causes = sheet(book, NN("amu.heading_causes"))
    assert causes[1] == ("Bemanning", 1)
    handling = sheet(book, NN("amu.heading_handling"))
    assert handling[1][:2] == ("Totalt", 4)
    assert handling[1][-1] == 3  # open at the quarter's end: all but the one closed
    duties = sheet(book, NN("amu.heading_duties")[:28])
    waiting = {(row[0], row[2]) for row in duties[1:]}
    # 2025-0003: hurt, vald og truslar: NAV and the kap. 23A three; 2025-0001's debrief done
    # but it is closed; 2025-0002 (vald og truslar) waits for its kap. 23A answers too.
    assert ("2025-0003", NN("duty.nav_injury")) in waiting
    assert ("2025-0003", NN("duty.debrief")) in waiting
    assert all(case != "2025-0001" for case, _ in waiting)


async def test_a_department_only(
    town: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "oppvekst.pdf"
    assert (
        await report_command(
            "--quarter", "2025Q3", "--department", "oppvekst", "--language", "en", "--out", str(out)
        )
        == 0
    )
    book = openpyxl.load_workbook(tmp_path / "oppvekst.xlsx")
    overview = sheet(book, "Total and severity")
    assert overview[1][:3] == ("Total", 3, 1)


@pytest.mark.parametrize(
    ("quarter", "said"),
    [
        ("2025Q5", NN("amu.problem_number")),
        ("Q3", NN("amu.problem_malformed")),
        ("2099Q1", NN("amu.problem_future")),
        ("1999Q4", NN("amu.problem_too_early")),
    ],
)
async def test_a_quarter_that_cannot_be_shown_writes_nothing(
    town: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], quarter: str, said: str
) -> None:
    out = tmp_path / "amu.pdf"
    assert await report_command("--quarter", quarter, "--out", str(out)) == 2
    assert said in capsys.readouterr().err
    assert not out.exists()


async def test_an_unknown_department_writes_nothing(
    town: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "amu.pdf"
    arguments = ["--quarter", "2025Q3", "--department", "Økonomi", "--out", str(out)]
    assert await report_command(*arguments) == 2
    assert "no department named 'Økonomi'" in capsys.readouterr().err
    assert not out.exists()


async def test_a_quarter_without_avvik_says_so(sessions: SessionFactory, tmp_path: Path) -> None:
    await _quarter_of_voss(sessions)
    async with sessions() as session:
        report = await gather_amu(
            session,
            period=QuarterPeriod(2023, 2),
            scope=EVERYTHING,
            now=NOW,
            calendar=WorkingCalendar(),
        )
    assert not report.has_reports
    assert intro(report, CATALOGUES["nn"]) == [
        NN("amu.no_reports", period="2. kvartal 2023", previous="2. kvartal 2022")
    ]
    overview = tables(report, CATALOGUES["nn"])[0]
    assert overview.rows[0][:3] == ("Totalt", "0", "0")


async def test_out_must_be_a_pdf(
    town: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "amu.xlsx"
    assert await report_command("--quarter", "2025Q3", "--out", str(out)) == 2
    assert "ends in .pdf" in capsys.readouterr().err
    assert not out.exists()


async def test_a_quarter_under_way_shows_no_change_yet(sessions: SessionFactory) -> None:
    await _quarter_of_voss(sessions)
    async with sessions() as session:
        report = await gather_amu(
            session,
            period=QuarterPeriod(2025, 4),
            scope=EVERYTHING,
            now=datetime(2025, 10, 10, 12, 0, tzinfo=UTC),
            calendar=WorkingCalendar(),
        )
    texts = CATALOGUES["nn"]
    lines = intro(report, texts)
    assert lines[0] == NN("amu.so_far", date="10.10.2025")
    assert lines[1].startswith("1 avvik er melde så langt i 4. kvartal 2025")
    overview = tables(report, texts)[0]
    assert overview.rows[0] == ("Totalt", "1", "0", "–")
