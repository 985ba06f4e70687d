"""A made-up but Voss-shaped avvik history: for the statistics benchmark, the chart pictures in
docs/, and the test that checks every figure of `stats --json` against an independent count.

The shape follows the customer's own figures (DOMAIN.md): about two thirds low severity and a
twentieth high; "vald og truslar" half of everything, mostly in Helse og omsorg and Oppvekst;
September the busiest month. Units report in proportion to their headcount, except a few that
report far less (what the under-reporting finder should find). Same seed, same history.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from domain.oslo_time import OSLO
from domain.readers.history import COLUMNS  # the columns `python -m bot history import` reads
from domain.vocabulary import Harm, Severity, Status

T = TypeVar("T")


SEVERITY_LABELS = {Severity.LOW: "Låg", Severity.MEDIUM: "Middels", Severity.HIGH: "Høg"}
# The default categories' codes (domain/categories-default.csv) and their Nynorsk labels.
CATEGORY_LABELS = {
    "violence_threats": "Vald og truslar mot tilsette",
    "fall_accident": "Fall, snubling og ulukke",
    "lifting_ergonomics": "Tunge løft og ergonomi",
    "psychosocial": "Psykososialt arbeidsmiljø",
    "fire_electrical": "Brann og el-tryggleik",
    "chemicals_infection": "Kjemikaliar, smitte og stikkskadar",
    "indoor_building": "Inneklima, bygg og utstyr",
    "traffic_driving": "Trafikk og køyring",
    "other": "Anna",
}
STATUS_LABELS = {
    Status.NEW: "Ny",
    Status.ACKNOWLEDGED: "Motteke",
    Status.IN_PROGRESS: "Under handsaming",
    Status.CLOSED: "Lukka",
}

# Voss 2025: 859 / 396 / 62.
_SEVERITY_WEIGHTS = {Severity.LOW: 859, Severity.MEDIUM: 396, Severity.HIGH: 62}
# 673 of 1317 were violence and threats; the rest spread as a municipality's usually are.
_CATEGORY_WEIGHTS = {
    "violence_threats": 673,
    "fall_accident": 160,
    "lifting_ergonomics": 110,
    "psychosocial": 95,
    "fire_electrical": 25,
    "chemicals_infection": 90,
    "indoor_building": 80,
    "traffic_driving": 30,
    "other": 54,
}
# September highest (158 of 1317 in 2025), summer lowest.
_MONTH_WEIGHTS = (108, 112, 118, 105, 112, 96, 62, 88, 158, 124, 122, 112)


@dataclass(frozen=True)
class GeneratedUnit:
    department: str
    name: str
    code: str
    headcount: int
    # How much this unit reports compared with what its headcount would suggest.
    reporting: float = 1.0


# Helse og omsorg 667 and Oppvekst 571 of 1317; the rest share the remainder.
_DEPARTMENT_UNITS: dict[str, tuple[tuple[str, int, float], ...]] = {
    "Helse og omsorg": (
        ("Vangen omsorgsbustad", 38, 1.6),
        ("Bryn omsorgsbustad", 30, 1.5),
        ("Heimetenesta Vest", 60, 0.9),
        ("Heimetenesta Aust", 55, 0.9),
        ("Vossatun sjukeheim", 90, 1.0),
        ("Bu- og miljøtenesta", 45, 1.4),
        ("Psykisk helse og rus", 25, 0.8),
        ("Helsestasjonen", 18, 0.1),
        ("Legevakta", 22, 0.7),
    ),
    "Oppvekst": (
        ("Vossevangen skule", 70, 1.3),
        ("Palmafossen skule", 45, 1.2),
        ("Bulken skule", 20, 1.0),
        ("Skulestad skule", 18, 1.1),
        ("Vossevangen barnehage", 30, 0.9),
        ("Tvildemoen barnehage", 24, 0.9),
        ("Voss ungdomsskule", 55, 1.2),
        ("Lærlingar og PPT", 12, 0.0),
    ),
    "Teknisk": (
        ("Reinhald", 40, 0.35),
        ("Vatn og avløp", 20, 0.3),
        ("Eigedom", 25, 0.25),
        ("Veg og park", 18, 0.04),
    ),
    "Kultur og fritid": (
        ("Voss bibliotek", 10, 0.2),
        ("Voss kulturskule", 22, 0.15),
        ("Idrett og friluft", 8, 0.2),
    ),
    "Rådmannens stab": (
        ("Personal og organisasjon", 15, 0.1),
        ("Økonomi", 14, 0.05),
        ("IKT", 12, 0.1),
    ),
    "Anna": (("Voss hamnevesen", 6, 0.3),),
}


def organisation() -> tuple[GeneratedUnit, ...]:
    units = []
    for number, (department, members) in enumerate(_DEPARTMENT_UNITS.items(), 1):
        for index, (name, headcount, reporting) in enumerate(members, 1):
            code = f"G{number}{index:02d}"
            units.append(GeneratedUnit(department, name, code, headcount, reporting))
    return tuple(units)


@dataclass(frozen=True)
class GeneratedReport:
    reported_at: datetime  # aware UTC
    occurred_at: datetime
    unit: GeneratedUnit
    category: str  # a code of the default list
    severity: Severity
    harm: Harm
    status: Status
    closed_at: datetime | None
    description: str
    location: str
    immediate_action: str
    measure: str

    def csv_row(self) -> dict[str, str]:
        def local(moment: datetime | None) -> str:
            return moment.astimezone(OSLO).strftime("%Y-%m-%d %H:%M") if moment else ""

        return {
            "reported_at": local(self.reported_at),
            "occurred_at": local(self.occurred_at),
            "department": self.unit.department,
            "unit": self.unit.name,
            "category": CATEGORY_LABELS[self.category],
            "severity": SEVERITY_LABELS[self.severity],
            "description": self.description,
            "location": self.location,
            "harm": "skade" if self.harm is Harm.INJURY else "nestenulukke",
            "immediate_action": self.immediate_action,
            "measure": self.measure,
            "status": STATUS_LABELS[self.status],
            "closed_at": local(self.closed_at),
        }


_WHAT = (
    "Brukar sparka og klora tilsett under stell",
    "Elev truga medelev og tilsett i friminuttet",
    "Tilsett skrensa på glatt gangveg utan strøing",
    "Tungt løft utan hjelpemiddel ved forflytting",
    "Stikkskade ved handtering av brukt kanyle",
    "Høgt arbeidspress og konflikt i turnusen",
    "Defekt stikkontakt på personalrommet",
    "Dårleg inneklima i klasserommet, mange klagar på hovudverk",
    "Nesten påkøyrd ved rygging på parkeringsplassen",
    "Kjemikalie utan merking stod i reinhaldsrommet",
)
_WHERE = ("Fellesareal", "Klasserom", "Uteområdet", "Bebuarrom", "Kontor", "Parkeringsplass")
_ACTION = (
    "Snakka med dei involverte",
    "Varsla leiar",
    "Ryddet og sikra området",
    "Gav førstehjelp",
)
_MEASURE = ("Ny rutine for strøing", "Opplæring i forflytting", "Gjennomgang av risikovurdering")


def _weighted(rng: random.Random, weights: Mapping[T, int]) -> T:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _month_moment(rng: random.Random, year: int, month: int) -> datetime:
    start = datetime(year, month, 1, tzinfo=OSLO)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=OSLO)
    seconds = int((end - start).total_seconds())
    # Wall-clock arithmetic in Oslo, then to UTC; the DST gap hour is rare enough to ignore.
    return (start + timedelta(seconds=rng.randrange(seconds))).astimezone(UTC)


def generate(
    *,
    seed: int,
    per_year: dict[int, int],
    units: Sequence[GeneratedUnit] | None = None,
    until: datetime | None = None,
) -> Iterator[GeneratedReport]:
    """`per_year[year]` reports in each year (fewer where `until` cuts the year short)."""
    rng = random.Random(seed)
    pool = tuple(units) if units is not None else organisation()
    unit_weights = [u.headcount * u.reporting for u in pool]
    for year, count in sorted(per_year.items()):
        months = rng.choices(range(1, 13), weights=_MONTH_WEIGHTS, k=count)
        chosen = rng.choices(pool, weights=unit_weights, k=count)
        for month, unit in zip(months, chosen, strict=True):
            reported_at = _month_moment(rng, year, month)
            if until is not None and reported_at >= until:
                continue
            severity = _weighted(rng, _SEVERITY_WEIGHTS)
            category = _weighted(rng, _CATEGORY_WEIGHTS)
            occurred_at = reported_at - timedelta(minutes=rng.randrange(0, 3 * 24 * 60))
            status = rng.choices(list(Status), weights=(5, 10, 15, 70))[0]
            closed_at = (
                reported_at + timedelta(days=rng.randrange(1, 40))
                if status is Status.CLOSED
                else None
            )
            if closed_at is not None and until is not None and closed_at > until:
                closed_at = until
            yield GeneratedReport(
                reported_at=reported_at,
                occurred_at=occurred_at,
                unit=unit,
                category=category,
                severity=severity,
                harm=Harm.INJURY if rng.random() < 0.3 else Harm.NEAR_MISS,
                status=status,
                closed_at=closed_at,
                description=f"{rng.choice(_WHAT)} ({rng.randrange(1000, 9999)})",
                location=rng.choice(_WHERE),
                immediate_action=rng.choice(_ACTION),
                measure=rng.choice(_MEASURE) if status is Status.CLOSED else "",
            )


def history_csv(reports: Iterable[GeneratedReport], *, delimiter: str = ",") -> str:
    """The history as the CSV `python -m bot history import` reads."""
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=COLUMNS, delimiter=delimiter, lineterminator="\r\n")
    writer.writeheader()
    for report in reports:
        writer.writerow(report.csv_row())
    return out.getvalue()


def organisation_csv(units: Iterable[GeneratedUnit] | None = None) -> str:
    """The units with their headcounts, as `python -m bot org import` reads them."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["kind", "id", "name", "department", "headcount"])
    for unit in units if units is not None else organisation():
        writer.writerow(["unit", unit.code, unit.name, unit.department, unit.headcount])
    return out.getvalue()
