"""What the command-line tasks share: a progress bar that stays out of logs and pipes, and the
answer when a file is refused."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Never

from tqdm import tqdm

from domain.readers.records import RowProblem


def read_file(path: Path) -> bytes | None:
    """The file's bytes, or None having said on stderr why it cannot be read."""
    try:
        return path.read_bytes()
    except OSError as error:
        sys.stderr.write(f"cannot read {path}: {error.strerror}\n")
        return None


def progress_bar(total: int) -> tqdm[Never]:
    # No bar in logs and pipes: only for a person at a terminal.
    return tqdm(total=total, unit="row", file=sys.stderr, disable=not sys.stderr.isatty())


def nothing_imported(
    path: Path, problems: Sequence[RowProblem], *, rejected_rows: int | None = None
) -> int:
    """Every problem on stderr, and exit status 2."""
    rejected = f", {rejected_rows} row(s) rejected" if rejected_rows is not None else ""
    sys.stderr.write(f"Nothing imported: {len(problems)} problem(s) in {path}{rejected}\n")
    sys.stderr.writelines(f"{problem}\n" for problem in problems)
    if rejected_rows:
        sys.stderr.write("Fix them, or run again with --skip-invalid to import the other rows.\n")
    return 2


def unknown_department(name: str, known: Sequence[str]) -> int:
    """Exit status 2, saying which departments there are."""
    listed = ", ".join(known) or "none yet"
    sys.stderr.write(f"no department named {name!r}; the departments are: {listed}\n")
    return 2
