"""The information publication form (信息发布管理表) as a draft: its fields, their limits, and the
checks every value passes before anything is stored (D1, D3, D4, D5).

A draft is a plain dict while the drafter fills the form (it lives in the wizard's state in the
database, so nothing is lost); :class:`Draft` is its checked form, built by :meth:`Draft.of`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.policy.schema import Publication as PublicationPolicy
from bot.services.errors import N_, InvalidInput
from bot.services.text import visible_text

KINDS = ("new", "change", "takedown")
TITLE_LIMIT = 200
BODY_LIMIT = 3500  # title and body are posted as one Telegram message (4,096 characters)
AUDIENCE_LIMIT = 200
NOTE_LIMIT = 1000
LINK_LIMIT = 500
ATTACHMENT_LIMIT = 10
QUANTITY_LIMIT = 1_000_000_000
CONTEXT = 12  # characters shown on each side of a flagged word
FLAG_LIMIT = 30
ACCEPTED_DOCUMENTS = (
    "application/pdf",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
)
MOMENT = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*(\d{1,2})\s*[:：时点]\s*(\d{2})\s*分?"
)
LATIN_WORD = re.compile(r"[\w\s.%-]+", re.ASCII)


@dataclass(frozen=True)
class Flag:
    """An exaggeration word found by the pre-check (D3), with the text around it."""

    word: str
    context: str


@dataclass(frozen=True)
class Draft:
    title: str = ""
    body: str = ""
    entities: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    audience: str = ""
    quantity: int | None = None
    planned_at: datetime | None = None
    embargo_until: datetime | None = None
    disclosure: bool = False
    designated_first: bool = False
    checklist: list[str] = field(default_factory=list)
    note: str | None = None

    @classmethod
    def of(cls, data: dict[str, Any]) -> Draft:
        """From the wizard's stored data (times as ISO text)."""
        values = {name: data[name] for name in cls.__dataclass_fields__ if data.get(name) is not None}
        for name in ("planned_at", "embargo_until"):
            if isinstance(values.get(name), str):
                values[name] = datetime.fromisoformat(values[name])
        return cls(**values)

    def data(self) -> dict[str, Any]:
        """For the wizard's stored data (JSON: times as ISO text)."""
        values = asdict(self)
        for name in ("planned_at", "embargo_until"):
            values[name] = values[name].isoformat() if values[name] else None
        return values

    def content(self) -> tuple[Any, ...]:
        """What reviewers approve: a change here resets earlier approvals (D2). The note is not content."""
        return tuple(asdict(replace(self, note=None, checklist=[])).values())


# Field checks: each raises InvalidInput with a message the drafter reads ------------------------
def clean_title(text: str) -> str:
    title = " ".join(visible_text(text).split())
    if not title:
        raise InvalidInput(N_("Please send the title as text."))
    if len(title) > TITLE_LIMIT:
        raise InvalidInput(N_("The title is too long: at most {limit} characters."), limit=TITLE_LIMIT)
    return title


def visible_body(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """The text without invisible control characters (PostgreSQL cannot store NUL), its formatting moved
    with it: entity offsets count UTF-16 units, and every dropped character is one unit."""
    dropped: list[int] = []
    position = 0
    for ch in text:
        if not ch.isspace() and unicodedata.category(ch) == "Cc":
            dropped.append(position)
        position += 2 if ord(ch) > 0xFFFF else 1
    if not dropped:
        return text, entities

    def before(offset: int) -> int:
        return sum(1 for at in dropped if at < offset)

    moved = []
    for entity in entities:
        start, end = entity["offset"], entity["offset"] + entity["length"]
        length = end - start - (before(end) - before(start))
        if length > 0:
            moved.append({**entity, "offset": start - before(start), "length": length})
    return visible_text(text), moved


def check_body(text: str) -> str:
    if len(text) > BODY_LIMIT:
        raise InvalidInput(
            N_("The text is too long: {length} characters, at most {limit}. Shorten it or attach it as a file."),
            length=len(text),
            limit=BODY_LIMIT,
        )
    return text


def clean_audience(text: str) -> str:
    audience = " ".join(visible_text(text).split())
    if not audience:
        raise InvalidInput(N_("Please say who the information is for."))
    if len(audience) > AUDIENCE_LIMIT:
        raise InvalidInput(N_("That is too long: at most {limit} characters."), limit=AUDIENCE_LIMIT)
    return audience


def parse_quantity(text: str) -> int:
    digits = text.strip().replace(",", "").replace("，", "")
    if not digits.isdigit() or not 0 < int(digits) <= QUANTITY_LIMIT:
        raise InvalidInput(N_("Please send the quantity as a whole number, e.g. 1 or 5000."))
    return int(digits)


def clean_note(text: str) -> str:
    note = visible_text(text).strip()
    if not note:
        raise InvalidInput(N_("Please write a few words."))
    if len(note) > NOTE_LIMIT:
        raise InvalidInput(N_("That is too long: at most {limit} characters."), limit=NOTE_LIMIT)
    return note


def clean_link(text: str) -> str:
    link = text.strip()
    if not link or len(link) > LINK_LIMIT or any(c.isspace() for c in link):
        raise InvalidInput(N_("Please send the link as one address of at most {limit} characters."), limit=LINK_LIMIT)
    return link


def parse_moment(text: str, zone: ZoneInfo, now: datetime, *, future: bool = True) -> datetime:
    """``2026-03-05 09:30`` (also ``2026/3/5 9:30`` or ``2026年3月5日 9:30``) in the organisation's zone."""
    match = MOMENT.fullmatch(text.strip())
    try:
        if match is None:
            raise ValueError(text)
        year, month, day, hour, minute = (int(part) for part in match.groups())
        moment = datetime(year, month, day, hour, minute, tzinfo=zone).astimezone(now.tzinfo)
    except (ValueError, OverflowError):  # 2026-02-30; 0001-01-01 00:00 east of UTC is before year 1 in UTC
        raise InvalidInput(N_("Please send a date and time like 2026-03-05 09:30.")) from None
    if future and moment <= now:
        raise InvalidInput(N_("That time has already passed. Please send a time in the future."))
    if not future and moment > now:
        raise InvalidInput(N_("That time is still to come. Please send when it actually happened."))
    return moment


def attachment_of(kind: str, file_id: str, name: str, mime: str | None) -> dict[str, Any]:
    """Images (photos or image files), PDF and Word documents; anything else is refused."""
    if kind == "document" and not (mime or "").startswith("image/") and mime not in ACCEPTED_DOCUMENTS:
        raise InvalidInput(N_("Only images, PDF and Word (DOC, DOCX) files can be attached."))
    return {"kind": kind, "file_id": file_id, "name": name}


# The pre-check (D3) -------------------------------------------------------------------------------
def exaggeration_flags(words: tuple[str, ...], *texts: str) -> list[Flag]:
    """Every occurrence of a listed word in the texts, with context; case is ignored, and Latin words
    match whole words only (so "best" does not flag "bestow")."""
    found: list[tuple[int, int, Flag]] = []
    for index, text in enumerate(texts):
        folded = text.casefold()
        for word in words:
            needle = word.strip().casefold()
            pattern = re.escape(needle)
            if LATIN_WORD.fullmatch(needle):
                pattern = rf"(?<![A-Za-z0-9]){pattern}(?![A-Za-z0-9])"
            for match in re.finditer(pattern, folded):
                start, end = match.span()
                context = "".join(
                    (
                        "…" if start > CONTEXT else "",
                        text[max(0, start - CONTEXT) : start],
                        f"【{text[start:end]}】",
                        text[end : end + CONTEXT],
                        "…" if end + CONTEXT < len(text) else "",
                    )
                )
                found.append((index, start, Flag(word, " ".join(context.split()))))
    flags = [flag for _index, _start, flag in sorted(found, key=lambda item: item[:2])]
    return flags[:FLAG_LIMIT]


def check_complete(draft: Draft, kind: str, policy: PublicationPolicy) -> None:
    """What a form needs before it can be submitted (D1, D4, D5)."""
    if kind not in KINDS:
        raise InvalidInput(N_("Unknown kind of form."))
    if kind == "takedown":
        if not draft.note:
            raise InvalidInput(N_("Please say why the item is taken down."))
    else:
        if not draft.title:
            raise InvalidInput(N_("The form has no title yet."))
        if not draft.body.strip() and not draft.attachments:
            raise InvalidInput(N_("The form has neither text nor files yet."))
        missing = [item.code for item in policy.prohibited_checklist if item.code not in draft.checklist]
        if missing:
            raise InvalidInput(
                N_("Tick every item of the prohibited-content checklist first ({count} left)."), count=len(missing)
            )
    known = {channel.code for channel in policy.channels}
    if not draft.channels or not set(draft.channels) <= known:
        raise InvalidInput(N_("Choose at least one channel."))
    designated = designated_channel(policy)
    if draft.designated_first and (designated is None or designated not in draft.channels):
        raise InvalidInput(N_("“Designated platform first” needs the designated platform among the channels."))


def designated_channel(policy: PublicationPolicy) -> str | None:
    return next((channel.code for channel in policy.channels if channel.designated), None)
