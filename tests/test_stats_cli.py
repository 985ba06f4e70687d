"""`python -m bot stats` as an admin or adviser runs it: the JSON document, a department in
any case, the table, the files, and the answers to a year or department it cannot show."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import openpyxl
import pytest

from bot.cli.main import main
from storage.db import create_async_db_engine, session_factory
from tests.test_statistics_teams import _history
from tests.voss_org import make_voss


async def stats(*arguments: str) -> int:
    """`python -m bot stats …` in a thread: it calls asyncio.run."""
    return await asyncio.to_thread(main, ["stats", *arguments])


@pytest.fixture
async def town(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """School: 6 reports in 2025, 2 in 2024; home: 3 in 2025 (as in the Teams tests)."""
    engine = create_async_db_engine(database_url)
    voss = await make_voss(session_factory(engine))
    await engine.dispose()
    await _history(database_url, voss)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("AVVIK_ENV_FILE", "/dev/null")
    monkeypatch.setenv("AVVIK_LOG_LEVEL", "WARNING")
    return database_url


async def test_the_json_document(town: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert await stats("--year", "2025", "--json") == 0
    document = json.loads(capsys.readouterr().out)
    assert (document["document"], document["version"]) == ("avviksboten.statistics", 2)
    assert document["total"] == {"count": 9, "previous": 2, "change": 7, "change_percent": 350.0}
    assert document["months"][8]["count"] == 9  # all in September
    assert {d["department"]: d["count"] for d in document["departments"]} == {
        "Oppvekst": 6,
        "Helse og omsorg": 3,
    }
    assert document["quarters"][2]["sector_sick_leave_percent"] == 7.1
    # Nobody has acknowledged these nine: none in time, all open at the year's end.
    handling = document["handling"]
    assert (handling["reports"], handling["acknowledged"], handling["open_at_end"]) == (9, 0, 9)
    assert handling["acknowledged_within_2_working_days_share"] == 0.0
    assert handling["end"] == "2025-12-31T23:59:59.999999+01:00"


async def test_a_department_in_any_case(town: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert await stats("--year", "2025", "--json", "--department", "oppvekst") == 0
    document = json.loads(capsys.readouterr().out)
    assert document["scope"]["department"] == "Oppvekst"
    assert document["total"]["count"] == 6
    assert [u["unit"] for u in document["units"]] == ["Vossevangen skule"]


async def test_the_table_and_the_files(
    town: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    xlsx, csv, charts = tmp_path / "a.xlsx", tmp_path / "a.csv", tmp_path / "charts"
    arguments = ["--xlsx", str(xlsx), "--csv", str(csv), "--charts", str(charts)]
    assert await stats("--year", "2025", "--language", "en", *arguments) == 0
    table = capsys.readouterr().out
    assert table.startswith("Deviations 2025 – the whole municipality")
    assert "Vossevangen skule" in table
    assert len(list(charts.glob("avvik-*-2025.png"))) == 4
    assert "Bu- og miljøteneste aust" in csv.read_text("utf-8-sig")
    assert openpyxl.load_workbook(xlsx).sheetnames


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        (["--year", "1999"], "--year must be from 2000"),
        (["--year", "2025", "--department", "Økonomi"], "no department named 'Økonomi'"),
    ],
)
async def test_what_cannot_be_shown_exits_2(
    town: str, capsys: pytest.CaptureFixture[str], arguments: list[str], said: str
) -> None:
    assert await stats(*arguments) == 2
    assert said in capsys.readouterr().err
