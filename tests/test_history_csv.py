"""Reading the history file (docs/history.md): the parser alone, no database."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench.generated_history import (
    CATEGORY_LABELS,
    SEVERITY_LABELS,
    STATUS_LABELS,
    generate,
    history_csv,
)
from domain.readers.history import (
    COLUMNS,
    KEY_PREFIX,
    HistoryFile,
    HistoryRow,
    Repeated,
    parse_history_csv,
    vocabulary,
)
from domain.readers.records import WINDOWS_1252, RowProblem
from domain.vocabulary import Harm, Severity, Status
from tests.categories import DEFAULT

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
HEADER = ",".join(COLUMNS)
DOCS = Path(__file__).resolve().parents[1] / "docs" / "history.md"
SECRET = "Kari slo Per med ein stol"  # a description that must never show in a message


def row(**cells: str) -> str:
    """A data line in COLUMNS order: a good row, with the cells given changed."""
    values = {
        "reported_at": "2025-09-03 14:05",
        "occurred_at": "2025-09-03 13:40",
        "department": "Oppvekst",
        "unit": "Vossevangen skule",
        "category": "Vald og truslar mot tilsette",
        "severity": "Middels",
        "description": SECRET,
        "location": "Skulegarden",
        "harm": "skade",
        "immediate_action": "Varsla leiar",
        "measure": "",
        "status": "",
        "closed_at": "",
        "source_id": "",
    }
    values.update(cells)
    return ",".join(_quoted(values[column]) for column in COLUMNS)


def _quoted(value: str) -> str:
    return f'"{value}"' if re.search(r'[,"\n]', value) else value


def lines(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode("utf-8")


def parsed(data: bytes | str, *, now: datetime = NOW) -> HistoryFile:
    result = parse_history_csv(
        data.encode() if isinstance(data, str) else data, now=now, categories=DEFAULT
    )
    assert isinstance(result, HistoryFile), [str(p) for p in result]
    return result


def one(data: bytes | str) -> HistoryRow:
    history = parsed(data)
    assert [str(p) for p in history.problems] == []
    (only,) = history.rows
    return only


def refused(data: bytes | str) -> list[RowProblem]:
    result = parse_history_csv(
        data.encode() if isinstance(data, str) else data, now=NOW, categories=DEFAULT
    )
    assert isinstance(result, list), "the file should have been refused as a whole"
    return result


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# ---- good files -----------------------------------------------------------------------------


def test_a_row_is_read_in_stored_form() -> None:
    report = one(lines(row(measure="Ny rutine", status="Lukka", closed_at="2025-09-20")))
    assert report.line == 2
    assert report.reported_at == utc("2025-09-03 12:05")  # summer time: UTC+2
    assert report.occurred_at == utc("2025-09-03 11:40")
    assert report.occurred_time_known
    assert (report.department, report.unit) == ("Oppvekst", "Vossevangen skule")
    assert (report.category, report.severity, report.harm) == (
        "violence_threats",
        Severity.MEDIUM,
        Harm.INJURY.value,
    )
    assert (report.description, report.location) == (SECRET, "Skulegarden")
    assert (report.immediate_action, report.measure) == ("Varsla leiar", "Ny rutine")
    assert report.status is Status.CLOSED
    assert report.closed_at == utc("2025-09-20 10:00")  # a day without a time: noon in Voss
    assert report.submission_key.startswith(KEY_PREFIX)
    assert len(report.submission_key) == 64


def test_the_generated_history_reads_without_a_problem() -> None:
    reports = list(generate(seed=7, per_year={2025: 300}))
    history = parsed(history_csv(reports), now=datetime(2026, 6, 1, tzinfo=UTC))
    assert (len(history.rows), history.problems, history.repeated) == (300, (), ())
    # The file has minutes, the generator seconds.
    assert [r.reported_at for r in history.rows] == [
        r.reported_at.replace(second=0) for r in reports
    ]
    assert [r.category for r in history.rows] == [r.category for r in reports]
    assert [r.status for r in history.rows] == [r.status for r in reports]


def test_every_label_of_the_generator_and_the_catalogues_is_accepted() -> None:
    words = vocabulary()
    assert {DEFAULT.find(label).code for label in CATEGORY_LABELS.values()} == set(CATEGORY_LABELS)
    assert {words.severities[k] for k in map(_key, SEVERITY_LABELS.values())} == set(Severity)
    assert {words.statuses[k] for k in map(_key, STATUS_LABELS.values())} == set(Status)


def _key(text: str) -> str:
    return " ".join(text.casefold().replace("-", " ").replace("_", " ").split())


@pytest.mark.parametrize(
    ("cell", "category"),
    [
        ("violence_threats", "violence_threats"),
        ("  vald OG truslar   mot tilsette ", "violence_threats"),
        ("Vold og trusler mot ansatte", "violence_threats"),
        ("Violence and threats against staff", "violence_threats"),
        ("Brann og el-tryggleik", "fire_electrical"),
        ("brann og el tryggleik", "fire_electrical"),
        ("Traffic-driving", "traffic_driving"),
        ("Annet", "other"),
    ],
)
def test_a_category_by_code_or_by_name_in_any_language(cell: str, category: str) -> None:
    assert one(lines(row(category=cell))).category == category


@pytest.mark.parametrize(
    ("cell", "severity"),
    [
        ("Låg", Severity.LOW),
        ("LÅG", Severity.LOW),
        ("lav", Severity.LOW),
        ("middels", Severity.MEDIUM),
        ("Medium", Severity.MEDIUM),
        ("høg", Severity.HIGH),
        ("Høy", Severity.HIGH),
        ("HIGH", Severity.HIGH),
    ],
)
def test_a_severity_in_any_case(cell: str, severity: Severity) -> None:
    assert one(lines(row(severity=cell))).severity is severity


@pytest.mark.parametrize(
    ("cell", "harm"),
    [
        ("skade", "injury"),
        ("Injury", "injury"),
        ("nestenulukke", "near_miss"),
        ("Nestenulykke", "near_miss"),
        ("near miss", "near_miss"),
        ("near_miss", "near_miss"),
        ("", ""),  # not known: not claimed to be a near miss
        ("Ikkje oppgitt", ""),  # the bot's own word for it
        ("not stated", ""),
        ("unknown", ""),
    ],
)
def test_harm(cell: str, harm: str) -> None:
    assert one(lines(row(harm=cell))).harm == harm


@pytest.mark.parametrize(
    ("status", "closed_at", "expected"),
    [
        ("", "", Status.NEW),
        ("", "2025-09-04", Status.CLOSED),
        ("Motteke", "", Status.ACKNOWLEDGED),
        ("mottatt", "", Status.ACKNOWLEDGED),
        ("under handsaming", "", Status.IN_PROGRESS),
        ("Under behandling", "", Status.IN_PROGRESS),
        ("Lukket", "", Status.CLOSED),
        ("avslutta", "2025-09-04 08:00", Status.CLOSED),
        ("closed", "", Status.CLOSED),
    ],
)
def test_status(status: str, closed_at: str, expected: Status) -> None:
    assert one(lines(row(status=status, closed_at=closed_at))).status is expected


def test_norwegian_header_names_in_any_case_and_order() -> None:
    nynorsk = "Skildring;  MELDT ;Hending;Avdeling;Eining;Kategori;Alvorsgrad;Stad;Skade;Tiltak"
    bokmal = "beskrivelse,meldt dato,hendelse,avdeling,enhet,kategori,alvorlighetsgrad,sted"
    first = one(
        f"{nynorsk}\n{SECRET};03.09.2025 14:05;03.09.2025 13:40;oppvekst;Vossevangen skule;"
        "Vald og truslar mot tilsette;Middels;Skulegarden;skade;Ny rutine\n"
    )
    second = one(
        f"{bokmal}\n{SECRET},2025-09-03 14:05,2025-09-03 13:40,Oppvekst,Vossevangen skule,"
        "Vold og trusler mot ansatte,middels,Skulegarden\n"
    )
    assert (first.reported_at, first.department, first.measure) == (
        utc("2025-09-03 12:05"),
        "oppvekst",  # as written; the import finds the department whatever the case
        "Ny rutine",
    )
    assert (second.reported_at, second.category, second.harm) == (
        first.reported_at,
        "violence_threats",
        "",
    )
    assert (
        one(
            "Reported At,Occurred-At,DEPARTMENT,Unit,category,Severity,description\n"
            f"2025-09-03 14:05,2025-09-03 13:40,Oppvekst,X,other,low,{SECRET}\n"
        ).unit
        == "X"
    )


def test_an_excel_export_reads_like_a_plain_csv() -> None:
    """BOM, semicolons, CRLF, blank lines and lines of only separators."""
    plain = one(lines(row()))
    excel = (
        "\ufeff"
        + HEADER.replace(",", ";")
        + "\r\n\r\n"
        + row().replace(",", ";")
        + "\r\n"
        + ";" * 12
        + "\r\n"
    ).encode("utf-8")
    read = one(excel)
    assert read.line == 3
    assert (read.reported_at, read.submission_key) == (plain.reported_at, plain.submission_key)


def test_windows_1252_with_norwegian_letters() -> None:
    text = "\n".join(
        [
            HEADER.replace(",", ";"),
            row(
                department="Rådmannens stab",
                unit="Økonomi",
                description="Tilsett fekk støyt frå kaffitraktaren på kjøkkenet",
                location="Kjøkken på rådhuset",
                severity="Høg",
            ).replace(",", ";"),
        ]
    )
    history = parsed(text.encode("cp1252"))
    assert history.encoding == WINDOWS_1252
    (report,) = history.rows
    assert (report.department, report.unit, report.severity) == (
        "Rådmannens stab",
        "Økonomi",
        Severity.HIGH,
    )
    assert report.description == "Tilsett fekk støyt frå kaffitraktaren på kjøkkenet"
    # The same report exported as UTF-8 is the same report.
    assert parsed(text.encode("utf-8")).rows[0].submission_key == report.submission_key


def test_a_file_mixing_utf8_and_windows_1252_is_refused_where_it_changes() -> None:
    data = lines(row(unit="Økonomi")) + row(unit="Økonomi").encode("cp1252") + b"\n"
    (problem,) = refused(data)
    assert (problem.line, problem.column) == (3, None)
    assert "mixes UTF-8 and another encoding" in problem.message


def test_utf16_is_refused() -> None:
    (problem,) = refused(lines(row()).decode().encode("utf-16"))
    assert "UTF-16" in problem.message


def test_a_quoted_description_over_lines_keeps_line_numbers() -> None:
    history = parsed(
        lines(
            row(description="Første linje,\nandre linje\r\ntredje"),
            row(severity="Kritisk"),
        )
    )
    assert history.rows[0].description == "Første linje,\nandre linje\ntredje"
    assert [str(p) for p in history.problems] == [
        "line 5, column severity: unknown severity 'Kritisk'; use Låg, Middels or Høg "
        "(or Lav/Høy, low…)"
    ]


# ---- dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "moment"),
    [
        ("2025-09-03 14:05", "2025-09-03 12:05"),
        ("2025-09-03T14:05", "2025-09-03 12:05"),
        ("2025-09-03 14:05:30", "2025-09-03 12:05:30"),
        ("03.09.2025 14:05", "2025-09-03 12:05"),
        ("3.9.2025 14:05", "2025-09-03 12:05"),
        ("03.09.2025 kl. 14.05", "2025-09-03 12:05"),
        ("2025-09-03T12:05:00Z", "2025-09-03 12:05"),
        ("2025-09-03T14:05:00+02:00", "2025-09-03 12:05"),
        ("2025-01-15 14:05", "2025-01-15 13:05"),  # winter time: UTC+1
        # The night the clocks go back, 02:30 happens twice: the first (summer time) is meant.
        ("2025-10-26 02:30", "2025-10-26 00:30"),
    ],
)
def test_dates_and_times(cell: str, moment: str) -> None:
    report = one(lines(row(reported_at=cell, occurred_at="2025-01-01")))
    assert report.reported_at == utc(moment)


def test_the_same_moment_written_two_ways_is_the_same_report() -> None:
    iso = one(lines(row(reported_at="2025-09-03 14:05")))
    norwegian = one(lines(row(reported_at="03.09.2025 kl. 14:05", department="OPPVEKST")))
    assert norwegian.submission_key == iso.submission_key
    assert one(lines(row(description=SECRET + "!"))).submission_key != iso.submission_key


def test_a_day_without_a_time() -> None:
    report = one(lines(row(occurred_at="02.09.2025")))
    assert (report.occurred_at, report.occurred_time_known) == (utc("2025-09-02 10:00"), False)
    # On the day it was reported at 09:00, noon would be after the report: 09:00 it is.
    early = one(lines(row(reported_at="2025-09-03 09:00", occurred_at="2025-09-03")))
    assert early.occurred_at == early.reported_at == utc("2025-09-03 07:00")
    # Reported today (by date only) at 09:00 in Voss: not in the future, and not noon either.
    morning = datetime(2026, 1, 15, 8, 0, tzinfo=UTC)
    history = parsed(lines(row(reported_at="2026-01-15", occurred_at="2026-01-15")), now=morning)
    assert history.rows[0].reported_at == history.rows[0].occurred_at == morning


def test_the_month_is_voss_time_not_utc() -> None:
    report = one(lines(row(reported_at="2025-01-01 00:30", occurred_at="2024-12-31 23:50")))
    assert report.reported_at == utc("2024-12-31 23:30")  # still 2024 in UTC


# ---- bad rows -------------------------------------------------------------------------------

BAD_ROWS: dict[str, tuple[bytes, list[tuple[int, str | None, str]]]] = {
    "a date that does not parse": (
        lines(row(reported_at="03/09/2025")),
        [(2, "reported_at", "'03/09/2025' is not a date; use YYYY-MM-DD or DD.MM.YYYY")],
    ),
    "no such day": (
        lines(row(), row(occurred_at="31.02.2025")),
        [(3, "occurred_at", "'31.02.2025' is no such date or time")],
    ),
    "a two-digit year": (
        lines(row(reported_at="03.09.25")),
        [(2, "reported_at", "is not a date")],
    ),
    "a year with a typo": (
        lines(row(occurred_at="0025-09-03")),
        [(2, "occurred_at", "'0025-09-03' is before 1970; is the year right?")],
    ),
    "a time in the hour summer time skips": (
        lines(row(reported_at="2025-03-30 02:30", occurred_at="2025-03-30 01:10")),
        [(2, "reported_at", "'2025-03-30 02:30' is this time does not exist in Norway")],
    ),
    "a report from the future": (
        lines(row(reported_at="2026-01-15 13:30", occurred_at="2026-01-15 13:20")),
        [
            (2, "reported_at", "'2026-01-15 13:30' is in the future"),
            (2, "occurred_at", "'2026-01-15 13:20' is in the future"),
        ],
    ),
    "a day in the future": (
        lines(row(status="Lukka", closed_at="16.01.2026")),
        [(2, "closed_at", "'16.01.2026' is in the future")],
    ),
    "occurred after it was reported": (
        lines(row(occurred_at="2025-09-03 14:06")),
        [(2, "occurred_at", "after reported_at")],
    ),
    "occurred the day after it was reported": (
        lines(row(reported_at="2025-09-03", occurred_at="2025-09-04 08:00")),
        [(2, "occurred_at", "after reported_at")],
    ),
    "closed before it was reported": (
        lines(row(status="Lukka", closed_at="2025-09-03 14:00")),
        [(2, "closed_at", "before reported_at")],
    ),
    "closed but not closed": (
        lines(row(status="Under handsaming", closed_at="2025-09-04")),
        [(2, "closed_at", "given, but the status is in_progress")],
    ),
    "an unknown category": (
        lines(row(category="Brann")),
        [
            (
                2,
                "category",
                "unknown category 'Brann'; use one of «Vald og truslar mot tilsette», "
                "«Fall, snubling og ulukke»",
            )
        ],
    ),
    "an unknown severity": (
        lines(row(severity="3")),
        [(2, "severity", "unknown severity '3'; use Låg, Middels or Høg")],
    ),
    "an unknown harm": (
        lines(row(harm="ja")),
        [(2, "harm", "unknown harm 'ja'; use skade or nestenulukke")],
    ),
    "an unknown status": (
        lines(row(status="Parkert")),
        [(2, "status", "unknown status 'Parkert'; use Ny, Motteke")],
    ),
    "empty required cells": (
        lines(row(description="", unit="", severity="")),
        [(2, "unit", "required"), (2, "description", "required"), (2, "severity", "required")],
    ),
    "a place too long": (
        lines(row(location="x" * 201)),
        [(2, "location", "longer than 200 characters")],
    ),
    "too many values": (
        lines(row() + ",ekstra"),
        [(2, None, "15 values but the header has 14 columns")],
    ),
    "the same report twice with another status": (
        lines(row(), row(status="Lukka")),
        [(3, None, "the same report as line 2 (same dates, unit, category")],
    ),
    "several problems in several rows": (
        lines(
            row(reported_at="i går", category="Ukjend"),
            row(),
            "",
            row(occurred_at="2025-09-04", status="Lukka", closed_at="2025-09-01", harm="?"),
        ),
        [
            (2, "reported_at", "is not a date"),
            (2, "category", "unknown category 'Ukjend'"),
            (5, "harm", "unknown harm '?'"),
            (5, "occurred_at", "after reported_at"),
            (5, "closed_at", "before reported_at"),
        ],
    ),
}


@pytest.mark.parametrize("case", BAD_ROWS)
def test_a_bad_row_is_rejected_with_every_reason(case: str) -> None:
    data, expected = BAD_ROWS[case]
    problems = list(parsed(data).problems)
    assert [(p.line, p.column) for p in problems] == [(line, col) for line, col, _ in expected]
    for problem, (_, _, words) in zip(problems, expected, strict=True):
        assert words in problem.message, str(problem)


def test_the_rows_around_a_rejected_one_are_still_read() -> None:
    history = parsed(lines(row(), row(severity="?"), row(description="Anna sak")))
    assert [r.line for r in history.rows] == [2, 4]
    assert history.rejected_lines == {3}
    assert history.row_count == 3


def test_a_row_twice_is_imported_once_and_said_so() -> None:
    history = parsed(lines(row(), row(description="Anna sak"), row(), row()))
    assert [r.line for r in history.rows] == [2, 3]
    assert history.repeated == (Repeated(4, 2), Repeated(5, 2))
    assert str(history.repeated[0]) == "line 4: same as line 2; imported once"
    assert history.problems == ()


def test_messages_never_repeat_report_text() -> None:
    """A slipped column puts the description where a date or a code should be."""
    long_text = SECRET + " i gymsalen, og det var ikkje første gongen"
    history = parsed(
        lines(
            row(reported_at=long_text, category=long_text, department=long_text),
            row(description=long_text, severity="?", unit=long_text * 5),
        )
    )
    messages = [str(p) for p in history.problems]
    assert len(messages) == 4
    assert not any(long_text in m for m in messages), messages
    assert "'Kari slo Per med ein stol i gymsalen, o…'" in messages[0]


# ---- whole files ----------------------------------------------------------------------------

BAD_FILES: dict[str, tuple[bytes, list[tuple[int, str | None, str]]]] = {
    "an empty file": (b"", [(1, None, "the file is empty; it needs a header")]),
    "only a BOM and blank lines": (b"\xef\xbb\xbf\r\n\r\n", [(1, None, "the file is empty")]),
    "only a header": (lines(), [(1, None, "no rows to import")]),
    "an unknown column": (
        lines(row() + ",x", header=HEADER + ",ansvarleg"),
        [(1, "ansvarleg", "unknown column; the columns are reported_at, occurred_at")],
    ),
    "a column twice": (
        lines(header="meldt,hending,avdeling,eining,enhet,kategori,alvorsgrad,skildring"),
        [(1, "unit", "the column appears twice (as 'eining' and 'enhet')")],
    ),
    "a required column missing": (
        lines(header="reported_at,occurred_at,department,unit,category,description"),
        [(1, "severity", "required column missing from the header")],
    ),
    "a header on line 3": (
        b"\n\nreported_at,occurred_at,unit\n",
        [
            (3, "department", "required column missing"),
            (3, "category", "required column missing"),
            (3, "severity", "required column missing"),
            (3, "description", "required column missing"),
        ],
    ),
    "a stray quote": (
        lines(row(), row(severity="?"), row().replace("Skulegarden", '"Skule"garden')),
        [(3, "severity", "unknown severity"), (4, None, "not readable as CSV")],
    ),
    "neither UTF-8 nor Windows-1252": (
        lines(row()) + b"\x81\n",
        [(3, None, "neither UTF-8 nor Windows-1252")],
    ),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_file_that_cannot_be_read_is_refused_as_a_whole(case: str) -> None:
    data, expected = BAD_FILES[case]
    problems = refused(data)
    assert [(p.line, p.column) for p in problems] == [(line, col) for line, col, _ in expected]
    for problem, (_, _, words) in zip(problems, expected, strict=True):
        assert words in problem.message, str(problem)


def test_the_example_in_the_docs_reads() -> None:
    example = re.search(r"```csv\n(.*?)```", DOCS.read_text("utf-8"), re.DOTALL)
    assert example is not None
    first, second = parsed(example.group(1)).rows
    assert (first.status, first.closed_at, first.measure) == (
        Status.CLOSED,
        utc("2025-09-20 10:00"),
        "Gjennomgang av risikovurdering",
    )
    assert (second.occurred_time_known, second.harm, second.category) == (
        False,
        "",
        "fall_accident",
    )
    assert second.description == "Tilsett skrensa på glatt golv,\nvaskeskilt mangla"


def test_the_earlier_systems_case_number_tells_alike_reports_apart() -> None:
    """Two threats on the same day in the same words («Vald», a date-only export) are two
    reports when the old system numbered them; without numbers they read as one."""
    alike = {"reported_at": "2025-09-03", "occurred_at": "2025-09-03", "description": "Vald"}
    numbered = parsed(lines(row(**alike, source_id="A-17"), row(**alike, source_id="A-18")))
    assert [r.source_id for r in numbered.rows] == ["A-17", "A-18"]
    assert numbered.repeated == ()
    unnumbered = parsed(lines(row(**alike), row(**alike)))
    assert len(unnumbered.rows) == 1
    assert [str(r) for r in unnumbered.repeated] == ["line 3: same as line 2; imported once"]


def test_a_case_number_twice_with_other_content_is_refused() -> None:
    history = parsed(lines(row(source_id="A-17"), row(source_id="A-17", severity="Høg")))
    assert [str(p) for p in history.problems] == [
        "line 3, column source_id: source_id 'A-17' is already on line 2"
    ]


def test_the_case_number_column_has_norwegian_names() -> None:
    header = HEADER.replace("source_id", "Saksnummer")
    assert one(lines(row(source_id="2019-0042"), header=header)).source_id == "2019-0042"
