"""A risk assessment on paper and in pictures (docs/risk.md): the 5 × 5 risk matrix as a PNG
for a Teams card, and a unit's assessment as PDF and XLSX for the unit's HMS binder.

The matrix has consequence along the bottom and probability up the side, each cell the number
of factors rated there, coloured by level (domain.risk.level): low, medium, high. The colours
carry the level's name in the legend too, so nobody has to tell green from red.
"""

from __future__ import annotations

import io
from dataclasses import replace

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from bot.statistics.charts import DPI, MUTED_COLOUR, TEXT_COLOUR, TITLE_SIZE, png_of
from bot.statistics.documents import (
    PAGE_WIDTH_MM,
    Document,
    Table,
    draw_table,
    heading,
    paragraph,
    tables_xlsx,
)
from domain.i18n import Texts
from domain.oslo_time import format_date
from domain.risk import SCALE, Decision, Level, level, matrix, rating
from storage.risk import AssessmentView

LEVEL_COLOURS = {Level.LOW: "#B7E1A1", Level.MEDIUM: "#FCE38A", Level.HIGH: "#F4A6A6"}
MATRIX_PX = (640, 560)
LANDSCAPE_WIDTH_MM = 267  # A4 across, less 15 mm margins
# A cell of the PDF's table holds this much (a row must fit on a page); a longer text, or one
# of many short lines, is printed whole below the table.
CELL_MAX = 300
CELL_LINES = 8


def ratings_of(view: AssessmentView) -> list[tuple[int, int]]:
    """Where the unit's factors stand: the frame's (kept, or not answered yet), adjusted, or
    local; not relevant ones left out."""
    found = [rating(f, view.answers.get(f.key)) for f in view.factors]
    found += [rating(None, a) for a in view.local]
    return [p_c for p_c in found if p_c is not None]


def view_matrix(view: AssessmentView) -> list[list[int]]:
    return matrix(ratings_of(view))


def render_matrix(cells: list[list[int]], title: str, texts: Texts) -> bytes:
    figure = Figure(figsize=(MATRIX_PX[0] / DPI, MATRIX_PX[1] / DPI), dpi=DPI, facecolor="white")
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0.14, 0.17, 0.82, 0.71))
    for p in SCALE:
        for c in SCALE:
            colour = LEVEL_COLOURS[level(p, c)]
            axes.add_patch(Rectangle((c - 0.5, p - 0.5), 1, 1, facecolor=colour, edgecolor="white"))
            count = cells[p - 1][c - 1]
            if count:
                axes.text(
                    c, p, str(count), ha="center", va="center", fontsize=16,
                    fontweight="bold", color=TEXT_COLOUR,
                )  # fmt: skip
    axes.set_xlim(0.5, 5.5)
    axes.set_ylim(0.5, 5.5)
    axes.set_xticks(list(SCALE))
    axes.set_yticks(list(SCALE))
    axes.tick_params(length=0, labelsize=10, colors=TEXT_COLOUR)
    for side in axes.spines.values():
        side.set_visible(False)
    axes.set_xlabel(texts("risk.consequence"), fontsize=10, color=MUTED_COLOUR)
    axes.set_ylabel(texts("risk.probability"), fontsize=10, color=MUTED_COLOUR)
    axes.set_title(title, fontsize=TITLE_SIZE, color=TEXT_COLOUR, loc="left", pad=10, wrap=True)
    legend = [
        Patch(facecolor=LEVEL_COLOURS[lv], label=texts(f"risk.level_{lv.value}")) for lv in Level
    ]
    figure.legend(handles=legend, loc="lower center", ncols=3, frameon=False, fontsize=9)
    return png_of(figure)


def _decision(texts: Texts, view: AssessmentView, key: str) -> tuple[str, str]:
    """What the unit decided of a factor, and why."""
    answer = view.answers.get(key)
    if answer is None:
        return texts("risk.unanswered"), ""
    return texts(f"risk.decision_{answer.decision.value}"), answer.reason


def _score(p: int | None, c: int | None) -> tuple[str, str, str]:
    if p is None or c is None:
        return "–", "–", "–"
    return str(p), str(c), str(p * c)


def risk_tables(view: AssessmentView, texts: Texts) -> list[Table]:
    # The number goes with the situation: a column of its own would take a figure's width.
    header = (
        texts("risk.column_situation"),
        texts("risk.column_p"),
        texts("risk.column_c"),
        texts("risk.column_score"),
        texts("risk.column_decision"),
        texts("risk.column_measures"),
        texts("risk.column_reason"),
    )
    rows = []
    for number, factor in enumerate(view.factors, start=1):
        answer = view.answers.get(factor.key)
        p_c = rating(factor, answer)
        decision, reason = _decision(texts, view, factor.key)
        local = (
            f"{texts('risk.local_measures')}: {answer.measures}"
            if answer and answer.measures
            else ""
        )
        measures = "\n".join(m for m in (factor.existing, local) if m)
        rows.append(
            (
                f"{number}. {factor.situation}",
                *_score(*(p_c or (None, None))),
                decision,
                measures,
                reason,
            )
        )
    for number, answer in enumerate(view.local, start=len(view.factors) + 1):
        rows.append(
            (
                f"{number}. {answer.situation}",
                *_score(answer.probability, answer.consequence),
                texts("risk.decision_local"),
                answer.measures,
                "",
            )
        )
    return [Table(texts("risk.heading_factors"), header, tuple(rows))]


def _about(view: AssessmentView, texts: Texts) -> list[str]:
    lines = [
        texts(
            "risk.version_line",
            version=view.frame.version,
            revision=view.revision,
            department=view.department,
        )
    ]
    if view.signed_at is not None:
        lines.append(
            texts(
                "risk.signed_line",
                date=format_date(view.signed_at),
                signer=view.signed_by or "–",
                verneombod=view.verneombod or "–",
            )
        )
    else:
        lines.append(texts("risk.not_signed_line"))
    return lines


def _cut(table: Table, texts: Texts) -> tuple[Table, list[str]]:
    """The table with each long text cut to CELL_MAX characters and pointing below, and those
    texts in full, each under its factor and column."""
    whole: list[str] = []
    rows = []
    for row in table.rows:
        number = row[0].split(".", 1)[0]
        cells = []
        for column, value in zip(table.header, row, strict=True):
            lines = value.splitlines()
            if len(value) > CELL_MAX or len(lines) > CELL_LINES:
                whole.append(f"{number}. {column}: {value}")
                short = "\n".join(lines[:CELL_LINES])[:CELL_MAX].rsplit(" ", 1)[0]
                value = f"{short} … {texts('risk.see_below')}"
            cells.append(value)
        rows.append(tuple(cells))
    return replace(table, rows=tuple(rows)), whole


def risk_pdf(view: AssessmentView, texts: Texts) -> bytes:
    title = texts("risk.title", frame=view.frame.title, unit=view.unit)
    pdf = Document(title, texts("risk.footer", unit=view.unit, frame=view.frame.title))
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page(orientation="L")
    heading(pdf, title, 15)
    for line in _about(view, texts):
        paragraph(pdf, line, 10)
    for table in risk_tables(view, texts):
        shown, whole = _cut(table, texts)
        draw_table(
            pdf, shown, none=texts("risk.no_factors"), width=LANDSCAPE_WIDTH_MM, figure_mm=16
        )
        if whole:
            # A row of the table must fit on a page: long words are printed in full here.
            heading(pdf, texts("risk.heading_full_texts"), 11)
            for line in whole:
                paragraph(pdf, line, 9)
    pdf.add_page(orientation="P")
    heading(pdf, texts("risk.heading_matrix"), 12)
    png = render_matrix(view_matrix(view), view.unit, texts)
    pdf.image(io.BytesIO(png), w=PAGE_WIDTH_MM * 0.8)
    paragraph(pdf, texts("risk.matrix_note"), 9)
    return bytes(pdf.output())


def risk_xlsx(view: AssessmentView, texts: Texts) -> bytes:
    about = Table(
        texts("risk.heading_about"),
        (texts("risk.title", frame=view.frame.title, unit=view.unit),),
        tuple((line,) for line in _about(view, texts)),
    )
    return tables_xlsx([about, *risk_tables(view, texts)])


def decided(view: AssessmentView, decision: Decision) -> int:
    return sum(1 for a in view.answers.values() if a.decision is decision)
