"""Signed, expiring links to the statistics' charts and downloads.

A Teams client fetches a card's images (and opens a download) without the bot's
authentication, so the link itself must say who asked. It names the person, not what they may
see: their rights are read again when the link is used, so a leader who has left a unit stops
seeing its figures at once. HMAC-SHA256 over the payload; nothing in it is secret, nothing in
it can be changed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

# A card stays in the chat; its charts should still show a week later.
LINK_LIFETIME = timedelta(days=7)


class LinkKind(StrEnum):
    CHART = "chart"
    CSV = "csv"
    XLSX = "xlsx"
    AMU_PDF = "amu_pdf"  # the AMU report of a quarter (bot.statistics.amu)
    AMU_XLSX = "amu_xlsx"
    # A unit's risk assessment (item: the assessment) and a whole frame's matrix (item: the
    # frame version); bot.desks.risk_desk.
    RISK_MATRIX = "risk_matrix"
    RISK_FRAME_MATRIX = "risk_frame_matrix"
    RISK_PDF = "risk_pdf"
    RISK_XLSX = "risk_xlsx"


RISK_KINDS = frozenset(
    {LinkKind.RISK_MATRIX, LinkKind.RISK_FRAME_MATRIX, LinkKind.RISK_PDF, LinkKind.RISK_XLSX}
)
_RISK_FILES = {
    LinkKind.RISK_MATRIX: "risikomatrise-{item}.png",
    LinkKind.RISK_FRAME_MATRIX: "risikomatrise-ramme-{item}.png",
    LinkKind.RISK_PDF: "risikovurdering-{item}.pdf",
    LinkKind.RISK_XLSX: "risikovurdering-{item}.xlsx",
}


@dataclass(frozen=True)
class StatsLink:
    person_id: int
    kind: LinkKind
    year: int
    language: str
    expires: int  # seconds since the epoch
    chart: str | None = None  # for CHART: which one (bot.statistics.charts)
    department: str | None = None  # narrowed to one department, within the person's rights
    quarter: int | None = None  # for the AMU report
    item: int | None = None  # for a risk assessment or frame: its id

    @property
    def filename(self) -> str:
        if self.kind in _RISK_FILES:
            return _RISK_FILES[self.kind].format(item=self.item)
        if self.kind is LinkKind.CHART:
            return f"avvik-{self.chart}-{self.year}.png"
        if self.kind in (LinkKind.AMU_PDF, LinkKind.AMU_XLSX):
            extension = "pdf" if self.kind is LinkKind.AMU_PDF else "xlsx"
            return f"amu-{self.year}Q{self.quarter}.{extension}"
        return f"avvik-{self.year}.{self.kind.value}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class LinkSigner:
    def __init__(self, secret: bytes | None = None) -> None:
        # Without a configured secret, links last as long as this process: fine for one
        # instance, documented for several (AVVIK_LINK_SECRET).
        self._secret = secret or secrets.token_bytes(32)

    def _mac(self, payload: str) -> str:
        digest = hmac.new(self._secret, payload.encode("ascii"), hashlib.sha256).digest()
        return _b64(digest[:24])

    def make(
        self,
        *,
        person_id: int,
        kind: LinkKind,
        year: int,
        language: str,
        now: datetime,
        chart: str | None = None,
        department: str | None = None,
        quarter: int | None = None,
        item: int | None = None,
    ) -> StatsLink:
        expires = int((now + LINK_LIFETIME).timestamp())
        return StatsLink(person_id, kind, year, language, expires, chart, department, quarter, item)

    def token(self, link: StatsLink) -> str:
        body = {
            "p": link.person_id,
            "k": link.kind.value,
            "y": link.year,
            "l": link.language,
            "e": link.expires,
            "c": link.chart,
            "d": link.department,
            "q": link.quarter,
            "i": link.item,
        }
        payload = _b64(json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode())
        return f"{payload}.{self._mac(payload)}"

    def url(self, public_url: str, link: StatsLink) -> str:
        """Where a Teams client fetches the link: the bot's download route (bot/app.py)."""
        return f"{public_url}/stats/{self.token(link)}/{link.filename}"

    def read(self, token: str, *, now: datetime) -> StatsLink | None:
        """The link, or None when it was not made here, was changed, or has expired."""
        payload, _, mac = token.partition(".")
        if not payload or not mac or not payload.isascii() or not mac.isascii():
            return None
        if not hmac.compare_digest(self._mac(payload), mac):
            return None
        try:
            body = json.loads(_unb64(payload))
            link = StatsLink(
                person_id=int(body["p"]),
                kind=LinkKind(body["k"]),
                year=int(body["y"]),
                language=str(body["l"]),
                expires=int(body["e"]),
                chart=body.get("c"),
                department=body.get("d"),
                quarter=int(body["q"]) if body.get("q") is not None else None,
                item=int(body["i"]) if body.get("i") is not None else None,
            )
        except (ValueError, KeyError, TypeError, binascii.Error):
            return None  # signed by us, so only an older format could land here
        if link.expires <= now.timestamp():
            return None
        return link
