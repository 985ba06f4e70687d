"""Who may see and handle which report: the rule book, in one place. Pure: data in, yes or no.

- staff (tilsett) see their own reports only;
- leaders (and deputies) see and handle the reports of the units they lead;
- the HMS adviser sees and handles every report, and sees who reported even when anonymous;
- the verneombod sees the reports of their area (their department) read-only;
- admins manage the organisation, which by itself shows them no report;
- statistics (counts, never reports) follow the same lines: the adviser and admins see the
  whole municipality, leaders their units, a verneombod their area.
Every card action is checked here again on the server: a card is never trusted as permission.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.vocabulary import Role, Status


@dataclass(frozen=True)
class Scope:
    """What the reader may see: everything, one department, or a set of units (a leader's)."""

    department: str | None = None
    unit_ids: frozenset[int] | None = None

    @property
    def everything(self) -> bool:
        return self.department is None and self.unit_ids is None


EVERYTHING = Scope()


@dataclass(frozen=True)
class Actor:
    person_id: int | None
    roles: frozenset[Role] = frozenset()
    led_units: frozenset[int] = frozenset()  # as leader or deputy
    area_units: frozenset[int] = field(default_factory=frozenset)  # a verneombod's department

    @property
    def is_adviser(self) -> bool:
        return Role.ADVISER in self.roles

    @property
    def follows_reports(self) -> bool:
        """Has «opne avvik» to look at: leads a unit, advises, or is a verneombod."""
        return bool(self.led_units) or self.is_adviser or self.watches_area

    @property
    def watches_area(self) -> bool:
        return Role.SAFETY_REP in self.roles and bool(self.area_units)


@dataclass(frozen=True)
class ReportScope:
    """What the rules need to know of a report."""

    reporter_id: int | None
    unit_id: int | None
    status: Status
    anonymous: bool = False


def may_view(actor: Actor, report: ReportScope) -> bool:
    if actor.person_id is not None and actor.person_id == report.reporter_id:
        return True
    return may_handle(actor, report, ignore_status=True) or (
        actor.watches_area and report.unit_id in actor.area_units
    )


def may_handle(actor: Actor, report: ReportScope, *, ignore_status: bool = False) -> bool:
    """May move the report on (acknowledge, measures, close). A closed report is done."""
    if not ignore_status and report.status is Status.CLOSED:
        return False
    if actor.is_adviser:
        return True
    return report.unit_id is not None and report.unit_id in actor.led_units


def may_see_reporter(actor: Actor, report: ReportScope) -> bool:
    """An anonymous reporter is named to the adviser only (and to themselves)."""
    if not report.anonymous:
        return may_view(actor, report)
    return actor.is_adviser or (
        actor.person_id is not None and actor.person_id == report.reporter_id
    )


def may_manage_organisation(actor: Actor) -> bool:
    return Role.ADMIN in actor.roles


def statistics_scope(actor: Actor) -> Scope | None:
    """Whose figures the actor may see: the adviser and admins everything, a leader their
    units, a verneombod their area (both, for a leader who is also verneombod); staff none."""
    if actor.is_adviser or Role.ADMIN in actor.roles:
        return EVERYTHING
    units = actor.led_units | (actor.area_units if actor.watches_area else frozenset())
    return Scope(unit_ids=units) if units else None


def may_see_under_reporting(actor: Actor) -> bool:
    """Which units report little is the adviser's to follow up; leaders get a friendly nudge."""
    return actor.is_adviser


def may_see_assessment(actor: Actor, unit_id: int) -> bool:
    """A unit's risk assessment: its leaders, the verneombod of its area, the adviser, admins."""
    scope = statistics_scope(actor)
    return scope is not None and (scope.everything or unit_id in (scope.unit_ids or ()))


def may_edit_assessment(actor: Actor, unit_id: int) -> bool:
    """Only the unit's own leaders (and deputies) adapt and sign its risk assessment."""
    return unit_id in actor.led_units


def may_publish_frames(actor: Actor) -> bool:
    """The adviser follows every unit's assessment of a frame (and admins, who load it)."""
    return actor.is_adviser or Role.ADMIN in actor.roles
