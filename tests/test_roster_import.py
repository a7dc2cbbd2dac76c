"""Roster import from a CSV file in chat (B1): every row is checked before anything is stored."""

from __future__ import annotations

from handlers.roster_keyboards import RosterCb
from tests.conftest import ADMIN_ID, Harness
from tests.support.roster import local, officer, put_on, roster_of

HEAD = 3000


async def upload(h: Harness, user_id: int, data: bytes) -> list[str]:
    """Open /roster, choose the import, and send `data` as a CSV document."""
    await h.send(user_id, "/roster")
    await h.press(user_id, RosterCb(action="import"))
    file_id = f"csv-{len(h.session.requests)}"
    h.session.add_file(file_id, data)
    return await h.send(user_id, None, document=file_id, file_name="roster.csv", mime_type="text/csv")  # type: ignore[arg-type]


async def names_at(h: Harness, when: str, room: str = "dispatch") -> tuple[list[str], list[str]]:
    async with h.app.uow() as uow:
        crew = await roster_of(h).on_duty_in(uow, room, local(when))
    return [m.name for m in crew.primary], [m.name for m in crew.backup]


async def test_a_good_file_fills_the_roster_and_tells_the_officers(harness: Harness) -> None:
    """B1: rows name people by Telegram id or name; positions in English or Chinese; Chinese Excel's
    GB18030 encoding is understood. The rows replace what the slots held before."""
    h = harness
    await officer(h, HEAD, "Head Zhou", roles=("staff", "department_head"))
    old = await officer(h, 2001, "Old Hand")
    await officer(h, 2002, "王芳", language="zh_Hans")
    await officer(h, 2003, "Li Lei")
    await put_on(h, old, "night")
    csv = (
        "room,date,shift,member,position\n"
        "dispatch,2026-03-02,night,王芳,主班\n"
        "调度室,2026-03-02,夜班,2003,备班\n"
        "dispatch,2026-03-03,day,2003,primary\n"
    ).encode("gb18030")
    assert await upload(h, HEAD, csv) == ["Imported 3 roster rows. Everyone concerned has been told."]
    assert await names_at(h, "2026-03-02 23:00") == (["王芳"], ["Li Lei"])
    assert await names_at(h, "2026-03-03 09:00") == (["Li Lei"], [])
    assert h.session.texts(2002)[-1].startswith("您已排入值班表：调度室 · 夜班（主班），共 1 个班次")
    assert h.session.texts(2001)[-1].startswith("You are no longer on duty: Dispatch room · Night shift")
    assert await h.send(HEAD, "hello") == ["To start, send a command. /help lists what you can do."]  # wizard left


async def test_a_file_with_mistakes_changes_nothing_and_names_every_bad_row(harness: Harness) -> None:
    h = harness
    await officer(h, HEAD, "Head Zhou", roles=("staff", "department_head"))
    wang = await officer(h, 2001, "Wang")
    await officer(h, 2002, "Twin")
    await officer(h, 2003, "Twin")
    await officer(h, 2004, "Clerk", roles=("staff",))
    await put_on(h, wang, "night")
    csv = "\n".join(
        [
            "dispatch,2026-03-02,night,2002,primary",  # fine on its own
            "kitchen,2026-03-02,night,Wang,primary",
            "dispatch,2026-02-30,night,Wang,primary",
            "dispatch,2026-03-01,night,Wang,primary",
            "dispatch,2026-03-03,night,Twin,primary",
            "dispatch,2026-03-03,day,Clerk,backup",
            "dispatch,2026-03-03,day,Nobody,backup",
            "dispatch,2026-03-03,day,Wang,deputy",
            "dispatch,2026-03-02,night,2002,backup",
            "info_centre,2026-03-03,round_the_clock,Wang",
            "just one cell",
        ]
    ).encode()
    replies = await upload(h, HEAD, csv)
    assert replies[0].splitlines() == [
        "Nothing was imported. Fix these rows and send the file again:",
        "Line 2: unknown duty room kitchen.",
        "Line 3: 2026-02-30 is not a date (write YYYY-MM-DD).",
        "Line 4: that shift does not run on that date, or is already over.",
        "Line 5: several members are called Twin; use the Telegram id.",
        "Line 6: Clerk is not a duty officer.",
        "Line 7: there is no active member Nobody.",
        "Line 8: the position is primary or backup, not deputy.",
        "Line 9: this person is listed twice for this shift.",
        "Line 10: you do not keep the roster of info_centre.",
        "Line 11: expected room, date, shift, member and position.",
    ]
    assert await names_at(h, "2026-03-02 23:00") == (["Wang"], [])  # unchanged
    assert not any("duty roster" in t for t in h.session.texts(2002))
    assert await upload(h, HEAD, b"") == [
        "Nothing was imported. Fix these rows and send the file again:\nThe file has no roster rows."
    ]


async def test_the_import_step_wants_a_document(harness: Harness) -> None:
    h = harness
    await h.send(ADMIN_ID, "/roster")
    await h.press(ADMIN_ID, RosterCb(action="import"))
    assert await h.send(ADMIN_ID, "dispatch,2026-03-02,night,1000,primary") == [
        "请以文件形式发送不超过 512 KB 的 CSV 文件，或发送 /cancel 取消。"
    ]
    assert await h.send(ADMIN_ID, "/cancel") == ["已取消，未保存任何内容。"]
