"""The audit log is append-only and hash-chained: an edited or removed entry is detected (F1)."""

from __future__ import annotations

from sqlalchemy import delete, update

from bot.services.actor import Actor
from storage.models import AuditEntry
from storage.uow import UnitOfWorkFactory
from tests.conftest import Harness


async def make_history(h: Harness) -> None:
    for n in range(3):
        await h.app.members.invite(Actor.command_line(), roles=["staff"], department="office", name=f"Person {n}")


async def test_every_change_is_recorded_with_who_when_and_what(harness: Harness) -> None:
    await make_history(harness)
    async with harness.app.uow() as uow:
        entries = await uow.audit.for_entity("invitation", 1)
    assert [e.action for e in entries] == ["created"]
    assert entries[0].details["name"] == "Person 0" and entries[0].at == harness.clock.now()


async def test_an_intact_chain_verifies(harness: Harness) -> None:
    await make_history(harness)
    report = await harness.app.audit.verify()
    assert report.ok and report.checked >= 4  # the administrator made at start, and three invitations


async def test_an_edited_entry_is_detected(harness: Harness) -> None:
    await make_history(harness)
    async with harness.app.uow() as uow:
        await uow.session.execute(update(AuditEntry).where(AuditEntry.id == 2).values(details={"name": "forged"}))
        await uow.commit()
    report = await harness.app.audit.verify()
    assert not report.ok and report.broken_at == 2


async def test_a_removed_entry_is_detected(harness: Harness) -> None:
    await make_history(harness)
    async with harness.app.uow() as uow:
        await uow.session.execute(delete(AuditEntry).where(AuditEntry.id == 2))
        await uow.commit()
    assert (await harness.app.audit.verify()).broken_at == 3


async def test_removing_the_newest_entry_is_detected_too(harness: Harness) -> None:
    await make_history(harness)
    async with harness.app.uow() as uow:
        last = max(e.id for e in await uow.audit.for_entity("invitation", 3))
        await uow.session.execute(delete(AuditEntry).where(AuditEntry.id == last))
        await uow.commit()
    report = await harness.app.audit.verify()
    assert not report.ok and report.broken_at is None and not report.head_matches


async def test_a_unit_of_work_that_commits_twice_continues_the_chain_another_extended_meanwhile(
    harness: Harness,
) -> None:
    """The head is read once per transaction, not once per unit of work: entries appended by someone else
    between two commits of one unit of work are chained, not forked (F1)."""
    async with harness.app.uow() as first:
        for action in ("opened", "amended"):
            await first.audit.append(at=harness.clock.now(), entity="case", entity_id=1, action=action)
        await first.commit()
        async with harness.app.uow() as meanwhile:
            await meanwhile.audit.append(at=harness.clock.now(), entity="case", entity_id=2, action="opened")
            await meanwhile.commit()
        await first.audit.append(at=harness.clock.now(), entity="case", entity_id=1, action="closed")
        await first.commit()
    report = await harness.app.audit.verify()
    assert report.ok and report.head_matches


async def test_entries_another_process_appended_meanwhile_are_chained_onto_not_forked(harness: Harness) -> None:
    """Each process moves the head from the hash it last committed, without reading it first (issue 15); where
    another process moved it meanwhile, that move changes nothing, and the head is read and chained onto (F1)."""
    other_process = UnitOfWorkFactory(harness.app.uow.sessions)
    for uow_factory, entity_id in [(harness.app.uow, 1), (other_process, 2), (harness.app.uow, 3), (other_process, 4)]:
        async with uow_factory() as uow:
            await uow.audit.append(at=harness.clock.now(), entity="case", entity_id=entity_id, action="opened")
            await uow.commit()

    report = await harness.app.audit.verify()
    assert report.ok and report.head_matches
    async with harness.app.uow() as uow:
        assert [len(await uow.audit.for_entity("case", n)) for n in (1, 2, 3, 4)] == [1, 1, 1, 1]
