"""Bad input, property-based (issue 7): buttons of the flows pressed by the wrong people, for other or
missing items, from old messages, or forged. Nothing changes, every press is answered, and a refusal of a
member is on record (F3)."""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.outgoing.access import AccessCb
from bot.outgoing.incidents import IncidentCb
from handlers.access_buttons import AskCb
from handlers.deadline_ui import DeadlineFormCb
from handlers.incident_keyboards import ReportCb
from handlers.publication_buttons import FormCb
from storage.approval_models import ApprovalStep
from storage.incidents_models import Incident
from storage.models import AuditEntry
from tests.conftest import Harness
from tests.support.incidents import OUTSIDER, REPORTER, WANG, ack, crew, report

examples = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
# Forged ids: small ones that may exist, negative ones, and ones beyond PostgreSQL's integer (packed by hand:
# the buttons' own types refuse them, which is what a forged button meets).
ids = st.one_of(st.integers(-2, 3), st.integers(-(2**63), 2**63 - 1))
values = st.one_of(
    st.sampled_from(["", "0", "abc", "2026-02-30", "9" * 30, "-1", "full", "quality"]), st.text(max_size=10)
)


def forged(button: type, action: str, value: str) -> str:
    """Packed by hand: a forged button may carry the separator inside its value, which pack() refuses."""
    return button.__separator__.join([button.__prefix__, action, value])


packed = st.one_of(
    st.builds(
        lambda a, i, v: f"inc:{a}:{i}:{v}",
        st.sampled_from(["ack", "det", "prog", "res", "close", "reopen", "note", "to", "flag", "zz"]),
        ids,
        ids,
    ),
    st.builds(lambda a, i: f"apv:{a}:{i}", st.sampled_from(["ok", "no", "ask", "ret", "open"]), ids),
    st.builds(lambda a, i: f"acc:{a}:{i}", st.sampled_from(["done", "extend", "withdraw", "keep"]), ids),
    st.builds(lambda a, v: forged(AskCb, a, v), st.sampled_from(["ds", "date", "mode", "dept", "submit"]), values),
    st.builds(lambda a, i: f"dl:{a}:{i}", st.sampled_from(["done", "more", "grant", "decline"]), ids),
    st.builds(lambda a: DeadlineFormCb(action=a).pack(), st.sampled_from(["ok", "back", "cancel"])),
    st.builds(lambda a, v: forged(FormCb, a, v), st.sampled_from(["kind", "ch", "opt", "submit", "edit"]), values),
    st.builds(
        lambda a, v: forged(ReportCb, a, v),
        st.sampled_from(["cat", "sev", "ago", "submit", "edit"]),
        values,
    ),
    st.text(min_size=1, max_size=64).filter(lambda data: len(data.encode()) <= 64),
).filter(lambda data: len(data.encode()) <= 64)


async def snapshot(h: Harness) -> tuple:
    async with h.app.uow() as uow:
        incidents = [
            (i.id, i.status, i.acknowledged_by, i.assignee_id) for i in await uow.session.scalars(select(Incident))
        ]
        steps = [(s.id, s.state) for s in await uow.session.scalars(select(ApprovalStep))]
        return incidents, steps


async def refusals(h: Harness) -> int:
    async with h.app.uow() as uow:
        query = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "refused")
        return await uow.session.scalar(query) or 0


@given(data=packed, presser=st.sampled_from([REPORTER, OUTSIDER]))
@example(data=ack(1).pack(), presser=REPORTER).via("staff pressing the duty officer's Acknowledge")
@example(data=IncidentCb(action="close", id=1).pack(), presser=REPORTER)
@example(data=f"inc:ack:{2**63 - 1}:0", presser=REPORTER).via("beyond PostgreSQL's integer")
@example(data=AskCb(action="ds", value="abc").pack(), presser=REPORTER).via("int('abc')")
@example(data=f"apv:ok:{2**31}", presser=REPORTER).via("beyond PostgreSQL's integer")
@example(data=AskCb(action="date", value="2026-02-30").pack(), presser=REPORTER).via("no 30 February")
@example(data=forged(AskCb, "ds", "1:2"), presser=REPORTER).via("the separator inside a value")
@example(data=ReportCb(action="submit").pack(), presser=REPORTER).via("an old summary after the report was sent")
@examples
async def test_foreign_stale_or_forged_buttons_change_nothing_and_are_answered(
    harness: Harness, data: str, presser: int
) -> None:
    h = harness
    if await h.app.members.find(REPORTER) is None:
        await crew(h)
        await report(h)  # INC-2026-000001, alerted to Wang
        await h.press(WANG, ack(1))  # the officer acknowledged: alerts with Acknowledge are old messages now
    await h.send(REPORTER, "/access")  # a wizard open, so its buttons reach their handlers
    await h.press(REPORTER, AccessCb(action="new"))
    before, refused, calls = await snapshot(h), await refusals(h), len(h.session.requests)
    await h.press(presser, data)
    assert h.session.requests[calls:], "the press got no answer at all"
    assert await snapshot(h) == before
    if data in (ack(1).pack(), IncidentCb(action="close", id=1).pack()):
        assert await refusals(h) > refused  # F3: the member's refused press is on record
