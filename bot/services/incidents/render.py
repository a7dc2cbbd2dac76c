"""Incident texts in one member's language: alerts, cards, timelines. Plain text (no parse mode), so what a
reporter typed is shown back exactly."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from bot.i18n import NC_
from bot.outgoing.speaker import Speaker
from bot.policy.schema import SMS, VOICE, step_channel, step_role
from bot.services.incidents.common import BACKUP_STEP, DEPARTMENT_HEAD, PRIMARY_STEP
from bot.services.incidents.similar import Similar
from bot.services.incidents.views import IncidentCard, TimelineEntry
from storage.incidents_models import (
    ACKNOWLEDGED,
    CLOSED,
    EXTERNAL_FILED,
    EXTERNAL_MISSED,
    IN_PROGRESS,
    REPORTED,
    RESOLVED,
    Incident,
)


def status_name(w: Speaker, status: str) -> str:
    names = {
        REPORTED: w._("waiting for acknowledgement"),
        ACKNOWLEDGED: w._("acknowledged"),
        IN_PROGRESS: w._("in progress"),
        RESOLVED: w._("resolved"),
        CLOSED: w._("closed"),
    }
    return names.get(status, status)


def step_name(w: Speaker, step: str) -> str:
    channel, step = step_channel(step)
    name = _step_name(w, step)
    if channel == SMS:
        return w._("{step} by SMS").format(step=name)
    if channel == VOICE:
        return w._("{step} by phone call").format(step=name)
    return name


def _step_name(w: Speaker, step: str) -> str:
    role = step_role(step)
    if role:
        try:
            return w.policy.role(role).name.get(w.language)
        except KeyError:
            return role
    names = {
        PRIMARY_STEP: w._("officer on duty"),
        BACKUP_STEP: w._("backup officer on duty"),
        DEPARTMENT_HEAD: w._("department head"),
    }
    return names.get(step, step)


def reason_text(w: Speaker, reason: dict[str, Any]) -> str:
    code = reason.get("code")
    if code == "category":
        return w._("the category is always reported outside")
    if code == "loss":
        return w._("a loss of {loss} yuan, at or above {threshold} yuan").format(
            loss=w.number(reason["loss"]), threshold=w.number(reason["threshold"])
        )
    if code == "repeat":
        return w._("case {count} of this category within {days} days").format(
            count=reason["count"], days=reason["days"]
        )
    if code == "manual":
        return w._("marked by {name}").format(name=reason.get("by", ""))
    return str(code)


def reasons_text(w: Speaker, reasons: Iterable[dict[str, Any]]) -> str:
    return "; ".join(reason_text(w, reason) for reason in reasons)


def place_text(w: Speaker, text: str | None, latitude: float | None, longitude: float | None) -> str:
    pin = latitude is not None and longitude is not None
    if text and pin:
        return w._("{place} (map pin below)").format(place=text)
    if pin:
        return w._("see the map pin below")
    return text or w._("not given")


def summary_lines(w: Speaker, incident: Incident, reporter: str) -> list[str]:
    """The facts of an incident, as every alert and card starts (A1)."""
    try:
        category = w.policy.incidents.category(incident.category)
    except KeyError:
        category = None
    lines = [
        f"🚨 {incident.number} · {w.category(incident.category)} · {w.severity(incident.severity)}",
        w._("What happened: {text}").format(text=incident.description or w._("(see the photo or voice note)")),
        w._("Where: {place}").format(
            place=place_text(w, incident.location_text, incident.latitude, incident.longitude)
        ),
        w._("When: {moment}").format(moment=w.moment(incident.occurred_at)),
        w._("Reported by: {name}, {department}").format(name=reporter, department=w.department(incident.department)),
    ]
    if incident.loss_yuan is not None:
        lines.append(w._("Estimated loss: {loss} yuan").format(loss=w.number(incident.loss_yuan)))
    if category is not None and category.serious and category.external_contact is not None:
        contact = category.external_contact
        lines.append(
            w._("⚠️ Serious: call {body} on {phone} now.").format(body=contact.name.get(w.language), phone=contact.phone)
        )
    if incident.external_due_at is not None:
        lines.append(external_line(w, incident))
    return lines


def external_line(w: Speaker, incident: Incident) -> str:
    assert incident.external_due_at is not None
    reasons = reasons_text(w, incident.reportable_reasons)
    due = w.moment(incident.external_due_at)
    if incident.external_state == EXTERNAL_FILED and incident.external_filed_at is not None:
        late = w._(" (late)") if incident.external_missed else ""
        return w._("📤 Reported outside on {moment}{late} to {body}, reference {reference}.").format(
            moment=w.moment(incident.external_filed_at),
            late=late,
            body=incident.external_body or "",
            reference=incident.external_reference or "-",
        )
    if incident.external_state == EXTERNAL_MISSED:
        return w._("❗ The outside report was due by {due} and is overdue ({reasons}).").format(
            due=due, reasons=reasons
        )
    return w._("📤 Must be reported outside by {due} ({reasons}).").format(due=due, reasons=reasons)


def alert_text(
    w: Speaker,
    incident: Incident,
    reporter: str,
    *,
    round: int,
    steps: tuple[str, ...],
    skipped: list[str],
    similar: Sequence[Similar] = (),
) -> str:
    lines = summary_lines(w, incident, reporter)
    minutes = w.policy.incidents.ack_window_minutes
    if round >= len(steps):
        lines.insert(
            1,
            w._("🔁 Still nobody has acknowledged after the whole chain (repeat {count}).").format(
                count=round - len(steps) + 1
            ),
        )
    elif round > 0:
        lines.insert(
            1,
            w._(
                "⏫ Passed on to you ({step}, step {number} of {total}): the earlier steps did not acknowledge."
            ).format(step=step_name(w, steps[round]), number=round + 1, total=len(steps)),
        )
    if skipped:
        lines.append(w._("Not reached: {names}").format(names="; ".join(skipped)))
    lines += [similar_line(w, other) for other in similar]
    lines.append(w._("Acknowledge within {minutes} minutes.").format(minutes=minutes))
    return "\n".join(lines)


def similar_line(w: Speaker, other: Similar) -> str:
    """A possible duplicate on an alert (issue 14): the officer decides with "Duplicate of…"."""
    if other.metres is not None:
        return w._("🔗 Possibly the same as {number} (occurred {moment}, {metres} m away).").format(
            number=other.number, moment=w.moment(other.occurred_at), metres=w.number(other.metres)
        )
    return w._("🔗 Possibly the same as {number} (occurred {moment}).").format(
        number=other.number, moment=w.moment(other.occurred_at)
    )


def duplicate_line(w: Speaker, name: str, primary: Incident) -> str:
    return w._("🔗 Marked by {name} as a duplicate of {number}; it is handled there.").format(
        name=name, number=primary.number
    )


def withdrawal_text(w: Speaker, why: str) -> str:
    if why == "duplicate":
        return w._("it was marked as a duplicate of another report")
    if why == "recount":
        return w._("a report counted for it was marked as a duplicate, so the cases of the month are fewer")
    return why


def sms_text(w: Speaker, incident: Incident) -> str:
    """An SMS alert: short (a few SMS at most), the incident number and the reply code (issue 12)."""
    return w._("{number} {category} · {severity}, {room}: {what} Reply {code} to acknowledge.").format(
        number=incident.number,
        category=w.category(incident.category),
        severity=w.severity(incident.severity),
        room=w.room(incident.duty_room),
        what=_clip(incident.description, 60),
        code=ack_code(incident),
    )


def speech_text(w: Speaker, incident: Incident) -> str:
    """A voice call's text-to-speech message."""
    return w._(
        "Urgent incident {number}: {category}, {severity}, in {room}. Nobody has acknowledged it. "
        "Acknowledge it in Telegram, or reply {code} to the SMS."
    ).format(
        number=incident.number,
        category=w.category(incident.category),
        severity=w.severity(incident.severity),
        room=w.room(incident.duty_room),
        code=ack_code(incident),
    )


def ack_code(incident: Incident) -> str:
    """What a member replies by SMS to acknowledge: the incident's id, short and unique; the sender's
    number says who replies, and the acknowledgement is authorised like the button's."""
    return str(incident.id)


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def acknowledged_line(w: Speaker, name: str, incident: Incident) -> str:
    assert incident.acknowledged_at is not None
    return w._("✅ Acknowledged by {name} at {moment}.").format(name=name, moment=w.moment(incident.acknowledged_at))


def card_text(w: Speaker, card: IncidentCard) -> str:
    """/incident and the Details button: the facts, the state, and the whole timeline (A3, A5)."""
    incident = card.incident
    lines = summary_lines(w, incident, card.reporter)
    lines.append(w._("Status: {status}").format(status=status_name(w, incident.status)))
    lines.append(w._("Reported: {moment}").format(moment=w.moment(incident.reported_at)))
    if incident.acknowledged_at is not None:
        met = w._("within the window") if incident.ack_in_window else w._(NC_("incident", "late"))
        lines.append(
            w._("Acknowledged: {moment} by {name} ({met})").format(
                moment=w.moment(incident.acknowledged_at), name=card.acknowledged_by or "-", met=met
            )
        )
    if card.assignee:
        lines.append(w._("Handled by: {name}").format(name=card.assignee))
    if incident.resolved_at is not None:
        lines.append(w._("Resolved: {moment}").format(moment=w.moment(incident.resolved_at)))
    if incident.resolution:
        lines.append(w._("Resolution: {text}").format(text=incident.resolution))
    if incident.closed_at is not None:
        lines.append(w._("Closed: {moment}").format(moment=w.moment(incident.closed_at)))
    if card.media:
        lines.append(w._("Photos and files: {count}").format(count=card.media))
    if card.duplicate_of:
        lines.append(w._("🔗 Duplicate of {number}").format(number=card.duplicate_of))
    if card.duplicates:
        lines.append(w._("🔗 Also reported as: {numbers}").format(numbers=", ".join(card.duplicates)))
    if card.timeline:
        lines += ["", w._("Timeline:")]
        lines += [f"{w.moment(entry.at)} · {timeline_text(w, entry)}" for entry in card.timeline]
    return "\n".join(lines)


def timeline_text(w: Speaker, entry: TimelineEntry) -> str:
    d = entry.details
    by = d.get("by", "")
    texts = {
        "reported": lambda: w._("reported by {name}").format(name=by),
        "alerted": lambda: w._("alerted ({step}): {names}").format(
            step=step_name(w, d.get("step", "")), names=", ".join(d.get("names", []))
        ),
        "group_alerted": lambda: w._("posted to the duty room's group"),
        "step_empty": lambda: w._("nobody to alert as {step}; moved on").format(step=step_name(w, d.get("step", ""))),
        "unreachable": lambda: w._("could not reach {name}; skipped").format(name=d.get("name", "")),
        "chain_exhausted": lambda: w._("nobody acknowledged after the whole chain; administrators told"),
        "acknowledged": lambda: w._("acknowledged by {name}").format(name=by),
        "status": lambda: (
            w._("{name}: {status}").format(name=by, status=status_name(w, d.get("status", "")))
            + (f" — {d['note']}" if d.get("note") else "")
        ),
        "note": lambda: w._("note by {name}: {text}").format(name=by, text=d.get("text", "")),
        "media": lambda: w._("{name} added a photo or file").format(name=by),
        "reassigned": lambda: w._("{name} handed it to {assignee}").format(name=by, assignee=d.get("to", "")),
        "amended": lambda: w._("{name} added details").format(name=by),
        "reportable": lambda: w._("must be reported outside: {reasons}").format(
            reasons=reasons_text(w, d.get("reasons", []))
        ),
        "reminder": lambda: w._("outside report reminder ({hours} h left)").format(hours=d.get("hours", "")),
        "external_missed": lambda: w._("the outside report deadline passed; leaders told"),
        "marked_duplicate": lambda: w._("{name} marked it as a duplicate of {number}").format(
            name=by, number=d.get("of", "")
        ),
        "duplicate_joined": lambda: (
            w._("{number} (reported by {reporter}) is the same incident; linked by {name}").format(
                number=d.get("number", ""), reporter=d.get("reporter", "-"), name=by
            )
            + (f" — {d['text']}" if d.get("text") else "")
        ),
        "external_withdrawn": lambda: w._("the outside report deadline was withdrawn: {why}").format(
            why=withdrawal_text(w, d.get("why", ""))
        ),
        "reasons_withdrawn": lambda: w._("no longer reported outside because {reasons}: {why}").format(
            reasons=reasons_text(w, d.get("reasons", [])), why=withdrawal_text(w, d.get("why", ""))
        ),
        "external_filed": lambda: w._("{name} recorded the outside report to {body}, reference {reference}").format(
            name=by, body=d.get("body", ""), reference=d.get("reference", "")
        ),
    }
    render = texts.get(entry.action)
    return render() if render else entry.action
