"""Bad input, property-based (issue 7): arbitrary Unicode, 10,000-character texts, control characters,
HTML/Markdown and SQL injection, forged and stale buttons, members without the role — through the real
Dispatcher and the wizards that exist now (/invite, /start links, buttons). Nothing crashes, nothing is
stored that should not be, every input gets a clear answer, and what a member typed is shown back exactly
(texts are sent without a parse mode). Rules F2, F3."""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.services.members import clean_name
from handlers.callbacks import InviteCb, LanguageCb, MemberCb
from storage.models import AuditEntry, Invitation, Member
from tests.conftest import ADMIN_ID, Harness

# The same Harness (real app, real database) serves every example of a test; each example starts clean.
examples = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
INJECTIONS = [
    "<b>bold</b> <a href='tg://user?id=1'>link</a> &amp;",
    "*bold* _italic_ `code` [link](http://example.com) ||spoiler||",
    "'); DROP TABLE members; --",
    "1' OR '1'='1",
    "王芳\u200b\u202e反转\u0301",
    "👨‍👩‍👧 family",
    "tab\tnewline\nreturn\r end",
    "nul\x00byte\x07bell",
]
hostile_text = st.one_of(
    st.sampled_from(INJECTIONS),
    st.text(min_size=1, max_size=300),
    st.text(alphabet=st.characters(codec="utf-8", categories=["Cc", "Zs", "Lo", "So", "Cf"]), min_size=1),
    st.integers(129, 10_000).map(lambda size: "长" * size),
).filter(lambda text: text.strip() and not text.startswith("/"))
STRANGER = 7000
STAFF = 7001


async def count(h: Harness, model: type) -> int:
    async with h.app.uow() as uow:
        return await uow.session.scalar(select(func.count()).select_from(model)) or 0


async def english_admin(h: Harness) -> None:
    await h.press(ADMIN_ID, LanguageCb(code="en"))


@given(name=hostile_text)
@example(name="nul\x00byte\x07bell").via("PostgreSQL cannot store NUL")
@example(name="x" * 10_000)
@examples
async def test_any_name_typed_in_the_invite_wizard_is_shown_back_exactly_or_refused_clearly(
    harness: Harness, name: str
) -> None:
    h = harness
    await english_admin(h)
    await h.send(ADMIN_ID, "/cancel")
    await h.send(ADMIN_ID, "/invite")
    await h.press(ADMIN_ID, InviteCb(action="next"))
    await h.press(ADMIN_ID, InviteCb(action="dept", value="office"))
    before = await count(h, Invitation)
    replies = await h.send(ADMIN_ID, name)
    shown = clean_name(name)
    if len(shown) > 128:
        assert replies == ["The name is too long: at most 128 characters."]
        assert await count(h, Invitation) == before
        return
    (summary,) = replies
    expected = f"Name: {shown}" if shown else "Name: (their Telegram name)"
    assert summary.endswith(expected)  # plain text: the name exactly as it will be stored, never interpreted
    answers = await h.press(ADMIN_ID, InviteCb(action="create"))
    assert any(answer.startswith("Invitation created.") for answer in answers)
    async with h.app.uow() as uow:
        newest = await uow.session.scalar(select(Invitation).order_by(Invitation.id.desc()).limit(1))
    assert newest is not None and newest.name == (shown or None)
    assert await count(h, Invitation) == before + 1


@given(payload=hostile_text)
@example(payload="\x00").via("PostgreSQL cannot compare with NUL")
@example(payload="'); DROP TABLE invitations; --")
@examples
async def test_any_start_payload_from_a_stranger_is_refused_and_stores_nothing(harness: Harness, payload: str) -> None:
    h = harness
    members = await count(h, Member)
    replies = await h.send(STRANGER, f"/start {payload}", language_code="en")
    assert replies == ["This invitation link is not valid. Ask your administrator for a new one."]
    assert await count(h, Member) == members


buttons = st.one_of(
    st.text(min_size=1, max_size=64).filter(lambda data: len(data.encode()) <= 64),
    st.builds(
        lambda action, value: InviteCb(action=action, value=value).pack(),
        st.sampled_from(["role", "dept", "next", "back", "skip", "create", "cancel", "x"]),
        st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", max_size=20),
    ),
    st.builds(
        lambda action, member, value: f"mem:{action}:{member}:{value}",  # packed by hand: forged ids too
        st.sampled_from(["page", "open", "role", "depts", "dept", "deact", "deact_ok", "zzz"]),
        st.integers(-(2**63), 2**63 - 1),
        st.sampled_from(["", "0", "administrator", "office", "99999999999999999999", "-5"]),
    ),
)


@given(data=buttons, presser=st.sampled_from([STRANGER, STAFF, ADMIN_ID]))
@example(data=f"mem:open:{2**40}:", presser=ADMIN_ID).via("beyond PostgreSQL's integer")
@example(data=MemberCb(action="page", value="9" * 20).pack(), presser=ADMIN_ID).via("beyond SQLite's integer")
@example(data=MemberCb(action="deact_ok", member_id=1).pack(), presser=STAFF).via("the administrator's own id")
@examples
async def test_forged_stale_or_foreign_buttons_change_nothing_and_are_answered(
    harness: Harness, data: str, presser: int
) -> None:
    """F3: a press is re-authorised on the server. Whoever presses whatever (other members' ids, old
    wizard steps, garbage), nothing changes that the presser may not change, and there is an answer."""
    h = harness
    if await h.app.members.find(STAFF) is None:
        await h.join(STAFF, ["staff"])
        await h.press(STAFF, LanguageCb(code="en"))
        await english_admin(h)
    await h.send(ADMIN_ID, "/cancel")  # an administrator's presses are then all from old messages
    before = (await count(h, Member), await count(h, Invitation), await h.app.members.find(STAFF))
    audit = await count(h, AuditEntry)
    calls = len(h.session.requests)
    answers = await h.press(presser, data)
    assert h.session.requests[calls:], "the press got no answer at all"
    assert (await count(h, Member), await count(h, Invitation), await h.app.members.find(STAFF)) == before
    if any(refusal in answer for answer in answers for refusal in REFUSALS):
        assert await count(h, AuditEntry) > audit  # a refusal is on record


REFUSALS = ("Only administrators", "no longer valid", "members only")
