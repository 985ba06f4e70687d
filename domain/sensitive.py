"""The sensitive-data guard: personal identifiers that do not belong in a report's free text.

Reports are read by leaders, advisers and verneombod; a reporter who writes a client's
fødselsnummer or phone number there spreads it further than needed (GDPR art. 5 and 25).
`find_sensitive` points out what looks like
- a Norwegian national identity number (fødselsnummer, 11 digits: DDMMYY, a three-digit
  individual number and two mod-11 check digits), counted only when the date exists and both
  check digits are right;
- a D-number (the same, with 4 added to the first digit of the day);
- a Norwegian phone number (8 digits, the first 2–9, optionally +47 or 0047 first, written
  together or grouped as 123 45 678 or 12 34 56 78);
- an e-mail address.
A number that is part of a longer run of digits is none of these. Pure: no Teams, no SQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from domain.answers import Problem
from domain.i18n import Texts

# The key of the `Problem` a checked field gets; its text is `problem.sensitive`.
SENSITIVE = "sensitive"


class Sensitive(StrEnum):
    """What was found; the words for it are under `sensitive.<value>` in the catalogues."""

    NATIONAL_ID = "national_id"
    D_NUMBER = "d_number"
    PHONE = "phone"
    EMAIL = "email"


@dataclass(frozen=True)
class Finding:
    kind: Sensitive
    start: int
    end: int
    text: str  # what matched, as written


_SPACE = "[ \u00a0]"
# Six digits and five, together or split once by a space or a hyphen ("010190 12345").
_ELEVEN = re.compile(rf"(?<!\d)(\d{{6}})(?:{_SPACE}|-)?(\d{{5}})(?!\d)")
_PREFIX = rf"(?:(?:\+|00)47{_SPACE}?)?"
# Not preceded by a digit or a plus, and (when grouped) not by another group of digits either.
_PHONES = (
    re.compile(rf"(?<![\d+]){_PREFIX}[2-9]\d{{7}}(?!\d)"),
    re.compile(
        rf"(?<![\d+])(?<!\d{_SPACE}){_PREFIX}"
        rf"(?:[2-9]\d{{2}}{_SPACE}\d{{2}}{_SPACE}\d{{3}}"
        rf"|[2-9]\d(?:{_SPACE}\d{{2}}){{3}})"
        rf"(?!\d)(?!{_SPACE}\d)"
    ),
)
_EMAIL = re.compile(r"(?<![\w.%+-])[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}(?![\w-])")

_WEIGHTS_1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
_WEIGHTS_2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


def _check_digit(digits: str, weights: tuple[int, ...]) -> int | None:
    rest = sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11
    check = (11 - rest) % 11
    return None if check == 10 else check


def check_digits_ok(digits: str) -> bool:
    """The two mod-11 check digits of an 11-digit identity number are right."""
    if len(digits) != 11 or not digits.isdigit():
        return False
    first = _check_digit(digits[:9], _WEIGHTS_1)
    second = _check_digit(digits[:10], _WEIGHTS_2)
    return first == int(digits[9]) and second == int(digits[10])


def _centuries(individual: int, year: int) -> tuple[int, ...]:
    """The centuries the individual number was handed out in (Skatteetaten's ranges)."""
    found = []
    if individual <= 499:
        found.append(1900)
    if 500 <= individual <= 749 and year >= 54:
        found.append(1800)
    if individual >= 500 and year <= 39:
        found.append(2000)
    if individual >= 900 and year >= 40:
        found.append(1900)
    return tuple(found) or (1900, 2000)  # a range not handed out: judge the date alone


def _date_exists(day: int, month: int, year: int, individual: int) -> bool:
    for century in _centuries(individual, year):
        try:
            date(century + year, month, day)
        except ValueError:
            continue
        return True
    return False


def identity_kind(digits: str) -> Sensitive | None:
    """NATIONAL_ID or D_NUMBER for a valid 11-digit number (date and check digits), else None."""
    if not check_digits_ok(digits):
        return None
    day, month, year = int(digits[0:2]), int(digits[2:4]), int(digits[4:6])
    individual = int(digits[6:9])
    if _date_exists(day, month, year, individual):
        return Sensitive.NATIONAL_ID
    if day > 40 and _date_exists(day - 40, month, year, individual):
        return Sensitive.D_NUMBER
    return None


def find_sensitive(text: str) -> list[Finding]:
    """Everything in the text that looks like a personal identifier, in the order written."""
    emails = [Finding(Sensitive.EMAIL, m.start(), m.end(), m[0]) for m in _EMAIL.finditer(text)]
    found = list(emails)
    for match in _ELEVEN.finditer(text):
        kind = identity_kind(match[1] + match[2])
        if kind is not None:
            found.append(Finding(kind, match.start(), match.end(), match[0]))
    for pattern in _PHONES:
        found += [
            Finding(Sensitive.PHONE, m.start(), m.end(), m[0]) for m in pattern.finditer(text)
        ]

    def inside_an_email(finding: Finding) -> bool:
        return finding.kind is not Sensitive.EMAIL and any(
            e.start <= finding.start < e.end for e in emails
        )

    return sorted((f for f in found if not inside_an_email(f)), key=lambda f: f.start)


def kinds_in(findings: Iterable[Finding]) -> tuple[Sensitive, ...]:
    """Each kind once, in the order first written."""
    return tuple(dict.fromkeys(f.kind for f in findings))


def sensitive_problem(text: str) -> Problem | None:
    """A `Problem` naming what the text seems to hold, or None when it holds nothing."""
    kinds = kinds_in(find_sensitive(text))
    return Problem(SENSITIVE, {"kinds": tuple(k.value for k in kinds)}) if kinds else None


def describe(texts: Texts, kinds: Iterable[str]) -> str:
    """«Det ser ut som eit fødselsnummer og eit telefonnummer.»"""
    *first, last = [texts(f"sensitive.{kind}") for kind in kinds]
    what = f"{', '.join(first)} {texts('sensitive.and')} {last}" if first else last
    return texts("problem.sensitive", what=what)
