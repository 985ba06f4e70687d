"""Which units may be under-reporting: a pure rule over per-unit counts (docs/under-reporting.md).

Many avvik is a good sign (a low threshold for reporting); few can mean that things happen and
are not reported. A unit is flagged for one or both of these reasons:

1. **Far below comparable units** (`Reason.FAR_BELOW`). Only for a unit with a headcount above
   zero. Its rate is its reports in the last 12 months per employee. The comparison is the
   median rate of the *other* units in the same department that have a headcount; with fewer
   than `MIN_COMPARABLE` such units there is nothing honest to compare with, and the unit is
   not judged. The unit is flagged only when both hold:

   - its rate is below `FAR_BELOW_SHARE` (half) of that median, and
   - its count is improbable if it reported at the median rate: with
     X ~ Poisson(expected), expected = median rate x headcount, the one-sided
     p = P(X <= observed) is below `SIGNIFICANCE` (0.05).

   The second condition is what keeps small units from being called out for chance: a
   3-person unit with no reports where 0.8 were expected has p = e^-0.8 = 0.45, which is
   what chance alone gives, so it is not flagged.

2. **None in 90 days** (`Reason.NONE_IN_90_DAYS`): no report at all in the last 90 days, for
   any unit of the organisation (it has the code the organisation file gives) whose headcount
   is unknown or above zero. A unit without a code is one only the history knows (a closed or
   renamed unit from an earlier system): its silence says nothing. This is a plain fact, not a
   statistical claim.

Honest limits, said in the adviser's card as well: the p-value is per unit, with no correction
for testing many units (about 1 in 20 units that report at the median rate would still show
p < 0.05 by chance, which is why the rate must also be under half the median); the Poisson
model treats the median rate as known and all employees as alike, while real units differ in
risk (a kindergarten is not a nursing home), so this is a reason to ask, never proof.

Flagged units come most striking first: those far below comparable units by increasing p
(with both reasons before one on a tie), then those with only «none in 90 days», largest first.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

FAR_BELOW_SHARE = 0.5
SIGNIFICANCE = 0.05
MIN_COMPARABLE = 2
YEAR_DAYS = 365  # "the last 12 months"
QUIET_DAYS = 90


class Reason(StrEnum):
    FAR_BELOW = "far_below"
    NONE_IN_90_DAYS = "none_in_90_days"


@dataclass(frozen=True)
class UnitFigures:
    """One unit's counts, as `storage.under_reporting.unit_figures` reads them."""

    unit_id: int
    code: str | None
    name: str
    department: str
    headcount: int | None  # None: not known
    reports_12_months: int
    reports_90_days: int


@dataclass(frozen=True)
class Comparison:
    """A unit beside the other units of its department, in numbers an adviser can read."""

    rate_per_10: float  # the unit's reports in 12 months per 10 employees
    median_rate_per_10: float  # the median of the other units with a headcount
    expected: float  # reports in 12 months had the unit reported at that median rate
    p_value: float  # P(X <= observed), X ~ Poisson(expected)
    compared_with: int  # how many other units the median is of


@dataclass(frozen=True)
class Flagged:
    unit: UnitFigures
    reasons: tuple[Reason, ...]
    comparison: Comparison | None  # None: no headcount, or too few units to compare with


def poisson_cdf(observed: int, mean: float) -> float:
    """P(X <= observed) for X ~ Poisson(mean), summed in log space so that a large mean
    neither underflows e^-mean nor overflows mean^k / k!."""
    if observed < 0:
        return 0.0
    if mean <= 0:
        return 1.0
    log_mean = math.log(mean)
    terms = (math.exp(k * log_mean - mean - math.lgamma(k + 1)) for k in range(observed + 1))
    return min(1.0, math.fsum(terms))


def _has_headcount(unit: UnitFigures) -> bool:
    return unit.headcount is not None and unit.headcount > 0


def _rate(unit: UnitFigures) -> float:
    assert unit.headcount
    return unit.reports_12_months / unit.headcount


def compare(unit: UnitFigures, department: Sequence[UnitFigures]) -> Comparison | None:
    """The unit against the median of the other units of `department` with a headcount; None
    when the unit has no headcount or there are fewer than `MIN_COMPARABLE` others."""
    if not _has_headcount(unit):
        return None
    others = [_rate(u) for u in department if u.unit_id != unit.unit_id and _has_headcount(u)]
    if len(others) < MIN_COMPARABLE:
        return None
    median = statistics.median(others)
    assert unit.headcount
    expected = median * unit.headcount
    return Comparison(
        rate_per_10=10 * _rate(unit),
        median_rate_per_10=10 * median,
        expected=expected,
        p_value=poisson_cdf(unit.reports_12_months, expected),
        compared_with=len(others),
    )


def is_far_below(comparison: Comparison) -> bool:
    return (
        comparison.rate_per_10 < FAR_BELOW_SHARE * comparison.median_rate_per_10
        and comparison.p_value < SIGNIFICANCE
    )


def _reasons(unit: UnitFigures, comparison: Comparison | None) -> tuple[Reason, ...]:
    reasons = []
    if comparison is not None and is_far_below(comparison):
        reasons.append(Reason.FAR_BELOW)
    in_organisation = unit.code is not None
    if (
        unit.reports_90_days == 0
        and in_organisation
        and (unit.headcount is None or unit.headcount > 0)
    ):
        reasons.append(Reason.NONE_IN_90_DAYS)
    return tuple(reasons)


def _striking(flagged: Flagged) -> tuple[bool, float, int, int, str, str]:
    far = Reason.FAR_BELOW in flagged.reasons and flagged.comparison is not None
    p_value = flagged.comparison.p_value if far and flagged.comparison else 1.0
    return (
        not far,
        p_value,
        -len(flagged.reasons),
        -(flagged.unit.headcount or 0),
        flagged.unit.department,
        flagged.unit.name,
    )


def find_under_reporting(units: Iterable[UnitFigures]) -> list[Flagged]:
    """The units the rule flags, most striking first (see the module's docstring)."""
    by_department: dict[str, list[UnitFigures]] = defaultdict(list)
    for unit in units:
        by_department[unit.department].append(unit)
    flagged = []
    for department in by_department.values():
        for unit in department:
            comparison = compare(unit, department)
            reasons = _reasons(unit, comparison)
            if reasons:
                flagged.append(Flagged(unit, reasons, comparison))
    return sorted(flagged, key=_striking)
