"""Helpers for publication review tests: fill the /publish form through the real Dispatcher."""

from __future__ import annotations

from aiogram.types import MessageEntity
from sqlalchemy import select

from bot.outgoing.approvals import ApprovalCb
from bot.services.actor import Actor
from bot.services.publication_draft import Draft, parse_moment
from handlers.publication_buttons import FormCb
from storage.approval_models import ApprovalStep
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


DRAFTER = 7001  # staff, marketing
HEAD = 7002  # head of marketing (also staff: heads draft too)
LEADER = 7003  # the leader who approves
EXTERNAL = 7004  # the sponsoring broker's reviewer (D5)
COMPANY_HEAD = 7005  # head of the company department, above the marketing head
COLLEAGUE = 7006  # another member of marketing, no reviewer role
OFFICER = 7007  # an information officer, who may record publication (D5)


async def member(
    h: Harness, user_id: int, roles: list[str], department: str = "marketing", name: str = "", language: str = "en"
) -> int:
    """A member (reading English unless told); joined through the service (joining is the foundation's to test)."""
    name = name or f"Member {user_id}"
    invitation = await h.app.members.invite(Actor.command_line(), roles=roles, department=department, name=name)
    joined = await h.app.members.join(invitation.code, telegram_id=user_id, name=name, username=None, language=language)
    return joined.id


async def organisation(h: Harness) -> None:
    await member(h, DRAFTER, ["staff"], "marketing", "Zhang San")
    await member(h, HEAD, ["staff", "department_head"], "marketing", "Li Si")
    await member(h, LEADER, ["leader"], "company", "Zhao Liu")
    await member(h, EXTERNAL, ["external_reviewer"], "company", "Qian Broker")
    await member(h, COMPANY_HEAD, ["department_head"], "company", "Zheng Yi")
    await member(h, COLLEAGUE, ["staff"], "marketing", "Wang Wu")
    await member(h, OFFICER, ["information_officer"], "office", "Sun Ba")


async def active_step(h: Harness) -> ApprovalStep:
    async with h.app.uow() as uow:
        step = await uow.session.scalar(
            select(ApprovalStep).where(ApprovalStep.state == "active").order_by(ApprovalStep.id.desc())
        )
        assert step is not None, "no step is waiting"
        return step


async def decide(h: Harness, user_id: int, action: str = "ok", text: str | None = None) -> list[str]:
    """Press Approve (ok), Reject (no) or Return (ret) on the waiting step; then type the words asked for."""
    answers = await h.press(user_id, ApprovalCb(action=action, step=(await active_step(h)).id))
    if text is not None:
        answers += await h.send(user_id, text)
    return answers


def last_text(h: Harness, user_id: int) -> str:
    texts = h.session.texts(user_id)
    return texts[-1] if texts else ""


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
    """The whole wizard, for tests about the form itself."""
    await fill_form(h, user_id, **fields)  # type: ignore[arg-type]
    await tick_checklist(h, user_id)
    return await h.press(user_id, FormCb(action="submit"))


async def submit(
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
) -> int:
    """A form submitted as the wizard's last step does, for tests about what happens next."""
    zone, now = h.app.policy.organisation.zone, h.clock.now()
    draft = Draft(
        title=title,
        body=body,
        entities=[{"type": "bold", "offset": 0, "length": 5}] if bold else [],
        attachments=[{"kind": "photo", "file_id": "poster", "name": "photo 1"}] if photo else [],
        channels=list(channels),
        audience="customers",
        quantity=1,
        planned_at=parse_moment(planned, zone, now) if planned else None,
        embargo_until=parse_moment(embargo, zone, now) if embargo else None,
        disclosure="disclosure" in options,
        designated_first="designated_first" in options,
        checklist=list(CHECKLIST),
    )
    service = h.app.flows.publication
    submitted = await service.submit(Actor(user_id, user_id), "new", None, draft, "en")
    await h.app.outbox.drain()
    return submitted.form_id
