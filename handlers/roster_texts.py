"""How the roster reads in chat, in the member's language."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from bot.i18n import format_moment
from bot.policy import Policy
from bot.services.roster import OnDuty
from bot.services.roster_calendar import find_shift
from bot.services.roster_csv import Problem
from bot.services.roster_texts import MAX_MESSAGE

MAX_PROBLEMS = 20


def crew_lines(crew: OnDuty, policy: Policy, language: str) -> list[str]:
    """'Day shift, 2 Mar 2026, 08:00 – 20:00' then the primary and backup officers (or the gap)."""
    if crew.shift is None or crew.starts_at is None or crew.ends_at is None:
        return [_("No shift is running.")]
    zone = policy.organisation.zone
    found = find_shift(policy.duty_room(crew.room), crew.shift)
    name = found.name.get(language) if found else crew.shift
    primary = ", ".join(m.name for m in crew.primary) or _("nobody — a gap in the roster!")
    backup = ", ".join(m.name for m in crew.backup) or "—"
    when = _("{shift}, {start} – {end}").format(
        shift=name, start=format_moment(crew.starts_at, language, zone), end=format_moment(crew.ends_at, language, zone)
    )
    return [when, _("Primary: {names}").format(names=primary), _("Backup: {names}").format(names=backup)]


def board_text(board: list[tuple[OnDuty, OnDuty]], policy: Policy, language: str) -> str:
    lines: list[str] = []
    for now, upcoming in board:
        lines += [f"【{policy.duty_room(now.room).name.get(language)}】", _("On duty now:")]
        lines += [f"  {line}" for line in crew_lines(now, policy, language)]
        lines.append(_("Next:"))
        lines += [f"  {line}" for line in crew_lines(upcoming, policy, language)]
        lines.append("")
    return "\n".join(lines).strip()[:MAX_MESSAGE]


def problem_lines(problems: list[Problem]) -> list[str]:
    lines = [_(p.msgid).format(line=p.line, **p.params) for p in problems[:MAX_PROBLEMS]]
    if len(problems) > MAX_PROBLEMS:
        lines.append(_("… and {count} more").format(count=len(problems) - MAX_PROBLEMS))
    return lines
