"""An in-memory aiogram session: records every Bot API call and answers it like Telegram.

No network is involved.  Results are built from the method's own fields and validated
by aiogram exactly like a real response (``BaseSession.check_response``), so returned
``Message`` objects are bound to the bot and their shortcuts (``message.edit_text``...)
work.  Errors are produced the same way, so aiogram raises its real exception classes.

Example::

    session = RecordingSession()
    bot = Bot("42:TEST", session=session)
    msg = await bot.send_message(1, "hi")
    assert session.texts(1) == ["hi"] and msg.message_id == 1
    session.fail_next("sendMessage", 1, "blocked")   # next send to chat 1 -> TelegramForbiddenError
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import AsyncGenerator, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

from aiogram.client.session.base import BaseSession
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import InputFile, TelegramObject

from tests.support.updates import BOT_ID, BOT_USERNAME, bot_user_dict, chat_dict

if TYPE_CHECKING:
    from aiogram import Bot

MethodFilter = str | type[TelegramMethod[Any]] | tuple[str | type[TelegramMethod[Any]], ...]

_MEDIA_SENDS = {
    "sendphoto": "photo",
    "senddocument": "document",
    "sendvideo": "video",
    "sendvoice": "voice",
    "sendaudio": "audio",
    "sendanimation": "animation",
}

_ERRORS: dict[str, tuple[int, str]] = {
    "blocked": (403, "Forbidden: bot was blocked by the user"),
    "chat_not_found": (400, "Bad Request: chat not found"),
    "server_error": (500, "Internal Server Error"),
    "not_modified": (
        400,
        "Bad Request: message is not modified: specified new message content and reply markup "
        "are exactly the same as a current content and reply markup of the message",
    ),
    "message_not_found": (400, "Bad Request: message to edit not found"),
}


def normalize_method_name(name: str) -> str:
    """``"sendMessage"``, ``"send_message"`` and ``"SendMessage"`` all become ``"sendmessage"``."""
    return name.replace("_", "").lower()


def _method_name(method: TelegramMethod[Any]) -> str:
    return normalize_method_name(method.__api_method__)


def _matches(method: TelegramMethod[Any], wanted: MethodFilter | None) -> bool:
    if wanted is None:
        return True
    options = wanted if isinstance(wanted, tuple) else (wanted,)
    for option in options:
        if isinstance(option, str):
            if option == "*" or normalize_method_name(option) == _method_name(method):
                return True
        elif isinstance(method, option):
            return True
    return False


def _dump(obj: Any) -> Any:
    """JSON-ready representation of a TelegramObject (``None`` stays ``None``)."""
    if isinstance(obj, TelegramObject):
        return obj.model_dump(mode="json", by_alias=True, exclude_none=True)
    return obj


@dataclass
class _Fault:
    method: str
    chat_id: int | str | None
    error: str
    retry_after: int = 0

    def matches(self, method: TelegramMethod[Any]) -> bool:
        if self.method != "*" and self.method != _method_name(method):
            return False
        return self.chat_id is None or getattr(method, "chat_id", None) == self.chat_id


@dataclass
class RecordedCall:
    """One ``make_request`` call: the method object and its result or raised error."""

    method: TelegramMethod[Any]
    result: Any = None
    error: Exception | None = None
    time: float = field(default_factory=time.monotonic)

    @property
    def ok(self) -> bool:
        """Whether the call succeeded."""
        return self.error is None


class RecordingSession(BaseSession):
    """A :class:`BaseSession` that never touches the network.

    * ``requests`` – every method object passed to ``make_request`` (also failed ones);
    * ``calls`` – the same as :class:`RecordedCall` objects with result / error;
    * ``sent(chat_id=None, method=None)`` – successfully answered method objects;
    * ``texts(chat_id=None)`` – text / caption of successful calls (sends *and* edits);
    * ``last(chat_id=None, method=None)`` – last successful method object or ``None``;
    * ``fail_next(...)`` / ``block(chat_id)`` – fault injection; ``clear()`` – forget records.
    """

    def __init__(
        self,
        *,
        bot_id: int = BOT_ID,
        bot_username: str = BOT_USERNAME,
        strict_edits: bool = False,
        **kwargs: Any,
    ) -> None:
        """Create the session.

        :param bot_id: id returned by getMe and used as the author of sent messages.
        :param bot_username: username returned by getMe.
        :param strict_edits: if true, editing or deleting a message this session never
            produced fails with "message to edit not found" like Telegram; by default such
            messages are created on the fly (handy for callbacks built by ``UpdateFactory``).
        :param kwargs: passed to :class:`BaseSession`.
        """
        super().__init__(**kwargs)
        self.bot_id = bot_id
        self.bot_username = bot_username
        self.strict_edits = strict_edits
        self.calls: list[RecordedCall] = []
        self.blocked: set[int | str] = set()
        self._faults: list[_Fault] = []
        self._message_ids: dict[int | str, Iterator[int]] = {}
        self._messages: dict[tuple[int | str, int], dict[str, Any]] = {}
        self._file_ids: Iterator[int] = itertools.count(1)
        self._files: dict[str, tuple[str, bytes]] = {}
        self._paths: dict[str, str] = {}

    # ------------------------------------------------------------------ queries
    @property
    def requests(self) -> list[TelegramMethod[Any]]:
        """All method objects passed to the session, in call order (failed ones too)."""
        return [call.method for call in self.calls]

    @property
    def failures(self) -> list[RecordedCall]:
        """Calls that raised (injected faults, blocked chats, not-modified edits...)."""
        return [call for call in self.calls if not call.ok]

    def sent(self, chat_id: int | str | None = None, method: MethodFilter | None = None) -> list[TelegramMethod[Any]]:
        """Successfully answered method objects, optionally filtered.

        :param chat_id: keep only methods whose ``chat_id`` field equals this.
        :param method: an API name (``"sendMessage"`` / ``"send_message"``), a method class
            (``SendMessage``) or a tuple of them.
        """
        return [
            call.method
            for call in self.calls
            if call.ok
            and (chat_id is None or getattr(call.method, "chat_id", None) == chat_id)
            and _matches(call.method, method)
        ]

    def texts(self, chat_id: int | str | None = None, *, include_edits: bool = True) -> list[str]:
        """Text / caption strings of successful calls to ``chat_id``, in order.

        Media groups contribute the captions of their items.  Edits (editMessageText,
        editMessageCaption) are included unless ``include_edits`` is false.
        """
        result: list[str] = []
        for method in self.sent(chat_id):
            if not hasattr(method, "chat_id"):
                continue
            name = _method_name(method)
            if not include_edits and name.startswith("edit"):
                continue
            if name == "sendmediagroup":
                result.extend(item.caption for item in method.media if item.caption)  # type: ignore[attr-defined]
                continue
            text = getattr(method, "text", None) or getattr(method, "caption", None)
            if isinstance(text, str):
                result.append(text)
        return result

    def last(self, chat_id: int | str | None = None, method: MethodFilter | None = None) -> TelegramMethod[Any] | None:
        """The last successful method object (see :meth:`sent`), or ``None``."""
        sent = self.sent(chat_id, method)
        return sent[-1] if sent else None

    def message(self, chat_id: int | str, message_id: int) -> dict[str, Any] | None:
        """Current Bot API JSON of a message this session produced (after edits), if any."""
        return self._messages.get((chat_id, message_id))

    def add_file(self, file_id: str, data: bytes, path: str | None = None) -> None:
        """Make ``getFile(file_id)`` report ``path`` and ``bot.download(file_id)`` return ``data``."""
        path = path or f"files/{file_id}"
        self._files[file_id] = (path, data)
        self._paths[path] = file_id

    def clear(self) -> None:
        """Forget recorded calls.  Pending faults, blocked chats and message ids are kept."""
        self.calls.clear()

    # ------------------------------------------------------------------ fault injection
    def fail_next(
        self,
        method_name: str,
        chat_id: int | str | None = None,
        error: str | None = None,
        *,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` matching calls fail.

        :param method_name: API method (``"sendMessage"``, ``"send_message"``) or ``"*"``.
        :param chat_id: only calls to this chat; ``None`` matches any call.
        :param error: ``"blocked"`` (TelegramForbiddenError), ``"chat_not_found"``
            (TelegramBadRequest), ``"retry_after:N"`` (TelegramRetryAfter),
            ``"server_error"`` (TelegramServerError), ``"network"`` (TelegramNetworkError),
            also ``"not_modified"`` / ``"message_not_found"`` (TelegramBadRequest).
        """
        if error is None:
            raise ValueError("fail_next() needs an error, e.g. 'blocked' or 'retry_after:5'")
        retry_after = 0
        if error.startswith("retry_after:"):
            retry_after = int(error.split(":", 1)[1])
            error = "retry_after"
        elif error not in _ERRORS and error != "network":
            known = ", ".join([*_ERRORS, "network", "retry_after:N"])
            raise ValueError(f"unknown error {error!r}; use one of {known}")
        name = method_name if method_name == "*" else normalize_method_name(method_name)
        for _ in range(times):
            self._faults.append(_Fault(name, chat_id, error, retry_after))

    def clear_faults(self) -> None:
        """Telegram works again: drop the faults not yet used."""
        self._faults.clear()

    def block(self, chat_id: int | str) -> None:
        """Every later call with this ``chat_id`` fails with "bot was blocked by the user"."""
        self.blocked.add(chat_id)

    def unblock(self, chat_id: int | str) -> None:
        """Undo :meth:`block`."""
        self.blocked.discard(chat_id)

    # ------------------------------------------------------------------ BaseSession API
    async def close(self) -> None:
        """Nothing to close."""

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,  # noqa: ASYNC109 - signature fixed by BaseSession
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        """Serve ``bot.download(...)``: bytes registered with :meth:`add_file`, otherwise
        the placeholder ``b"fake-file:<file_id>"``."""
        # URL is the api's file_url(token, path): ".../file/bot<token>/<path>"
        path = url.split("/file/bot", 1)[-1].split("/", 1)[-1]
        file_id = self._paths.get(path, path.removeprefix("files/"))
        data = self._files.get(file_id, (path, f"fake-file:{file_id}".encode()))[1]
        for start in range(0, len(data), chunk_size):
            yield data[start : start + chunk_size]

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 - signature fixed by BaseSession
    ) -> TelegramType:
        """Record ``method`` and return a Telegram-like result (or raise an injected error)."""
        call = RecordedCall(method=method)
        self.calls.append(call)
        try:
            call.result = self._answer(bot, method)
        except Exception as exc:
            call.error = exc
            raise
        return call.result  # type: ignore[no-any-return]

    # ------------------------------------------------------------------ internals
    def _answer(self, bot: Bot, method: TelegramMethod[TelegramType]) -> TelegramType:
        fault = next((f for f in self._faults if f.matches(method)), None)
        if fault is not None:
            self._faults.remove(fault)
            self._raise(bot, method, fault.error, fault.retry_after)
        if getattr(method, "chat_id", None) in self.blocked:
            self._raise(bot, method, "blocked")
        result = self._build_result(bot, method)
        return self._respond(bot, method, {"ok": True, "result": result}, 200)

    def _respond(
        self, bot: Bot, method: TelegramMethod[TelegramType], payload: dict[str, Any], status: int
    ) -> TelegramType:
        response = self.check_response(bot, method, status, json.dumps(payload))
        return response.result  # type: ignore[return-value]

    def _raise(self, bot: Bot, method: TelegramMethod[Any], error: str, retry_after: int = 0) -> NoReturn:
        if error == "network":
            raise TelegramNetworkError(method=method, message="ClientConnectorError: injected network failure")
        if error == "retry_after":
            payload = {
                "ok": False,
                "error_code": 429,
                "description": f"Too Many Requests: retry after {retry_after}",
                "parameters": {"retry_after": retry_after},
            }
            self._respond(bot, method, payload, 429)
        code, description = _ERRORS[error]
        self._respond(bot, method, {"ok": False, "error_code": code, "description": description}, code)
        raise AssertionError(f"check_response accepted an error response for {error!r}")  # pragma: no cover

    def _new_file(self, value: Any, prefix: str) -> str:
        if isinstance(value, str) and not value.startswith(("http://", "https://", "attach://")):
            return value
        return f"{prefix}-{next(self._file_ids)}"

    def _media(self, kind: str, value: Any) -> Any:
        file_id = self._new_file(value, kind)
        base = {"file_id": file_id, "file_unique_id": f"{file_id}-u"}
        if kind == "photo":
            return [
                {"file_id": f"{file_id}-s", "file_unique_id": f"{file_id}-s-u", "width": 90, "height": 67},
                {**base, "width": 1280, "height": 960},
            ]
        if kind == "document":
            name = value.filename if isinstance(value, InputFile) else None
            return {**base, "file_name": name or "document"}
        if kind in ("video", "animation"):
            return {**base, "width": 640, "height": 480, "duration": 1}
        return {**base, "duration": 1}

    def _new_message(self, chat_id: int | str, content: dict[str, Any]) -> dict[str, Any]:
        counter = self._message_ids.setdefault(chat_id, itertools.count(1))
        message_id = next(counter)
        message = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": chat_dict(chat_id) if isinstance(chat_id, int) else {"id": -1, "type": "channel"},
            "from": bot_user_dict(self.bot_id, self.bot_username),
            **{key: value for key, value in content.items() if value is not None},
        }
        self._messages[(chat_id, message_id)] = message
        return message

    @staticmethod
    def _inline_markup(method: TelegramMethod[Any]) -> dict[str, Any] | None:
        markup = _dump(getattr(method, "reply_markup", None))
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            return markup
        return None

    def _edit(self, bot: Bot, method: TelegramMethod[Any], changes: dict[str, Any]) -> Any:
        if getattr(method, "inline_message_id", None):
            return True
        chat_id, message_id = method.chat_id, method.message_id  # type: ignore[attr-defined]
        current = self._messages.get((chat_id, message_id))
        if current is None:
            if self.strict_edits:
                self._raise(bot, method, "message_not_found")
            current = {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": chat_dict(chat_id),
                "from": bot_user_dict(self.bot_id, self.bot_username),
            }
            self._messages[(chat_id, message_id)] = current
        updated = dict(current)
        for key, value in changes.items():
            if value is None:
                updated.pop(key, None)
            else:
                updated[key] = value
        if {k: v for k, v in updated.items() if k != "edit_date"} == {
            k: v for k, v in current.items() if k != "edit_date"
        }:
            self._raise(bot, method, "not_modified")
        updated["edit_date"] = int(time.time())
        self._messages[(chat_id, message_id)] = updated
        return updated

    def _build_result(self, bot: Bot, method: TelegramMethod[Any]) -> Any:
        name = _method_name(method)
        m: Any = method
        if name == "getme":
            return bot_user_dict(self.bot_id, self.bot_username)
        if name == "sendmessage":
            return self._new_message(m.chat_id, {"text": m.text, "reply_markup": self._inline_markup(m)})
        if name in _MEDIA_SENDS:
            kind = _MEDIA_SENDS[name]
            content = {
                kind: self._media(kind, getattr(m, kind)),
                "caption": m.caption,
                "reply_markup": self._inline_markup(m),
            }
            return self._new_message(m.chat_id, content)
        if name == "sendlocation":
            location = {"latitude": m.latitude, "longitude": m.longitude}
            return self._new_message(m.chat_id, {"location": location, "reply_markup": self._inline_markup(m)})
        if name == "sendcontact":
            contact = {"phone_number": m.phone_number, "first_name": m.first_name}
            return self._new_message(m.chat_id, {"contact": contact})
        if name == "sendmediagroup":
            group_id = f"group-{next(self._file_ids)}"
            return [
                self._new_message(
                    m.chat_id,
                    {
                        item.type: self._media(item.type, item.media),
                        "caption": item.caption,
                        "media_group_id": group_id,
                    },
                )
                for item in m.media
            ]
        if name == "forwardmessage":
            original = self._messages.get((m.from_chat_id, m.message_id), {})
            content = {k: v for k, v in original.items() if k not in ("message_id", "date", "chat", "from")}
            return self._new_message(m.chat_id, content or {"text": ""})
        if name == "copymessage":
            original = self._messages.get((m.from_chat_id, m.message_id), {})
            content = {k: v for k, v in original.items() if k not in ("message_id", "date", "chat", "from")}
            return {"message_id": self._new_message(m.chat_id, content or {"text": ""})["message_id"]}
        if name == "editmessagetext":
            return self._edit(bot, m, {"text": m.text, "reply_markup": self._inline_markup(m)})
        if name == "editmessagecaption":
            return self._edit(bot, m, {"caption": m.caption, "reply_markup": self._inline_markup(m)})
        if name == "editmessagereplymarkup":
            return self._edit(bot, m, {"reply_markup": self._inline_markup(m)})
        if name == "getfile":
            path, data = self._files.get(m.file_id, (f"files/{m.file_id}", b""))
            result = {"file_id": m.file_id, "file_unique_id": f"{m.file_id}-u", "file_path": path}
            return {**result, "file_size": len(data)} if data else result
        if name == "getwebhookinfo":
            return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
        if name == "deletemessage":
            if self._messages.pop((m.chat_id, m.message_id), None) is None and self.strict_edits:
                payload = {"ok": False, "error_code": 400, "description": "Bad Request: message to delete not found"}
                self._respond(bot, m, payload, 400)
            return True
        if method.__returning__ is bool:
            return True
        raise NotImplementedError(
            f"RecordingSession does not know how to answer {method.__api_method__!r} "
            f"(returns {method.__returning__!r}); add a branch for it to "
            "RecordingSession._build_result in tests/support/recording_session.py"
        )
