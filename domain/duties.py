"""The employer's legal duties that an avvik sets off, and the leader's answer to each.

Which duties a report has follows from what it is now (the leader's judgement may change its
severity or category, and the duties with it):

- someone was hurt (harm = injury): an occupational injury is reported to NAV on a
  skademelding (folketrygdlova § 13-14);
- hurt and severity high: a serious personal injury is notified to Arbeidstilsynet and the
  police at once (arbeidsmiljølova § 5-2); the HMS adviser and the department's verneombod are
  told through the outbox;
- violence and threats: the follow-up that forskrift om utføring av arbeid kap. 23A asks for —
  the employee offered a debrief and support, reporting to the police considered, the unit's
  risk assessment looked at again.

The leader answers each on the handling card: done, not relevant, or later with a day. An
unanswered duty, or one whose «later» day has come, is reminded like a measure
(`domain.reminders`). The texts and the rule's name are in the catalogues under `duty.<code>`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from domain.vocabulary import Harm, Severity

# The category whose reports get the kap. 23A follow-up: the customer's «vald og truslar mot
# tilsette» (categories-default.csv). A municipality that renames it keeps the code.
VIOLENCE_CATEGORY = "violence_threats"


class Duty(StrEnum):
    NAV_INJURY = "nav_injury"  # skademelding til NAV
    NOTIFY_AUTHORITIES = "notify_authorities"  # Arbeidstilsynet og politiet straks
    DEBRIEF = "debrief"  # kap. 23A: debrief og støtte tilbode
    POLICE_REPORT = "police_report"  # kap. 23A: melding til politiet vurdert
    RISK_REVIEW = "risk_review"  # kap. 23A: risikovurderinga sett på att


class Answer(StrEnum):
    DONE = "done"
    NOT_RELEVANT = "not_relevant"
    LATER = "later"  # with a day: reminded again then


# The rule's text on lovdata, per duty (its name is in the catalogues: `duty.<code>_rule`).
LOVDATA = {
    Duty.NAV_INJURY: "https://lovdata.no/lov/1997-02-28-19/§13-14",
    Duty.NOTIFY_AUTHORITIES: "https://lovdata.no/lov/2005-06-17-62/§5-2",
    Duty.DEBRIEF: "https://lovdata.no/dokument/SF/forskrift/2011-12-06-1357/KAPITTEL_23A",
    Duty.POLICE_REPORT: "https://lovdata.no/dokument/SF/forskrift/2011-12-06-1357/KAPITTEL_23A",
    Duty.RISK_REVIEW: "https://lovdata.no/dokument/SF/forskrift/2011-12-06-1357/KAPITTEL_23A",
}


def is_serious(harm: str, severity: str) -> bool:
    """A serious personal injury in the sense of § 5-2, as far as the report tells: someone
    was hurt and the severity is high."""
    return harm == Harm.INJURY.value and severity == Severity.HIGH.value


def duties_of(*, harm: str, severity: str, category: str) -> tuple[Duty, ...]:
    """The duties a report with these values sets off, most urgent first."""
    found: list[Duty] = []
    if is_serious(harm, severity):
        found.append(Duty.NOTIFY_AUTHORITIES)
    if harm == Harm.INJURY.value:
        found.append(Duty.NAV_INJURY)
    if category == VIOLENCE_CATEGORY:
        found += [Duty.DEBRIEF, Duty.POLICE_REPORT, Duty.RISK_REVIEW]
    return tuple(found)


@dataclass(frozen=True)
class DutyAnswer:
    duty: Duty
    answer: Answer
    later_until: date | None = None  # with LATER


def open_duties(duties: tuple[Duty, ...], answers: dict[Duty, DutyAnswer]) -> tuple[Duty, ...]:
    """The duties still waiting for the leader: unanswered, or answered «later»."""
    return tuple(d for d in duties if d not in answers or answers[d].answer is Answer.LATER)
