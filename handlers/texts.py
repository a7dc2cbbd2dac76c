"""Texts shared by several flows."""

from __future__ import annotations

from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from bot.policy import Policy
from bot.services.members import MemberView
from handlers.commands import ROLE_ABILITIES, CommandInfo, commands_for
from handlers.labels import department_name, role_name


def help_text(member: MemberView, policy: Policy, commands: list[CommandInfo]) -> str:
    language = get_i18n().current_locale
    roles = ", ".join(role_name(policy, role, language) for role in sorted(member.roles))
    lines = [
        _("{name} · {department} · {roles}").format(
            name=member.name, department=department_name(policy, member.department, language), roles=roles
        ),
        "",
        _("Your roles let you:"),
        *(f"• {ROLE_ABILITIES[role]}" for role in sorted(member.roles) if role in ROLE_ABILITIES),
        "",
        _("Commands:"),
        *(f"/{command.name} — {command.description}" for command in commands_for(member, commands)),
    ]
    return "\n".join(lines)


def not_a_member() -> str:
    return _("This bot is for members only. Please ask your administrator for an invitation.")
