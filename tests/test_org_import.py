"""`python -m bot org import`: the organisation file, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlmodel import col

from bot.cli.main import main
from domain.readers.organisation import OrgPlan, decode_org_csv, parse_org_csv
from domain.readers.records import RowProblem
from storage.db import SessionFactory, create_sync_db_engine
from storage.models import Person, PersonRole, Unit, UnitLeader
from storage.org_import import OrgChanges, OrgImportRefused, Tally, import_org_plan
from storage.organisation import choose_language, language_of, unit_of_person

SAMPLE = Path(__file__).resolve().parents[1] / "docs" / "organisation-sample.csv"
SAMPLE_TEXT = SAMPLE.read_text("utf-8")
P = "5b0d7c51-0a4e-4e8f-9f0a-00000000a"
KARI, LIV, HANNE, PER, INGRID, SIRI, OLA, MARIT, NILS = (P + f"{n:03d}" for n in range(1, 10))
HEADER = "kind,id,name,department,unit,headcount,upn,roles,leaders,deputies"


def unit(code: str, name: str, department: str, headcount: str = "", leaders: str = "") -> str:
    return f"unit,{code},{name},{department},,{headcount},,,{leaders},"


def person(object_id: str, name: str, unit_code: str = "", roles: str = "") -> str:
    return f"person,{object_id},{name},,{unit_code},,,{roles},,"


def csv(*lines: str) -> str:
    return "\n".join(lines) + "\n"


def plan_of(source: str) -> OrgPlan:
    plan = parse_org_csv(source)
    assert isinstance(plan, OrgPlan), [str(p) for p in plan]
    return plan


async def load(sessions: SessionFactory, source: str) -> OrgChanges:
    return await import_org_plan(sessions, plan_of(source))


_SNAPSHOT = {
    "department": "SELECT * FROM department ORDER BY id",
    "unit": "SELECT * FROM unit ORDER BY id",
    "person": "SELECT * FROM person ORDER BY id",
    "person_role": "SELECT * FROM person_role ORDER BY person_id, role",
    "unit_leader": "SELECT * FROM unit_leader ORDER BY unit_id, person_id",
}


async def snapshot(sessions: SessionFactory) -> dict[str, list[tuple[object, ...]]]:
    async with sessions() as session:
        return {
            table: [tuple(row) for row in await session.execute(text(query))]
            for table, query in _SNAPSHOT.items()
        }


async def roles(sessions: SessionFactory, object_id: str) -> set[str]:
    async with sessions() as session:
        rows = await session.execute(
            select(col(PersonRole.role))
            .join(Person, col(Person.id) == col(PersonRole.person_id))
            .where(col(Person.aad_object_id) == object_id)
        )
        return set(rows.scalars())


async def leaders(sessions: SessionFactory, code: str) -> dict[str, bool]:
    """Object id → deputy, for the unit's leader links."""
    async with sessions() as session:
        rows = await session.execute(
            select(col(Person.aad_object_id), col(UnitLeader.deputy))
            .join(UnitLeader, col(UnitLeader.person_id) == col(Person.id))
            .join(Unit, col(Unit.id) == col(UnitLeader.unit_id))
            .where(col(Unit.code) == code)
        )
        return {object_id: deputy for object_id, deputy in rows}


async def unit_id(sessions: SessionFactory, code: str) -> int | None:
    async with sessions() as session:
        return await session.scalar(select(Unit.id).where(Unit.code == code))


# ---- importing ----------------------------------------------------------------------------


async def test_the_sample_imports_with_the_expected_counts(sessions: SessionFactory) -> None:
    changes = await load(sessions, SAMPLE_TEXT)
    assert changes.departments == Tally(created=6)
    assert changes.units == Tally(created=8)
    assert changes.persons == Tally(created=12)
    assert (changes.roles_added, changes.roles_removed, changes.leader_roles_added) == (14, 0, 1)
    assert changes.leader_links_added == 3
    async with sessions() as session:
        karis = await unit_of_person(session, aad_object_id=KARI)
        pers = await unit_of_person(session, aad_object_id=PER)
    assert karis is not None
    assert karis.name == "Vossevangen skule"
    assert pers is not None
    assert pers.name == "Bu- og miljøteneste aust"
    assert await leaders(sessions, "OPP-VVS") == {LIV: False, OLA: True}
    assert await leaders(sessions, "HO-BMA") == {SIRI: False}
    # The deputy is staff in the file and leads a unit: leiar comes with that.
    assert await roles(sessions, OLA) == {"tilsett", "leiar"}
    assert await roles(sessions, MARIT) == {"tilsett", "verneombod"}
    assert await roles(sessions, NILS) == {"tilsett"}  # no roles given


async def test_a_second_import_changes_nothing(sessions: SessionFactory) -> None:
    await load(sessions, SAMPLE_TEXT)
    before = await snapshot(sessions)
    again = await load(sessions, SAMPLE_TEXT)
    assert not again.changed
    assert (again.departments, again.units, again.persons) == (
        Tally(unchanged=6),
        Tally(unchanged=8),
        Tally(unchanged=12),
    )
    assert await snapshot(sessions) == before


async def test_editing_one_headcount_updates_exactly_one_unit(sessions: SessionFactory) -> None:
    await load(sessions, SAMPLE_TEXT)
    edited = SAMPLE_TEXT.replace(
        "Heimetenesta;Helse og omsorg;55;", "Heimetenesta;Helse og omsorg;57;"
    )
    assert edited != SAMPLE_TEXT
    changes = await load(sessions, edited)
    assert changes.units == Tally(updated=1, unchanged=7)
    assert changes.persons == Tally(unchanged=12)
    async with sessions() as session:
        assert await session.scalar(select(Unit.headcount).where(Unit.code == "HO-HEIM")) == 57


async def test_a_renamed_unit_keeps_its_id_and_its_people(sessions: SessionFactory) -> None:
    await load(sessions, SAMPLE_TEXT)
    before = await unit_id(sessions, "OPP-VVS")
    changes = await load(
        sessions, SAMPLE_TEXT.replace("Vossevangen skule;", "Vossevangen skule og SFO;")
    )
    assert changes.units == Tally(updated=1, unchanged=7)
    assert await unit_id(sessions, "OPP-VVS") == before
    async with sessions() as session:
        karis = await unit_of_person(session, aad_object_id=KARI)
    assert karis is not None
    assert (karis.id, karis.name) == (before, "Vossevangen skule og SFO")
    assert await leaders(sessions, "OPP-VVS") == {LIV: False, OLA: True}


async def test_two_units_can_swap_names(sessions: SessionFactory) -> None:
    await load(sessions, csv(HEADER, unit("A", "Aust", "Teknisk"), unit("B", "Vest", "Teknisk")))
    ids = (await unit_id(sessions, "A"), await unit_id(sessions, "B"))
    changes = await load(
        sessions, csv(HEADER, unit("A", "Vest", "Teknisk"), unit("B", "Aust", "Teknisk"))
    )
    assert changes.units == Tally(updated=2)
    assert (await unit_id(sessions, "A"), await unit_id(sessions, "B")) == ids


async def test_roles_and_leader_links_are_replaced_not_appended(sessions: SessionFactory) -> None:
    await load(sessions, SAMPLE_TEXT)
    changes = await load(
        sessions,
        csv(
            HEADER,
            f"unit,OPP-VVS,Vossevangen skule,Oppvekst,,62,,,{NILS},",
            person(KARI, "Kari Nordmann", "OPP-VVS", "verneombod"),
            person(OLA, "Ola Nestleiar", "OPP-VVS", "tilsett"),
        ),
    )
    assert await leaders(sessions, "OPP-VVS") == {NILS: False}
    assert await roles(sessions, KARI) == {"verneombod"}
    assert await roles(sessions, OLA) == {"tilsett"}  # no longer a deputy, so no longer leiar
    # Nils is not in this file but now leads a unit: he keeps his roles and gains leiar.
    assert await roles(sessions, NILS) == {"tilsett", "leiar"}
    assert await roles(sessions, LIV) == {"leiar"}  # not in the file: left alone
    assert (changes.leader_links_added, changes.leader_links_removed) == (1, 2)
    assert (changes.roles_added, changes.roles_removed, changes.leader_roles_added) == (2, 2, 1)


async def test_a_leader_can_become_a_deputy(sessions: SessionFactory) -> None:
    await load(sessions, SAMPLE_TEXT)
    swapped = SAMPLE_TEXT.replace(f"{LIV};{OLA}", f"{OLA};{LIV}")
    changes = await load(sessions, swapped)
    assert await leaders(sessions, "OPP-VVS") == {OLA: False, LIV: True}
    assert changes.leader_links_changed == 2
    assert (changes.leader_links_added, changes.leader_links_removed) == (0, 0)


async def test_what_the_file_leaves_out_is_left_alone(sessions: SessionFactory) -> None:
    await load(sessions, SAMPLE_TEXT)
    async with sessions() as session, session.begin():
        await choose_language(session, aad_object_id=KARI, name="Kari", language="en")
    before = await snapshot(sessions)
    # No roles, unit or leader columns: those stay as they are for everyone.
    changes = await load(sessions, csv("kind,id,name", f"person,{KARI},Kari Nordmann-Vik"))
    assert changes.persons == Tally(updated=1)
    assert (changes.roles_added, changes.roles_removed) == (0, 0)
    after = await snapshot(sessions)
    assert {t: rows for t, rows in after.items() if t != "person"} == {
        t: rows for t, rows in before.items() if t != "person"
    }
    async with sessions() as session:
        karis = await unit_of_person(session, aad_object_id=KARI)
        language = await language_of(session, aad_object_id=KARI)
        name = await session.scalar(select(Person.name).where(Person.aad_object_id == KARI))
    assert karis is not None
    assert karis.name == "Vossevangen skule"
    assert (name, language) == ("Kari Nordmann-Vik", "en")
    assert await roles(sessions, KARI) == {"tilsett"}


async def test_leaders_and_units_may_already_be_in_the_database(sessions: SessionFactory) -> None:
    await load(sessions, SAMPLE_TEXT)
    changes = await load(
        sessions,
        csv(
            HEADER,
            unit("TEK-BRANN", "Brann og redning", "teknisk", "30", leaders=f"{PER}|{INGRID}"),
            person(P + "013", "Tor Brannmann", "TEK-VEG"),
        ),
    )
    assert changes.units == Tally(created=1)
    # "teknisk" is Teknisk: one department, spelled now as the organisation file spells it.
    assert changes.departments == Tally(updated=1)
    assert await leaders(sessions, "TEK-BRANN") == {PER: False, INGRID: False}
    assert await roles(sessions, INGRID) == {"admin", "leiar"}
    assert changes.leader_roles_added == 2


async def departments_in(sessions: SessionFactory) -> list[str]:
    async with sessions() as session:
        return list(
            (await session.execute(text("SELECT name FROM department ORDER BY id"))).scalars()
        )


async def test_the_departments_are_whatever_the_file_names(sessions: SessionFactory) -> None:
    """Another municipality's kommunalavdelingar: any name, one department however it is
    cased or spaced in the file, created in the file's order."""
    changes = await load(
        sessions,
        csv(
            HEADER,
            unit("SU-1", "Plan og byggesak", "Samfunnsutvikling"),
            unit("AN-1", "Kyrkjekontoret", "Annet"),
            unit("SU-2", "Landbruk", "  samfunnsutvikling "),
            unit("ST-1", "Løn og personal", "Stab  og støtte"),
        ),
    )
    assert changes.departments == Tally(created=3)
    assert await departments_in(sessions) == ["Samfunnsutvikling", "Annet", "Stab og støtte"]
    async with sessions() as session:
        found = await session.execute(
            text("SELECT d.name, u.name FROM unit u JOIN department d ON d.id = u.department_id")
        )
        assert sorted(tuple(row) for row in found) == [
            ("Annet", "Kyrkjekontoret"),
            ("Samfunnsutvikling", "Landbruk"),
            ("Samfunnsutvikling", "Plan og byggesak"),
            ("Stab og støtte", "Løn og personal"),
        ]


async def test_a_unit_from_before_codes_gets_its_code(sessions: SessionFactory) -> None:
    await load(sessions, csv(HEADER, unit("X", "Veg og park", "Teknisk")))
    old_id = await unit_id(sessions, "X")
    async with sessions() as session, session.begin():
        await session.execute(text("UPDATE unit SET code = NULL"))
    changes = await load(sessions, csv(HEADER, unit("TEK-VEG", "Veg og park", "Teknisk", "21")))
    assert changes.units == Tally(updated=1)
    assert old_id is not None
    assert await unit_id(sessions, "TEK-VEG") == old_id


async def test_a_dry_run_changes_nothing(sessions: SessionFactory) -> None:
    before = await snapshot(sessions)
    changes = await import_org_plan(sessions, plan_of(SAMPLE_TEXT), dry_run=True)
    assert changes.persons == Tally(created=12)
    assert await snapshot(sessions) == before


# ---- refusing -----------------------------------------------------------------------------

BAD_FILES = {
    "a department without a name": (
        csv(HEADER, unit("X-1", "Ny eining", "  ")),
        [(2, "department", "required")],
    ),
    "a department name of 500 characters": (
        csv(HEADER, unit("X-1", "Ny eining", "Helse " * 83 + "og")),
        [(2, "department", "longer than 200 characters")],
    ),
    "duplicate unit ids": (
        csv(HEADER, unit("X-1", "Ein", "Teknisk"), unit("X-1", "To", "Teknisk")),
        [(3, "id", "unit X-1 is already on line 2")],
    ),
    "duplicate person ids": (
        csv(HEADER, person("p-1", "Ein"), "", person("p-1", "To")),
        [(4, "id", "person p-1 is already on line 2")],
    ),
    "a leader who is not a person": (
        csv(HEADER, unit("X-1", "Ny", "Teknisk", leaders=f"{KARI}|nobody-1")),
        [(2, "leaders", "nobody-1 is not a person in this file or the database")],
    ),
    "a person's unknown unit code": (
        csv(HEADER, person("p-1", "Ein", "NO-SUCH")),
        [(2, "unit", "no unit with code 'NO-SUCH'")],
    ),
    "a unit name another unit has": (
        csv(HEADER, unit("NEW-1", "Vossevangen skule", "Oppvekst")),
        [(2, "name", "unit OPP-VVS already has the name 'Vossevangen skule' in Oppvekst")],
    ),
    "an unknown role": (
        csv(HEADER, person("p-1", "Ein", roles="tilsett|sjef")),
        [(2, "roles", "unknown role 'sjef'")],
    ),
    "a non-numeric headcount": (
        csv(HEADER, unit("X-1", "Ny", "Teknisk", "tolv")),
        [(2, "headcount", "must be a whole number from 0 to 100000, not 'tolv'")],
    ),
    "a negative headcount": (
        csv(HEADER, unit("X-1", "Ny", "Teknisk", "-3")),
        [(2, "headcount", "not '-3'")],
    ),
    "an unknown column": (
        csv("kind,id,name,department,headcont", "unit,X-1,Ny,Teknisk,12"),
        [(1, "headcont", "unknown column")],
    ),
    "a required column missing from the header": (
        csv("kind,id,department", "unit,X-1,Teknisk"),
        [(1, "name", "required column missing from the header")],
    ),
    "an empty file": ("", [(1, None, "the file is empty")]),
    "only a BOM and blank lines": ("\ufeff\r\n\r\n", [(1, None, "the file is empty")]),
    "only a header": (csv(HEADER), [(1, None, "no unit or person rows")]),
    "an unknown kind": (
        csv(HEADER, "eining,X-1,Ny,Teknisk,,,,,,"),
        [(2, "kind", "unknown kind 'eining'; use unit or person")],
    ),
    "a cell in the wrong kind of row": (
        csv(HEADER, "person,p-1,Ein,Teknisk,,,,,,"),
        [(2, "department", "only for unit rows")],
    ),
    "a stray quote": (
        csv(HEADER, person("p-1", "Ein"), 'person,p-2,"Ei"n,,,,,,,'),
        [(3, None, "not readable as CSV")],
    ),
    "several problems at once": (
        csv(
            HEADER,
            unit("X-1", "Ny", "", "mange"),
            person("p-1", "Ein", roles="sjef"),
            "",
            "person,p-1,,,,,ein,,,",
            unit("X-2", "", "Anna"),
        ),
        [
            (2, "department", "required"),
            (2, "headcount", "not 'mange'"),
            (3, "roles", "unknown role 'sjef'"),
            (5, "name", "required"),
            (5, "upn", "'ein' is not a user principal name"),
            (5, "id", "person p-1 is already on line 3"),
            (6, "name", "required"),
        ],
    ),
    "several problems only the database can tell": (
        csv(
            HEADER,
            unit("X-1", "Ny", "Teknisk", leaders="ghost-1|ghost-2"),
            person("p-1", "Ein", "NO-SUCH"),
        ),
        [
            (2, "leaders", "ghost-1 is not a person"),
            (2, "leaders", "ghost-2 is not a person"),
            (3, "unit", "no unit with code 'NO-SUCH'"),
        ],
    ),
}


async def problems_of(sessions: SessionFactory, source: str) -> list[RowProblem]:
    plan = parse_org_csv(source)
    if isinstance(plan, list):
        return plan
    with pytest.raises(OrgImportRefused) as refused:
        await import_org_plan(sessions, plan)
    return list(refused.value.problems)


@pytest.mark.parametrize("case", BAD_FILES)
async def test_a_bad_file_is_refused_with_every_problem_and_changes_nothing(
    sessions: SessionFactory, case: str
) -> None:
    source, expected = BAD_FILES[case]
    await load(sessions, SAMPLE_TEXT)
    before = await snapshot(sessions)
    problems = await problems_of(sessions, source)
    assert [(p.line, p.column) for p in problems] == [(line, col) for line, col, _ in expected]
    for problem, (_, _, words) in zip(problems, expected, strict=True):
        assert words in problem.message, str(problem)
    assert await snapshot(sessions) == before


# ---- reading the file (no database) -------------------------------------------------------


def test_an_excel_export_reads_like_a_plain_csv() -> None:
    """BOM, semicolons, CRLF, blank lines, any column order and case: the same plan."""
    excel = (
        "\ufeffNAME;Kind;ID;Department;Headcount;Leaders\r\n"
        "\r\n"
        "Vossevangen skule;UNIT;OPP-VVS;oppvekst;62;a-1|a-2\r\n"
        ";;;;;\r\n"
        "Liv Leiar;Person;a-1;;;\r\n"
    )
    plan = plan_of(excel)
    assert plan.units[0].department == "oppvekst"  # as written: departments are the file's own
    assert plan.units[0].leaders == ("a-1", "a-2")
    assert plan.units[0].line == 3
    assert plan.persons[0].line == 5
    assert plan.columns == {"kind", "id", "name", "department", "headcount", "leaders"}


def test_a_quoted_value_over_two_lines_keeps_line_numbers() -> None:
    problems = parse_org_csv(csv("kind,id,name", 'unit,X,"Ny\neining"', "eining,Y,Z"))
    assert [str(p) for p in problems] == [
        "line 2, column department: required",
        "line 4, column kind: unknown kind 'eining'; use unit or person",
    ]


def test_a_file_that_is_not_utf8_is_refused_at_its_line() -> None:
    data = "kind;id;name\nperson;p-1;Åse\n".encode("cp1252")
    problem = decode_org_csv(data)
    assert isinstance(problem, RowProblem)
    assert (problem.line, "CSV UTF-8" in problem.message) == (2, True)


# ---- the command line ---------------------------------------------------------------------


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_url: str) -> str:
    monkeypatch.setenv("AVVIK_ENV_FILE", str(tmp_path / "no.env"))
    monkeypatch.setenv("AVVIK_DEV_MODE", "1")
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    for key in ("MicrosoftAppId", "MicrosoftAppPassword"):
        monkeypatch.delenv(key, raising=False)
    return sqlite_url


async def run_cli(*args: str) -> int:
    """`python -m bot …`, in a thread: the command calls asyncio.run, which in the test's own
    thread would unset pytest-asyncio's loop (pytest-asyncio #724, fixed in 1.4)."""
    return await asyncio.to_thread(main, list(args))


def persons_in(database_url: str) -> int:
    engine = create_sync_db_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM person")).scalar_one())
    finally:
        engine.dispose()


async def test_the_command_imports_then_finds_nothing_to_change(
    cli_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run_cli("org", "import", "--dry-run", str(SAMPLE)) == 0
    assert "Dry run, nothing saved" in capsys.readouterr().out
    assert persons_in(cli_env) == 0

    assert await run_cli("org", "import", str(SAMPLE)) == 0
    out = capsys.readouterr().out
    assert f"Imported {SAMPLE}:" in out
    assert "units: 8 created, 0 updated, 0 unchanged" in out
    assert "persons: 12 created" in out
    assert "roles: 14 added (1 of them leiar, for leading a unit), 0 removed" in out
    assert "leader links: 3 added" in out
    assert persons_in(cli_env) == 12

    assert await run_cli("org", "import", str(SAMPLE)) == 0
    out = capsys.readouterr().out
    assert "Nothing changed" in out
    assert "persons: 0 created, 0 updated, 12 unchanged" in out


async def test_the_command_lists_every_problem_and_exits_2(
    cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "org.csv"
    bad.write_text(csv(HEADER, person("p-1", "Ein"), unit("X-1", "Ny", "", "-1")), "utf-8")
    assert await run_cli("org", "import", str(bad)) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert lines[0] == f"Nothing imported: 2 problem(s) in {bad}"
    assert lines[1] == "line 3, column department: required"
    assert lines[2].startswith("line 3, column headcount: must be a whole number")
    assert persons_in(cli_env) == 0

    bad.write_text(csv(HEADER, person("p-1", "Ein", "NO-SUCH")), "utf-8")
    assert await run_cli("org", "import", str(bad)) == 2
    assert "line 2, column unit: no unit with code 'NO-SUCH'" in capsys.readouterr().err
    assert persons_in(cli_env) == 0

    assert await run_cli("org", "import", str(tmp_path / "missing.csv")) == 2
    assert "cannot read" in capsys.readouterr().err


def test_person_ids_are_matched_as_teams_sends_them() -> None:
    """Entra object ids arrive from Teams in lower case; a spreadsheet may shout them."""
    plan = parse_org_csv(
        "kind;id;name;department;leaders\n"
        "unit;OPP-1;Skulen;Oppvekst;5B0D7C51-0A4E-4E8F-9F0A-00000000A002\n"
        "person;5B0D7C51-0A4E-4E8F-9F0A-00000000A002;Liv Leiar;;\n"
    )
    assert isinstance(plan, OrgPlan)
    assert plan.persons[0].aad_object_id == "5b0d7c51-0a4e-4e8f-9f0a-00000000a002"
    assert plan.units[0].leaders == ("5b0d7c51-0a4e-4e8f-9f0a-00000000a002",)
