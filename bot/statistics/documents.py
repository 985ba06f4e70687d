"""Documents made of tables, as an A4 PDF (fpdf2) and an Excel workbook (openpyxl): the AMU
report (bot.statistics.amu) and a unit's signed risk assessment (bot.statistics.risk_files)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import matplotlib
from fpdf import FPDF, FontFace
from fpdf.enums import XPos, YPos
from openpyxl import Workbook

FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
FONT = "DejaVu"
PAGE_WIDTH_MM = 180  # A4 less 15 mm margins


Row = tuple[str, ...]


@dataclass(frozen=True)
class Table:
    title: str
    header: Row
    rows: tuple[Row, ...]
    note: str | None = None  # a line under the table

    def numeric(self, column: int) -> bool:
        """A column of figures (right-aligned): every value a number, a share or a dash."""
        values = [row[column] for row in self.rows]
        return bool(values) and all(_looks_numeric(v) for v in values)


def _looks_numeric(value: str) -> bool:
    return bool(value) and all(c.isdigit() or c in " \u202f\xa0,.%+−–-±" for c in value)


class Document(FPDF):
    """An A4 page of headings, paragraphs and tables in DejaVu Sans (æøå, «»), the same
    bytes for the same content."""

    def __init__(self, title: str, footer: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self._title, self._footer = title, footer
        self.add_font(FONT, "", str(FONT_DIR / "DejaVuSans.ttf"))
        self.add_font(FONT, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(auto=True, margin=18)
        self.set_title(title)
        self.set_creator("Avviksboten")
        # The same bytes for the same figures: no creation date in the file.
        self.set_creation_date(datetime(2000, 1, 1, tzinfo=UTC))

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, "", 8)
        self.set_text_color(90, 90, 90)
        self.cell(0, 5, f"{self._footer} · {self.page_no()}/{{nb}}", align="C")


def heading(pdf: FPDF, text: str, size: float = 12) -> None:
    pdf.set_font(FONT, "B", size)
    pdf.set_text_color(20, 20, 20)
    pdf.multi_cell(0, 7, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1)


def paragraph(pdf: FPDF, text: str, size: float = 10) -> None:
    pdf.set_font(FONT, "", size)
    pdf.set_text_color(40, 40, 40)
    pdf.multi_cell(0, 5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)


def draw_table(
    pdf: FPDF,
    table: Table,
    *,
    none: str,
    width: float = PAGE_WIDTH_MM,
    figure_mm: float | None = None,
) -> None:
    """The table under its title; `none` says so when it has no rows."""
    if pdf.will_page_break(30):
        pdf.add_page()
    heading(pdf, table.title, 11)
    if not table.rows:
        paragraph(pdf, none)
        return
    columns = len(table.header)
    numeric = [column > 0 and table.numeric(column) for column in range(columns)]
    # Figures get what a figure needs; the words share the rest, the first column most.
    figure_mm = figure_mm or (26.0 if columns > 4 else 32.0)
    words = [c for c in range(columns) if not numeric[c]]
    left = width - figure_mm * (columns - len(words))
    shares = [2.0 if c == 0 else 1.5 for c in words]
    widths = tuple(
        figure_mm if numeric[c] else left * shares[words.index(c)] / sum(shares)
        for c in range(columns)
    )
    pdf.set_font(FONT, "", 8.5 if columns > 4 else 9.5)
    pdf.set_text_color(20, 20, 20)
    with pdf.table(
        col_widths=widths,
        text_align=tuple("RIGHT" if numeric[c] else "LEFT" for c in range(columns)),
        line_height=5,
        first_row_as_headings=True,
        headings_style=FontFace(emphasis="BOLD", fill_color=(230, 236, 244)),
        cell_fill_color=(247, 247, 247),
        cell_fill_mode="ROWS",
    ) as drawn:
        for values in (table.header, *table.rows):
            row = drawn.row()
            for value in values:
                row.cell(value)
    pdf.ln(2)
    if table.note:
        paragraph(pdf, table.note, 8.5)
    pdf.ln(2)


def tables_xlsx(tables: list[Table]) -> bytes:
    """One sheet per table, numbers as numbers where they are counts."""
    workbook = Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    used: set[str] = set()
    for table in tables:
        sheet = workbook.create_sheet(_sheet_name(table.title, used))
        sheet.append(list(table.header))
        for values in table.rows:
            sheet.append([_cell(v) for v in values])
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # a text starting with = is a text, not a formula
        sheet.column_dimensions["A"].width = 40
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _sheet_name(title: str, used: set[str]) -> str:
    # Excel: at most 31 characters, none of []:*?/\, unique.
    base = "".join(c for c in title if c not in "[]:*?/\\")[:28] or "Ark"
    name, n = base, 1
    while name in used:
        n += 1
        name = f"{base[:26]} {n}"
    used.add(name)
    return name


def _cell(value: str) -> str | int:
    plain = value.replace("\u202f", "").replace("\xa0", "").replace(" ", "")
    return int(plain) if plain.isdigit() else value
