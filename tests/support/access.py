"""Helpers for the data-access and approval tests: members in English, the request wizard in one call."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from bot.outgoing.access import AccessCb
from bot.outgoing.approvals import ApprovalCb
from bot.services.access import Draft, RequestView
from bot.services.actor import Actor
from bot.services.members import MemberView
from handlers.access_buttons import AskCb
from storage.access_models import AccessGrant, AccessTask, DatasetRow
from storage.approval_models import ApprovalStep
from storage.models import AuditEntry
from tests.conftest import Harness


async def member(
    h: Harness, user_id: int, roles: list[str], department: str = "marketing", name: str = ""
) -> MemberView:
    """A member who reads English (the tests compare English texts); joined through the service,
    since joining is the foundation's to test and chat updates are what make tests slow."""
    name = name or f"Member {user_id}"
    invitation = await h.app.members.invite(Actor.command_line(), roles=roles, department=department, name=name)
    return await h.app.members.join(invitation.code, telegram_id=user_id, name=name, username=None, language="en")


async def submit(
    h: Harness,
    user_id: int,
    code: str,
    mode: str = "read_only",
    until: str = "2026-03-09",
    purpose: str = "Prepare the quarterly customer visit plan.",
    reason: str | None = "We must correct wrong addresses in the archive.",
) -> RequestView:
    """A request submitted as the wizard's last step does, for tests about what happens next."""
    access = h.app.flows.access
    full_reason = reason if mode == "full" else None
    draft = Draft(await dataset_id(h, code), mode, purpose, full_reason, date.fromisoformat(until))
    view = await access.submit(Actor(user_id, user_id), draft, notice_accepted=True, language="en")
    await h.app.outbox.drain()
    return view


async def dataset_id(h: Harness, code: str) -> int:
    async with h.app.uow() as uow:
        row = await uow.session.scalar(select(DatasetRow).where(DatasetRow.code == code))
        if row is None:  # the catalogue is seeded on first use
            views = await h.app.dispatcher.workflow_data["catalogue_service"].catalogue.datasets(uow)
            await uow.commit()
            row = next(view for view in views if view.code == code)
        return row.id


async def request_access(
    h: Harness,
    user_id: int,
    code: str,
    mode: str = "read_only",
    purpose: str = "Prepare the quarterly customer visit plan.",
    until: str | None = None,
    reason: str = "We must correct wrong addresses in the archive.",
) -> list[str]:
    """Walk the /access wizard from start to submit; returns what the last step answered."""
    await h.send(user_id, "/access")
    await h.press(user_id, AccessCb(action="new"))
    await h.press(user_id, AskCb(action="ds", value=str(await dataset_id(h, code))))
    if mode != "read_only":
        await h.press(user_id, AskCb(action="mode", value=mode))
    await h.press(user_id, AskCb(action="next"))
    if mode == "full":
        await h.send(user_id, reason)
    await h.send(user_id, purpose)
    if until is None:
        presets = [data for _text, data in h.buttons(user_id) if data.startswith("acw:date:")]
        await h.press(user_id, presets[1] if len(presets) > 1 else presets[0])
    else:
        await h.send(user_id, until)
    await h.press(user_id, AskCb(action="accept"))
    return await h.press(user_id, AskCb(action="submit"))


async def current_step(h: Harness, request_id: int | None = None) -> ApprovalStep:
    """The active step of the newest (or the given) approval request."""
    async with h.app.uow() as uow:
        query = select(ApprovalStep).where(ApprovalStep.state == "active").order_by(ApprovalStep.id.desc())
        if request_id is not None:
            query = query.where(ApprovalStep.request_id == request_id)
        step = await uow.session.scalar(query)
        assert step is not None, "no step is waiting"
        return step


async def approve(h: Harness, user_id: int) -> list[str]:
    """Approve the current step; a request that must be confirmed (绝密, full, export: C4, C5) is
    confirmed with the second tap."""
    step = await current_step(h)
    answers = await h.press(user_id, ApprovalCb(action="ok", step=step.id))
    if ApprovalCb(action="yes", step=step.id).pack() in [data for _text, data in h.buttons(user_id)]:
        answers += await h.press(user_id, ApprovalCb(action="yes", step=step.id))
    return answers


async def open_task(h: Harness) -> AccessTask:
    async with h.app.uow() as uow:
        query = select(AccessTask).where(AccessTask.state == "open").order_by(AccessTask.id.desc())
        task = await uow.session.scalar(query)
        assert task is not None
        return task


async def grants(h: Harness) -> list[AccessGrant]:
    async with h.app.uow() as uow:
        return list(await uow.session.scalars(select(AccessGrant).order_by(AccessGrant.id)))


async def audit(h: Harness, entity: str, action: str | None = None) -> list[AuditEntry]:
    async with h.app.uow() as uow:
        query = select(AuditEntry).where(AuditEntry.entity == entity)
        if action:
            query = query.where(AuditEntry.action == action)
        return list(await uow.session.scalars(query.order_by(AuditEntry.id)))


def texts_since(h: Harness, user_id: int, before: int) -> list[str]:
    return h.session.texts(user_id)[before:]
