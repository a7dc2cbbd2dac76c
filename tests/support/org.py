"""A small organisation on the shipped default policy, everyone reading English."""

from __future__ import annotations

from bot.outgoing.access import AccessCb
from tests.conftest import Harness
from tests.support.access import approve, grants, member, open_task, submit

REQUESTER = 3001  # staff, marketing
HEAD = 3002  # head of marketing
OWNER = 3003  # information officer of marketing: owns customer_archives
LEADER = 3004  # the general manager (leader)
FINANCE_OWNER = 3005  # owns financial_reports
HR_OWNER = 3006  # owns hr_files
OFFICE_OWNER = 3007  # owns staff_directory
IC_OFFICER = 3008  # the information centre: provisioning and revocation tasks
COMPANY_HEAD = 3009  # head of the company department, above every department head
IC_HEAD = 3010  # head of the information centre


async def organisation(h: Harness, *extra: str) -> None:
    """Everyone the chains of the default policy need; ``extra`` picks optional people."""
    await member(h, REQUESTER, ["staff"], "marketing", "Zhang San")
    await member(h, HEAD, ["staff", "department_head"], "marketing", "Li Si")
    await member(h, OWNER, ["information_officer"], "marketing", "Wang Wu")
    await member(h, LEADER, ["leader"], "company", "Zhao Liu")
    await member(h, IC_OFFICER, ["information_officer"], "information_centre", "Qian Qi")
    people = {
        "finance": (FINANCE_OWNER, ["information_officer"], "finance", "Sun Ba"),
        "hr": (HR_OWNER, ["information_officer"], "hr", "Zhou Jiu"),
        "office": (OFFICE_OWNER, ["information_officer"], "office", "Wu Shi"),
        "company_head": (COMPANY_HEAD, ["department_head"], "company", "Zheng Yi"),
        "ic_head": (IC_HEAD, ["department_head"], "information_centre", "Feng Er"),
    }
    for name in extra:
        await member(h, *people[name])


async def granted(h: Harness, code: str = "financial_reports", until: str = "2026-03-09") -> int:
    """A request approved by the head and provisioned by the information centre; returns the grant id."""
    await submit(h, REQUESTER, code, until=until)
    await approve(h, HEAD)
    if code == "customer_archives":
        await approve(h, OWNER)
    task = await open_task(h)
    await h.press(IC_OFFICER, AccessCb(action="done", id=task.id))
    return (await grants(h))[-1].id
