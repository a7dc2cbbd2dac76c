"""Helpers for publication review tests: fill the /publish form through the real Dispatcher."""

from __future__ import annotations

from aiogram.types import MessageEntity

from handlers.callbacks import LanguageCb
from handlers.publication_buttons import FormCb
from tests.conftest import Harness

CHECKLIST = (
    "constitution",
    "state_secrets",
    "company_honour",
    "ethnic_hatred",
    "religion_cults",
    "rumours",
    "obscenity_violence",
    "defamation",
    "other_illegal",
)


async def member(h: Harness, user_id: int, roles: list[str], department: str = "marketing") -> int:
    """A member who reads English."""
    joined = await h.join(user_id, roles, department=department)
    await h.press(user_id, LanguageCb(code="en"))
    return joined.id


async def fill_form(
    h: Harness,
    user_id: int,
    *,
    title: str = "Spring open day",
    body: str = "Visit our branch on Saturday.",
    channels: tuple[str, ...] = ("website",),
    planned: str | None = None,
    embargo: str | None = None,
    options: tuple[str, ...] = (),
    photo: bool = False,
    bold: bool = False,
) -> list[str]:
    """From /publish to the summary sheet; returns the sheet's texts."""
    await h.send(user_id, "/publish")
    await h.press(user_id, FormCb(action="kind", value="new"))
    await h.send(user_id, title)
    entities = [MessageEntity(type="bold", offset=0, length=5)] if bold else None
    await h.send(user_id, body, entities=entities)
    if photo:
        await h.send(user_id, None, photo="poster")  # type: ignore[arg-type]
    await h.press(user_id, FormCb(action="next"))
    for channel in channels:
        await h.press(user_id, FormCb(action="ch", value=channel))
    await h.press(user_id, FormCb(action="next"))
    await h.send(user_id, "customers")
    await h.send(user_id, "1")
    if planned:
        await h.send(user_id, planned)
    else:
        await h.press(user_id, FormCb(action="skip"))
    if embargo:
        await h.send(user_id, embargo)
    else:
        await h.press(user_id, FormCb(action="skip"))
    for option in options:
        await h.press(user_id, FormCb(action="opt", value=option))
    return await h.press(user_id, FormCb(action="next"))


async def tick_checklist(h: Harness, user_id: int) -> list[str]:
    await h.press(user_id, FormCb(action="edit", value="checklist"))
    for code in CHECKLIST:
        await h.press(user_id, FormCb(action="chk", value=code))
    return await h.press(user_id, FormCb(action="next"))


async def submit_form(h: Harness, user_id: int, **fields: object) -> list[str]:
    await fill_form(h, user_id, **fields)  # type: ignore[arg-type]
    await tick_checklist(h, user_id)
    return await h.press(user_id, FormCb(action="submit"))
