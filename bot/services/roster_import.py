"""Roster import from a CSV file (B1): every row is checked before anything is stored, and the
rows replace what the roster had in the slots (room, date, shift, position) they name."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from bot.clock import Clock
from bot.policy import Policy
from bot.policy.schema import DutyRoom, Shift
from bot.services.actor import Actor
from bot.services.errors import N_
from bot.services.roster import POSITIONS, RosterService
from bot.services.roster_calendar import ShiftTime
from bot.services.roster_csv import CsvRow, Problem, decode, read_rows
from storage.models import Member
from storage.roster_models import RosterAssignment
from storage.uow import UnitOfWork, UnitOfWorkFactory


@dataclass(frozen=True)
class ImportResult:
    rows: int
    problems: list[Problem]


@dataclass(frozen=True)
class _Planned:
    shift: ShiftTime
    member: Member
    position: str


class RosterImport:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, policy: Policy, roster: RosterService) -> None:
        self._uow = uow
        self._clock = clock
        self._policy = policy
        self._roster = roster

    async def import_csv(self, actor: Actor, data: bytes) -> ImportResult:
        """All rows or none: with any problem nothing is stored and every problem is returned."""
        rows, problems = read_rows(decode(data))
        async with self._uow() as uow:
            editor = await self._roster.require_keeper(uow, actor)
            now = self._clock.now()
            planned: list[_Planned] = []
            seen: set[tuple[str, int]] = set()
            members: dict[str, list[Member]] = {}
            for row in rows:
                found = await self._check(uow, actor, editor, row, now, members)
                if isinstance(found, Problem):
                    problems.append(found)
                elif (found.shift.key, found.member.id) in seen:
                    problems.append(Problem(row.line, N_("Line {line}: this person is listed twice for this shift.")))
                else:
                    seen.add((found.shift.key, found.member.id))
                    planned.append(found)
            if problems:
                return ImportResult(0, sorted(problems, key=lambda p: p.line))
            await self._apply(uow, planned, editor, now)
            rooms = sorted({p.shift.room for p in planned})
            rows_stored = [[p.shift.key, p.member.id, p.position] for p in planned]
            await self._roster.record_change(uow, actor, editor, ",".join(rooms), "imported", rows=rows_stored)
            await self._roster.plan(uow, now)
            await uow.commit()
            return ImportResult(len(planned), [])

    async def _check(
        self,
        uow: UnitOfWork,
        actor: Actor,
        editor: Member | None,
        row: CsvRow,
        now: datetime,
        members: dict[str, list[Member]],
    ) -> _Planned | Problem:
        room = next((r for r in self._policy.duty_rooms if row.room in (r.code, *r.name.texts().values())), None)
        if room is None:
            return Problem(row.line, N_("Line {line}: unknown duty room {value}."), {"value": row.room})
        if not actor.is_command_line and not self._roster.keeps(editor, room):
            return Problem(row.line, N_("Line {line}: you do not keep the roster of {value}."), {"value": row.room})
        shift = _shift_named(room, row.shift)
        if shift is None:
            return Problem(row.line, N_("Line {line}: unknown shift {value}."), {"value": row.shift})
        occurrence = self._roster.occurrence(room, shift, row.day, now)
        if occurrence is None:
            return Problem(row.line, N_("Line {line}: that shift does not run on that date, or is already over."))
        position = self._position(row.position)
        if position is None:
            return Problem(
                row.line, N_("Line {line}: the position is primary or backup, not {value}."), {"value": row.position}
            )
        if row.member not in members:
            members[row.member] = list(await uow.roster.members_matching(row.member))
        matches = members[row.member]
        if not matches:
            return Problem(row.line, N_("Line {line}: there is no active member {value}."), {"value": row.member})
        if len(matches) > 1:
            return Problem(
                row.line,
                N_("Line {line}: several members are called {value}; use the Telegram id."),
                {"value": row.member},
            )
        if "duty_officer" not in matches[0].roles:
            return Problem(row.line, N_("Line {line}: {value} is not a duty officer."), {"value": matches[0].name})
        return _Planned(occurrence, matches[0], position)

    def _position(self, text: str) -> str | None:
        if not text:
            return POSITIONS[0]
        texts = self._roster.texts
        for position in POSITIONS:
            if text.lower() == position or text in (
                texts.position(language, position) for language in self._policy.organisation.languages
            ):
                return position
        return None

    async def _apply(self, uow: UnitOfWork, planned: list[_Planned], editor: Member | None, now: datetime) -> None:
        """Empty the slots the file names, put its rows in, and tell everyone whose shifts changed."""
        named = {(p.shift.key, p.position) for p in planned}
        incoming = {(p.shift.key, p.member.id) for p in planned}
        other_position: dict[tuple[str, int], RosterAssignment] = {}  # rows the file leaves alone
        changes: dict[tuple[Member, str, str, str | None], list[ShiftTime]] = defaultdict(list)  # None: taken off
        for shift in {p.shift.key: p.shift for p in planned}.values():
            for row in await uow.roster.slot(shift.room, shift.day, shift.shift):
                if (shift.key, row.position) not in named:
                    other_position[(shift.key, row.member_id)] = row
                    continue
                await self._roster.take_off(uow, row)
                if (shift.key, row.member_id) not in incoming:
                    changes[(row.member, shift.room, shift.shift, None)].append(shift)
        await uow.session.flush()  # deletes first: a person may come back into the same slot
        added: list[RosterAssignment] = []
        for p in planned:
            moved = other_position.get((p.shift.key, p.member.id))
            if moved is not None:
                moved.position = p.position
            else:
                row = uow.roster.add(
                    RosterAssignment(
                        room=p.shift.room,
                        day=p.shift.day,
                        shift=p.shift.shift,
                        position=p.position,
                        member=p.member,
                        assigned_by=editor.id if editor else None,
                        assigned_at=now,
                    )
                )
                added.append(row)
            changes[(p.member, p.shift.room, p.shift.shift, p.position)].append(p.shift)
        await self._roster.remind(uow, added, now)  # the reminders follow the rows (B1)
        for (member, _room, _shift, position), shifts in changes.items():
            await self._roster.tell(uow, member, sorted(shifts, key=lambda s: s.starts_at), position, now)


def _shift_named(room: DutyRoom, text: str) -> Shift | None:
    return next((s for s in room.shifts if text in (s.code, *s.name.texts().values())), None)
