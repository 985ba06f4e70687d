"""The adviser's charts: a year beside the year before, as PNG for a Teams card.

Pure rendering: a `Statistics` and the reader's `Texts` in, PNG bytes out. Every figure is a
`matplotlib.figure.Figure` on its own `FigureCanvasAgg`, made and dropped inside one call;
pyplot and its global figure registry are never touched, so renders may run in worker threads
(`asyncio.to_thread`) side by side and nothing is left behind.

Every chart is 800 × 450 pixels at 100 dpi (readable in a Teams card), uses the Okabe–Ito
blue for the year asked for and orange for the year before (told apart with every common
colour-vision deficiency), and is byte-for-byte the same for the same statistics: the PNG
carries no software or time stamp. It is written by Pillow (a dependency of matplotlib) with a
64-colour palette, which keeps each file at 7-16 KB instead of 25-50 KB.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator
from PIL import Image

from domain.categories import CATCH_ALL
from domain.i18n import Texts
from storage.stats import Pair, Statistics

WIDTH_PX = 800
HEIGHT_PX = 450
DPI = 100

THIS_YEAR_COLOUR = "#0072B2"  # Okabe–Ito blue
PREVIOUS_YEAR_COLOUR = "#E69F00"  # Okabe–Ito orange
TEXT_COLOUR = "#222222"
MUTED_COLOUR = "#555555"
GRID_COLOUR = "#DDDDDD"

TITLE_SIZE = 13
LABEL_SIZE = 9
VALUE_SIZE = 8
MONTH_VALUE_SIZE = 7  # 24 bars side by side: small, and still legible in a card
WRAP_CATEGORY = 26  # characters per line of a category label
WRAP_DEPARTMENT = 30  # a department's name may be 200 characters: wrapped, cut at two lines
ROWS_IN_HEIGHT = 10  # horizontal bars that fit in HEIGHT_PX; each one more adds ROW_PX
ROW_PX = 38

PALETTE_COLOURS = 64  # of the PNG; the bars and text of a chart need far fewer
# For telling whether a value fits over its bar: a digit of DejaVu Sans is about 0.64 of the
# font size wide, and the axes take about 85 % of the figure's width (and 60 % of its height).
TEXT_WIDTH_PER_POINT = 0.64
PLOT_SHARE = 0.85


class Chart(StrEnum):
    """The charts the bot offers; the value is the name in commands and file names."""

    MONTHS = "months"
    SEVERITY = "severity"
    CATEGORY = "category"
    DEPARTMENTS = "departments"


class UnknownChart(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


# ---- the public face ----------------------------------------------------------------------


def draw(name: Chart | str, statistics: Statistics, texts: Texts) -> Figure:
    """The figure of one chart, not yet rendered (tests read its titles and labels)."""
    return CHARTS[_chart(name)](statistics, texts)


def render_chart(name: Chart | str, statistics: Statistics, texts: Texts) -> bytes:
    """One chart as PNG bytes. Raises UnknownChart."""
    return png_of(draw(name, statistics, texts))


def chart_file_name(name: Chart | str, statistics: Statistics) -> str:
    return f"avvik-{_chart(name).value}-{statistics.year}.png"


def write_charts(statistics: Statistics, texts: Texts, directory: Path) -> list[Path]:
    """Every chart as `avvik-<name>-<year>.png` in `directory` (made if missing)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for chart in Chart:
        path = directory / chart_file_name(chart, statistics)
        path.write_bytes(render_chart(chart, statistics, texts))
        paths.append(path)
    return paths


# ---- the four charts ----------------------------------------------------------------------


def draw_months(statistics: Statistics, texts: Texts) -> Figure:
    figure, axes = _figure()
    _title(axes, "chart.title_months", statistics, texts)
    names = list(texts.words("chart.months"))
    shown = statistics.months_shown
    labels = [names[m - 1] for m in shown]
    pairs = [statistics.months[m - 1] for m in shown]
    _vertical_bars(axes, labels, pairs, statistics, texts, MONTH_VALUE_SIZE)
    axes.set_xlabel(texts("chart.axis_month"), fontsize=LABEL_SIZE, color=MUTED_COLOUR)
    return figure


def draw_severity(statistics: Statistics, texts: Texts) -> Figure:
    figure, axes = _figure()
    _title(axes, "chart.title_severity", statistics, texts)
    labels = [texts(f"severity.{severity.value}") for severity, _ in statistics.severities]
    pairs = [pair for _, pair in statistics.severities]
    _vertical_bars(axes, labels, pairs, statistics, texts, VALUE_SIZE)
    axes.set_xlabel(texts("chart.axis_severity"), fontsize=LABEL_SIZE, color=MUTED_COLOUR)
    return figure


def draw_category(statistics: Statistics, texts: Texts) -> Figure:
    figure, axes = _figure(len(statistics.categories))
    _title(axes, "chart.title_category", statistics, texts)
    # Most reports at the top; the catch-all («Anna») last wherever it would fall, as people
    # expect; then the municipality's own order.
    rows = sorted(
        statistics.categories,
        key=lambda item: (
            item[0].code == CATCH_ALL,
            -item[1].count,
            -item[1].previous,
            item[0].order,
        ),
    )
    labels = [textwrap.fill(category.label(texts.language), WRAP_CATEGORY) for category, _ in rows]
    _horizontal_bars(axes, labels, [pair for _, pair in rows], statistics, texts)
    return figure


def draw_departments(statistics: Statistics, texts: Texts) -> Figure:
    figure, axes = _figure(len(statistics.departments))
    _title(axes, "chart.title_departments", statistics, texts)
    labels = [
        "\n".join(textwrap.wrap(name, WRAP_DEPARTMENT, max_lines=2, placeholder=" …"))
        if name is not None
        else texts("chart.unknown_department")
        for name, _ in statistics.departments
    ]
    _horizontal_bars(axes, labels, [pair for _, pair in statistics.departments], statistics, texts)
    return figure


CHARTS: Mapping[Chart, Callable[[Statistics, Texts], Figure]] = MappingProxyType(
    {
        Chart.MONTHS: draw_months,
        Chart.SEVERITY: draw_severity,
        Chart.CATEGORY: draw_category,
        Chart.DEPARTMENTS: draw_departments,
    }
)


# ---- drawing ------------------------------------------------------------------------------


def _chart(name: Chart | str) -> Chart:
    try:
        return Chart(name)
    except ValueError:
        raise UnknownChart(str(name)) from None


def _figure(rows: int = 0) -> tuple[Figure, Axes]:
    """A chart 800 pixels wide; one with more than ROWS_IN_HEIGHT rows of bars grows taller,
    so that a municipality's long list of categories stays legible."""
    height = HEIGHT_PX + max(0, rows - ROWS_IN_HEIGHT) * ROW_PX
    figure = Figure(
        figsize=(WIDTH_PX / DPI, height / DPI),
        dpi=DPI,
        facecolor="white",
        layout="constrained",
    )
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        axes.spines[side].set_color(MUTED_COLOUR)
    axes.tick_params(labelsize=LABEL_SIZE, colors=TEXT_COLOUR, length=3)
    axes.set_axisbelow(True)
    return figure, axes


def png_of(figure: Figure) -> bytes:
    """Drawn on Agg, then reduced to a palette: flat colours and anti-aliased text need few,
    and the file is a third of the size (Teams clients fetch it). Pillow writes no software or
    time chunk, so the bytes depend on the statistics alone."""
    canvas = FigureCanvasAgg(figure)
    raw = io.BytesIO()
    figure.savefig(raw, format="rgba", dpi=DPI)
    image = Image.frombytes("RGBA", canvas.get_width_height(), raw.getvalue())
    buffer = io.BytesIO()
    image.convert("RGB").quantize(colors=PALETTE_COLOURS).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _number(value: int, texts: Texts) -> str:
    return f"{value:,}".replace(",", texts("chart.thousands_separator"))


def _title(axes: Axes, key: str, statistics: Statistics, texts: Texts) -> None:
    period: str | int = statistics.year
    if statistics.quarter is not None:
        period = texts("chart.quarter", quarter=statistics.quarter, year=statistics.year)
    title = texts(key, year=period)
    if statistics.scope.department is not None:
        title = f"{title} – {statistics.scope.department}"
    elif statistics.scope.unit_ids is not None:
        title = f"{title} – {texts('chart.scope_units')}"
    # The legend sits between the title and the bars; the padding leaves it room.
    axes.set_title(
        title, loc="left", fontsize=TITLE_SIZE, fontweight="bold", color=TEXT_COLOUR, pad=26
    )


def _legend(axes: Axes, previous_label: str, current_label: str) -> None:
    # Handles of their own: a chart without bars (no department in scope) keeps its colours.
    axes.legend(
        [Patch(color=PREVIOUS_YEAR_COLOUR), Patch(color=THIS_YEAR_COLOUR)],
        [previous_label, current_label],
        loc="lower left",
        bbox_to_anchor=(0.0, 1.0),
        ncols=2,
        frameon=False,
        fontsize=LABEL_SIZE,
        borderaxespad=0.2,
        handlelength=1.2,
        columnspacing=1.5,
    )


def _year_labels(pairs: Sequence[Pair], statistics: Statistics, texts: Texts) -> tuple[str, str]:
    """The legend texts, each year with its sum over the bars shown."""
    return (
        texts(
            "chart.legend",
            year=statistics.year - 1,
            count=_number(sum(p.previous for p in pairs), texts),
        ),
        texts(
            "chart.legend",
            year=statistics.year,
            count=_number(sum(p.count for p in pairs), texts),
        ),
    )


def _count_formatter(texts: Texts) -> FuncFormatter:
    return FuncFormatter(lambda value, _position: _number(round(value), texts))


def _no_reports(axes: Axes, texts: Texts) -> None:
    axes.text(
        0.5,
        0.5,
        texts("chart.no_reports"),
        transform=axes.transAxes,
        ha="center",
        va="center",
        fontsize=LABEL_SIZE + 2,
        color=MUTED_COLOUR,
    )


def _vertical_bars(
    axes: Axes,
    labels: Sequence[str],
    pairs: Sequence[Pair],
    statistics: Statistics,
    texts: Texts,
    value_size: float,
) -> None:
    width = 0.4
    positions = [float(i) for i in range(len(labels))]
    previous_label, current_label = _year_labels(pairs, statistics, texts)
    previous = axes.bar(
        [x - width / 2 for x in positions],
        [p.previous for p in pairs],
        width,
        color=PREVIOUS_YEAR_COLOUR,
    )
    current = axes.bar(
        [x + width / 2 for x in positions],
        [p.count for p in pairs],
        width,
        color=THIS_YEAR_COLOUR,
    )
    axes.set_xticks(positions, labels)
    axes.tick_params(axis="x", length=0)
    axes.set_ylabel(texts("chart.axis_count"), fontsize=LABEL_SIZE, color=MUTED_COLOUR)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=6))
    axes.yaxis.set_major_formatter(_count_formatter(texts))
    axes.grid(axis="y", color=GRID_COLOUR, linewidth=0.8)
    highest = max((max(p.count, p.previous) for p in pairs), default=0)
    if highest == 0:
        axes.set_ylim(0, 1)
        _no_reports(axes, texts)
    else:
        # A value wider than its bar («12 345» over a month's bar) would run into its
        # neighbour's: then every value stands on end above its bar, with room made for it.
        longest = max(len(_number(v, texts)) for p in pairs for v in (p.count, p.previous))
        label_px = longest * value_size * TEXT_WIDTH_PER_POINT * DPI / 72
        bar_px = PLOT_SHARE * WIDTH_PX / max(1, len(labels)) * width
        upright = label_px > bar_px
        room = 1.12 + (label_px / (PLOT_SHARE * HEIGHT_PX) if upright else 0)
        axes.set_ylim(0, highest * room)
        _values(axes, previous, [p.previous for p in pairs], texts, value_size, upright)
        _values(axes, current, [p.count for p in pairs], texts, value_size, upright)
    _legend(axes, previous_label, current_label)


def _horizontal_bars(
    axes: Axes,
    labels: Sequence[str],
    pairs: Sequence[Pair],
    statistics: Statistics,
    texts: Texts,
) -> None:
    height = 0.4
    positions = [float(i) for i in range(len(labels))]
    previous_label, current_label = _year_labels(pairs, statistics, texts)
    # The first row at the top, and in each row the year before above the year asked for,
    # in the order of the legend.
    previous = axes.barh(
        [y - height / 2 for y in positions],
        [p.previous for p in pairs],
        height,
        color=PREVIOUS_YEAR_COLOUR,
    )
    current = axes.barh(
        [y + height / 2 for y in positions],
        [p.count for p in pairs],
        height,
        color=THIS_YEAR_COLOUR,
    )
    axes.set_yticks(positions, labels)
    axes.tick_params(axis="y", length=0)
    axes.invert_yaxis()
    axes.set_xlabel(texts("chart.axis_count"), fontsize=LABEL_SIZE, color=MUTED_COLOUR)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=6))
    axes.xaxis.set_major_formatter(_count_formatter(texts))
    axes.grid(axis="x", color=GRID_COLOUR, linewidth=0.8)
    highest = max((max(p.count, p.previous) for p in pairs), default=0)
    if highest == 0:
        axes.set_xlim(0, 1)
        _no_reports(axes, texts)
    else:
        axes.set_xlim(0, highest * 1.12)  # room for the values after the bars
        _values(axes, previous, [p.previous for p in pairs], texts, VALUE_SIZE)
        _values(axes, current, [p.count for p in pairs], texts, VALUE_SIZE)
    _legend(axes, previous_label, current_label)


def _values(
    axes: Axes,
    container: BarContainer,
    values: Sequence[int],
    texts: Texts,
    size: float,
    upright: bool = False,
) -> None:
    axes.bar_label(
        container,
        labels=[_number(value, texts) for value in values],
        padding=2,
        fontsize=size,
        color=TEXT_COLOUR,
        rotation=90 if upright else 0,
    )
