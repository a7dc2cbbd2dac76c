"""Replies of the incident flow in the member's language (the current locale)."""

from __future__ import annotations

from datetime import timedelta

from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from bot.outgoing.speaker import Speaker
from bot.policy import Policy
from bot.services.incidents import Figures, Page, Submitted, render


def words(policy: Policy, language: str) -> Speaker:
    return Speaker(get_i18n(), policy, language)


def submitted_text(submitted: Submitted, policy: Policy, language: str) -> str:
    """The reporter learns the number and who was alerted (A1)."""
    w = words(policy, language)
    lines = [_("Reported: {number}. Keep this number.").format(number=submitted.number)]
    if submitted.alerted:
        lines.append(_("Alerted: {names}.").format(names=", ".join(submitted.alerted)))
        lines.append(
            _("If nobody acknowledges within {minutes} minutes, the alert goes up the chain.").format(
                minutes=policy.incidents.ack_window_minutes
            )
        )
    else:
        lines.append(_("Nobody could be alerted right now; the administrators were told and alerting is retried."))
    if submitted.incident.external_due_at is not None:
        lines.append(render.external_line(w, submitted.incident))
    return "\n".join(lines)


def page_text(title: str, page: Page, policy: Policy, language: str) -> str:
    w = words(policy, language)
    if not page.total:
        return title + "\n" + _("None.")
    lines = [
        _("{title} — {total} (page {page} of {pages})").format(
            title=title, total=page.total, page=page.page + 1, pages=page.pages
        )
    ]
    for incident in page.items:
        line = f"{incident.number} · {w.category(incident.category)} · {render.status_name(w, incident.status)}"
        line += f" · {w.moment(incident.occurred_at)}"
        if incident.external_open:
            line += " · 📤"
        lines.append(line)
    return "\n".join(lines)


def minutes(seconds: int | None) -> str:
    return "-" if seconds is None else f"{seconds / 60:.1f}"


def figures_text(figures: Figures, policy: Policy, language: str) -> str:
    """/stats as text (A5): counts, time to acknowledge, share within the window, outside-report deadlines."""
    w = words(policy, language)
    zone = policy.organisation.zone
    start = figures.start.astimezone(zone).date().isoformat()
    end = (figures.end - timedelta(seconds=1)).astimezone(zone).date().isoformat()  # the end is exclusive
    share = figures.in_window_share
    duplicates = figures.duplicates
    apart = [_("Marked as duplicates, not counted here: {count}").format(count=duplicates)] if duplicates else []
    lines = [
        _("Incidents {start} – {end}: {total}").format(start=start, end=end, total=figures.total),
        *apart,
        "",
        _("By category:"),
        *(f"  {w.category(code)}: {count}" for code, count in figures.by_category),
        _("By department:"),
        *(f"  {w.department(code)}: {count}" for code, count in figures.by_department),
        "",
        _("Time to acknowledge: median {median} min, 90th percentile {p90} min").format(
            median=minutes(figures.median_seconds), p90=minutes(figures.p90_seconds)
        ),
        _("Acknowledged within {window} minutes: {share} ({count} of {acknowledged})").format(
            window=policy.incidents.ack_window_minutes,
            share="-" if share is None else f"{share:.0%}",
            count=figures.in_window,
            acknowledged=figures.acknowledged,
        ),
        _(
            "Outside reports: {reportable} due; {met} on time, {late} late, {missed} missed and not filed, "
            "{pending} pending"
        ).format(**figures.external),
    ]
    return "\n".join(lines)
