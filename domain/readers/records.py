"""What every CSV import shares (organisation, history, sick leave, categories): a problem
with its line and column, the encoding (UTF-8 or what Excel on Windows writes), the delimiter
Excel chose, the records with the line each starts on, and a row's cells by column name."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from domain.categories import name_key

UTF8 = "UTF-8"
WINDOWS_1252 = "Windows-1252"


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


# ---- bytes to text (history, categories and their map) ----------------------------------


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def decode_csv(data: bytes) -> tuple[str, str] | RowProblem:
    """(text, encoding): UTF-8 with or without BOM, else Windows-1252 (what Excel on Windows
    writes as «CSV»), or where the file cannot be either."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data[:4096]:
        return RowProblem(
            1, None, "the file is UTF-16 («Unicode text»); save it as «CSV UTF-8» instead"
        )
    try:
        return data.decode("utf-8-sig"), UTF8
    except UnicodeDecodeError as error:
        not_utf8 = error.start
    # UTF-8's two-byte æøå (Ã¦, Ã¸, Ã¥ …) above bytes that are not UTF-8: two encodings in one
    # file, which no choice of encoding reads right.
    if re.search(rb"[\xc2\xc3][\x80-\xbf]", data[:not_utf8]):
        return RowProblem(
            _line_of(data, not_utf8),
            None,
            "the file mixes UTF-8 and another encoding from this line on; "
            "save it again as «CSV UTF-8»",
        )
    try:
        return data.decode("cp1252"), WINDOWS_1252
    except UnicodeDecodeError as error:
        return RowProblem(
            _line_of(data, error.start),
            None,
            "the file is neither UTF-8 nor Windows-1252; save it as «CSV UTF-8»",
        )


# ---- a header of known columns, and the rows under it -----------------------------------


def _header(
    line: int,
    record: list[str],
    aliases: Mapping[str, tuple[str, ...]],
    required: tuple[str, ...],
) -> Header | list[RowProblem]:
    by_key = {name_key(n): column for column, names in aliases.items() for n in (column, *names)}
    problems: list[RowProblem] = []
    index: dict[str, int] = {}
    nameless: list[int] = []
    for position, raw in enumerate(record):
        name = raw.strip()
        column = by_key.get(name_key(name))
        if not name:
            nameless.append(position)
        elif column is None:
            known = ", ".join(aliases)
            problems.append(RowProblem(line, name, f"unknown column; the columns are {known}"))
        elif column in index:
            problems.append(RowProblem(line, column, "the column appears twice"))
        else:
            index[column] = position
    problems.extend(
        RowProblem(line, column, "required column missing from the header")
        for column in required
        if column not in index
    )
    return problems or Header(line, index, tuple(nameless), len(record))


def header_and_rows(
    data: bytes, aliases: Mapping[str, tuple[str, ...]], required: tuple[str, ...]
) -> tuple[Header, list[tuple[int, list[str]]]] | list[RowProblem]:
    """The header and the non-blank records, or why the file cannot be read at all."""
    decoded = decode_csv(data)
    if isinstance(decoded, RowProblem):
        return [decoded]
    text = decoded[0].removeprefix("\ufeff")
    header_text = next((line for line in re.split(r"\r\n|\r|\n", text) if line.strip()), None)
    if header_text is None:
        return [RowProblem(1, None, f"the file is empty; it needs a header: {','.join(aliases)}")]
    header: Header | None = None
    found: list[tuple[int, list[str]]] = []
    try:
        for line, record in records(text, delimiter_of(header_text)):
            if not any(cell.strip() for cell in record):
                continue
            if header is None:
                read = _header(line, record, aliases, required)
                if isinstance(read, list):
                    return read
                header = read
            else:
                found.append((line, record))
    except Unreadable as unreadable:
        return [unreadable.problem]
    assert header is not None
    if not found:
        return [RowProblem(header.line, None, "no rows")]
    return header, found
