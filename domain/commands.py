"""What a message outside a dialog asks for. Pure: text in, command out.

Phrases come from every catalogue, so «avbryt» works for an English user and «cancel» for a
Nynorsk one. Matching is on whole, normalised phrases (never substrings), plus one rule for
"anything like «meld avvik»": a message that contains a reporting verb starts a report.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from domain.answers import normalise
from domain.i18n import LANGUAGES, Catalogues


class Intent(Enum):
    REPORT = "report"
    FORM = "form"
    MINE = "mine"
    OPEN = "open"  # a leader's «opne avvik»
    STATS = "stats"  # «statistikk [år] [avdeling]»
    UNDER_REPORTING = "under_reporting"  # the adviser's «underrapportering»
    OVERDUE = "overdue"  # the adviser's «forfalne»
    NEW_TIP = "new_tip"  # the adviser's «nytt tips»
    TIPS = "tips"  # the adviser's tip library
    AMU = "amu"  # the adviser's «AMU-rapport [kvartal]»
    TRAINING = "training"  # «opplæring»: the modules, for everyone
    TRAINING_STATUS = "training_status"  # «opplæring oversikt»: completion, for leaders
    RISK = "risk"  # «risikovurdering»: a leader's units' risk assessments
    RISK_OVERVIEW = "risk_overview"  # «risikovurdering oversikt»: every unit, for the adviser
    HELP = "help"
    CANCEL = "cancel"
    RESTART = "restart"
    LANGUAGE = "language"
    GREETING = "greeting"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Command:
    intent: Intent
    language: str | None = None  # for LANGUAGE: the one asked for, None if not understood
    argument: str = ""  # for STATS and AMU: what follows the word, e.g. «2025 oppvekst»


_PHRASE_INTENTS = (
    Intent.FORM,
    Intent.REPORT,
    Intent.MINE,
    Intent.OPEN,
    Intent.STATS,
    Intent.UNDER_REPORTING,
    Intent.OVERDUE,
    Intent.NEW_TIP,
    Intent.TIPS,
    Intent.TRAINING,
    Intent.TRAINING_STATUS,
    Intent.RISK,
    Intent.RISK_OVERVIEW,
    Intent.HELP,
    Intent.CANCEL,
    Intent.RESTART,
    Intent.GREETING,
)
_REPORTING_VERBS = frozenset(
    {"meld", "melde", "melda", "rapporter", "rapportere", "report", "registrer", "registrere"}
)


class CommandParser:
    def __init__(self, catalogues: Catalogues) -> None:
        self._phrases: dict[str, Intent] = {}
        self._language_words: set[str] = set()
        self._stats_words: set[str] = set()
        self._amu_words: set[str] = set()
        self._language_names: dict[str, str] = {}
        for texts in catalogues.all():
            for intent in _PHRASE_INTENTS:
                for phrase in texts.words(f"commands.{intent.value}"):
                    self._phrases.setdefault(normalise(phrase), intent)
            self._language_words.update(normalise(w) for w in texts.words("commands.language"))
            self._stats_words.update(
                normalise(w) for w in texts.words("commands.stats") if " " not in w
            )
            self._amu_words.update(normalise(w) for w in texts.words("commands.amu"))
            for language in LANGUAGES:
                for name in texts.words(f"commands.language_names_{language}"):
                    self._language_names[normalise(name)] = language
                self._language_names[normalise(catalogues[language]("language.name"))] = language

    def parse(self, text: str | None) -> Command:
        words = normalise(text or "")
        if words in self._phrases:
            return Command(self._phrases[words])
        first, _, rest = words.replace(":", " ").partition(" ")
        if first in self._language_words:
            return Command(Intent.LANGUAGE, self._language_names.get(rest.strip()))
        if first in self._stats_words:
            return Command(Intent.STATS, argument=rest.strip())
        # Longest first: «amu rapport 2025q3» is the phrase «amu rapport», not «amu».
        for phrase in sorted(self._amu_words, key=len, reverse=True):
            if words == phrase or words.startswith(phrase + " "):
                return Command(Intent.AMU, argument=words[len(phrase) :].strip())
        if _REPORTING_VERBS & set(words.split()):
            return Command(Intent.REPORT)
        return Command(Intent.UNKNOWN)

    def interruption(self, text: str | None) -> Intent | None:
        """Help, cancel, restart or «meld avvik» typed in the middle of a dialog; exact phrases
        only, so an answer that merely mentions «hjelp» is still an answer."""
        intent = self._phrases.get(normalise(text or ""))
        interrupting = (Intent.HELP, Intent.CANCEL, Intent.RESTART, Intent.REPORT)
        return intent if intent in interrupting else None
