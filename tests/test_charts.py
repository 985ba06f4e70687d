"""The adviser's charts: PNGs a Teams card can show, in the reader's language, the same bytes
for the same figures, and nothing left behind in matplotlib's global state."""

from __future__ import annotations

import io
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.text import Text
from PIL import Image

from bot.statistics.charts import (
    CHARTS,
    HEIGHT_PX,
    PREVIOUS_YEAR_COLOUR,
    THIS_YEAR_COLOUR,
    WIDTH_PX,
    Chart,
    UnknownChart,
    draw,
    render_chart,
    write_charts,
)
from domain.access import EVERYTHING, Scope
from domain.i18n import Catalogues, Texts
from domain.vocabulary import Severity
from storage.stats import Pair, Quarter, Statistics
from tests.categories import DEFAULT, category

NBSP = "\u00a0"

# Voss herad's own figures where DOMAIN.md has them (2025: 1317, 2024: 1386).
_MONTHS = (
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


def voss_2025() -> Statistics:
    months = tuple(Pair(count, previous) for count, previous in _MONTHS)
    quarters = tuple(
        Quarter(
            q + 1,
            Pair(
                sum(p.count for p in months[3 * q : 3 * q + 3]),
                sum(p.previous for p in months[3 * q : 3 * q + 3]),
            ),
            None,
        )
        for q in range(4)
    )
    return Statistics(
        year=2025,
        scope=EVERYTHING,
        scope_unit_codes=None,
        total=Pair(1317, 1386),
        months=months,
        quarters=quarters,
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
            (category("other"), Pair(64, 76)),
        ),
        departments=(
            ("Helse og omsorg", Pair(667, 700)),
            ("Oppvekst", Pair(571, 600)),
            ("Teknisk", Pair(40, 44)),
            ("Kultur og fritid", Pair(20, 25)),
            ("Rådmannens stab", Pair(10, 10)),
            ("Anna", Pair(4, 2)),
            (None, Pair(5, 5)),
        ),
        units=(),
    )


def nothing_in_2025() -> Statistics:
    zero = Pair(0, 0)
    return Statistics(
        year=2025,
        scope=Scope(unit_ids=frozenset({7})),
        scope_unit_codes=("BHG-07",),
        total=zero,
        months=(zero,) * 12,
        quarters=tuple(Quarter(q, zero, None) for q in range(1, 5)),
        severities=tuple((s, zero) for s in Severity),
        categories=tuple((c, zero) for c in DEFAULT),
        departments=(),
        units=(),
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


def _title(figure: Figure) -> str:
    return figure.axes[0].get_title(loc="left")


def _legend(figure: Figure) -> list[str]:
    legend = figure.axes[0].get_legend()
    assert legend is not None
    return [text.get_text() for text in legend.get_texts()]


def _all_text(figure: Figure) -> set[str]:
    return {artist.get_text() for artist in figure.findobj(Text)}


def _tick_labels(figure: Figure, axis: str) -> list[str]:
    axes = figure.axes[0]
    labels = axes.get_xticklabels() if axis == "x" else axes.get_yticklabels()
    return [label.get_text() for label in labels]


# ---- what Teams shows ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def pngs(nn: Texts) -> dict[Chart, bytes]:
    """Every chart of Voss 2025 in Nynorsk, rendered once for the module."""
    return {chart: render_chart(chart, voss_2025(), nn) for chart in Chart}


@pytest.mark.parametrize("chart", list(Chart))
def test_each_chart_is_a_small_png_the_size_of_a_card(
    chart: Chart, pngs: dict[Chart, bytes]
) -> None:
    png = pngs[chart]
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG"
        assert image.size == (WIDTH_PX, HEIGHT_PX) == (800, 450)
        colours = {colour for _, colour in image.convert("RGB").getcolors(maxcolors=4096) or []}
    # The two years in their own colours, exactly (the palette keeps them).
    assert _rgb(THIS_YEAR_COLOUR) in colours
    assert _rgb(PREVIOUS_YEAR_COLOUR) in colours
    assert len(png) < 30_000


def _rgb(colour: str) -> tuple[int, int, int]:
    return (int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16))


def test_same_figures_give_the_same_bytes_also_in_threads_side_by_side(
    nn: Texts, pngs: dict[Chart, bytes]
) -> None:
    statistics = voss_2025()
    with ThreadPoolExecutor(max_workers=4) as pool:
        again = list(pool.map(lambda chart: render_chart(chart, statistics, nn), Chart))
    assert dict(zip(Chart, again, strict=True)) == pngs


def test_different_figures_give_different_bytes(nn: Texts, pngs: dict[Chart, bytes]) -> None:
    statistics = voss_2025()
    months = list(statistics.months)
    months[8] = Pair(159, 180)
    changed = replace(statistics, months=tuple(months), total=Pair(1318, 1386))
    assert render_chart("months", changed, nn) != pngs[Chart.MONTHS]


def test_no_pyplot_figure_is_left_behind(pngs: dict[Chart, bytes]) -> None:
    assert pngs  # rendered
    pyplot = sys.modules.get("matplotlib.pyplot")
    assert pyplot is None or pyplot.get_fignums() == []


# ---- words in the reader's language -------------------------------------------------------


def test_titles_name_the_year_in_the_readers_language(catalogues: Catalogues) -> None:
    statistics = voss_2025()
    titles = {
        language: [_title(draw(chart, statistics, catalogues[language])) for chart in Chart]
        for language in ("nn", "nb", "en")
    }
    assert titles["nn"] == [
        "Avvik per månad 2025",
        "Avvik etter alvorsgrad 2025",
        "Avvik etter kategori 2025",
        "Avvik per avdeling 2025",
    ]
    assert titles["nb"] == [
        "Avvik per måned 2025",
        "Avvik etter alvorlighetsgrad 2025",
        "Avvik etter kategori 2025",
        "Avvik per avdeling 2025",
    ]
    assert titles["en"] == [
        "Reports per month 2025",
        "Reports by severity 2025",
        "Reports by category 2025",
        "Reports by department 2025",
    ]


def test_the_picture_changes_with_the_language(en: Texts, pngs: dict[Chart, bytes]) -> None:
    assert render_chart("severity", voss_2025(), en) != pngs[Chart.SEVERITY]


def test_months_are_abbreviated_from_the_catalogue(nn: Texts, en: Texts) -> None:
    assert _tick_labels(draw("months", voss_2025(), nn), "x") == [
        "jan",
        "feb",
        "mar",
        "apr",
        "mai",
        "jun",
        "jul",
        "aug",
        "sep",
        "okt",
        "nov",
        "des",
    ]
    assert _tick_labels(draw("months", voss_2025(), en), "x")[4] == "May"


def test_legend_has_both_years_with_their_totals(nn: Texts, en: Texts) -> None:
    assert _legend(draw("months", voss_2025(), nn)) == [
        f"2024: 1{NBSP}386 avvik",
        f"2025: 1{NBSP}317 avvik",
    ]
    assert _legend(draw("months", voss_2025(), en)) == [
        "2024: 1,386 reports",
        "2025: 1,317 reports",
    ]


def test_values_stand_on_the_bars(nn: Texts) -> None:
    severity = _all_text(draw("severity", voss_2025(), nn))
    assert {"859", "900", "396", "410", "62", "76"} <= severity
    assert {"Låg", "Middels", "Høg"} <= severity
    months = _all_text(draw("months", voss_2025(), nn))
    assert {"158", "180"} <= months  # September, the peak


def test_categories_most_first_and_other_last(nn: Texts) -> None:
    labels = [
        label.replace("\n", " ") for label in _tick_labels(draw("category", voss_2025(), nn), "y")
    ]
    assert len(labels) == 9
    assert labels[0] == "Vald og truslar mot tilsette"
    assert labels[1] == "Psykososialt arbeidsmiljø"
    assert labels[-1] == "Anna"


def test_reports_without_a_known_unit_have_their_own_bar(nn: Texts, en: Texts) -> None:
    assert _tick_labels(draw("departments", voss_2025(), nn), "y") == [
        "Helse og omsorg",
        "Oppvekst",
        "Teknisk",
        "Kultur og fritid",
        "Rådmannens stab",
        "Anna",
        "Ukjend eining",
    ]
    assert _tick_labels(draw("departments", voss_2025(), en), "y")[-1] == "Unknown unit"


def test_a_departments_charts_say_so_in_the_title(nn: Texts) -> None:
    statistics = replace(
        voss_2025(),
        scope=Scope(department="Oppvekst"),
        departments=(("Oppvekst", Pair(571, 600)),),
    )
    assert _title(draw("departments", statistics, nn)) == "Avvik per avdeling 2025 – Oppvekst"


def test_a_year_without_reports_says_so(nn: Texts) -> None:
    for chart in Chart:
        figure = draw(chart, nothing_in_2025(), nn)
        assert "Ingen registrerte avvik" in _all_text(figure)
        assert _title(figure).endswith("2025 – utvalde einingar")
    # No department at all: no bars, and still the legend in the years' colours.
    legend = draw("departments", nothing_in_2025(), nn).axes[0].get_legend()
    assert legend is not None
    handles = [handle for handle in legend.legend_handles if isinstance(handle, Patch)]
    assert [to_hex(handle.get_facecolor()) for handle in handles] == [
        PREVIOUS_YEAR_COLOUR.lower(),
        THIS_YEAR_COLOUR.lower(),
    ]
    with Image.open(io.BytesIO(render_chart("departments", nothing_in_2025(), nn))) as image:
        assert image.size == (800, 450)


# ---- the registry and the files -----------------------------------------------------------


def test_every_chart_is_registered_under_its_name() -> None:
    assert [chart.value for chart in CHARTS] == ["months", "severity", "category", "departments"]


def test_an_unknown_chart_is_refused(nn: Texts) -> None:
    with pytest.raises(UnknownChart) as raised:
        render_chart("pie", voss_2025(), nn)
    assert raised.value.name == "pie"


def test_write_charts_names_the_files_by_chart_and_year(
    tmp_path: Path, nn: Texts, pngs: dict[Chart, bytes]
) -> None:
    paths = write_charts(voss_2025(), nn, tmp_path / "charts")
    assert [path.name for path in paths] == [
        "avvik-months-2025.png",
        "avvik-severity-2025.png",
        "avvik-category-2025.png",
        "avvik-departments-2025.png",
    ]
    assert [path.read_bytes() for path in paths] == list(pngs.values())


@pytest.mark.parametrize("chart", list(Chart))
@pytest.mark.parametrize("scale", [1, 100, 1000])
def test_no_label_overlaps_another_even_with_five_digit_figures(
    nn: Texts, chart: Chart, scale: int
) -> None:
    """A million reports (bench/generated_history.py) give months of five digits: every value,
    tick label, title and legend entry keeps to its own place, on screen as on paper."""
    base = voss_2025()
    scaled = replace(
        base,
        months=tuple(Pair(p.count * scale, p.previous * scale) for p in base.months),
        severities=tuple(
            (s, Pair(p.count * scale, p.previous * scale)) for s, p in base.severities
        ),
        categories=tuple(
            (c, Pair(p.count * scale, p.previous * scale)) for c, p in base.categories
        ),
        departments=tuple(
            (d, Pair(p.count * scale, p.previous * scale)) for d, p in base.departments
        ),
    )
    figure = draw(chart, scaled, nn)
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    figure.draw(renderer)
    [axes] = figure.axes
    texts = [t for t in axes.texts if t.get_text()]
    # The tick labels drawn: matplotlib keeps labels for ticks beyond the axes too.
    low_x, high_x = sorted(axes.get_xlim())
    low_y, high_y = sorted(axes.get_ylim())
    texts += [
        t for t in axes.get_xticklabels() if t.get_text() and low_x <= t.get_position()[0] <= high_x
    ]
    texts += [
        t for t in axes.get_yticklabels() if t.get_text() and low_y <= t.get_position()[1] <= high_y
    ]
    legend = axes.get_legend()
    assert legend is not None
    texts += [axes.title, *legend.get_texts()]
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts]
    for i, (first, one) in enumerate(boxes):
        for second, other in boxes[i + 1 :]:
            assert not one.overlaps(other), f"{first!r} runs into {second!r}"
    # Nothing leaves the picture.
    width, height = figure.canvas.get_width_height()
    for text, box in boxes:
        assert min(box.x0, box.y0) >= 0, text
        assert box.x1 <= width, text
        assert box.y1 <= height, text
