"""Line numbers of keys and array elements in a TOML text.

tomllib gives values but not positions. This scanner walks a text that tomllib
has already accepted and records, for every path such as
``("incidents", "categories", 2, "duty_room")``, the 1-based line where it is
written: a key's line, an array element's first line, or a table header's line
(``[table]`` or ``[[array.of.tables]]``). Tables created implicitly by a deeper
header or a dotted key get the line where they first appear.
"""

from __future__ import annotations

import bisect
import re
import tomllib

Path = tuple[str | int, ...]

_BARE = re.compile(r"[A-Za-z0-9_-]+")
_SCALAR = re.compile(r"[^\s,\]\}#]+")
_DATE_THEN_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:")


def key_lines(text: str) -> dict[Path, int]:
    """Map each path written in ``text`` (valid TOML) to its line."""
    return _Scanner(text).run()


def line_for(lines: dict[Path, int], loc: Path) -> int | None:
    """The line of ``loc`` or, when it is not written (a missing key), of its nearest
    written ancestor (the table header); None when nothing of it is in the file."""
    for end in range(len(loc), 0, -1):
        line = lines.get(loc[:end])
        if line is not None:
            return line
    return None


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.lines: dict[Path, int] = {}
        self.explicit: set[Path] = set()
        self.arrays: dict[Path, int] = {}  # array-of-tables path -> number of elements so far
        self.starts = [0] + [index + 1 for index, char in enumerate(text) if char == "\n"]

    # -- positions -------------------------------------------------------------------------------
    def line(self, pos: int) -> int:
        return bisect.bisect_right(self.starts, pos)

    def implicit(self, path: Path, pos: int) -> None:
        for end in range(1, len(path) + 1):
            self.lines.setdefault(path[:end], self.line(pos))

    def header(self, path: Path, pos: int) -> None:
        self.implicit(path[:-1], pos)
        if path not in self.explicit:
            self.explicit.add(path)
            self.lines[path] = self.line(pos)

    # -- document --------------------------------------------------------------------------------
    def run(self) -> dict[Path, int]:
        table: Path = ()
        while self.skip(newlines=True):
            start = self.pos
            if self.text.startswith("[[", self.pos):
                self.pos += 2
                keys = self.keys()
                self.pos = self.text.index("]]", self.pos) + 2
                array = (*self.resolve(keys[:-1]), keys[-1])
                index = self.arrays.get(array, 0)
                self.arrays[array] = index + 1
                self.header(array, start)
                table = (*array, index)
                self.header(table, start)
            elif self.text[self.pos] == "[":
                self.pos += 1
                keys = self.keys()
                self.pos = self.text.index("]", self.pos) + 1
                table = self.resolve(keys)
                self.header(table, start)
            else:
                self.key_value(table, newlines=False)
        return self.lines

    def resolve(self, keys: list[str]) -> Path:
        """A header's keys as a path; a key naming an array of tables means its last element."""
        path: Path = ()
        for key in keys:
            path = (*path, key)
            if path in self.arrays:
                path = (*path, self.arrays[path] - 1)
        return path

    def skip(self, newlines: bool) -> bool:
        """Skip blanks and comments; False at the end of the text."""
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char in " \t\r" or (newlines and char == "\n"):
                self.pos += 1
            elif char == "#":
                end = text.find("\n", self.pos)
                self.pos = len(text) if end < 0 else end
            else:
                return True
        return False

    # -- keys and values -------------------------------------------------------------------------
    def keys(self) -> list[str]:
        keys: list[str] = []
        while True:
            self.skip(newlines=False)
            char = self.text[self.pos]
            if char in "\"'":
                start = self.pos
                self.string()
                keys.append(tomllib.loads("k = " + self.text[start : self.pos])["k"])
            else:
                match = _BARE.match(self.text, self.pos)
                if match is None:
                    raise ValueError(f"no key at offset {self.pos}")
                keys.append(match.group())
                self.pos = match.end()
            self.skip(newlines=False)
            if self.text.startswith(".", self.pos):
                self.pos += 1
                continue
            return keys

    def key_value(self, table: Path, newlines: bool) -> None:
        start = self.pos
        path = (*table, *self.keys())
        self.pos = self.text.index("=", self.pos) + 1
        self.implicit(path, start)
        self.skip(newlines=newlines)
        self.value(path)

    def value(self, path: Path) -> None:
        text = self.text
        char = text[self.pos]
        if char in "\"'":
            self.string()
        elif char == "[":
            self.array(path)
        elif char == "{":
            self.inline_table(path)
        else:
            match = _DATE_THEN_TIME.match(text, self.pos)
            if match:
                self.pos = match.end()
            match = _SCALAR.match(text, self.pos)
            self.pos = match.end() if match else self.pos + 1

    def array(self, path: Path) -> None:
        self.pos += 1
        index = 0
        while self.skip(newlines=True) and self.text[self.pos] != "]":
            if self.text[self.pos] == ",":
                self.pos += 1
                continue
            self.lines.setdefault((*path, index), self.line(self.pos))
            self.value((*path, index))
            index += 1
        self.pos += 1

    def inline_table(self, path: Path) -> None:
        self.pos += 1
        while self.skip(newlines=True) and self.text[self.pos] != "}":
            if self.text[self.pos] == ",":
                self.pos += 1
                continue
            self.key_value(path, newlines=True)
        self.pos += 1

    def string(self) -> None:
        text = self.text
        quote = text[self.pos]
        if text.startswith(quote * 3, self.pos):
            self.pos += 3
            while not text.startswith(quote * 3, self.pos):
                self.pos += 2 if quote == '"' and text[self.pos] == "\\" else 1
            self.pos += 3
            while self.pos < len(text) and text[self.pos] == quote:  # up to two quotes end the content
                self.pos += 1
            return
        self.pos += 1
        while text[self.pos] != quote:
            self.pos += 2 if quote == '"' and text[self.pos] == "\\" else 1
        self.pos += 1
