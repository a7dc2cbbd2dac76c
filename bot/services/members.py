"""Membership: invitations, joining, roles, languages, deactivation (F2, F3; B2 and C6 hook in)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiogram.utils.i18n import I18n

from bot.channels.base import normalise_phone
from bot.clock import Clock
from bot.outgoing.ids import MAX_ROW_ID
from bot.outgoing.speaker import language_of
from bot.policy import Policy
from bot.services.actor import Actor
from bot.services.audit import record, refuse
from bot.services.errors import N_, Conflict, InvalidInput, NotAllowed, NotFound
from bot.services.menus import CommandMenus
from bot.services.messages import queue_text
from bot.services.text import visible_text
from storage.models import Invitation, Member
from storage.uow import UnitOfWork, UnitOfWorkFactory

ADMIN = "administrator"
MAX_NAME = 128
PAGE_SIZE = 10
MAX_PAGE = 100_000
CODE = re.compile(r"[A-Za-z0-9_-]{1,64}")
TELEGRAM_LANGUAGE = 16  # the column's width; Telegram sends IETF tags such as "en", "zh-hans", "pt-br"


def clean_name(text: str) -> str:
    """A name as it is stored and shown back: visible text with whitespace collapsed."""
    return " ".join(visible_text(text).split())


# Later flows veto a deactivation (B2: open items first) or act on it (C6: revoke grants).
DeactivationBlocker = Callable[[UnitOfWork, Member, str], Awaitable[list[str]]]  # reasons in the language given
DeactivationEffect = Callable[[UnitOfWork, Member, datetime], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class MemberView:
    id: int
    telegram_id: int
    name: str
    department: str
    roles: frozenset[str]
    language: str | None
    active: bool
    phone: str | None = None  # shown to administrators only (handlers/admin.py)
    telegram_language: str | None = None  # Telegram's language_code at join or the latest update (issue 14)

    @classmethod
    def of(cls, member: Member) -> MemberView:
        return cls(
            member.id,
            member.telegram_id,
            member.name,
            member.department,
            member.roles,
            member.language,
            member.active,
            member.phone,
            member.telegram_language,
        )

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


@dataclass(frozen=True, slots=True)
class InvitationView:
    code: str
    department: str
    roles: tuple[str, ...]
    name: str | None
    expires_at: datetime


class MembershipService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, policy: Policy, i18n: I18n) -> None:
        self._uow = uow
        self._clock = clock
        self._policy = policy
        self._i18n = i18n
        self.menus = CommandMenus(uow, clock, i18n, policy)  # each member's command menu follows their roles
        self.deactivation_blockers: list[DeactivationBlocker] = []
        self.deactivation_effects: list[DeactivationEffect] = []

    # Reading ------------------------------------------------------------------------------
    async def find(self, telegram_id: int) -> MemberView | None:
        """The active member behind a Telegram account, or None for strangers."""
        async with self._uow() as uow:
            return await self.find_in(uow, telegram_id)

    @staticmethod
    async def find_in(uow: UnitOfWork, telegram_id: int) -> MemberView | None:
        """`find` within a unit of work the caller holds."""
        member = await uow.members.by_telegram_id(telegram_id)
        return MemberView.of(member) if member and member.active else None

    async def seen(self, member: Member, telegram_language: str | None) -> Member:
        """The member behind an update, as its first transaction read them: records the language of their
        Telegram app when it changed, so that messages queued for them later speak it too while they have not
        chosen one (`bot.i18n.pick_language`). Written only on a change, in a transaction of its own; not
        audited (no state of any item changes)."""
        code = (telegram_language or "")[:TELEGRAM_LANGUAGE] or None
        if not code or member.telegram_language == code:
            return member
        async with self._uow() as uow:
            stored = await uow.members.by_telegram_id(member.telegram_id)
            if stored is None:
                return member
            stored.telegram_language = code
            if not stored.language:  # their menu speaks Telegram's language too
                await self.menus.queue(uow, stored, self._clock.now())
            await uow.commit()
        return stored

    async def page(self, actor: Actor, page: int) -> tuple[list[MemberView], int]:
        async with self._uow() as uow:
            await self._require_admin(uow, actor)
            page = min(max(page, 0), MAX_PAGE)  # a forged page number stays a number the database can take
            rows, total = await uow.members.page(page * PAGE_SIZE, PAGE_SIZE)
            return [MemberView.of(row) for row in rows], total

    async def get(self, actor: Actor, member_id: int) -> MemberView:
        async with self._uow() as uow:
            await self._require_admin(uow, actor)
            return MemberView.of(await self._member(uow, member_id))

    async def check_admin(self, actor: Actor) -> None:
        """For wizard steps that change nothing yet: refuse (and audit) a non-administrator."""
        async with self._uow() as uow:
            await self._require_admin(uow, actor)

    # Invitations (F2) -----------------------------------------------------------------------
    async def invite(
        self, actor: Actor, *, roles: Iterable[str], department: str, name: str | None = None, phone: str | None = None
    ) -> InvitationView:
        """An invitation; ``phone`` (from ``users import``) becomes the member's number when they join."""
        roles = tuple(sorted(set(roles)))
        name = clean_name(name) or None if name else None
        phone = checked_phone(phone) if phone else None
        async with self._uow() as uow:
            creator = None if actor.is_command_line else await self._require_admin(uow, actor)
            self.validate_invitation(roles, department, name)
            now = self._clock.now()
            invitation = uow.invitations.add(
                Invitation(
                    code=secrets.token_urlsafe(12),
                    name=name,
                    department=department,
                    roles=list(roles),
                    phone=phone,
                    created_by=creator.id if creator else None,
                    created_at=now,
                    expires_at=now + timedelta(days=self._policy.invitations.expiry_days),
                )
            )
            await uow.session.flush()
            await record(
                uow,
                self._clock,
                actor,
                "invitation",
                invitation.id,
                "created",
                actor_id=creator.id if creator else None,
                roles=list(roles),
                department=department,
                name=name,
            )
            await uow.commit()
            return InvitationView(invitation.code, department, roles, name, invitation.expires_at)

    def validate_invitation(self, roles: Iterable[str], department: str, name: str | None) -> None:
        roles = set(roles)
        self._check_roles(roles)
        self._check_department(department)
        if not roles:
            raise InvalidInput(N_("Choose at least one role."))
        if name and len(name) > MAX_NAME:
            raise InvalidInput(N_("The name is too long: at most {limit} characters."), limit=MAX_NAME)

    async def join(
        self,
        code: str,
        *,
        telegram_id: int,
        name: str,
        username: str | None,
        language: str | None,
        telegram_language: str | None = None,
    ) -> MemberView:
        """Redeem an invitation: single use, bound to the first account that uses it, expiring (F2).
        ``telegram_language``: the language_code of the joining account, their language until they choose."""
        code = code.strip()
        async with self._uow() as uow:
            # Telegram's deep links carry at most 64 of [A-Za-z0-9_-]; anything else is no code of ours
            # (and NUL would not even reach PostgreSQL).
            invitation = await uow.invitations.by_code(code, for_update=True) if CODE.fullmatch(code) else None
            if invitation is None:
                raise NotFound(N_("This invitation link is not valid. Ask your administrator for a new one."))
            now = self._clock.now()
            existing = await uow.members.by_telegram_id(telegram_id)
            if invitation.used_by_telegram_id is not None:
                if invitation.used_by_telegram_id == telegram_id and existing and existing.active:
                    return MemberView.of(existing)
                raise Conflict(N_("This invitation has already been used. Ask your administrator for a new one."))
            if invitation.expires_at <= now:
                raise Conflict(N_("This invitation has expired. Ask your administrator for a new one."))
            if existing and existing.active:
                raise Conflict(N_("You are already a member; this invitation was left unused."))
            display_name = (invitation.name or clean_name(name) or str(telegram_id))[:MAX_NAME]
            if existing:  # a former member comes back with the new invitation's roles
                member = existing
                member.active, member.deactivated_at = True, None
                member.name, member.department = display_name, invitation.department
                member.invitation_id = invitation.id
                uow.members.set_roles(member, invitation.roles)
            else:
                member = uow.members.add(
                    Member(
                        telegram_id=telegram_id,
                        name=display_name,
                        username=username,
                        language=language if language in self._policy.organisation.languages else None,
                        department=invitation.department,
                        active=True,
                        joined_at=now,
                        invitation_id=invitation.id,
                    ),
                    invitation.roles,
                )
            member.phone = invitation.phone or member.phone
            member.telegram_language = (telegram_language or "")[:TELEGRAM_LANGUAGE] or member.telegram_language
            invitation.used_at, invitation.used_by_telegram_id = now, telegram_id
            await uow.session.flush()
            await self._tell_inviter(uow, invitation, member, now)
            await self.menus.queue(uow, member, now)
            await record(
                uow,
                self._clock,
                Actor(telegram_id, telegram_id),
                "member",
                member.id,
                "joined",
                actor_id=member.id,
                invitation=invitation.id,
                roles=sorted(invitation.roles),
            )
            await uow.commit()
            return MemberView.of(member)

    async def ensure_administrators(self, telegram_ids: Iterable[int]) -> None:
        """ADMIN_IDS become administrators at start; unknown ids get a member record at the root department."""
        root = next(d.code for d in self._policy.departments if d.parent is None)
        async with self._uow() as uow:
            now = self._clock.now()
            for telegram_id in telegram_ids:
                member = await uow.members.by_telegram_id(telegram_id)
                if member is None:
                    member = uow.members.add(
                        Member(
                            telegram_id=telegram_id,
                            name=f"Administrator {telegram_id}",
                            department=root,
                            active=True,
                            joined_at=now,
                        ),
                        {ADMIN, "staff"},
                    )
                elif ADMIN in member.roles and member.active:
                    continue
                else:
                    member.active, member.deactivated_at = True, None
                    uow.members.set_roles(member, member.roles | {ADMIN})
                await uow.session.flush()
                await record(uow, self._clock, Actor.command_line(), "member", member.id, "made_administrator")
            await uow.commit()

    # Changes by the member ---------------------------------------------------------------------
    async def set_language(self, telegram_id: int, language: str) -> MemberView:
        if language not in self._policy.organisation.languages:
            raise InvalidInput(N_("This language is not available."))
        async with self._uow() as uow:
            member = await uow.members.by_telegram_id(telegram_id)
            if member is None or not member.active:
                raise NotAllowed(N_("You are not a member yet. Ask your administrator for an invitation."))
            if member.language != language:
                member.language = language
                await self.menus.queue(uow, member, self._clock.now())
                await record(
                    uow,
                    self._clock,
                    Actor(telegram_id, telegram_id),
                    "member",
                    member.id,
                    "language",
                    actor_id=member.id,
                    language=language,
                )
            await uow.commit()
            return MemberView.of(member)

    async def set_phone(self, telegram_id: int, contact_user_id: int | None, number: str) -> str:
        """A member shares their own Telegram contact: its number is where SMS and voice steps reach them.
        Only their own (a forwarded contact of someone else is refused). Returns the stored number."""
        if contact_user_id != telegram_id:
            raise InvalidInput(N_("Please share your own number with the button, not someone else's contact."))
        phone = checked_phone(number)
        async with self._uow() as uow:
            member = await uow.members.by_telegram_id(telegram_id)
            if member is None or not member.active:
                raise NotAllowed(N_("You are not a member yet. Ask your administrator for an invitation."))
            if member.phone != phone:
                member.phone = phone
                actor = Actor(telegram_id, telegram_id)
                await record(uow, self._clock, actor, "member", member.id, "phone", actor_id=member.id)
            await uow.commit()
            return phone

    # Administration ----------------------------------------------------------------------------
    async def toggle_role(self, actor: Actor, member_id: int, role: str) -> MemberView:
        self._check_roles([role])
        async with self._uow() as uow:
            admin = await self._require_admin(uow, actor)
            member = await self._active_member(uow, member_id)
            roles = member.roles ^ {role}
            if not roles:
                raise InvalidInput(N_("A member keeps at least one role."))
            if role == ADMIN and ADMIN not in roles and await self._is_last_admin(uow, member):
                raise Conflict(N_("This is the last administrator; make someone else administrator first."))
            uow.members.set_roles(member, roles)
            await self._tell_member_roles(uow, member, now=self._clock.now())
            await self.menus.queue(uow, member, self._clock.now())
            await record(uow, self._clock, actor, "member", member.id, "roles", actor_id=admin.id, roles=sorted(roles))
            await uow.commit()
            return MemberView.of(member)

    async def set_department(self, actor: Actor, member_id: int, department: str) -> MemberView:
        self._check_department(department)
        async with self._uow() as uow:
            admin = await self._require_admin(uow, actor)
            member = await self._active_member(uow, member_id)
            if member.department != department:
                previous, member.department = member.department, department
                await record(
                    uow,
                    self._clock,
                    actor,
                    "member",
                    member.id,
                    "department",
                    actor_id=admin.id,
                    previous=previous,
                    department=department,
                )
            await uow.commit()
            return MemberView.of(member)

    async def deactivate(self, actor: Actor, member_id: int) -> MemberView:
        """Deactivation keeps history. Later flows may veto it until open items are reassigned (B2)
        and act on it in the same transaction (C6: grants revoked)."""
        async with self._uow() as uow:
            admin = await self._require_admin(uow, actor)
            member = await self._active_member(uow, member_id)
            if member.id == admin.id:
                raise Conflict(N_("You cannot deactivate yourself."))
            if ADMIN in member.roles and await self._is_last_admin(uow, member):
                raise Conflict(N_("This is the last administrator; make someone else administrator first."))
            language = self._language(admin)  # the reasons join the refusal the administrator reads
            reasons = [r for blocker in self.deactivation_blockers for r in await blocker(uow, member, language)]
            if reasons:
                raise Conflict(N_("Reassign these first: {items}"), items="; ".join(reasons))
            now = self._clock.now()
            member.active, member.deactivated_at = False, now
            for effect in self.deactivation_effects:
                await effect(uow, member, now)
            await self.menus.remove(uow, member, now)
            await record(uow, self._clock, actor, "member", member.id, "deactivated", actor_id=admin.id)
            await uow.commit()
            return MemberView.of(member)

    # Notifications (through the outbox, in the recipient's language) ---------------------------
    def _language(self, member: Member) -> str:
        return language_of(member, self._policy)

    async def _tell_inviter(self, uow: UnitOfWork, invitation: Invitation, member: Member, now: datetime) -> None:
        inviter = await uow.members.get(invitation.created_by) if invitation.created_by else None
        if inviter is None or not inviter.active:
            return
        language = self._language(inviter)
        text = self._i18n.gettext("{name} joined with your invitation ({roles}; {department}).", locale=language)
        await queue_text(
            uow,
            now,
            key=f"invitation:{invitation.id}:joined",
            chat_id=inviter.telegram_id,
            text=text.format(
                name=member.name,
                roles=self._role_names(member.roles, language),
                department=self._policy.department(member.department).name.get(language),
            ),
        )

    async def _tell_member_roles(self, uow: UnitOfWork, member: Member, now: datetime) -> None:
        language = self._language(member)
        text = self._i18n.gettext(
            "An administrator changed your roles. You now hold: {roles}. Send /help to see what they let you do.",
            locale=language,
        )
        await queue_text(
            uow,
            now,
            key=f"member:{member.id}:roles:{now.isoformat()}:{','.join(sorted(member.roles))}",
            chat_id=member.telegram_id,
            text=text.format(roles=self._role_names(member.roles, language)),
        )

    def _role_names(self, roles: Iterable[str], language: str) -> str:
        return ", ".join(self._policy.role(code).name.get(language) for code in sorted(roles))

    # Checks ------------------------------------------------------------------------------------
    async def _require_admin(self, uow: UnitOfWork, actor: Actor) -> Member:
        member = await uow.members.by_telegram_id(actor.telegram_id) if actor.telegram_id else None
        if member is None or not member.active or ADMIN not in member.roles:
            denied = NotAllowed(N_("Only administrators can do this."))
            await refuse(uow, self._clock, actor, "member", actor.telegram_id or "-", denied)
        return member

    async def _member(self, uow: UnitOfWork, member_id: int) -> Member:
        member = await uow.members.get(member_id) if 0 < member_id <= MAX_ROW_ID else None  # forged ids too
        if member is None:
            raise NotFound(N_("This member does not exist."))
        return member

    async def _active_member(self, uow: UnitOfWork, member_id: int) -> Member:
        member = await self._member(uow, member_id)
        if not member.active:
            raise Conflict(N_("This member has been deactivated."))
        return member

    async def _is_last_admin(self, uow: UnitOfWork, member: Member) -> bool:
        return [m.id for m in await uow.members.with_role(ADMIN)] == [member.id]

    def _check_roles(self, roles: Iterable[str]) -> None:
        known = {role.code for role in self._policy.roles}
        unknown = sorted(set(roles) - known)
        if unknown:
            raise InvalidInput(N_("Unknown role: {role}."), role=", ".join(unknown))

    def _check_department(self, department: str) -> None:
        if not any(dept.code == department for dept in self._policy.departments):
            raise InvalidInput(N_("Unknown department: {department}."), department=department)


def checked_phone(text: str) -> str:
    """A number in E.164 form (+8613800000000), or a clear refusal."""
    phone = normalise_phone(text)
    if phone is None:
        raise InvalidInput(N_("{number} is not a phone number I can use."), number=text[:32])
    return phone
