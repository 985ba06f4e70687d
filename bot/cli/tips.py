"""`python -m bot tips export DIR` / `tips import DIR [--dry-run]`: the adviser's tips as one
Markdown file each, with a small front matter (title, audience, schedule), so tips can be
written and reviewed outside Teams and kept in version control (docs/tips.md).

An import reads every `*.md` in DIR; a tip whose title is a draft already is updated, any other
is added as a draft, to be previewed and sent from Teams («tips»). All or nothing: one file
that cannot be read, and nothing is imported. Exit status 0 done, 2 nothing changed.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from bot.config import Settings
from domain.i18n import LANGUAGES
from domain.oslo_time import OSLO
from domain.tips import (
    Audience,
    AudienceKind,
    Schedule,
    Tip,
    TipFile,
    TipFileError,
    When,
    check_tip,
    from_markdown,
    to_markdown,
)
from domain.training import load_modules
from domain.vocabulary import Role
from storage import tips
from storage.db import database
from storage.migrate import upgrade
from storage.types import utcnow

COMMAND = "tips"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(COMMAND, help="the adviser's tips as Markdown files")
    parser.add_argument("action", choices=["export", "import"])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--dry-run", action="store_true", help="import: check, change nothing")


def _key(name: str) -> str:
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def _slug(title: str) -> str:
    plain = unicodedata.normalize("NFKD", title.casefold()).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:60] or "tips"


async def _export(database_url: str, directory: Path) -> int:
    async with database(database_url) as sessions, sessions() as session:
        stored = await tips.all_tips(session)
        departments, units = await tips.places(session)
    files = []
    for number, found in enumerate(stored, start=1):
        names = {
            "departments": [departments[d] for d in found.audience.departments if d in departments],
            "units": [units[u] for u in found.audience.units if u in units],
        }
        text = to_markdown(TipFile(found.tip, found.audience, found.schedule), audience_names=names)
        files.append((f"{number:03d}-{_slug(found.tip.title)}.md", text))

    def write() -> None:
        directory.mkdir(parents=True, exist_ok=True)
        for name, text in files:
            (directory / name).write_text(text, "utf-8")

    await asyncio.to_thread(write)
    return len(files)


@dataclass(frozen=True)
class _Read:
    path: Path
    tip: Tip
    audience: Audience
    schedule: Schedule


def _audience(
    front: dict[str, Any], departments: dict[str, int], units: dict[str, int]
) -> Audience:
    kind = str(front.get("audience", AudienceKind.LEADERS.value))
    if kind not in AudienceKind._value2member_map_:
        raise TipFileError(f"audience must be one of {', '.join(a.value for a in AudienceKind)}")
    if kind == AudienceKind.ROLE.value:
        role = str(front.get("role", ""))
        if role not in Role._value2member_map_:
            raise TipFileError(f"role must be one of {', '.join(r.value for r in Role)}")
        return Audience(AudienceKind.ROLE, role=Role(role))
    if kind != AudienceKind.PLACES.value:
        return Audience(AudienceKind(kind))

    def ids(key: str, known: dict[str, int]) -> tuple[int, ...]:
        names = front.get(key, [])
        if not isinstance(names, list):
            raise TipFileError(f'{key} must be a list such as ["Oppvekst"]')
        missing = [n for n in names if _key(str(n)) not in known]
        if missing:
            raise TipFileError(f"no such {key[:-1]}: {', '.join(map(str, missing))}")
        return tuple(sorted(known[_key(str(n))] for n in names))

    return Audience(AudienceKind.PLACES, ids("departments", departments), ids("units", units))


def _schedule(front: dict[str, Any]) -> Schedule:
    when = str(front.get("when", When.NOW.value))
    if when not in When._value2member_map_:
        raise TipFileError(f"when must be one of {', '.join(w.value for w in When)}")
    try:
        at = datetime.fromisoformat(str(front["at"])) if front.get("at") else None
        deadline = date.fromisoformat(str(front["deadline"])) if front.get("deadline") else None
        every = int(front.get("every_weeks", 0) or 0)
        days_before = int(front.get("days_before", 0) or 0)
    except ValueError as error:
        raise TipFileError(f"schedule: {error}") from None
    if at is not None and at.tzinfo is None:
        at = at.replace(tzinfo=OSLO)
    return Schedule(When(when), at, every, deadline, days_before)


async def _import(database_url: str, directory: Path, *, dry_run: bool) -> int:
    paths = await asyncio.to_thread(lambda: sorted(directory.glob("*.md")))
    texts = await asyncio.to_thread(lambda: [(p, p.read_text("utf-8")) for p in paths])
    async with database(database_url) as sessions:
        async with sessions() as session:
            department_ids, unit_ids = await tips.places(session)
        departments = {_key(name): i for i, name in department_ids.items()}
        units = {_key(name): i for i, name in unit_ids.items()}
        modules = {m.id for found in load_modules().values() for m in found}
        read: list[_Read] = []
        problems: list[str] = []
        for path, text in texts:
            try:
                tip, front = from_markdown(text)
                problems_here = check_tip(tip)
                if tip.language not in LANGUAGES:
                    raise TipFileError(f"language must be one of {', '.join(LANGUAGES)}")
                if tip.training is not None and tip.training not in modules:
                    # Its «Start» button would only say the module is unknown.
                    known = ", ".join(sorted(modules))
                    raise TipFileError(
                        f"training: no module {tip.training!r}; the modules: {known}"
                    )
                if problems_here:
                    raise TipFileError(", ".join(p.key for p in problems_here))
                read.append(
                    _Read(path, tip, _audience(front, departments, units), _schedule(front))
                )
            except (TipFileError, UnicodeDecodeError) as error:
                problems.append(f"{path.name}: {error}")
        if problems:
            sys.stderr.write("\n".join(problems) + "\nNothing imported.\n")
            return -1
        sys.stdout.write(f"{len(read)} tip(s) read from {directory}\n")
        if dry_run:
            return len(read)
        async with sessions() as session, session.begin():
            drafts = {_key(title): i for title, i in (await tips.drafts_by_title(session)).items()}
            for found in read:
                await tips.save_draft(
                    session,
                    tip=found.tip,
                    audience=found.audience,
                    schedule=found.schedule,
                    author_id=None,
                    now=utcnow(),
                    tip_id=drafts.get(_key(found.tip.title)),
                )
    return len(read)


def run(settings: Settings, args: argparse.Namespace) -> int:
    upgrade(settings.database_url)
    if args.action == "export":
        count = asyncio.run(_export(settings.database_url, args.directory))
        sys.stdout.write(f"{count} tip(s) written to {args.directory}\n")
        return 0
    if not args.directory.is_dir():
        sys.stderr.write(f"no such directory: {args.directory}\n")
        return 2
    count = asyncio.run(_import(settings.database_url, args.directory, dry_run=args.dry_run))
    if count < 0:
        return 2
    if not args.dry_run:
        sys.stdout.write(f"{count} tip(s) imported as drafts: «tips» in Teams to send them\n")
    return 0
