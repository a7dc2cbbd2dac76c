"""The buttons that travel with incident messages (alerts, reminders, cards). They carry ids only:
every press is re-authorised by the service it reaches (F3). Prefixes are short (64-byte limit).
Labels come in the recipient's language (``gettext`` is bound to it)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

from bot.outgoing.cards import Action, Actions
from bot.outgoing.ids import RowId
from bot.outgoing.speaker import Translate

ACK, DETAILS, FILE, DUPLICATE = "ack", "det", "file", "dup"


class IncidentCb(CallbackData, prefix="inc"):
    action: str  # ack | det | prog | res | close | reopen | note | reas | to | flag | file | dup | dupof
    id: RowId
    value: RowId = 0  # the new assignee's member id for "to"; the incident a report duplicates for "dupof"


def incident_action(label: str, action: str, incident_id: int, value: int = 0) -> Action:
    return Action.of(label, IncidentCb(action=action, id=incident_id, value=value))


def alert_actions(gettext: Translate, incident_id: int, *, acknowledged: bool = False) -> Actions:
    """Acknowledge / Details on a fresh alert; Details alone once someone has acknowledged (A2). "Duplicate
    of…" under both: the officer links a report to another of the same case (issue 14)."""
    details = incident_action(gettext("ℹ️ Details"), DETAILS, incident_id)
    duplicate = (incident_action(gettext("🔗 Duplicate of…"), DUPLICATE, incident_id),)
    if acknowledged:
        return ((details,), duplicate)
    return ((incident_action(gettext("✅ Acknowledge"), ACK, incident_id), details), duplicate)


def filing_actions(gettext: Translate, incident_id: int) -> Actions:
    return (
        (incident_action(gettext("📤 Record the outside report"), FILE, incident_id),),
        (incident_action(gettext("ℹ️ Details"), DETAILS, incident_id),),
    )


def details_actions(gettext: Translate, incident_id: int) -> Actions:
    return ((incident_action(gettext("ℹ️ Details"), DETAILS, incident_id),),)
