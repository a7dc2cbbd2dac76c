"""Officers swap their own shifts (B1, B2, F1, F3; issue 14).

An officer picks one of their shifts that has not started and asks a named colleague, or every
eligible officer at once ("anyone"). Eligible: an active duty officer of the room's department who
does not stand that shift already. The asked colleague (or the first of the asked officers to answer
yes) accepts or declines. When the room's `swap_approval` policy setting is on, a keeper of the
roster (its owners, or the administrators when it has none) must then approve; otherwise the swap
takes effect at once and the keepers are told. The taker takes the requester's place and position;
both officers are told and their shift reminders move with the shift. A request expires when its
shift starts. Every step is audited and every press re-checked here (F3).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.outgoing.roster import answer_actions, approval_actions
from bot.policy import Policy
from bot.policy.schema import DutyRoom
from bot.services.actor import Actor
from bot.services.audit import record, refuse
from bot.services.errors import N_, Conflict, DomainError, NotAllowed, NotFound
from bot.services.members import ADMIN
from bot.services.messages import queue_edit, queue_text
from bot.services.roster import DUTY_OFFICER, RosterService
from bot.services.roster_calendar import ShiftTime, find_shift, shift_time
from storage.models import Member, Timer
from storage.roster_models import (
    ACCEPTED,
    DECLINED,
    DONE,
    EXPIRED,
    OPEN,
    REJECTED,
    WITHDRAWN,
    RosterAssignment,
    SwapRequest,
)
from storage.uow import UnitOfWork, UnitOfWorkFactory

SWAP_EXPIRY_TIMER = "roster.swap_expiry"
LOOK_AHEAD = timedelta(days=31)  # the shifts an officer may offer: those starting in the next month
MAX_SHIFTS = 30  # buttons in the first step


@dataclass(frozen=True)
class MyShift:
    """One of the officer's own shifts, offered in the first step of /swap."""

    assignment_id: int
    occurrence: ShiftTime
    position: str


@dataclass(frozen=True)
class SwapView:
    """A request as the people concerned see it."""

    id: int
    state: str
    occurrence: ShiftTime
    position: str
    requester: str
    colleague: str | None  # None: anyone eligible
    taker: str | None
    asked: int  # how many officers were asked
    needs_approval: bool


class SwapService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, policy: Policy, roster: RosterService) -> None:
        self._uow = uow
        self._clock = clock
        self._policy = policy
        self._roster = roster
        self._texts = roster.texts
        self._zone = policy.organisation.zone

    # The wizard's steps -------------------------------------------------------------------------
    async def my_shifts(self, actor: Actor) -> list[MyShift]:
        """The officer's shifts that have not started, in the next month, earliest first."""
        now = self._clock.now()
        async with self._uow() as uow:
            member = await self._officer(uow, actor, "-")
            since = now.astimezone(self._zone).date() - timedelta(days=1)
            found = []
            for row in await uow.roster.of_member_from(member.id, since):
                occurrence = self._occurrence(row)
                if occurrence and now < occurrence.starts_at <= now + LOOK_AHEAD:
                    found.append(MyShift(row.id, occurrence, row.position))
            return sorted(found, key=lambda s: (s.occurrence.starts_at, s.occurrence.room))[:MAX_SHIFTS]

    async def candidates(self, actor: Actor, assignment_id: int) -> tuple[MyShift, list[Member]]:
        """The shift (re-checked: the actor's own, not started) and the colleagues who may take it."""
        now = self._clock.now()
        async with self._uow() as uow:
            member = await self._officer(uow, actor, "-")
            shift, _row = await self._own_shift(uow, actor, member, assignment_id, now)
            return shift, await self._eligible(uow, shift.occurrence, member.id)

    async def request(self, actor: Actor, assignment_id: int, colleague_id: int | None) -> SwapView:
        """Ask `colleague_id`, or every eligible officer when None; each gets Accept / Decline."""
        now = self._clock.now()
        async with self._uow() as uow:
            member = await self._officer(uow, actor, "-")
            shift, row = await self._own_shift(uow, actor, member, assignment_id, now)
            occurrence = shift.occurrence
            if await uow.swaps.pending_for(occurrence.room, occurrence.day, occurrence.shift, member.id):
                raise Conflict(N_("You have already asked for a swap of this shift; withdraw that request first."))
            eligible = await self._eligible(uow, occurrence, member.id)
            asked = [m for m in eligible if colleague_id is None or m.id == colleague_id]
            if not asked:
                if colleague_id is None:
                    raise NotFound(N_("No other duty officer can take this shift."))
                await self._refuse(uow, actor, occurrence, NotAllowed(N_("That colleague cannot take this shift.")))
            request = uow.swaps.add(
                SwapRequest(
                    room=occurrence.room,
                    day=occurrence.day,
                    shift=occurrence.shift,
                    position=row.position,
                    requester=member,
                    colleague=asked[0] if colleague_id is not None else None,
                    taker=None,
                    state=OPEN,
                    asked=[],
                    declined=[],
                    keeper_cards=[],
                    created_at=now,
                    starts_at=occurrence.starts_at,
                )
            )
            await uow.session.flush()
            cards = []
            for colleague in asked:
                t, language = self._texts, self._texts.language(colleague)
                msgid = (
                    N_("{name} asks you to take their shift: {shift} ({position}), {start} – {end}.")
                    if colleague_id is not None
                    else N_(
                        "{name} asks any eligible duty officer to take their shift: "
                        "{shift} ({position}), {start} – {end}."
                    )
                )
                text = "\n".join(
                    [
                        self._say(colleague, msgid, request, occurrence, name=member.name),
                        t.text(language, N_("The request expires when the shift starts.")),
                    ]
                )
                outbox_id = await queue_text(
                    uow,
                    now,
                    chat_id=colleague.telegram_id,
                    key=f"roster.swap:{request.id}:ask:{colleague.id}",
                    text=text,
                    actions=answer_actions(request.id, self._texts.translate(language)),
                )
                cards.append([colleague.id, outbox_id])
            request.asked = cards
            await uow.timers.schedule(
                kind=SWAP_EXPIRY_TIMER,
                ref=str(request.id),
                due_at=occurrence.starts_at,
                now=now,
                key=f"{SWAP_EXPIRY_TIMER}:{request.id}",
            )
            await self._record(
                uow, actor, member, request, "swap_requested", asked=[m.id for m in asked], anyone=colleague_id is None
            )
            await uow.commit()
            return self._view(request, occurrence)

    # Answers ----------------------------------------------------------------------------------
    async def accept(self, actor: Actor, request_id: int) -> SwapView:
        """The asked colleague (or one of the officers asked for "anyone") takes the shift: at once, or
        once a keeper approves when the room's policy says so."""
        now = self._clock.now()
        async with self._uow() as uow:
            request, occurrence, taker = await self._answerable(uow, actor, request_id, now)
            if any(row.member_id == taker.id for row in await self._slot(uow, request)):
                await self._refuse(uow, actor, occurrence, Conflict(N_("You already stand this shift.")))
            await self._requester_row(uow, request, occurrence, now)
            request.taker = taker
            room = self._room(request.room)
            await self._record(uow, actor, taker, request, "swap_accepted")
            closing = N_("{name} has taken this shift.")
            await self._close_cards(uow, request, occurrence, now, closing, taker.name, but=taker.id, which="asked")
            if room.swap_approval:
                request.state = ACCEPTED
                cards = []
                for keeper in await self._keepers(uow, room):
                    card = await queue_text(
                        uow,
                        now,
                        chat_id=keeper.telegram_id,
                        key=f"roster.swap:{request.id}:approve:{keeper.id}",
                        text=self._say(
                            keeper,
                            N_("{taker} would take {name}'s shift {shift} ({position}), {start} – {end}. Approve?"),
                            request,
                            occurrence,
                            taker=taker.name,
                            name=request.requester.name,
                        ),
                        actions=approval_actions(request.id, self._texts.translate(self._texts.language(keeper))),
                    )
                    cards.append([keeper.id, card])
                request.keeper_cards = cards
                await self._tell(
                    uow,
                    request.requester,
                    request,
                    occurrence,
                    N_(
                        "{taker} will take your shift {shift} ({position}), {start} – {end}, "
                        "once the roster's keeper approves."
                    ),
                    now,
                    "accepted",
                    taker=taker.name,
                )
            else:
                await self._apply(uow, actor, request, occurrence, taker, None, now)
            await uow.commit()
            return self._view(request, occurrence)

    async def decline(self, actor: Actor, request_id: int) -> SwapView:
        """A named colleague's no ends the request; for "anyone", it ends when everyone asked said no."""
        now = self._clock.now()
        async with self._uow() as uow:
            request, occurrence, member = await self._answerable(uow, actor, request_id, now)
            request.declined = [*request.declined, member.id]
            await self._record(uow, actor, member, request, "swap_declined")
            if request.colleague_id is not None or {m for m, _ in request.asked} <= set(request.declined):
                request.state, request.decided_at = DECLINED, now
                await uow.timers.cancel(f"{SWAP_EXPIRY_TIMER}:{request.id}")
                msgid = (
                    N_("{taker} declined to take your shift {shift} ({position}), {start} – {end}. You still stand it.")
                    if request.colleague_id is not None
                    else N_(
                        "Every eligible duty officer declined to take your shift {shift} ({position}), "
                        "{start} – {end}. You still stand it."
                    )
                )
                await self._tell(uow, request.requester, request, occurrence, msgid, now, "declined", taker=member.name)
            await uow.commit()
            return self._view(request, occurrence)

    async def decide(self, actor: Actor, request_id: int, approve: bool) -> SwapView:
        """A keeper of the room approves or rejects an accepted swap (policy `swap_approval`)."""
        now = self._clock.now()
        async with self._uow() as uow:
            request = await self._request(uow, actor, request_id)
            occurrence = self._occurrence_of(request)
            room = self._room(request.room)
            keeper = await self._roster.active_member(uow, actor)
            if not self._roster.keeps(keeper, room):
                await self._refuse(
                    uow, actor, occurrence, NotAllowed(N_("Only the duty room's keepers can approve swaps."))
                )
            await self._still_pending(uow, actor, request, occurrence, now, (ACCEPTED,))
            taker = request.taker
            assert keeper is not None and taker is not None
            if approve:
                await self._requester_row(uow, request, occurrence, now)  # void if the keeper moved them meanwhile
            request.decided_by = keeper.id
            settled = N_("Approved by {name}.") if approve else N_("Rejected by {name}.")
            await self._close_cards(uow, request, occurrence, now, settled, keeper.name, but=keeper.id, which="keepers")
            if approve:
                if not taker.active or DUTY_OFFICER not in taker.roles:
                    await self._refuse(
                        uow, actor, occurrence, Conflict(N_("{name} can no longer take this shift."), name=taker.name)
                    )
                await self._apply(uow, actor, request, occurrence, taker, keeper, now)
            else:
                request.state, request.decided_at = REJECTED, now
                await uow.timers.cancel(f"{SWAP_EXPIRY_TIMER}:{request.id}")
                await self._record(uow, actor, keeper, request, "swap_rejected")
                msgid = N_(
                    "{keeper} did not approve the swap of {shift} ({position}), {start} – {end}: "
                    "{name} still stands it."
                )
                for member in (request.requester, taker):
                    await self._tell(
                        uow,
                        member,
                        request,
                        occurrence,
                        msgid,
                        now,
                        "rejected",
                        keeper=keeper.name,
                        name=request.requester.name,
                    )
            await uow.commit()
            return self._view(request, occurrence)

    async def withdraw(self, actor: Actor, request_id: int) -> SwapView:
        """The requester takes the request back while nobody has taken the shift for good."""
        now = self._clock.now()
        async with self._uow() as uow:
            request = await self._request(uow, actor, request_id)
            occurrence = self._occurrence_of(request)
            member = await self._roster.active_member(uow, actor)
            if member is None or member.id != request.requester_id:
                await self._refuse(
                    uow, actor, occurrence, NotAllowed(N_("Only the officer who asked can withdraw the request."))
                )
            await self._still_pending(uow, actor, request, occurrence, now, (OPEN, ACCEPTED))
            which = "asked" if request.state == OPEN else "keepers"  # the asked officers' cards closed on acceptance
            request.state, request.decided_at = WITHDRAWN, now
            await uow.timers.cancel(f"{SWAP_EXPIRY_TIMER}:{request.id}")
            await self._record(uow, actor, member, request, "swap_withdrawn")
            withdrew = N_("{name} withdrew this request.")
            await self._close_cards(uow, request, occurrence, now, withdrew, request.requester.name, which=which)
            if request.taker is not None:
                await self._tell(
                    uow,
                    request.taker,
                    request,
                    occurrence,
                    N_("{name} withdrew the swap of {shift} ({position}), {start} – {end}: you do not take it."),
                    now,
                    "withdrawn",
                    name=request.requester.name,
                )
            await uow.commit()
            return self._view(request, occurrence)

    # The shift starts ---------------------------------------------------------------------------
    async def on_expiry(self, uow: UnitOfWork, timer: Timer, now: datetime) -> None:
        """A request still open or waiting for a keeper when its shift starts lapses; the requester
        stands the shift and is told so (and the colleague who had accepted)."""
        request = await uow.swaps.get(int(timer.ref), for_update=True)
        if request is None or request.state not in (OPEN, ACCEPTED):
            return
        which = "asked" if request.state == OPEN else "keepers"
        request.state, request.decided_at = EXPIRED, now
        occurrence = self._occurrence_of(request)
        lapsed = N_("This request expired: the shift has started.")
        await self._close_cards(uow, request, occurrence, now, lapsed, "", which=which)
        msgid = N_(
            "The swap of {shift} ({position}), {start} – {end}, was not completed before the shift "
            "started: {name} stands it."
        )
        for member in (request.requester, request.taker):
            if member is not None:
                await self._tell(uow, member, request, occurrence, msgid, now, "expired", name=request.requester.name)
        await record(
            uow, self._clock, Actor.command_line(), "roster_swap", request.id, "swap_expired", shift=occurrence.key
        )

    # Helpers ------------------------------------------------------------------------------------
    async def _apply(
        self,
        uow: UnitOfWork,
        actor: Actor,
        request: SwapRequest,
        occurrence: ShiftTime,
        taker: Member,
        keeper: Member | None,
        now: datetime,
    ) -> None:
        """The taker takes the requester's place and position; reminders move with it (B1)."""
        row = await self._requester_row(uow, request, occurrence, now)
        position = row.position
        await self._roster.take_off(uow, row)
        await uow.session.flush()
        await self._roster.put_on(uow, occurrence, taker, position, keeper or taker, now)
        request.state, request.decided_at, request.position = DONE, now, position
        await uow.timers.cancel(f"{SWAP_EXPIRY_TIMER}:{request.id}")
        await self._record(
            uow,
            actor,
            keeper or taker,
            request,
            "swapped_by_officers",
            taker=taker.id,
            approved_by=keeper.id if keeper else None,
        )
        await self._tell(
            uow,
            request.requester,
            request,
            occurrence,
            N_("{taker} takes your shift {shift} ({position}), {start} – {end}. You are no longer on it."),
            now,
            "done",
            taker=taker.name,
        )
        if keeper is not None:  # else the taker pressed the button and reads the answer there
            await self._tell(
                uow,
                taker,
                request,
                occurrence,
                N_("You now stand {name}'s shift {shift} ({position}), {start} – {end}."),
                now,
                "done",
                name=request.requester.name,
            )
        else:  # the keepers are told of a swap they did not approve
            for member in await self._keepers(uow, self._room(request.room)):
                await self._tell(
                    uow,
                    member,
                    request,
                    occurrence,
                    N_(
                        "Roster change: {taker} takes {name}'s shift {shift} ({position}), {start} – {end}, "
                        "as the two officers agreed."
                    ),
                    now,
                    "done",
                    taker=taker.name,
                    name=request.requester.name,
                )
        await self._roster.plan(uow, now)

    async def _officer(self, uow: UnitOfWork, actor: Actor, room: str) -> Member:
        member = await self._roster.active_member(uow, actor)
        if member is None or DUTY_OFFICER not in member.roles:
            await refuse(
                uow, self._clock, actor, "roster", room, NotAllowed(N_("Only duty officers can swap their shifts."))
            )
        assert member is not None
        return member

    async def _own_shift(
        self, uow: UnitOfWork, actor: Actor, member: Member, assignment_id: int, now: datetime
    ) -> tuple[MyShift, RosterAssignment]:
        row = await uow.session.get(RosterAssignment, assignment_id)
        occurrence = self._occurrence(row) if row is not None else None
        if row is None or occurrence is None or row.member_id != member.id:
            await refuse(uow, self._clock, actor, "roster", "-", NotAllowed(N_("That is not one of your shifts.")))
        assert row is not None and occurrence is not None
        if occurrence.starts_at <= now:
            raise Conflict(N_("That shift has already started; it can no longer be swapped."))
        return MyShift(row.id, occurrence, row.position), row

    async def _eligible(self, uow: UnitOfWork, occurrence: ShiftTime, requester_id: int) -> list[Member]:
        """Active duty officers of the room's department who do not stand the shift already."""
        room = self._room(occurrence.room)
        standing = {row.member_id for row in await uow.roster.slot(occurrence.room, occurrence.day, occurrence.shift)}
        officers = await uow.members.with_role(DUTY_OFFICER, room.department)
        return sorted(
            (m for m in officers if m.id != requester_id and m.id not in standing), key=lambda m: (m.name, m.id)
        )

    async def _request(self, uow: UnitOfWork, actor: Actor, request_id: int) -> SwapRequest:
        request = await uow.swaps.get(request_id, for_update=True)
        if request is None:
            await refuse(
                uow, self._clock, actor, "roster_swap", request_id, NotFound(N_("This swap request does not exist."))
            )
        assert request is not None
        return request

    async def _answerable(
        self, uow: UnitOfWork, actor: Actor, request_id: int, now: datetime
    ) -> tuple[SwapRequest, ShiftTime, Member]:
        """The request, its shift and the member answering, if they were asked and it is still open."""
        request = await self._request(uow, actor, request_id)
        occurrence = self._occurrence_of(request)
        member = await self._roster.active_member(uow, actor)
        asked = {member_id for member_id, _card in request.asked}
        if member is None or member.id not in asked or DUTY_OFFICER not in member.roles:
            await self._refuse(uow, actor, occurrence, NotAllowed(N_("This swap request was not sent to you.")))
        assert member is not None
        if member.id in request.declined:
            await self._refuse(uow, actor, occurrence, Conflict(N_("You have already declined this request.")))
        await self._still_pending(uow, actor, request, occurrence, now, (OPEN,))
        return request, occurrence, member

    async def _still_pending(
        self,
        uow: UnitOfWork,
        actor: Actor,
        request: SwapRequest,
        occurrence: ShiftTime,
        now: datetime,
        states: tuple[str, ...],
    ) -> None:
        if request.state in states and now >= request.starts_at:
            await self.on_expiry(uow, _expiry(request), now)  # the timer has not fired yet: the same effect
            await uow.commit()
        if request.state not in states:
            await self._refuse(uow, actor, occurrence, Conflict(N_("This swap request is no longer open.")))

    async def _requester_row(
        self, uow: UnitOfWork, request: SwapRequest, occurrence: ShiftTime, now: datetime
    ) -> RosterAssignment:
        """The requester's place on the shift; if the roster keeper moved them off meanwhile, the
        request is void (recorded as expired) and the press refused."""
        row = next((r for r in await self._slot(uow, request) if r.member_id == request.requester_id), None)
        if row is None:
            request.state, request.decided_at = EXPIRED, now
            await uow.timers.cancel(f"{SWAP_EXPIRY_TIMER}:{request.id}")
            await record(
                uow, self._clock, Actor.command_line(), "roster_swap", request.id, "swap_void", shift=occurrence.key
            )
            await uow.commit()
            raise Conflict(
                N_("The roster has changed: {name} no longer stands this shift."), name=request.requester.name
            )
        return row

    async def _slot(self, uow: UnitOfWork, request: SwapRequest) -> list[RosterAssignment]:
        return list(await uow.roster.slot(request.room, request.day, request.shift))

    async def _keepers(self, uow: UnitOfWork, room: DutyRoom) -> list[Member]:
        """The room's owners, or the administrators when it has none (as for gap reports)."""
        owners = await uow.members.with_role(room.owner_role, room.department)
        return list(owners or await uow.members.with_role(ADMIN))

    async def _close_cards(
        self,
        uow: UnitOfWork,
        request: SwapRequest,
        occurrence: ShiftTime,
        now: datetime,
        msgid: str,
        name: str,
        but: int | None = None,
        which: str = "asked",
    ) -> None:
        """Take the buttons off the cards, saying why: those of the officers asked ("asked") or the
        keepers' approval cards ("keepers"); `but` the one who answered on theirs."""
        cards = [(m, o, False) for m, o in request.asked] if which == "asked" else []
        cards += [(m, o, True) for m, o in request.keeper_cards] if which == "keepers" else []
        for member_id, outbox_id, keeper_card in cards:
            member = await uow.members.get(member_id)
            if member is None or outbox_id is None or member_id == but:
                continue
            if not keeper_card and member_id in request.declined:
                continue
            text = "\n".join(
                [
                    self._say(
                        member,
                        N_("Swap request: {name}'s shift {shift} ({position}), {start} – {end}."),
                        request,
                        occurrence,
                        name=request.requester.name,
                    ),
                    self._texts.text(self._texts.language(member), msgid, name=name),
                ]
            )
            await queue_edit(
                uow,
                now,
                key=f"roster.swap:{request.id}:close:{int(keeper_card)}:{member_id}:{now.timestamp():.0f}",
                original_id=outbox_id,
                chat_id=member.telegram_id,
                text=text,
            )

    async def _tell(
        self,
        uow: UnitOfWork,
        member: Member,
        request: SwapRequest,
        occurrence: ShiftTime,
        msgid: str,
        now: datetime,
        what: str,
        **params: object,
    ) -> None:
        await queue_text(
            uow,
            now,
            chat_id=member.telegram_id,
            key=f"roster.swap:{request.id}:{what}:{member.id}",
            text=self._say(member, msgid, request, occurrence, **params),
        )

    def _say(self, member: Member, msgid: str, request: SwapRequest, occurrence: ShiftTime, **params: object) -> str:
        t, language = self._texts, self._texts.language(member)
        return t.text(
            language,
            msgid,
            shift=t.shift(language, occurrence.room, occurrence.shift),
            position=t.position(language, request.position),
            start=t.moment(language, occurrence.starts_at),
            end=t.moment(language, occurrence.ends_at),
            **params,
        )

    async def _record(
        self, uow: UnitOfWork, actor: Actor, member: Member | None, request: SwapRequest, action: str, **details: object
    ) -> None:
        await record(
            uow,
            self._clock,
            actor,
            "roster_swap",
            request.id,
            action,
            actor_id=member.id if member else None,
            shift=f"{request.room}:{request.day.isoformat()}:{request.shift}",
            requester=request.requester_id,
            **details,
        )

    async def _refuse(self, uow: UnitOfWork, actor: Actor, occurrence: ShiftTime, error: DomainError) -> None:
        await refuse(uow, self._clock, actor, "roster", occurrence.room, error)

    def _room(self, code: str) -> DutyRoom:
        return self._roster.room(code)

    def _occurrence(self, row: RosterAssignment) -> ShiftTime | None:
        room = next((r for r in self._policy.duty_rooms if r.code == row.room), None)
        pattern = find_shift(room, row.shift) if room else None
        return shift_time(room, pattern, row.day, self._zone) if room and pattern else None

    def _occurrence_of(self, request: SwapRequest) -> ShiftTime:
        room = self._room(request.room)
        pattern = find_shift(room, request.shift)
        if pattern is None:
            raise Conflict(N_("This swap request is no longer open."))
        return shift_time(room, pattern, request.day, self._zone)

    def _view(self, request: SwapRequest, occurrence: ShiftTime) -> SwapView:
        return SwapView(
            id=request.id,
            state=request.state,
            occurrence=occurrence,
            position=request.position,
            requester=request.requester.name,
            colleague=request.colleague.name if request.colleague else None,
            taker=request.taker.name if request.taker else None,
            asked=len(request.asked),
            needs_approval=self._room(request.room).swap_approval,
        )


def _expiry(request: SwapRequest) -> Timer:
    """The expiry timer's row as the runner would hand it over (its effect, applied early)."""
    return Timer(kind=SWAP_EXPIRY_TIMER, ref=str(request.id), key=f"{SWAP_EXPIRY_TIMER}:{request.id}")
