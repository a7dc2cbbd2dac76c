"""The command menu: what /help lists and what Telegram's menu shows, per role and language."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram.utils.i18n import lazy_gettext as __

from bot.services.members import MemberView


@dataclass(frozen=True)
class CommandInfo:
    name: str
    description: object  # a lazy translation
    roles: tuple[str, ...] = ()  # empty: every member

    def allowed(self, member: MemberView) -> bool:
        return not self.roles or member.has(*self.roles)


CORE_COMMANDS: tuple[CommandInfo, ...] = (
    CommandInfo("help", __("What I can do for you")),
    CommandInfo("language", __("Choose your language")),
    CommandInfo("phone", __("Share your phone number for SMS and phone alerts")),
    CommandInfo("cancel", __("Leave the current form")),
    CommandInfo("invite", __("Invite a new member"), ("administrator",)),
    CommandInfo("members", __("Members, roles and departments"), ("administrator",)),
)

ROLE_ABILITIES: dict[str, object] = {
    "staff": __("report incidents, request data access, submit information for publication review"),
    "duty_officer": __("receive and acknowledge incident alerts while on duty"),
    "department_head": __("approve your department's requests and publications; hear about late items"),
    "leader": __("give final approval and receive escalations"),
    "information_officer": __("own data sets, grant and revoke access (information centre)"),
    "administrator": __("invite members, change roles and departments, deactivate members"),
    "external_reviewer": __("review regulatory disclosures before publication"),
}


def commands_for(member: MemberView, commands: list[CommandInfo]) -> list[CommandInfo]:
    return [command for command in commands if command.allowed(member)]
