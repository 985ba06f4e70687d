"""The HMS vocabulary the bot stores as codes; people see labels from the message catalogues."""

from __future__ import annotations

import unicodedata
from enum import StrEnum


class Harm(StrEnum):
    INJURY = "injury"  # skade: someone was hurt or fell ill
    NEAR_MISS = "near_miss"  # nestenulukke: it could have happened


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Status(StrEnum):
    NEW = "new"  # ny
    ACKNOWLEDGED = "acknowledged"  # motteke
    IN_PROGRESS = "in_progress"  # under handsaming
    CLOSED = "closed"  # lukka


class Role(StrEnum):
    """What a person may do; a person may hold several. Stored as these Nynorsk codes."""

    STAFF = "tilsett"
    LEADER = "leiar"
    ADVISER = "hms-rådgjevar"
    SAFETY_REP = "verneombod"
    ADMIN = "admin"


# The kommunalavdelingar are the municipality's own: whatever its organisation file (or an
# imported history) names. The longest name a department may have:
DEPARTMENT_NAME_MAX = 200


def department_name(text: str) -> str:
    """A department's name as written, tidied: no spaces around it, one between words, and
    «å» as one character (a Mac may write it as two)."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def department_key(name: str) -> str:
    """What makes two spellings one department: case and spacing do not count."""
    return department_name(name).casefold()


# Limits on what a reporter types (characters, after trimming).
DESCRIPTION_MIN = 10
DESCRIPTION_MAX = 4000
SHORT_TEXT_MIN = 2
SHORT_TEXT_MAX = 200
OPTIONAL_TEXT_MAX = 2000
