"""The statistics as CSV and Excel: what the HMS adviser sees when opening them."""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import replace

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from bot.statistics.export import SHEET_NAME_MAX, sheet_name, stats_csv, stats_xlsx, tables
from domain.access import EVERYTHING, Scope
from domain.i18n import LANGUAGES, Catalogues, Texts
from domain.vocabulary import Severity
from storage.stats import Pair, Quarter, Statistics, UnitFigures
from tests.categories import category


def _quarters(
    counts: tuple[int, int, int, int], sick: tuple[float | None, ...]
) -> tuple[Quarter, ...]:
    return tuple(
        Quarter(q, Pair(count, 0), percent)
        for q, (count, percent) in enumerate(zip(counts, sick, strict=True), 1)
    )


def voss_2025() -> Statistics:
    months = tuple(
        Pair(count, previous)
        for count, previous in (
            (101, 120),
            (112, 118),
            (118, 125),
            (95, 104),
            (104, 110),
            (87, 96),
            (52, 60),
            (98, 101),
            (158, 180),
            (139, 142),
            (131, 127),
            (122, 103),
        )
    )
    return Statistics(
        year=2025,
        scope=EVERYTHING,
        scope_unit_codes=None,
        total=Pair(1317, 1386),
        months=months,
        quarters=(
            Quarter(1, Pair(331, 363), 8.4),
            Quarter(2, Pair(286, 310), 7.25),
            Quarter(3, Pair(308, 341), 6.9),
            Quarter(4, Pair(392, 372), None),  # not published yet
        ),
        severities=(
            (Severity.LOW, Pair(859, 900)),
            (Severity.MEDIUM, Pair(396, 410)),
            (Severity.HIGH, Pair(62, 76)),
        ),
        categories=(
            (category("violence_threats"), Pair(673, 700)),
            (category("fall_accident"), Pair(120, 130)),
            (category("lifting_ergonomics"), Pair(95, 90)),
            (category("psychosocial"), Pair(140, 150)),
            (category("fire_electrical"), Pair(25, 30)),
            (category("chemicals_infection"), Pair(60, 50)),
            (category("indoor_building"), Pair(110, 120)),
            (category("traffic_driving"), Pair(30, 40)),
            (category("other"), Pair(64, 0)),
        ),
        departments=(
            ("Helse og omsorg", Pair(667, 700)),
            ("Oppvekst", Pair(571, 600)),
            (None, Pair(79, 86)),
        ),
        units=(
            UnitFigures(
                1,
                "HO-HT-A",
                "Heimetenesta aust",
                "Helse og omsorg",
                40,
                Pair(12, 10),
                _quarters((3, 4, 2, 3), (9.1, 8.0, None, None)),
            ),
            UnitFigures(
                2,
                None,
                "=Vossevangen skule",  # Excel must not take it for a formula
                "Oppvekst",
                None,  # headcount not imported yet
                Pair(5, 0),
                _quarters((1, 1, 2, 1), (None, None, None, None)),
            ),
            UnitFigures(
                None,
                None,
                None,
                None,
                None,
                Pair(79, 86),
                _quarters((20, 20, 20, 19), (None, None, None, None)),
            ),
        ),
    )


@pytest.fixture(scope="module")
def catalogues() -> Catalogues:
    return Catalogues()


@pytest.fixture(scope="module")
def nn(catalogues: Catalogues) -> Texts:
    return catalogues["nn"]


@pytest.fixture(scope="module")
def en(catalogues: Catalogues) -> Texts:
    return catalogues["en"]


# ---- CSV ----------------------------------------------------------------------------------


def _sections(data: bytes) -> tuple[list[list[str]], dict[str, list[list[str]]]]:
    """The title lines, and each section by name: its header line and rows."""
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))
    blocks: list[list[list[str]]] = [[]]
    for row in rows:
        if row:
            blocks[-1].append(row)
        else:
            blocks.append([])
    head, *sections = blocks
    return head, {section[0][0]: section[1:] for section in sections}


def test_csv_is_utf8_with_bom_semicolons_and_crlf_for_norwegian_excel(nn: Texts) -> None:
    data = stats_csv(voss_2025(), nn)
    assert data.startswith(codecs.BOM_UTF8)
    text = data.decode("utf-8-sig")
    assert "\r\n" in text
    assert text.splitlines()[0] == "HMS-avvik 2025 samanlikna med 2024"
    assert "Heile kommunen;1317;1386;-69;-5,0" in text.splitlines()


def test_csv_has_every_table_with_exact_counts_and_nynorsk_labels(nn: Texts) -> None:
    head, sections = _sections(stats_csv(voss_2025(), nn))
    assert head == [
        ["HMS-avvik 2025 samanlikna med 2024"],
        ["Avvika er talde etter månaden dei vart melde i (norsk tid)."],
    ]
    assert list(sections) == [
        "Totalt",
        "Per månad",
        "Per kvartal",
        "Alvorsgrad",
        "Kategoriar",
        "Avdelingar",
        "Einingar",
    ]
    assert sections["Totalt"] == [
        ["Utval", "Avvik 2025", "Avvik 2024", "Endring", "Endring (%)"],
        ["Heile kommunen", "1317", "1386", "-69", "-5,0"],
    ]
    months = sections["Per månad"]
    assert months[0] == ["Månad", "Avvik 2025", "Avvik 2024", "Endring", "Endring (%)"]
    assert len(months) == 13
    assert months[9] == ["September", "158", "180", "-22", "-12,2"]
    assert sections["Per kvartal"] == [
        [
            "Kvartal",
            "Avvik 2025",
            "Avvik 2024",
            "Endring",
            "Endring (%)",
            "Sjukefråvær i kommunal sektor 2025 (%)",
        ],
        ["1. kvartal", "331", "363", "-32", "-8,8", "8,4"],
        ["2. kvartal", "286", "310", "-24", "-7,7", "7,25"],
        ["3. kvartal", "308", "341", "-33", "-9,7", "6,9"],
        ["4. kvartal", "392", "372", "20", "5,4", ""],
    ]
    assert sections["Alvorsgrad"][1:] == [
        ["Låg", "859", "900", "-41", "-4,6"],
        ["Middels", "396", "410", "-14", "-3,4"],
        ["Høg", "62", "76", "-14", "-18,4"],
    ]
    categories = sections["Kategoriar"]
    assert categories[1] == ["Vald og truslar mot tilsette", "673", "700", "-27", "-3,9"]
    # Nothing the year before: no percentage, not 0.
    assert categories[-1] == ["Anna", "64", "0", "64", ""]
    assert sections["Avdelingar"][1:] == [
        ["Helse og omsorg", "667", "700", "-33", "-4,7"],
        ["Oppvekst", "571", "600", "-29", "-4,8"],
        ["Ukjend eining", "79", "86", "-7", "-8,1"],
    ]


def test_csv_units_have_headcount_per_10_employees_and_sick_leave(nn: Texts) -> None:
    _, sections = _sections(stats_csv(voss_2025(), nn))
    header, home_care, school, unknown = sections["Einingar"]
    assert header == [
        "Eining",
        "Kode",
        "Avdeling",
        "Tilsette",
        "Avvik 2025",
        "Avvik 2024",
        "Endring",
        "Endring (%)",
        "Avvik per 10 tilsette 2025",
        "Avvik 1. kvartal 2025",
        "Avvik 2. kvartal 2025",
        "Avvik 3. kvartal 2025",
        "Avvik 4. kvartal 2025",
        "Sjukefråvær 1. kvartal 2025 (%)",
        "Sjukefråvær 2. kvartal 2025 (%)",
        "Sjukefråvær 3. kvartal 2025 (%)",
        "Sjukefråvær 4. kvartal 2025 (%)",
    ]
    assert home_care == [
        "Heimetenesta aust",
        "HO-HT-A",
        "Helse og omsorg",
        "40",
        "12",
        "10",
        "2",
        "20,0",
        "3,0",
        "3",
        "4",
        "2",
        "3",
        "9,1",
        "8,0",
        "",
        "",
    ]
    # No headcount: per 10 employees is empty, not 0; a formula-like name stays text.
    assert school[:9] == ["'=Vossevangen skule", "", "Oppvekst", "", "5", "0", "5", "", ""]
    assert unknown[:5] == ["Ukjend eining", "", "", "", "79"]


def test_csv_in_english(en: Texts) -> None:
    head, sections = _sections(stats_csv(voss_2025(), en))
    assert head[0] == ["HMS deviations 2025 compared with 2024"]
    assert sections["Total"][1] == ["The whole municipality", "1317", "1386", "-69", "-5,0"]
    assert sections["By month"][9][0] == "September"
    assert sections["Severity"][3][0] == "High"
    assert sections["Departments"][3][0] == "Unknown unit"
    assert sections["Units"][0][3] == "Employees"


def test_the_scope_is_named_in_the_total(nn: Texts) -> None:
    department = replace(voss_2025(), scope=Scope(department="Oppvekst"))
    assert tables(department, nn)[0].rows[0][0] == "Oppvekst"
    units = replace(
        voss_2025(), scope=Scope(unit_ids=frozenset({1, 2})), scope_unit_codes=("HO-HT-A", "OPP-VS")
    )
    assert tables(units, nn)[0].rows[0][0] == "Utvalde einingar: HO-HT-A, OPP-VS"


# ---- XLSX ---------------------------------------------------------------------------------


def _sheets(data: bytes) -> dict[str, Worksheet]:
    workbook = load_workbook(io.BytesIO(data))
    return {sheet.title: sheet for sheet in workbook.worksheets if isinstance(sheet, Worksheet)}


def _values(sheet: Worksheet) -> list[list[object]]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_xlsx_has_one_translated_sheet_per_table(nn: Texts, en: Texts) -> None:
    assert list(_sheets(stats_xlsx(voss_2025(), nn))) == [
        "Totalt",
        "Per månad",
        "Per kvartal",
        "Alvorsgrad",
        "Kategoriar",
        "Avdelingar",
        "Einingar",
    ]
    assert list(_sheets(stats_xlsx(voss_2025(), en))) == [
        "Total",
        "By month",
        "By quarter",
        "Severity",
        "Categories",
        "Departments",
        "Units",
    ]


def test_xlsx_header_is_bold_and_frozen_and_columns_have_widths(nn: Texts) -> None:
    for sheet in _sheets(stats_xlsx(voss_2025(), nn)).values():
        assert sheet.freeze_panes == "A2", sheet.title
        assert all(cell.font.b for cell in sheet[1]), sheet.title
        assert sheet.auto_filter.ref == sheet.dimensions
        for letter in ("A", "B"):
            assert (sheet.column_dimensions[letter].width or 0) >= 8, sheet.title


def test_xlsx_numbers_are_numbers_and_exact(nn: Texts) -> None:
    sheets = _sheets(stats_xlsx(voss_2025(), nn))
    assert _values(sheets["Totalt"]) == [
        ["Utval", "Avvik 2025", "Avvik 2024", "Endring", "Endring (%)"],
        ["Heile kommunen", 1317, 1386, -69, -5.0],
    ]
    assert _values(sheets["Per månad"])[9] == ["September", 158, 180, -22, -12.2]
    quarters = _values(sheets["Per kvartal"])
    assert quarters[1] == ["1. kvartal", 331, 363, -32, -8.8, 8.4]
    assert quarters[4] == ["4. kvartal", 392, 372, 20, 5.4, None]
    assert _values(sheets["Alvorsgrad"])[3] == ["Høg", 62, 76, -14, -18.4]
    assert _values(sheets["Kategoriar"])[9] == ["Anna", 64, 0, 64, None]
    assert _values(sheets["Avdelingar"])[3] == ["Ukjend eining", 79, 86, -7, -8.1]
    change = sheets["Totalt"]["D2"]
    assert change.data_type == "n"
    assert change.number_format == "+0;-0;0"
    assert sheets["Totalt"]["E2"].number_format == "0.0"


def test_xlsx_units_leave_per_10_empty_without_headcount(nn: Texts) -> None:
    sheet = _sheets(stats_xlsx(voss_2025(), nn))["Einingar"]
    header, home_care, school, unknown = _values(sheet)
    assert header[3] == "Tilsette"
    assert header[8] == "Avvik per 10 tilsette 2025"
    assert home_care == [
        "Heimetenesta aust",
        "HO-HT-A",
        "Helse og omsorg",
        40,
        12,
        10,
        2,
        20.0,
        3.0,
        3,
        4,
        2,
        3,
        9.1,
        8.0,
        None,
        None,
    ]
    assert school[3] is None
    assert school[8] is None  # empty, not 0
    assert school[0] == "=Vossevangen skule"
    assert sheet["A3"].data_type == "s"  # text, not a formula
    assert unknown[:5] == ["Ukjend eining", None, None, None, 79]


# ---- sheet names --------------------------------------------------------------------------


def test_sheet_names_are_what_excel_accepts() -> None:
    assert sheet_name("Avvik [2025]: a/b\\c?*") == "Avvik -2025-- a-b-c--"
    assert sheet_name("'Sitert'") == "Sitert"
    assert len(sheet_name("Sjukefråvær per eining og kvartal i heile kommunen")) == SHEET_NAME_MAX
    assert sheet_name("Einingar", {"einingar"}) == "Einingar (2)"
    long = "x" * 40
    assert sheet_name(long, {long[:31]}) == "x" * 27 + " (2)"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_languages_sheet_names_fit(catalogues: Catalogues, language: str) -> None:
    names = [table.name for table in tables(voss_2025(), catalogues[language])]
    assert all(sheet_name(name) == name for name in names), names
    assert len({name.casefold() for name in names}) == len(names)
