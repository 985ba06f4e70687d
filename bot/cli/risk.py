"""`python -m bot risk …`: the shared risk-assessment frame (docs/risk.md).

- `risk import FILE [--title T] [--unit U …] [--department D …] [--dry-run]`: publish a
  frame from a CSV or YAML file, checked all or nothing (every problem by line). A title seen
  before makes the frame's next version, sent to the same units unless others are named; each
  unit is then asked only about the factors that are new or changed.
- `risk frame --title T --out FILE.csv|.yaml`: the current version as a file, to edit into
  the next one (or to start another frame from).
- `risk status [--title T]`: each unit's status on each frame.
- `risk export --unit U [--title T] [--language nn] [--draft] --out FILE.pdf|.xlsx`: a
  unit's last signed assessment for its HMS binder (or, with --draft, the one under way).

Exit status: 0 done; 2 nothing changed or written (a file refused, an unknown unit, …).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import sys
import unicodedata
from pathlib import Path

import yaml

from bot.cli.common import nothing_imported, read_file, unknown_department
from bot.config import Settings
from bot.statistics.risk_files import risk_pdf, risk_xlsx
from domain.i18n import LANGUAGES, Catalogues
from domain.risk import COLUMNS, TITLE_MAX, Factor, read_frame
from storage import risk
from storage.db import database
from storage.migrate import upgrade
from storage.risk import AssessmentView, NoUnits, UnitRow
from storage.types import utcnow

COMMAND = "risk"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(COMMAND, help="the shared risk-assessment frame")
    actions = parser.add_subparsers(dest="action", required=True)
    publish = actions.add_parser("import", help="publish a frame (or its next version)")
    publish.add_argument("file", type=Path, help="CSV or YAML (.yaml/.yml)")
    publish.add_argument("--title", help="the frame's title (or the YAML's title:)")
    publish.add_argument("--unit", action="append", default=[], help="a unit's code or name")
    publish.add_argument("--department", action="append", default=[], help="all its units")
    publish.add_argument("--dry-run", action="store_true", help="check, change nothing")
    frame = actions.add_parser("frame", help="the current version as a file to edit")
    frame.add_argument("--title", required=True)
    frame.add_argument("--out", type=Path, required=True, metavar="FILE.csv|FILE.yaml")
    status = actions.add_parser("status", help="each unit's status")
    status.add_argument("--title")
    export = actions.add_parser("export", help="a unit's assessment as PDF or XLSX")
    export.add_argument("--unit", required=True, help="the unit's code or name")
    export.add_argument("--title", help="which frame, when there are several")
    export.add_argument("--language", choices=LANGUAGES, help="default: the bot's (nn)")
    export.add_argument("--out", type=Path, required=True, metavar="FILE.pdf|FILE.xlsx")
    export.add_argument(
        "--draft", action="store_true", help="the revision under way, not the last signed one"
    )


def _key(name: str) -> str:
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def _chosen_units(
    units: list[UnitRow], names: list[str], departments: list[str]
) -> list[int] | None:
    """The ids asked for, or None having said which name is unknown."""
    by_name = {_key(u.code): u.id for u in units if u.code} | {_key(u.name): u.id for u in units}
    chosen: set[int] = set()
    for name in names:
        if _key(name) not in by_name:
            sys.stderr.write(f"no unit with the code or name {name!r}\n")
            return None
        chosen.add(by_name[_key(name)])
    known = sorted({u.department for u in units})
    for department in departments:
        found = [u.id for u in units if _key(u.department) == _key(department)]
        if not found:
            unknown_department(department, known)
            return None
        chosen.update(found)
    return sorted(chosen)


async def _publish(settings: Settings, args: argparse.Namespace) -> int:
    data = read_file(args.file)
    if data is None:
        return 2
    plan = read_frame(data, args.file.name)
    if isinstance(plan, list):
        return nothing_imported(args.file, plan)
    title = " ".join((args.title or plan.title or "").split())
    if not title or len(title) > TITLE_MAX:
        sys.stderr.write(f"give the frame a title of 1–{TITLE_MAX} characters: --title\n")
        return 2
    async with database(settings.database_url) as sessions:
        async with sessions() as session:
            units = await risk.all_units(session)
            # «vald og truslar» is the frame «Vald og truslar»: its next version, not a new one.
            known = {_key(f.title): f.title for f in await risk.current_frames(session)}
        title = known.get(_key(title), title)
        unit_ids = None
        if args.unit or args.department:
            unit_ids = _chosen_units(units, args.unit, args.department)
            if unit_ids is None:
                return 2
        async with sessions() as session:
            transaction = await session.begin()
            try:
                published = await risk.publish(
                    session, title=title, factors=plan.factors, unit_ids=unit_ids, now=utcnow()
                )
            except NoUnits:
                await transaction.rollback()
                sys.stderr.write("a new frame needs its units: --unit or --department\n")
                return 2
            if args.dry_run:
                await transaction.rollback()
            else:
                await transaction.commit()
    frame = published.frame
    said = "Checked" if args.dry_run else "Published"
    sys.stdout.write(
        f"{said} «{frame.title}» version {frame.version}: {len(plan.factors)} factors "
        f"to {published.units} unit(s)\n"
    )
    if frame.version > 1:
        sys.stdout.write(
            f"{published.changed} factor(s) new or changed since version {frame.version - 1}: "
            f"a unit that had answered is asked about those only "
            f"({sum(published.carried.values())} answer(s) carried over)\n"
        )
    if args.dry_run:
        sys.stdout.write("dry run: nothing changed\n")
    return 0


def _frame_text(factors: tuple[Factor, ...], title: str, *, as_yaml: bool) -> str:
    rows = [dict(zip(COLUMNS, (f.key, *f.content()), strict=True)) for f in factors]
    if as_yaml:
        return yaml.safe_dump(
            {"title": title, "factors": rows}, allow_unicode=True, sort_keys=False, width=100
        )
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, delimiter=";", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return "\ufeff" + out.getvalue()


async def _frame(settings: Settings, args: argparse.Namespace) -> int:
    async with database(settings.database_url) as sessions, sessions() as session:
        frame = await risk.latest_frame(session, " ".join(args.title.split()))
        if frame is None or frame.id is None:
            sys.stderr.write(f"no frame titled {args.title!r}\n")
            return 2
        factors = await risk.frame_factors(session, frame.id)
    as_yaml = args.out.suffix.lower() in (".yaml", ".yml")
    text = _frame_text(factors, frame.title, as_yaml=as_yaml)
    await asyncio.to_thread(args.out.write_text, text, "utf-8")
    sys.stdout.write(f"«{frame.title}» version {frame.version} written to {args.out}\n")
    return 0


async def _status(settings: Settings, args: argparse.Namespace) -> int:
    async with database(settings.database_url) as sessions, sessions() as session:
        frames = [
            f
            for f in await risk.current_frames(session)
            if args.title is None or _key(f.title) == _key(args.title)
        ]
        if not frames:
            sys.stderr.write("no frame published yet\n" if not args.title else "no such frame\n")
            return 2
        for frame in frames:
            sys.stdout.write(f"{frame.title} (version {frame.version})\n")
            for view in await risk.assessments_of_frame(session, frame.id):
                signed = f" {view.signed_at:%Y-%m-%d}" if view.signed_at else ""
                sys.stdout.write(
                    f"  {view.unit} ({view.department}): {view.status}{signed}, "
                    f"{view.answered}/{len(view.factors)} answered, {len(view.local)} local\n"
                )
    return 0


async def _export(settings: Settings, args: argparse.Namespace) -> int:
    suffix = args.out.suffix.lower()
    if suffix not in (".pdf", ".xlsx"):
        sys.stderr.write(f"--out {args.out}: the file's name ends in .pdf or .xlsx\n")
        return 2
    async with database(settings.database_url) as sessions, sessions() as session:
        unit_ids = _chosen_units(await risk.all_units(session), [args.unit], [])
        if unit_ids is None:
            return 2
        views: list[AssessmentView] = [
            v
            for v in await risk.current_for_units(session, unit_ids)
            if args.title is None or _key(v.frame.title) == _key(args.title)
        ]
        if len(views) == 1 and not args.draft and views[0].signed_at is None:
            signed = await risk.latest_signed(
                session, unit_id=views[0].unit_id, title=views[0].frame.title
            )
            if signed is None:
                sys.stderr.write(f"{args.unit}: not signed yet; --draft for the one under way\n")
                return 2
            views = [signed]
    if len(views) != 1:
        problem = "no risk assessment" if not views else "more than one frame: say which, --title"
        sys.stderr.write(f"{args.unit}: {problem}\n")
        return 2
    texts = Catalogues()[args.language or settings.default_language]
    make = risk_pdf if suffix == ".pdf" else risk_xlsx
    body = await asyncio.to_thread(make, views[0], texts)
    try:
        await asyncio.to_thread(args.out.write_bytes, body)
    except OSError as error:
        sys.stderr.write(f"cannot write {args.out}: {error.strerror}\n")
        return 2
    view = views[0]
    sys.stdout.write(
        f"{view.unit}: version {view.frame.version}, revision {view.revision}, "
        f"{view.status}, written to {args.out}\n"
    )
    return 0


def run(settings: Settings, args: argparse.Namespace) -> int:
    upgrade(settings.database_url)
    action = {"import": _publish, "frame": _frame, "status": _status, "export": _export}
    return asyncio.run(action[args.action](settings, args))
