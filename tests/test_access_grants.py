"""Grants after approval (C3, C6, C7): provisioning and revocation tasks for the data owners and
the information centre, the expiry warning and extension, expiry, deactivation revoking everything
at once, and the quarterly access review — through the real Dispatcher and the injected clock."""

from __future__ import annotations

from bot.outgoing.access import AccessCb
from handlers.access_buttons import AskCb
from handlers.callbacks import MemberCb
from tests.conftest import ADMIN_ID, Harness
from tests.support.access import approve, audit, grants, member, open_task, submit
from tests.support.org import HEAD, IC_HEAD, IC_OFFICER, LEADER, OWNER, REQUESTER, granted, organisation


def last_text(h: Harness, user_id: int) -> str:
    texts = h.session.texts(user_id)
    return texts[-1] if texts else ""


async def test_access_is_ready_only_after_the_information_centre_confirms(harness: Harness) -> None:
    h = harness
    await organisation(h)
    await member(h, 4001, ["staff"], "information_centre")
    await submit(h, REQUESTER, "customer_archives", until="2026-03-20")
    await approve(h, HEAD)
    await approve(h, OWNER)
    task_text = (
        "Grant read-only access to Customer archives for Zhang San (Marketing department) until 20 Mar 2026, 23:59."
    )
    assert task_text in last_text(h, IC_OFFICER)  # the information centre …
    assert task_text in last_text(h, OWNER)  # … and the data owner get the task
    assert "The information centre is setting up your access" in last_text(h, REQUESTER)
    assert (await grants(h))[0].state == "provisioning"
    task = await open_task(h)
    done = AccessCb(action="done", id=task.id)
    assert await h.press(4001, done) == ["Only the data owners and the information centre can confirm this task."]
    assert (await h.press(IC_OFFICER, done))[0] == "Thank you: access granted."
    assert (
        last_text(h, REQUESTER)
        == "🔓 Your read-only access to Customer archives is ready. It ends on 20 Mar 2026, 23:59."
    )
    assert last_text(h, OWNER).endswith("✅ Done by Qian Qi.")
    assert await h.press(OWNER, done) == ["This task is already done; nothing was changed."]
    assert "#1 Customer archives · read-only — until 20 Mar 2026, 23:59" in (await h.send(REQUESTER, "/access"))[0]
    assert [e.action for e in await audit(h, "access_grant")] == ["approved", "grant_confirmed"]


async def test_the_holder_is_warned_before_expiry_and_can_extend(harness: Harness) -> None:
    """C7: a day before expiry the holder is warned; the extension is a new request prefilled from
    the old one; once it is provisioned the old grant is replaced, not revoked."""
    h = harness
    await organisation(h)
    first = await granted(h)
    await h.advance(days=6, hours=14, minutes=58)  # 8 March, 23:58
    assert "⏳" not in last_text(h, REQUESTER)
    await h.advance(minutes=1)  # a day before 9 March 23:59
    assert last_text(h, REQUESTER) == (
        "⏳ Your read-only access to Financial reports ends on 9 Mar 2026, 23:59. Need longer? Ask for an extension."
    )
    extend = next(data for text, data in h.buttons(REQUESTER) if text == "⏳ Ask for an extension")
    answers = await h.press(REQUESTER, extend)
    assert answers[-2] == f"Extension of grant #{first}: everything is copied from your last request."
    assert answers[-1].startswith("Step 4: until when?")
    await h.send(REQUESTER, "2026-04-30")
    confirm = (await h.press(REQUESTER, AskCb(action="accept")))[-1]
    assert "Purpose: Prepare the quarterly customer visit plan." in confirm
    await h.press(REQUESTER, AskCb(action="submit"))
    assert f"Extension of grant #{first}." in last_text(h, HEAD)
    await approve(h, HEAD)
    assert f"This extends grant #{first}." in last_text(h, IC_OFFICER)
    await h.press(IC_OFFICER, AccessCb(action="done", id=(await open_task(h)).id))
    old, new = await grants(h)
    assert (old.state, new.state) == ("superseded", "active")
    await h.advance(days=2)  # past the old grant's end: no revocation for it
    assert "Remove" not in last_text(h, IC_OFFICER)


async def test_at_expiry_a_revocation_task_goes_out_and_escalates_when_unconfirmed(harness: Harness) -> None:
    """C7: access ends by itself; an unconfirmed revocation is reminded, then escalated like an idle approval."""
    h = harness
    await organisation(h, "ic_head")
    await granted(h, until="2026-03-05")
    await h.advance(days=3, hours=14, minutes=59)  # Thursday 5 March, 23:59
    assert last_text(h, REQUESTER) == "🔒 Your read-only access to Financial reports has ended: the grant expired."
    assert (
        "Remove read-only access to Financial reports from Zhang San (Marketing department): the grant expired."
        in last_text(h, IC_OFFICER)
    )
    assert (await grants(h))[0].state == "revoking"
    await h.advance(days=1)  # Friday
    assert last_text(h, IC_OFFICER).startswith("⏰ Reminder: this task is still open.")
    await h.advance(days=3)  # Monday, the next working day
    assert last_text(h, IC_HEAD).startswith("⏫ Escalated to you: this task was not confirmed in time.")
    task = await open_task(h)
    assert (await h.press(IC_HEAD, AccessCb(action="done", id=task.id)))[0] == "Thank you: access removed."
    assert (await grants(h))[0].state == "revoked"
    assert [e.action for e in await audit(h, "access_grant")][-2:] == ["revocation_requested", "revoke_confirmed"]


async def test_deactivating_a_member_revokes_all_their_grants_at_once(harness: Harness) -> None:
    """C6: every grant becomes a revocation task the data owners see; pending requests are withdrawn."""
    h = harness
    await organisation(h)
    await granted(h, "customer_archives", until="2026-03-20")
    await submit(h, REQUESTER, "financial_reports")
    await approve(h, HEAD)  # approved, not yet provisioned
    await submit(h, REQUESTER, "staff_directory", until="2026-03-20")  # still pending
    requester = await h.app.members.find(REQUESTER)
    assert requester is not None
    await h.press(ADMIN_ID, MemberCb(action="deact_ok", member_id=requester.id))
    assert [g.state for g in await grants(h)] == ["revoking", "revoking"]
    owner_texts = "\n".join(h.session.texts(OWNER))
    assert (
        "Remove read-only access to Customer archives from Zhang San (Marketing department): "
        "the holder was deactivated." in owner_texts
    )
    ic_texts = "\n".join(h.session.texts(IC_OFFICER))
    assert "Remove read-only access to Financial reports from Zhang San" in ic_texts
    assert "— No longer needed." in ic_texts  # the provisioning task of the never-given access is closed
    assert last_text(h, LEADER).endswith("— Withdrawn; nothing to decide.")  # nobody owns it: the leader had it
    async with h.app.uow() as uow:
        request = await uow.access.request(3)
    assert request is not None and request.state == "withdrawn"


async def test_the_quarterly_review_asks_data_owners_to_keep_or_revoke_each_grant(harness: Harness) -> None:
    """Recertification: at the start of the next quarter each data owner lists the active grants."""
    h = harness
    await organisation(h)
    await member(h, 4002, ["staff"], "marketing", "Xu Second")
    await granted(h, "customer_archives", until="2026-05-30")
    await submit(h, 4002, "customer_archives", until="2026-05-30")
    await approve(h, HEAD)
    await approve(h, OWNER)
    await h.press(IC_OFFICER, AccessCb(action="done", id=(await open_task(h)).id))
    await h.advance(days=30)  # 1 April, 09:00: the second quarter begins
    review = last_text(h, OWNER)
    assert review.startswith("🔎 Access review 2026-04: Customer archives — 2 active grants. Keep or revoke each one.")
    assert "1. Zhang San · Marketing department · read-only · 30 May 2026, 23:59" in review
    buttons = h.buttons(OWNER)
    keep = next(data for text, data in buttons if text == "✅ Keep 1. Zhang San")
    revoke = next(data for text, data in buttons if text == "⛔ Revoke 2. Xu Second")
    assert await h.press(REQUESTER, keep) == ["Only the data owners of this data set can review its access."]
    assert await h.press(OWNER, keep) == ["Kept."]
    assert (await h.press(OWNER, revoke))[0] == "Revoked: a revocation task has gone to the information centre."
    assert await h.press(OWNER, revoke) == ["This grant has been reviewed already."]
    assert [g.state for g in await grants(h)] == ["active", "revoking"]
    assert (
        "Remove read-only access to Customer archives from Xu Second (Marketing department): "
        "revoked in the access review." in last_text(h, IC_OFFICER)
    )
