"""How a form reads, in a given language: for the drafter's summary sheet, the reviewers' cards
(with the pre-check flags, the checklist and the changes since the version they saw) and the
notices the drafter gets. ``t`` translates a message id into the reader's language."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.i18n import format_moment
from bot.outgoing.speaker import Translate
from bot.policy import Policy
from bot.services.errors import N_
from bot.services.publication_diff import version_changes
from bot.services.publication_draft import Draft, Flag

CARD_BODY_LIMIT = 2400  # a card also carries the flags and the changes: Telegram takes 4,096 characters
CHANGES_LIMIT = 1200

KIND_NAMES = {
    "new": N_("New item"),
    "change": N_("Change to published item #{target}"),
    "takedown": N_("Take-down of published item #{target}"),
}
STATE_NAMES = {
    "review": N_("in review"),
    "returned": N_("returned for revision"),
    "rejected": N_("rejected"),
    "approved": N_("approved for publication"),
    "published": N_("published"),
    "taken_down": N_("taken down"),
    "applied": N_("carried out"),
    "withdrawn": N_("withdrawn"),
}
ACTION_NAMES = {"published": N_("published"), "changed": N_("changed"), "removed": N_("removed")}
FIELD_NAMES = {
    "title": N_("Title"),
    "body": N_("Text"),
    "formatting": N_("Text formatting"),
    "attachments": N_("Files"),
    "channels": N_("Channels"),
    "audience": N_("Audience"),
    "quantity": N_("Quantity"),
    "planned_at": N_("Planned publication"),
    "embargo_until": N_("Embargo until"),
    "disclosure": N_("Regulatory disclosure"),
    "designated_first": N_("Designated platform first"),
    "note": N_("Drafter's note"),
}


class Renderer:
    def __init__(self, policy: Policy) -> None:
        self._policy = policy

    def moment(self, moment: datetime | None, t: Translate, language: str, empty: str) -> str:
        return format_moment(moment, language, self._policy.organisation.zone) if moment else t(empty)

    def channel_names(self, codes: list[str], language: str) -> str:
        names = {channel.code: channel.name.get(language) for channel in self._policy.publication.channels}
        return ", ".join(names.get(code, code) for code in codes)

    def kind(self, kind: str, target_id: int | None, t: Translate) -> str:
        return t(KIND_NAMES[kind]).format(target=target_id)

    def state(self, state: str, t: Translate) -> str:
        return t(STATE_NAMES.get(state, state))

    def summary(
        self,
        draft: Draft,
        kind: str,
        t: Translate,
        language: str,
        *,
        body_limit: int | None = None,
        shortened: str = N_("(shortened here; open the form in /publications for the whole text)"),
    ) -> str:
        """Every field of the form, the pre-check flags (D3) and the checklist (D4)."""
        if kind == "takedown":
            lines = [t(N_("Title: {title}")).format(title=draft.title)]
            lines.append(t(N_("Reason: {reason}")).format(reason=draft.note or "—"))
            lines.append(t(N_("Channels: {channels}")).format(channels=self.channel_names(draft.channels, language)))
            lines.append(self._planned(draft, t, language))
            return "\n".join(lines)
        body = draft.body
        if body_limit is not None and len(body) > body_limit:
            body = body[:body_limit] + "…\n" + t(shortened)
        lines = [t(N_("Title: {title}")).format(title=draft.title or "—")]
        lines.append(t(N_("Text:")) + ("\n" + body if body else " —"))
        if draft.attachments:
            names = ", ".join(item["name"] for item in draft.attachments)
            lines.append(t(N_("Files ({count}): {names}")).format(count=len(draft.attachments), names=names))
        lines.append(t(N_("Channels: {channels}")).format(channels=self.channel_names(draft.channels, language) or "—"))
        lines.append(t(N_("Audience: {audience}")).format(audience=draft.audience or "—"))
        lines.append(t(N_("Quantity: {quantity}")).format(quantity=draft.quantity or "—"))
        lines.append(self._planned(draft, t, language))
        if draft.embargo_until:
            lines.append(
                t(N_("Embargo: nothing appears anywhere before {moment}")).format(
                    moment=self.moment(draft.embargo_until, t, language, "")
                )
            )
        if draft.disclosure:
            lines.append(t(N_("Regulatory disclosure: reviewed externally before publication")))
        if draft.designated_first:
            designated = [c.code for c in self._policy.publication.channels if c.designated]
            lines.append(
                t(N_("Designated platform first: {channel}, before any other channel")).format(
                    channel=self.channel_names(designated, language)
                )
            )
        return "\n".join(lines)

    def _planned(self, draft: Draft, t: Translate, language: str) -> str:
        return t(N_("Planned: {moment}")).format(
            moment=self.moment(draft.planned_at, t, language, N_("as soon as approved"))
        )

    def flags(self, flags: list[Flag] | list[dict[str, Any]], t: Translate) -> str:
        """The exaggeration pre-check's findings (D3), one per line with the text around them."""
        if not flags:
            return t(N_("Pre-check: no exaggerated advertising words found."))
        items = [flag if isinstance(flag, Flag) else Flag(**flag) for flag in flags]
        lines = [t(N_("⚠️ Pre-check: {count} possibly exaggerated words (D3):")).format(count=len(items))]
        lines += [f"• {flag.word}: {flag.context}" for flag in items]
        return "\n".join(lines)

    def checklist(self, confirmed: list[str], t: Translate) -> str:
        """Whether the drafter confirmed every kind of prohibited content is absent (D4)."""
        total = len(self._policy.publication.prohibited_checklist)
        done = len({item.code for item in self._policy.publication.prohibited_checklist} & set(confirmed))
        if done == total:
            return t(N_("✅ Prohibited-content checklist: the drafter confirmed all {total} items.")).format(
                total=total
            )
        return t(N_("☐ Prohibited-content checklist: {done} of {total} items ticked.")).format(done=done, total=total)

    def changes(self, old: Draft, new: Draft, t: Translate, language: str) -> str:
        """What changed between two versions, field by field; only the changes."""
        changes = version_changes(_fields(old), _fields(new))
        lines: list[str] = []
        for name, change in changes.items():
            label = t(FIELD_NAMES[name])
            if name in ("title", "body", "audience", "note"):
                lines.append(f"{label}:")
                lines += [f"  {line}" for line in change]
            elif name == "formatting":
                lines.append(t(N_("{field}: changed")).format(field=label))
            elif name == "channels":
                added, removed = change
                lines.append(
                    self._added_removed(
                        label, self.channel_names(added, language), self.channel_names(removed, language), t
                    )
                )
            elif name == "attachments":
                added, removed = change
                lines.append(
                    self._added_removed(
                        label, ", ".join(i["name"] for i in added), ", ".join(i["name"] for i in removed), t
                    )
                )
            else:
                before, after = (self._value(name, value, t, language) for value in change)
                lines.append(f"{label}: {before} → {after}")
        text = "\n".join(lines)
        if len(text) > CHANGES_LIMIT:
            text = text[:CHANGES_LIMIT] + "…"
        return text

    @staticmethod
    def _added_removed(label: str, added: str, removed: str, t: Translate) -> str:
        parts = []
        if added:
            parts.append(t(N_("added {items}")).format(items=added))
        if removed:
            parts.append(t(N_("removed {items}")).format(items=removed))
        return f"{label}: " + "; ".join(parts)

    def _value(self, name: str, value: Any, t: Translate, language: str) -> str:
        if isinstance(value, bool):
            return t(N_("yes")) if value else t(N_("no"))
        if isinstance(value, datetime):
            return self.moment(value, t, language, "")
        if value is None:
            return t(N_("as soon as approved")) if name == "planned_at" else "—"
        return str(value)


def _fields(draft: Draft) -> dict[str, Any]:
    return {name: getattr(draft, name) for name in Draft.__dataclass_fields__}
