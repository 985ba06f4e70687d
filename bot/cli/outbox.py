"""`python -m bot outbox status [--json]`: what the outbox holds (docs/outbox.md) — queued, due
now, sent, failed by reason, waiting for people the bot cannot reach yet, and how long the
oldest due message has waited. `python -m bot reach [--json]`: who the bot can write to."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from bot.config import Settings
from storage.db import database
from storage.migrate import upgrade
from storage.outbox import OutboxStatus, Reach, outbox_status, reach
from storage.types import utcnow

COMMAND = "outbox"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(COMMAND, help="the messages the bot sends on its own")
    parser.add_argument("action", choices=["status"], help="what is queued, sent and failed")
    parser.add_argument("--json", action="store_true", help="as JSON")


async def _status(database_url: str) -> OutboxStatus:
    async with database(database_url) as sessions, sessions() as session:
        return await outbox_status(session, now=utcnow())


def status_lines(status: OutboxStatus) -> list[str]:
    oldest = status.oldest_due_seconds
    lines = [
        f"queued: {status.queued} ({status.due} due now"
        + (f", the oldest for {oldest:.0f} s)" if oldest is not None else ")"),
        f"sent: {status.sent}",
        f"failed: {sum(status.failed.values())}",
        *(f"  {n} × {reason}" for reason, n in sorted(status.failed.items())),
        f"waiting for people the bot cannot reach yet: {sum(status.waiting.values())}",
        *(f"  {n} × {reason}" for reason, n in sorted(status.waiting.items())),
    ]
    return lines


def run(settings: Settings, args: argparse.Namespace) -> int:
    upgrade(settings.database_url)
    status = asyncio.run(_status(settings.database_url))
    if args.json:
        sys.stdout.write(json.dumps(status.as_json(), ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write("\n".join(status_lines(status)) + "\n")
    return 0


# ---- python -m bot reach --------------------------------------------------------------------

REACH = "reach"


def add_reach_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        REACH, help="who in the organisation the bot can write to, who not, and why"
    )
    parser.add_argument("--json", action="store_true", help="as JSON")


async def _reach(database_url: str) -> list[Reach]:
    async with database(database_url) as sessions, sessions() as session:
        return await reach(session)


def reach_lines(people: list[Reach]) -> list[str]:
    cannot = [p for p in people if not p.reachable]
    lines = [f"The bot can write to {len(people) - len(cannot)} of {len(people)} people."]
    if cannot:
        lines.append("Cannot be reached:")
    for person in cannot:
        roles = ", ".join(person.roles) or "tilsett"
        waiting = f"; {person.waiting} message(s) waiting" if person.waiting else ""
        lines.append(f"  {person.name or person.aad_object_id} ({roles}): {person.reason}{waiting}")
    return lines


def run_reach(settings: Settings, args: argparse.Namespace) -> int:
    upgrade(settings.database_url)
    people = asyncio.run(_reach(settings.database_url))
    if args.json:
        document = [person.as_json() for person in people]
        sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write("\n".join(reach_lines(people)) + "\n")
    return 0
