"""Reading a roster CSV (B1): one row per person and shift — room, date, shift, member, position.

Only the shape is checked here; the service checks every row against the policy and the members
before anything is stored. Problems carry message ids, translated where they are shown.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date

from bot.services.errors import N_

MAX_ROWS = 2000
HEADER_WORDS = {"room", "值班室"}


@dataclass(frozen=True, slots=True)
class Problem:
    line: int
    msgid: str
    params: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CsvRow:
    line: int
    room: str
    day: date
    shift: str
    member: str  # a Telegram id or a member's exact name
    position: str  # as written; empty means primary


def decode(data: bytes) -> str:
    """UTF-8 (with or without the byte-order mark Excel writes), else GB18030 (Chinese Excel's CSV)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="replace")


def parse_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip().replace("/", "-"))
    except ValueError:
        return None


def read_rows(text: str) -> tuple[list[CsvRow], list[Problem]]:
    rows: list[CsvRow] = []
    problems: list[Problem] = []
    for line, cells in enumerate(csv.reader(io.StringIO(text)), 1):
        cells = [cell.strip() for cell in cells]
        if not any(cells) or (line == 1 and cells[0].lower() in HEADER_WORDS):
            continue
        if len(cells) not in (4, 5):
            problems.append(Problem(line, N_("Line {line}: expected room, date, shift, member and position.")))
            continue
        day = parse_day(cells[1])
        if day is None:
            problems.append(
                Problem(line, N_("Line {line}: {value} is not a date (write YYYY-MM-DD)."), {"value": cells[1]})
            )
            continue
        rows.append(CsvRow(line, cells[0], day, cells[2], cells[3], cells[4] if len(cells) == 5 else ""))
    if len(rows) > MAX_ROWS:
        return [], [
            Problem(0, N_("The file has more than {limit} rows; split it into several files."), {"limit": MAX_ROWS})
        ]
    if not rows and not problems:
        problems.append(Problem(0, N_("The file has no roster rows.")))
    return rows, problems
