"""Sick-leave figures from a CSV file: the parser on its own, the import on SQLite and
PostgreSQL (all or nothing, idempotent), and `python -m bot sickleave import`."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.cli.sick_leave import add_parser, run
from bot.config import Settings
from domain.readers.records import RowProblem
from domain.readers.sick_leave import (
    SickLeavePlan,
    SickLeaveRow,
    decode_sick_leave_csv,
    parse_sick_leave_csv,
)
from storage.db import SessionFactory, create_async_db_engine, session_factory
from storage.models import Department, SickLeave, Unit
from storage.sick_leave_import import (
    SickLeaveChanges,
    SickLeaveImportRefused,
    import_sick_leave_plan,
)
from tests.voss_org import make_voss

# As Excel in a Norwegian Windows writes it: semicolons, decimal commas.
EXCEL = """år;kvartal;eining;prosent
2025;K1;OPP-01;6,4
2025;K2;OPP-01;5,9
2025;Q1;HO-07;9,1
2025;1;;7,2
2025;2;sektor;6,8
"""


def plan_of(text: str) -> SickLeavePlan:
    plan = parse_sick_leave_csv(text)
    assert isinstance(plan, SickLeavePlan), [str(p) for p in plan]
    return plan


def problems_of(text: str) -> list[str]:
    plan = parse_sick_leave_csv(text)
    assert isinstance(plan, list), plan
    return [str(problem) for problem in plan]


# ---- the parser ---------------------------------------------------------------------------


def test_a_norwegian_excel_file() -> None:
    assert plan_of(EXCEL).rows == (
        SickLeaveRow(2, 2025, 1, "OPP-01", 6.4),
        SickLeaveRow(3, 2025, 2, "OPP-01", 5.9),
        SickLeaveRow(4, 2025, 1, "HO-07", 9.1),
        SickLeaveRow(5, 2025, 1, None, 7.2),  # empty unit: the municipal sector
        SickLeaveRow(6, 2025, 2, None, 6.8),
    )


def test_a_comma_separated_file_with_points_bom_and_crlf() -> None:
    text = "\ufeffYear,Quarter,Unit,Percent\r\n2024,q4,kommune,7.25\r\n\r\n2024,K 3,HO-07,8 %\r\n"
    assert plan_of(text).rows == (
        SickLeaveRow(2, 2024, 4, None, 7.25),
        SickLeaveRow(4, 2024, 3, "HO-07", 8.0),
    )


def test_columns_in_any_order_and_a_quoted_decimal_comma() -> None:
    text = 'unit,percent,quarter,year\nOPP-01,"4,5",3,2025\n'
    assert plan_of(text).rows == (SickLeaveRow(2, 2025, 3, "OPP-01", 4.5),)


def test_windows_1252_is_read_as_such() -> None:
    data = "year;quarter;unit;percent\n2025;K1;HO-ÅSEN;5,0\n2025;K1;BØ-1;4,0\n".encode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    rows = plan_of(decode_sick_leave_csv(data)).rows
    assert [row.unit_code for row in rows] == ["HO-ÅSEN", "BØ-1"]
    utf8 = "\ufeffyear;quarter;unit;percent\n2025;K1;HO-ÅSEN;5,0\n".encode()
    assert plan_of(decode_sick_leave_csv(utf8)).rows[0].unit_code == "HO-ÅSEN"


def test_every_bad_row_is_named_by_line_and_column() -> None:
    text = "\n".join(
        [
            "year;quarter;unit;percent",
            "2025;K1;OPP-01;6,4",
            "25;K1;OPP-01;6,4",
            "2025;K5;OPP-01;6,4",
            "2025;K2;OPP-01;101",
            "2025;K3;OPP-01;-1",
            "2025;K4;OPP-01;",
            "2025;1;OPP-01;6,5",  # the same unit and quarter as line 2
            "2025;K2;HO-07;1.234,5",
            "2025;K2;HO-07;3;x",
            "",
        ]
    )
    assert problems_of(text) == [
        "line 3, column year: must be a year from 2000 to 2100, not '25'",
        "line 4, column quarter: must be 1-4, K1-K4 or Q1-Q4, not 'K5'",
        "line 5, column percent: must be a percentage from 0 to 100, like 6,4 or 6.4, not '101'",
        "line 6, column percent: must be a percentage from 0 to 100, like 6,4 or 6.4, not '-1'",
        "line 7, column percent: required",
        "line 8: OPP-01 in Q1 2025 is already on line 2",
        "line 9, column percent: must be a percentage from 0 to 100, like 6,4 or 6.4, "
        "not '1.234,5'",
        "line 10: 5 values but the header has 4 columns; a decimal comma in a comma-separated "
        "file must be quoted, or use ;",
    ]


def test_an_unquoted_decimal_comma_in_a_comma_separated_file() -> None:
    [problem] = problems_of("year,quarter,unit,percent\n2025,1,OPP-01,6,4\n")
    assert problem.startswith("line 2: 5 values but the header has 4 columns; a decimal comma")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ["line 1: the file is empty; it needs a header: year;quarter;unit;percent"]),
        ("\n \n", ["line 1: the file is empty; it needs a header: year;quarter;unit;percent"]),
        ("year;quarter;unit;percent\n", ["line 1: no figures to import"]),
        (
            "year;quarter;percent\n2025;1;5\n",
            ["line 1, column unit: required column missing from the header"],
        ),
        (
            "year;quarter;unit;percent;name\n",
            ["line 1, column name: unknown column; the columns are year, quarter, unit, percent"],
        ),
        (
            'year;quarter;unit;percent\n2025;1;"OPP-01;5\n',
            ["line 2: not readable as CSV: unexpected end of data"],
        ),
    ],
    ids=["empty", "blank", "header only", "missing column", "unknown column", "stray quote"],
)
def test_files_that_are_not_figures(text: str, expected: list[str]) -> None:
    assert problems_of(text) == expected


def test_a_problem_reads_like_the_organisation_imports() -> None:
    assert str(RowProblem(3, "unit", "x")) == "line 3, column unit: x"


# ---- the import ---------------------------------------------------------------------------


async def figures(sessions: SessionFactory) -> dict[tuple[str | None, int, int], float]:
    async with sessions() as session:
        rows = await session.execute(
            select(col(Unit.code), col(SickLeave.year), col(SickLeave.quarter), SickLeave.percent)
            .select_from(SickLeave)
            .outerjoin(Unit, col(Unit.id) == col(SickLeave.unit_id))
        )
        return {(code, year, quarter): percent for code, year, quarter, percent in rows}


async def add_aasen(sessions: SessionFactory) -> None:
    async with sessions() as session, session.begin():
        helse = await session.scalar(
            select(col(Department.id)).where(col(Department.name) == "Helse og omsorg")
        )
        assert helse is not None
        session.add(Unit(code="HO-ÅSEN", name="Åsen omsorgssenter", department_id=helse))


async def test_the_figures_are_imported(sessions: SessionFactory) -> None:
    await make_voss(sessions)
    changes = await import_sick_leave_plan(sessions, plan_of(EXCEL))
    assert changes == SickLeaveChanges(added=5)
    assert await figures(sessions) == {
        ("OPP-01", 2025, 1): 6.4,
        ("OPP-01", 2025, 2): 5.9,
        ("HO-07", 2025, 1): 9.1,
        (None, 2025, 1): 7.2,
        (None, 2025, 2): 6.8,
    }


async def test_importing_again_changes_nothing(sessions: SessionFactory) -> None:
    await make_voss(sessions)
    await import_sick_leave_plan(sessions, plan_of(EXCEL))
    again = await import_sick_leave_plan(sessions, plan_of(EXCEL))
    assert again == SickLeaveChanges(unchanged=5)
    assert not again.changed
    assert len(await figures(sessions)) == 5


async def test_a_corrected_figure_replaces_the_old_one(sessions: SessionFactory) -> None:
    await make_voss(sessions)
    await import_sick_leave_plan(sessions, plan_of(EXCEL))
    corrected = "year;quarter;unit;percent\n2025;K1;OPP-01;6,1\n2025;K1;;7,2\n2025;K3;;6,0\n"
    changes = await import_sick_leave_plan(sessions, plan_of(corrected))
    assert changes == SickLeaveChanges(added=1, replaced=1, unchanged=1)
    found = await figures(sessions)
    assert found[("OPP-01", 2025, 1)] == 6.1
    assert found[("OPP-01", 2025, 2)] == 5.9  # not in the file: left alone
    assert found[(None, 2025, 3)] == 6.0
    async with sessions() as session:
        rows = await session.scalars(select(SickLeave))
        assert len(rows.all()) == 6  # replaced, not added beside


async def test_a_twin_left_by_two_imports_at_once_is_tidied(sessions: SessionFactory) -> None:
    voss = await make_voss(sessions)
    async with sessions() as session, session.begin():
        session.add_all(
            SickLeave(unit_id=voss.school, year=2025, quarter=1, percent=p) for p in (6.4, 6.4)
        )
    changes = await import_sick_leave_plan(sessions, plan_of(EXCEL))
    assert changes == SickLeaveChanges(added=4, replaced=1)
    async with sessions() as session:
        rows = await session.scalars(select(SickLeave).where(col(SickLeave.unit_id) == voss.school))
        assert sorted((r.quarter, r.percent) for r in rows) == [(1, 6.4), (2, 5.9)]


async def test_unknown_unit_codes_refuse_the_whole_file(sessions: SessionFactory) -> None:
    await make_voss(sessions)
    text = EXCEL + "2025;K1;NO-SUCH;3,0\n2025;K1;opp-01;3,0\n"
    with pytest.raises(SickLeaveImportRefused) as refused:
        await import_sick_leave_plan(sessions, plan_of(text))
    assert [str(p) for p in refused.value.problems] == [
        "line 7, column unit: no unit with code 'NO-SUCH'; leave it empty, or write sektor, "
        "for the municipal sector's figure",
        "line 8, column unit: no unit with code 'opp-01' (did you mean 'OPP-01'?); leave it "
        "empty, or write sektor, for the municipal sector's figure",
    ]
    assert await figures(sessions) == {}  # nothing, not even the good rows


async def test_a_dry_run_saves_nothing(sessions: SessionFactory) -> None:
    await make_voss(sessions)
    changes = await import_sick_leave_plan(sessions, plan_of(EXCEL), dry_run=True)
    assert changes == SickLeaveChanges(added=5)
    assert await figures(sessions) == {}


async def test_a_windows_1252_file_finds_its_unit(sessions: SessionFactory) -> None:
    await make_voss(sessions)
    await add_aasen(sessions)
    data = "year;quarter;unit;percent\n2025;K4;HO-ÅSEN;11,5\n".encode("cp1252")
    changes = await import_sick_leave_plan(sessions, plan_of(decode_sick_leave_csv(data)))
    assert changes == SickLeaveChanges(added=1)
    assert await figures(sessions) == {("HO-ÅSEN", 2025, 4): 11.5}


# ---- python -m bot sickleave import -------------------------------------------------------


def cli_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["sickleave", *argv])


async def run_cli(settings: Settings, *argv: str) -> int:
    """In a thread: the command calls asyncio.run (see tests/test_org_import.py)."""
    return await asyncio.to_thread(run, settings, cli_args(*argv))


async def test_the_command(
    sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = create_async_db_engine(sqlite_url)
    sessions = session_factory(engine)
    await make_voss(sessions)
    settings = Settings(dev_mode=True, database_url=sqlite_url)
    good = tmp_path / "sjukefravaer.csv"
    good.write_bytes(EXCEL.encode("cp1252"))

    assert await run_cli(settings, "import", "--dry-run", str(good)) == 0
    assert capsys.readouterr().out == (
        f"Dry run, nothing saved. Importing {good} would change:\n"
        "  sick-leave figures: 5 added, 0 replaced, 0 unchanged\n"
    )
    assert await figures(sessions) == {}
    assert await run_cli(settings, "import", str(good)) == 0
    assert capsys.readouterr().out.startswith(f"Imported {good}:\n  sick-leave figures: 5 added")
    assert await run_cli(settings, "import", str(good)) == 0
    assert capsys.readouterr().out.startswith("Nothing changed")

    bad = tmp_path / "bad.csv"
    bad.write_text("year;quarter;unit;percent\n2025;K9;OPP-01;5\n2025;K1;NO-SUCH;5\n", "utf-8")
    assert await run_cli(settings, "import", str(bad)) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        f"Nothing imported: 1 problem(s) in {bad}",
        "line 2, column quarter: must be 1-4, K1-K4 or Q1-Q4, not 'K9'",
    ]
    bad.write_text("year;quarter;unit;percent\n2025;K1;NO-SUCH;5\n", "utf-8")
    assert await run_cli(settings, "import", str(bad)) == 2
    assert "line 2, column unit: no unit with code 'NO-SUCH'" in capsys.readouterr().err
    assert await run_cli(settings, "import", str(tmp_path / "missing.csv")) == 2
    assert "cannot read" in capsys.readouterr().err
    assert len(await figures(sessions)) == 5
    await engine.dispose()
