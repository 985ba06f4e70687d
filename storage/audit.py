"""Who read a report: reads by leaders and advisers go into the report's history beside the
changes, as events of kind «read» (docs/PRIVACY.md)."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ReportEvent

READ = "read"
# How the report reached the reader.
DELIVERED = "card"  # the handling card, sent when the report came in
SHOWN = "show"  # «vis» from «opne avvik»


async def record_read(
    session: AsyncSession, *, report_id: int, reader_id: int, via: str, now: datetime
) -> None:
    """One read of the whole report by someone other than its reporter (the caller decides)."""
    session.add(
        ReportEvent(
            report_id=report_id,
            actor_id=reader_id,
            kind=READ,
            detail=json.dumps({"via": via}),
            at=now,
        )
    )
