"""Factories for real :class:`aiogram.types.Update` objects used in chat-level tests.

The updates look like what Telegram sends: a private chat whose id equals the user id
(unless ``chat_id`` is given), a ``bot_command`` entity on commands, a callback query
carrying the bot's own message, unix dates, and so on.  Feed them to a dispatcher with
``await dp.feed_update(bot, update)`` or push them into
:class:`tests.support.botapi_server.FakeBotApi` with ``server.push_update(update)``.

Example::

    factory = UpdateFactory()
    await dp.feed_update(bot, factory.command(1, "/start abc"))
    await dp.feed_update(bot, factory.callback(1, "approve:7", message_id=10))
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Iterator
from typing import Any

from aiogram.types import (
    CallbackQuery,
    Chat,
    Contact,
    Document,
    InlineKeyboardMarkup,
    Location,
    Message,
    MessageEntity,
    PhotoSize,
    Update,
    User,
    Voice,
)

BOT_ID = 42
"""Id of the fake bot (matches ``RecordingSession`` and tokens like ``"42:TEST"``)."""
BOT_USERNAME = "test_duty_bot"
"""Username of the fake bot, as returned by getMe of both fakes."""
BOT_FIRST_NAME = "Duty Desk Test Bot"
"""First name of the fake bot."""
DEFAULT_FIRST_NAME = "Tester"
DEFAULT_LANGUAGE = "zh-hans"


def chat_type_for(chat_id: int | str) -> str:
    """Guess the Telegram chat type from a chat id the way Telegram numbers chats.

    Positive ids are private chats, ``-100…`` ids are supergroups, other negative ids
    are basic groups and ``"@username"`` strings are channels.
    """
    if isinstance(chat_id, str):
        if chat_id.startswith("@"):
            return "channel"
        chat_id = int(chat_id)
    if chat_id > 0:
        return "private"
    if str(chat_id).startswith("-100"):
        return "supergroup"
    return "group"


def chat_dict(chat_id: int, *, first_name: str | None = None, username: str | None = None) -> dict[str, Any]:
    """Return a Bot API ``Chat`` JSON object for ``chat_id`` (see :func:`chat_type_for`)."""
    kind = chat_type_for(chat_id)
    chat: dict[str, Any] = {"id": chat_id, "type": kind}
    if kind == "private":
        chat["first_name"] = first_name or f"User {chat_id}"
    else:
        chat["title"] = f"Chat {chat_id}"
    if username:
        chat["username"] = username
    return chat


def bot_user_dict(bot_id: int = BOT_ID, username: str = BOT_USERNAME) -> dict[str, Any]:
    """Return the Bot API ``User`` JSON object of the fake bot (what getMe returns)."""
    return {
        "id": bot_id,
        "is_bot": True,
        "first_name": BOT_FIRST_NAME,
        "username": username,
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
    }


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (Telegram's unit for entity offsets)."""
    return len(text.encode("utf-16-le")) // 2


class UpdateFactory:
    """Build Telegram-shaped updates with increasing ``update_id`` and message ids.

    Every factory method returns a real :class:`aiogram.types.Update`.  Users are
    ``User(id=user_id, is_bot=False, first_name=..., language_code=...)``; the chat is the
    user's private chat unless ``chat_id`` is given (negative ids make group chats).
    """

    def __init__(
        self,
        *,
        first_update_id: int = 1,
        first_message_id: int = 1,
        bot_id: int = BOT_ID,
        bot_username: str = BOT_USERNAME,
    ) -> None:
        """Create a factory.

        :param first_update_id: ``update_id`` of the first update built.
        :param first_message_id: ``message_id`` of the first user message built.
        :param bot_id: id of the bot that "sent" the messages callback queries refer to.
        :param bot_username: username of that bot.
        """
        self._update_ids: Iterator[int] = itertools.count(first_update_id)
        self._message_ids: Iterator[int] = itertools.count(first_message_id)
        self._callback_ids: Iterator[int] = itertools.count(1)
        self._file_ids: Iterator[int] = itertools.count(1)
        self.bot_id = bot_id
        self.bot_username = bot_username

    # ------------------------------------------------------------------ building blocks
    @staticmethod
    def now() -> datetime.datetime:
        """Current time, timezone-aware and truncated to seconds like Telegram dates."""
        return datetime.datetime.now(datetime.UTC).replace(microsecond=0)

    def next_update_id(self) -> int:
        """Reserve and return the next ``update_id``."""
        return next(self._update_ids)

    def next_message_id(self) -> int:
        """Reserve and return the next user message id."""
        return next(self._message_ids)

    @staticmethod
    def user(
        user_id: int,
        *,
        first_name: str = DEFAULT_FIRST_NAME,
        language_code: str | None = DEFAULT_LANGUAGE,
        username: str | None = None,
    ) -> User:
        """A human Telegram user."""
        return User(
            id=user_id,
            is_bot=False,
            first_name=first_name,
            language_code=language_code,
            username=username,
        )

    def bot_user(self) -> User:
        """The bot itself as a :class:`User` (author of messages in callback queries)."""
        return User(id=self.bot_id, is_bot=True, first_name=BOT_FIRST_NAME, username=self.bot_username)

    @staticmethod
    def chat(chat_id: int, *, first_name: str = DEFAULT_FIRST_NAME) -> Chat:
        """A :class:`Chat` whose type follows from the id (see :func:`chat_type_for`)."""
        return Chat.model_validate(chat_dict(chat_id, first_name=first_name))

    def _file_id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._file_ids)}"

    def _wrap_message(self, message: Message) -> Update:
        return Update(update_id=self.next_update_id(), message=message)

    # ------------------------------------------------------------------ updates
    def message(
        self,
        user_id: int,
        text: str | None = None,
        *,
        first_name: str = DEFAULT_FIRST_NAME,
        language_code: str | None = DEFAULT_LANGUAGE,
        username: str | None = None,
        chat_id: int | None = None,
        photo: bool | str = False,
        document: bool | str = False,
        location: tuple[float, float] | None = None,
        caption: str | None = None,
        voice: bool | str = False,
        file_name: str = "report.pdf",
        mime_type: str = "application/pdf",
        entities: list[MessageEntity] | None = None,
        reply_to_message_id: int | None = None,
        message_id: int | None = None,
        contact: Contact | None = None,
    ) -> Update:
        """A ``message`` update sent by ``user_id``.

        :param text: message text (``None`` for pure media/location messages).
        :param chat_id: chat the message is in; defaults to the user's private chat.
        :param photo: ``True`` or a file id to attach a photo (two sizes, like Telegram).
        :param document: ``True`` or a file id to attach a document
            (``file_name``/``mime_type`` describe it).
        :param location: ``(latitude, longitude)`` to send a location.
        :param caption: media caption.
        :param voice: ``True`` or a file id to attach a voice note.
        :param entities: explicit entities for ``text``.
        :param reply_to_message_id: make it a reply to this message (sent by the bot).
        :param message_id: explicit message id (otherwise the next one of the factory).
        :param contact: a shared contact (see :meth:`contact`).
        """
        sender = self.user(user_id, first_name=first_name, language_code=language_code, username=username)
        chat = self.chat(chat_id if chat_id is not None else user_id, first_name=first_name)
        fields: dict[str, Any] = {}
        if text is not None:
            fields["text"] = text
            if entities:
                fields["entities"] = entities
        if caption is not None:
            fields["caption"] = caption
        if photo:
            file_id = photo if isinstance(photo, str) else self._file_id("photo")
            fields["photo"] = [
                PhotoSize(file_id=f"{file_id}-s", file_unique_id=f"{file_id}-s-u", width=90, height=67),
                PhotoSize(file_id=file_id, file_unique_id=f"{file_id}-u", width=1280, height=960),
            ]
        if document:
            file_id = document if isinstance(document, str) else self._file_id("document")
            fields["document"] = Document(
                file_id=file_id,
                file_unique_id=f"{file_id}-u",
                file_name=file_name,
                mime_type=mime_type,
                file_size=1024,
            )
        if voice:
            file_id = voice if isinstance(voice, str) else self._file_id("voice")
            fields["voice"] = Voice(file_id=file_id, file_unique_id=f"{file_id}-u", duration=3, mime_type="audio/ogg")
        if contact is not None:
            fields["contact"] = contact
        if location is not None:
            fields["location"] = Location(latitude=location[0], longitude=location[1])
        if reply_to_message_id is not None:
            fields["reply_to_message"] = Message(
                message_id=reply_to_message_id,
                date=self.now(),
                chat=chat,
                from_user=self.bot_user(),
                text="...",
            )
        message = Message(
            message_id=message_id if message_id is not None else self.next_message_id(),
            date=self.now(),
            chat=chat,
            from_user=sender,
            **fields,
        )
        return self._wrap_message(message)

    def command(
        self,
        user_id: int,
        text: str,
        *,
        first_name: str = DEFAULT_FIRST_NAME,
        language_code: str | None = DEFAULT_LANGUAGE,
        username: str | None = None,
        chat_id: int | None = None,
    ) -> Update:
        """A command message such as ``"/start abc"`` or ``"/report@test_duty_bot"``.

        A ``bot_command`` entity covering the command word (including any ``@mention``)
        is set at offset 0, exactly as Telegram does.
        """
        if not text.startswith("/"):
            raise ValueError(f"a command must start with '/': {text!r}")
        command_word = text.split(maxsplit=1)[0]
        entity = MessageEntity(type="bot_command", offset=0, length=utf16_len(command_word))
        return self.message(
            user_id,
            text,
            first_name=first_name,
            language_code=language_code,
            username=username,
            chat_id=chat_id,
            entities=[entity],
        )

    def callback(
        self,
        user_id: int,
        data: str,
        *,
        message_id: int = 1,
        chat_id: int | None = None,
        message_text: str = "Choose an option",
        reply_markup: InlineKeyboardMarkup | None = None,
        first_name: str = DEFAULT_FIRST_NAME,
        language_code: str | None = DEFAULT_LANGUAGE,
        username: str | None = None,
        callback_id: str | None = None,
    ) -> Update:
        """A ``callback_query`` update: ``user_id`` pressed an inline button with ``data``.

        The query carries the bot's message (``message_id``, ``message_text``,
        ``reply_markup``) in ``chat_id`` (default: the user's private chat), so handlers can
        call ``callback.message.edit_text(...)``.
        """
        sender = self.user(user_id, first_name=first_name, language_code=language_code, username=username)
        chat = self.chat(chat_id if chat_id is not None else user_id, first_name=first_name)
        message = Message(
            message_id=message_id,
            date=self.now(),
            chat=chat,
            from_user=self.bot_user(),
            text=message_text,
            reply_markup=reply_markup,
        )
        query = CallbackQuery(
            id=callback_id or f"cbq-{next(self._callback_ids)}",
            from_user=sender,
            chat_instance=f"instance-{chat.id}",
            data=data,
            message=message,
        )
        return Update(update_id=self.next_update_id(), callback_query=query)

    def contact(
        self,
        user_id: int,
        phone_number: str = "+8613800000000",
        *,
        contact_user_id: int | None = None,
        first_name: str = DEFAULT_FIRST_NAME,
        language_code: str | None = DEFAULT_LANGUAGE,
        chat_id: int | None = None,
    ) -> Update:
        """A contact message; by default the user shares their own contact
        (``contact.user_id == user_id``), as a ``request_contact`` button does."""
        contact = Contact(
            phone_number=phone_number,
            first_name=first_name,
            user_id=user_id if contact_user_id is None else contact_user_id,
        )
        return self.message(
            user_id, first_name=first_name, language_code=language_code, chat_id=chat_id, contact=contact
        )

    def location(
        self,
        user_id: int,
        latitude: float = 31.2304,
        longitude: float = 121.4737,
        *,
        first_name: str = DEFAULT_FIRST_NAME,
        language_code: str | None = DEFAULT_LANGUAGE,
        chat_id: int | None = None,
    ) -> Update:
        """A location message from ``user_id``."""
        return self.message(
            user_id,
            first_name=first_name,
            language_code=language_code,
            chat_id=chat_id,
            location=(latitude, longitude),
        )


def update_to_dict(update: Update | dict[str, Any]) -> dict[str, Any]:
    """Serialize an update the way Telegram sends it (``from`` alias, unix dates, no nulls)."""
    if isinstance(update, dict):
        return update
    return update.model_dump(mode="json", by_alias=True, exclude_none=True)
