"""What every CSV import shares (organisation, history, sick leave): a problem with its line
and column, the delimiter Excel chose, the records with the line each starts on, and a row's
cells by column name."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class RowProblem:
    """Something wrong in the file; `line` counts from 1 (the header), as an editor shows it."""

    line: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}, column {self.column}" if self.column else f"line {self.line}"
        return f"{where}: {self.message}"


def delimiter_of(header: str) -> str:
    # Excel in a Norwegian locale writes `;`; everything else writes `,`.
    return ";" if header.count(";") > header.count(",") else ","


class Unreadable(Exception):
    def __init__(self, problem: RowProblem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """Each record with the line it starts on; a quoted value may span lines."""
    # strict: a stray quote is an error instead of swallowing the rest of the file.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    start = 1
    try:
        for record in reader:
            yield start, record
            start = reader.line_num + 1
    except csv.Error as error:
        problem = RowProblem(reader.line_num, None, f"not readable as CSV: {error}")
        raise Unreadable(problem) from error


@dataclass(frozen=True)
class Header:
    line: int
    # Index of each known column; nameless columns (a trailing `;`) are kept to check they
    # stay empty.
    index: dict[str, int]
    nameless: tuple[int, ...]
    width: int


class Row:
    """One record's cells by column name (each made tidy by `clean`), collecting problems
    against its line; a value past the header or under a nameless column is one."""

    def __init__(
        self,
        line: int,
        header: Header,
        record: list[str],
        problems: list[RowProblem],
        *,
        clean: Callable[[str], str] = str.strip,
    ) -> None:
        self.line = line
        self.problems = problems
        self.cells = {
            name: clean(record[i]) if i < len(record) else "" for name, i in header.index.items()
        }
        if len(record) > header.width:
            self.problem(None, f"{len(record)} values but the header has {header.width} columns")
        elif any(i < len(record) and record[i].strip() for i in header.nameless):
            self.problem(None, "a value in a column that has no name in the header")

    def problem(self, column: str | None, message: str) -> None:
        self.problems.append(RowProblem(self.line, column, message))

    def get(self, column: str) -> str:
        return self.cells.get(column, "")
