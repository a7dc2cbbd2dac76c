"""Messages the deadlines flow queues for other members, each in the recipient's own language."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from bot.outgoing.cards import Actions
from bot.outgoing.deadlines import extension_actions, item_actions
from bot.services.deadlines.people import People
from bot.services.deadlines.views import DeadlineTexts, DeadlineView
from bot.services.messages import queue_file, queue_text
from storage.deadlines_models import DeadlineInstance
from storage.models import Member
from storage.uow import UnitOfWork

UNREACHABLE_HOOK = "deadline_unreachable"
Render = Callable[[str], str]


class Notices:
    def __init__(self, texts: DeadlineTexts, people: People) -> None:
        self.texts = texts
        self._people = people

    async def tell(
        self,
        uow: UnitOfWork,
        now: datetime,
        members: Iterable[Member],
        key: str,
        render: Render,
        actions: Callable[[str], Actions] | None = None,
        ref: str | None = None,
    ) -> None:
        """Queue ``render(language)`` for each member; ``key`` makes every send idempotent."""
        for member in members:
            language = self._people.language(member)
            await queue_text(
                uow,
                now,
                key=f"{key}:{member.id}",
                chat_id=member.telegram_id,
                text=render(language),
                actions=actions(language) if actions else (),
                ref=ref,
                on_failure=UNREACHABLE_HOOK if ref else None,
            )

    async def send_photo(
        self, uow: UnitOfWork, now: datetime, members: Iterable[Member], key: str, render: Callable[[str], bytes]
    ) -> None:
        """Queue a PNG drawn per language (once for each language among the members)."""
        drawn: dict[str, bytes] = {}
        for member in members:
            language = self._people.language(member)
            if language not in drawn:
                drawn[language] = render(language)
            await queue_file(
                uow, now, key=f"{key}:{member.id}", chat_id=member.telegram_id, data=drawn[language],
                filename="timeliness.png", as_photo=True,
            )  # fmt: skip

    async def tell_owners(
        self, uow: UnitOfWork, now: datetime, row: DeadlineInstance, view: DeadlineView, key: str, render: Render
    ) -> list[Member]:
        """Tell the instance's owners, with Done and "Need more time" under the message; returns them.
        Undeliverable messages to owners are reported to their department head (``UNREACHABLE_HOOK``)."""
        owners = await self._people.owners(uow, row)
        await self.tell(uow, now, owners, key, render, self.item_buttons(view), ref=f"deadline:{row.id}")
        return owners

    def item_buttons(self, view: DeadlineView) -> Callable[[str], Actions]:
        gettext = self.texts.gettext
        return lambda lang: item_actions(view.id, gettext("✅ Done", lang), gettext("⏳ Need more time", lang))

    def extension_buttons(self, view: DeadlineView) -> Callable[[str], Actions]:
        gettext = self.texts.gettext
        return lambda lang: extension_actions(view.id, gettext("Grant more time", lang), gettext("Decline", lang))

    def render(self, view: DeadlineView, msgid: str, **params: object) -> Render:
        """``msgid`` (marked with N_) about an instance, in each recipient's language."""
        return lambda language: self.texts.gettext(msgid, language, **params, **self.about(view, language))

    def about(self, view: DeadlineView, language: str) -> dict[str, str]:
        """The placeholders every message about an instance uses."""
        return {
            "name": self.texts.name(view.code, language),
            "period": self.texts.period(view, language),
            "due": self.texts.moment(view.effective_due, language),
            "department": self.texts.department(view.department, language),
        }

    @staticmethod
    def names(members: Iterable[Member]) -> str:
        return ", ".join(member.name for member in members) or "—"
