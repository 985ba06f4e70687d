"""The rule book: who may see, handle, and see the name behind each report."""

from __future__ import annotations

import pytest

from domain.access import (
    EVERYTHING,
    Actor,
    ReportScope,
    Scope,
    may_handle,
    may_manage_organisation,
    may_see_reporter,
    may_see_under_reporting,
    may_view,
    statistics_scope,
)
from domain.vocabulary import Role, Status

SCHOOL, HOME = 1, 2
KARI, LIV, SIRI, HANNE, VERA, INGRID, PER = 10, 11, 12, 13, 14, 15, 16
ACTORS = {
    "kari (staff, the reporter)": Actor(KARI, frozenset({Role.STAFF})),
    "per (staff, elsewhere)": Actor(PER, frozenset({Role.STAFF})),
    "liv (leads the school)": Actor(LIV, frozenset({Role.LEADER}), frozenset({SCHOOL})),
    "siri (leads the home)": Actor(SIRI, frozenset({Role.LEADER}), frozenset({HOME})),
    "hanne (HMS adviser)": Actor(HANNE, frozenset({Role.ADVISER})),
    "vera (verneombod, Oppvekst)": Actor(
        VERA, frozenset({Role.STAFF, Role.SAFETY_REP}), area_units=frozenset({SCHOOL})
    ),
    "ingrid (admin)": Actor(INGRID, frozenset({Role.ADMIN})),
    "a stranger": Actor(None),
}
SCHOOL_REPORT = ReportScope(reporter_id=KARI, unit_id=SCHOOL, status=Status.NEW)

# actor: (may view, may handle, sees the name of an anonymous reporter)
EXPECTED = {
    "kari (staff, the reporter)": (True, False, True),
    "per (staff, elsewhere)": (False, False, False),
    "liv (leads the school)": (True, True, False),
    "siri (leads the home)": (False, False, False),
    "hanne (HMS adviser)": (True, True, True),
    "vera (verneombod, Oppvekst)": (True, False, False),
    "ingrid (admin)": (False, False, False),
    "a stranger": (False, False, False),
}


@pytest.mark.parametrize("who", EXPECTED)
def test_each_role_sees_and_handles_what_it_should(who: str) -> None:
    actor, report = ACTORS[who], SCHOOL_REPORT
    anonymous = ReportScope(KARI, SCHOOL, Status.NEW, anonymous=True)
    assert (
        may_view(actor, report),
        may_handle(actor, report),
        may_see_reporter(actor, anonymous),
    ) == (EXPECTED[who])


def test_a_named_report_shows_the_name_to_whoever_may_view_it() -> None:
    assert may_see_reporter(ACTORS["liv (leads the school)"], SCHOOL_REPORT)
    assert not may_see_reporter(ACTORS["siri (leads the home)"], SCHOOL_REPORT)


def test_nobody_handles_a_closed_report_but_it_can_still_be_read() -> None:
    closed = ReportScope(KARI, SCHOOL, Status.CLOSED)
    for who in ("liv (leads the school)", "hanne (HMS adviser)"):
        assert not may_handle(ACTORS[who], closed)
        assert may_view(ACTORS[who], closed)


def test_a_report_without_a_known_unit_is_the_advisers() -> None:
    loose = ReportScope(PER, None, Status.NEW)
    assert may_handle(ACTORS["hanne (HMS adviser)"], loose)
    assert not may_view(ACTORS["liv (leads the school)"], loose)
    assert not may_view(ACTORS["vera (verneombod, Oppvekst)"], loose)
    assert may_view(ACTORS["per (staff, elsewhere)"], loose)  # his own


def test_a_leader_who_reports_in_their_own_unit_may_handle_it() -> None:
    own = ReportScope(LIV, SCHOOL, Status.NEW)
    assert may_handle(ACTORS["liv (leads the school)"], own)


def test_only_admins_manage_the_organisation() -> None:
    assert [who for who, actor in ACTORS.items() if may_manage_organisation(actor)] == [
        "ingrid (admin)"
    ]


# The whole table: who × which report (the school's, the home's, one without a known unit) ×
# what (view, handle, see the name behind an anonymous report). Kari reported all three.
# A cell that changes must change here, on purpose.
LARS = 17
VERA_HOME = 18
TABLE_ACTORS = {
    **ACTORS,
    "lars (deputy at the school)": Actor(LARS, frozenset({Role.LEADER}), frozenset({SCHOOL})),
    "vilde (verneombod, Helse)": Actor(
        VERA_HOME, frozenset({Role.SAFETY_REP}), area_units=frozenset({HOME})
    ),
}
REPORTS = {"school": SCHOOL, "home": HOME, "no unit": None}
Y, N = True, False
TABLE = {
    #                                 school       home         no unit
    "kari (staff, the reporter)": ((Y, N, Y), (Y, N, Y), (Y, N, Y)),
    "per (staff, elsewhere)": ((N, N, N), (N, N, N), (N, N, N)),
    "liv (leads the school)": ((Y, Y, N), (N, N, N), (N, N, N)),
    "lars (deputy at the school)": ((Y, Y, N), (N, N, N), (N, N, N)),
    "siri (leads the home)": ((N, N, N), (Y, Y, N), (N, N, N)),
    "hanne (HMS adviser)": ((Y, Y, Y), (Y, Y, Y), (Y, Y, Y)),
    "vera (verneombod, Oppvekst)": ((Y, N, N), (N, N, N), (N, N, N)),
    "vilde (verneombod, Helse)": ((N, N, N), (Y, N, N), (N, N, N)),
    "ingrid (admin)": ((N, N, N), (N, N, N), (N, N, N)),
    "a stranger": ((N, N, N), (N, N, N), (N, N, N)),
}


@pytest.mark.parametrize("who", TABLE)
@pytest.mark.parametrize("where", list(REPORTS))
def test_the_whole_table(who: str, where: str) -> None:
    actor = TABLE_ACTORS[who]
    report = ReportScope(KARI, REPORTS[where], Status.IN_PROGRESS, anonymous=True)
    expected = TABLE[who][list(REPORTS).index(where)]
    assert (
        may_view(actor, report),
        may_handle(actor, report),
        may_see_reporter(actor, report),
    ) == (expected)


# actor: (whose figures «statistikk» shows, sees the under-reporting list)
STATISTICS = {
    "kari (staff, the reporter)": (None, False),
    "per (staff, elsewhere)": (None, False),
    "liv (leads the school)": (Scope(unit_ids=frozenset({SCHOOL})), False),
    "siri (leads the home)": (Scope(unit_ids=frozenset({HOME})), False),
    "hanne (HMS adviser)": (EVERYTHING, True),
    "vera (verneombod, Oppvekst)": (Scope(unit_ids=frozenset({SCHOOL})), False),
    "ingrid (admin)": (EVERYTHING, False),
    "a stranger": (None, False),
}


@pytest.mark.parametrize("name", list(STATISTICS))
def test_who_sees_which_figures(name: str) -> None:
    actor = ACTORS[name]
    assert (statistics_scope(actor), may_see_under_reporting(actor)) == STATISTICS[name]


def test_a_leader_who_is_also_verneombod_sees_both_their_units_and_their_area() -> None:
    both = Actor(
        LIV,
        frozenset({Role.LEADER, Role.SAFETY_REP}),
        led_units=frozenset({SCHOOL}),
        area_units=frozenset({SCHOOL, HOME}),
    )
    assert statistics_scope(both) == Scope(unit_ids=frozenset({SCHOOL, HOME}))
