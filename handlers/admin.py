"""Administration in chat: invitations (F2) and members' roles, departments, deactivation."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.i18n import format_moment
from bot.policy import Policy
from bot.services.actor import Actor
from bot.services.members import PAGE_SIZE, InvitationView, MembershipService, MemberView, clean_name
from handlers import keyboards
from handlers.callbacks import InviteCb, MemberCb
from handlers.filters import IsMember
from handlers.labels import department_name, role_name


class InviteWizard(StatesGroup):
    roles = State()
    department = State()
    name = State()
    confirm = State()


def actor_of(event: Message | CallbackQuery) -> Actor:
    message = event.message if isinstance(event, CallbackQuery) else event
    return Actor(event.from_user.id if event.from_user else None, message.chat.id if message else None)


async def invite_link(bot: Bot, invitation: InvitationView) -> str:
    me = await bot.me()
    return f"https://t.me/{me.username}?start={invitation.code}"


# /invite ------------------------------------------------------------------------------------
async def start_invite(
    message: Message, state: FSMContext, members: MembershipService, policy: Policy, language: str
) -> None:
    await members.check_admin(actor_of(message))
    await state.set_state(InviteWizard.roles)
    await state.set_data({"roles": ["staff"]})
    await message.answer(
        _("New invitation — step 1 of 3: which roles?"), reply_markup=_roles_keyboard(policy, language, {"staff"})
    )


async def cancel_invite(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await query.answer()
    await _replace(query, _("Cancelled. No invitation was created."))


async def toggle_invite_role(
    query: CallbackQuery,
    callback_data: InviteCb,
    state: FSMContext,
    members: MembershipService,
    policy: Policy,
    language: str,
) -> None:
    await members.check_admin(actor_of(query))
    chosen = set((await state.get_data()).get("roles", [])) ^ {callback_data.value}
    await state.update_data(roles=sorted(chosen))
    await query.answer()
    if query.message:
        await query.message.edit_reply_markup(reply_markup=_roles_keyboard(policy, language, chosen))


async def invite_roles_done(
    query: CallbackQuery, state: FSMContext, members: MembershipService, policy: Policy, language: str
) -> None:
    await members.check_admin(actor_of(query))
    if not (await state.get_data()).get("roles"):
        await query.answer(_("Choose at least one role."), show_alert=True)
        return
    await state.set_state(InviteWizard.department)
    await query.answer()
    await _show_departments(query, policy, language)


async def invite_department(
    query: CallbackQuery, callback_data: InviteCb, state: FSMContext, members: MembershipService
) -> None:
    await members.check_admin(actor_of(query))
    await state.update_data(department=callback_data.value)
    await state.set_state(InviteWizard.name)
    await query.answer()
    await _replace(query, _("Step 3 of 3: send the new member's full name, or skip."), keyboards.invite_name_keyboard())


async def invite_name(message: Message, state: FSMContext, policy: Policy, language: str) -> None:
    name = clean_name(message.text or "")
    if len(name) > 128:
        await message.answer(_("The name is too long: at most {limit} characters.").format(limit=128))
        return
    await state.update_data(name=name)
    await _ask_confirmation(message, state, policy, language)


async def invite_skip_name(query: CallbackQuery, state: FSMContext, policy: Policy, language: str) -> None:
    await state.update_data(name=None)
    await query.answer()
    if query.message:
        await _ask_confirmation(query.message, state, policy, language)


async def invite_back(query: CallbackQuery, state: FSMContext, policy: Policy, language: str) -> None:
    current = await state.get_state()
    await query.answer()
    if current == InviteWizard.department.state:
        await state.set_state(InviteWizard.roles)
        chosen = set((await state.get_data()).get("roles", []))
        await _replace(
            query, _("New invitation — step 1 of 3: which roles?"), _roles_keyboard(policy, language, chosen)
        )
    elif current in (InviteWizard.name.state, InviteWizard.confirm.state):
        await state.set_state(InviteWizard.department)
        await _show_departments(query, policy, language)


async def invite_create(
    query: CallbackQuery, state: FSMContext, members: MembershipService, bot: Bot, policy: Policy, language: str
) -> None:
    data = await state.get_data()
    invitation = await members.invite(
        actor_of(query), roles=data.get("roles", []), department=data.get("department", ""), name=data.get("name")
    )
    await state.clear()
    await query.answer()
    link = await invite_link(bot, invitation)
    expires = format_moment(invitation.expires_at, language, policy.organisation.zone)
    await _replace(
        query,
        _(
            "Invitation created. Send this link to the new member; it works once and expires on {expires}:\n{link}"
        ).format(expires=expires, link=link),
    )


async def _show_departments(query: CallbackQuery, policy: Policy, language: str) -> None:
    departments = ((d.code, department_name(policy, d.code, language)) for d in policy.departments)
    await _replace(query, _("Step 2 of 3: which department?"), keyboards.invite_departments_keyboard(departments))


async def _ask_confirmation(message: Message, state: FSMContext, policy: Policy, language: str) -> None:
    data = await state.get_data()
    await state.set_state(InviteWizard.confirm)
    summary = _("Roles: {roles}\nDepartment: {department}\nName: {name}").format(
        roles=", ".join(role_name(policy, r, language) for r in data.get("roles", [])),
        department=department_name(policy, data.get("department", ""), language),
        name=data.get("name") or _("(their Telegram name)"),
    )
    await message.answer(summary, reply_markup=keyboards.invite_confirm_keyboard())


def _roles_keyboard(policy: Policy, language: str, chosen: set[str]) -> InlineKeyboardMarkup:
    return keyboards.invite_roles_keyboard(
        ((r.code, role_name(policy, r.code, language)) for r in policy.roles), chosen
    )


async def _replace(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    if query.message:
        try:
            await query.message.edit_text(text, reply_markup=markup)
        except TelegramBadRequest as error:  # a double tap: the message already says this
            if "message is not modified" not in str(error):
                raise


# /members ------------------------------------------------------------------------------------
async def list_members(message: Message, members: MembershipService, policy: Policy, language: str) -> None:
    text, markup = await _members_page(members, actor_of(message), 0, policy, language)
    await message.answer(text, reply_markup=markup)


async def members_page(
    query: CallbackQuery, callback_data: MemberCb, members: MembershipService, policy: Policy, language: str
) -> None:
    page = int(callback_data.value) if callback_data.value.isdigit() else 0
    text, markup = await _members_page(members, actor_of(query), page, policy, language)
    await query.answer()
    await _replace(query, text, markup)


async def open_member(
    query: CallbackQuery, callback_data: MemberCb, members: MembershipService, policy: Policy, language: str
) -> None:
    member = await members.get(actor_of(query), callback_data.member_id)
    await query.answer()
    await _replace(query, *_member_card(member, policy, language))


async def toggle_member_role(
    query: CallbackQuery, callback_data: MemberCb, members: MembershipService, policy: Policy, language: str
) -> None:
    member = await members.toggle_role(actor_of(query), callback_data.member_id, callback_data.value)
    await query.answer(_("Roles updated."))
    await _replace(query, *_member_card(member, policy, language))


async def choose_member_department(
    query: CallbackQuery, callback_data: MemberCb, members: MembershipService, policy: Policy, language: str
) -> None:
    member = await members.get(actor_of(query), callback_data.member_id)
    await query.answer()
    await _replace(
        query,
        _("Move {name} to which department?").format(name=member.name),
        keyboards.member_departments_keyboard(
            member.id, ((d.code, department_name(policy, d.code, language)) for d in policy.departments)
        ),
    )


async def set_member_department(
    query: CallbackQuery, callback_data: MemberCb, members: MembershipService, policy: Policy, language: str
) -> None:
    member = await members.set_department(actor_of(query), callback_data.member_id, callback_data.value)
    await query.answer(_("Department updated."))
    await _replace(query, *_member_card(member, policy, language))


async def ask_deactivation(query: CallbackQuery, callback_data: MemberCb, members: MembershipService) -> None:
    member = await members.get(actor_of(query), callback_data.member_id)
    await query.answer()
    await _replace(
        query,
        _("Deactivate {name}? They lose access at once; their history is kept.").format(name=member.name),
        keyboards.confirm_deactivation_keyboard(member.id),
    )


async def deactivate_member(
    query: CallbackQuery, callback_data: MemberCb, members: MembershipService, policy: Policy, language: str
) -> None:
    member = await members.deactivate(actor_of(query), callback_data.member_id)
    await query.answer(_("{name} has been deactivated.").format(name=member.name))
    await _replace(query, *_member_card(member, policy, language))


async def _members_page(
    members: MembershipService, actor: Actor, page: int, policy: Policy, language: str
) -> tuple[str, InlineKeyboardMarkup]:
    rows, total = await members.page(actor, page)
    pages = max(1, -(-total // PAGE_SIZE))
    labels = [
        (m.id, ("" if m.active else "⛔ ") + f"{m.name} · {department_name(policy, m.department, language)}")
        for m in rows
    ]
    text = _("Members: {total} (page {page} of {pages}). Tap a member to change roles or department.").format(
        total=total, page=page + 1, pages=pages
    )
    return text, keyboards.members_page_keyboard(labels, page, pages)


def _member_card(member: MemberView, policy: Policy, language: str) -> tuple[str, InlineKeyboardMarkup]:
    status = _("active") if member.active else _("deactivated")
    text = _("{name}\nDepartment: {department}\nStatus: {status}\nTap a role to give or take it.").format(
        name=member.name, department=department_name(policy, member.department, language), status=status
    )
    phone = member.phone or _("not shared (SMS and voice steps skip them)")
    text += "\n" + _("Phone: {phone}").format(phone=phone)
    roles = [(r.code, role_name(policy, r.code, language), r.code in member.roles) for r in policy.roles]
    return text, keyboards.member_card_keyboard(member.id, roles, member.active)


def build() -> Router:
    router = Router(name=__name__)
    router.message.filter(IsMember())
    router.callback_query.filter(IsMember())
    router.message.register(start_invite, Command("invite"))
    router.callback_query.register(cancel_invite, InviteCb.filter(F.action == "cancel"))
    router.callback_query.register(toggle_invite_role, InviteWizard.roles, InviteCb.filter(F.action == "role"))
    router.callback_query.register(invite_roles_done, InviteWizard.roles, InviteCb.filter(F.action == "next"))
    router.callback_query.register(invite_department, InviteWizard.department, InviteCb.filter(F.action == "dept"))
    router.message.register(invite_name, InviteWizard.name, F.text, ~F.text.startswith("/"))
    router.callback_query.register(invite_skip_name, InviteWizard.name, InviteCb.filter(F.action == "skip"))
    router.callback_query.register(invite_back, StateFilter(InviteWizard), InviteCb.filter(F.action == "back"))
    router.callback_query.register(invite_create, InviteWizard.confirm, InviteCb.filter(F.action == "create"))
    router.message.register(list_members, Command("members"))
    router.callback_query.register(members_page, MemberCb.filter(F.action == "page"))
    router.callback_query.register(open_member, MemberCb.filter(F.action == "open"))
    router.callback_query.register(toggle_member_role, MemberCb.filter(F.action == "role"))
    router.callback_query.register(choose_member_department, MemberCb.filter(F.action == "depts"))
    router.callback_query.register(set_member_department, MemberCb.filter(F.action == "dept"))
    router.callback_query.register(ask_deactivation, MemberCb.filter(F.action == "deact"))
    router.callback_query.register(deactivate_member, MemberCb.filter(F.action == "deact_ok"))
    return router
