"""Texts of the data-access flow shown to the member who asked (their own language)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiogram.utils.i18n import gettext as _

from bot.i18n import format_moment
from bot.services.access import GrantView, RequestView
from bot.services.access_catalogue import MODE_NAMES


def overview_text(requests: list[RequestView], grants: list[GrantView], language: str, zone: ZoneInfo) -> str:
    """/access: grants with their expiry, then requests with where they are and who holds them."""
    lines = [_("Your data access")]
    if grants:
        lines += ["", _("Grants:")]
        for grant in grants:
            if grant.state == "active":
                state = _("until {until}").format(until=format_moment(grant.expires_at, language, zone))
            elif grant.state == "provisioning":
                state = _("approved; being set up by the information centre")
            else:
                state = _("ended; removal being confirmed")
            lines.append(f"#{grant.id} {grant.dataset} · {_(MODE_NAMES[grant.mode])} — {state}")
    if requests:
        lines += ["", _("Requests:")]
        for request in requests:
            lines.append(f"#{request.id} {request.dataset} · {_(MODE_NAMES[request.mode])} — {request_state(request)}")
    if not grants and not requests:
        lines += ["", _("You have no requests or grants yet.")]
    return "\n".join(lines)


def request_state(request: RequestView) -> str:
    status = request.status
    if request.state == "pending" and status is not None:
        return _("waiting: step {position} of {total} ({step}), with {names}").format(
            position=status.position, total=status.total, step=status.step, names=", ".join(status.holders) or "—"
        )
    words = {"approved": _("approved"), "rejected": _("rejected"), "withdrawn": _("withdrawn")}
    return words.get(request.state, request.state)
