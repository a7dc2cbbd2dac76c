"""A fake Telegram Bot API server (aiohttp) for end-to-end tests and benchmarks.

It speaks the HTTP protocol of ``api.telegram.org`` as aiogram's ``AiohttpSession`` uses it:
``POST /bot{token}/{method}`` with urlencoded or multipart form fields (complex values are
JSON strings, files are multipart parts referenced as ``attach://name``), answering
``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": ..., "description": ...}``;
and ``GET /file/bot{token}/{file_path}`` for downloads.

Example::

    async with FakeBotApi() as server:
        bot = Bot("42:TEST", session=AiohttpSession(api=TelegramAPIServer.from_base(server.base_url)))
        server.push_update(UpdateFactory().command(1, "/start"))
        ...  # run dp.start_polling(bot) in a task
        await server.wait_for(lambda s: s.texts(1), timeout=5)
        server.inject("sendMessage", "429:3")     # next sendMessage -> TelegramRetryAfter(3)
        assert server.duplicates() == []

Several bot processes can share one server and be told apart: give each its own base URL
``f"{server.base_url}/{name}"`` (``POST /{name}/bot{token}/{method}``); their requests and deliveries
carry ``instance=name``. Like Telegram, a getUpdates arriving while another one of the same token is
still pending ends the older one with ``409 Conflict: terminated by other getUpdates request`` (the
newer one goes on); each such moment is in ``server.conflicts`` (issue 13).
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import itertools
import json
import math
import mimetypes
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import aiohttp
from aiogram.types import Update
from aiohttp import web

from tests.support.updates import BOT_USERNAME, bot_user_dict, chat_dict, update_to_dict

ChatId = int | str

# Form fields that are plain strings on the wire and must not be JSON-decoded even when
# they look like numbers or JSON ("text": "123" stays the string "123").
_STRING_FIELDS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "url",
        "secret_token",
        "file_id",
        "emoji",
        "business_connection_id",
        "action",
        "title",
        "description",
        "short_description",
        "phone_number",
        "first_name",
        "last_name",
        "vcard",
        "address",
        "foursquare_id",
        "foursquare_type",
        "google_place_id",
        "google_place_type",
        "question",
        "name",
        "language_code",
        "ip_address",
        "message_effect_id",
        "photo",
        "document",
        "video",
        "voice",
        "audio",
        "animation",
        "sticker",
        "video_note",
        "thumbnail",
        "certificate",
        "data",
        "query",
        "offset_text",
        "switch_pm_text",
        "switch_pm_parameter",
        "cache_key",
    }
)

_SEND_METHODS = frozenset(
    {
        "sendmessage",
        "sendphoto",
        "senddocument",
        "sendlocation",
        "sendmediagroup",
        "sendvideo",
        "sendvoice",
        "sendaudio",
        "sendanimation",
        "sendcontact",
        "sendvenue",
        "sendsticker",
        "forwardmessage",
        "copymessage",
    }
)
_EDIT_METHODS = frozenset({"editmessagetext", "editmessagecaption", "editmessagereplymarkup"})
_MEDIA_SENDS = {
    "sendphoto": "photo",
    "senddocument": "document",
    "sendvideo": "video",
    "sendvoice": "voice",
    "sendaudio": "audio",
    "sendanimation": "animation",
    "sendsticker": "sticker",
}

# What Telegram answers a pending getUpdates when a newer one of the same token arrives (issue 13).
TERMINATED_BY_OTHER_POLL = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)

_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)

_CANONICAL_NAMES = {
    name.lower(): name
    for name in (
        "getMe",
        "getUpdates",
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendLocation",
        "sendMediaGroup",
        "sendVideo",
        "sendVoice",
        "sendAudio",
        "sendAnimation",
        "sendContact",
        "sendVenue",
        "sendSticker",
        "sendChatAction",
        "forwardMessage",
        "copyMessage",
        "editMessageText",
        "editMessageCaption",
        "editMessageReplyMarkup",
        "deleteMessage",
        "pinChatMessage",
        "unpinChatMessage",
        "answerCallbackQuery",
        "setMyCommands",
        "getMyCommands",
        "deleteMyCommands",
        "setMyDescription",
        "setMyShortDescription",
        "setChatMenuButton",
        "getChatMenuButton",
        "getFile",
        "setWebhook",
        "deleteWebhook",
        "getWebhookInfo",
        "close",
        "logOut",
    )
}


class ApiError(Exception):
    """Raised by method handlers to answer with a Bot API error."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> dict[str, Any]:
        """The JSON body Telegram would send."""
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


class RecordedRequest(NamedTuple):
    """One request received by the server (recorded before any fault is applied)."""

    time: float
    method: str
    params: dict[str, Any]
    instance: str | None = None  # the base URL's path prefix the client used, if any
    content_type: str = ""  # how the parameters came: application/json, multipart/form-data, ...


@dataclass(frozen=True)
class UploadedFile:
    """A file uploaded in a multipart request (``params[field]`` holds this object)."""

    field: str
    filename: str | None
    content_type: str | None
    data: bytes
    file_id: str


@dataclass(frozen=True)
class Delivery:
    """A request the server answered successfully (``ok: true``)."""

    time: float
    method: str
    params: dict[str, Any]
    result: Any
    instance: str | None = None  # see RecordedRequest.instance

    @property
    def chat_id(self) -> ChatId | None:
        """``chat_id`` parameter of the request, if any."""
        return self.params.get("chat_id")

    @property
    def text(self) -> str | None:
        """``text`` or ``caption`` parameter of the request."""
        value = self.params.get("text", self.params.get("caption"))
        return value if isinstance(value, str) else None

    @property
    def message_id(self) -> int | None:
        """Id of the message created / edited (first one for media groups)."""
        result = self.result[0] if isinstance(self.result, list) and self.result else self.result
        if isinstance(result, dict):
            return result.get("message_id")
        return self.params.get("message_id")

    @property
    def reply_markup(self) -> dict[str, Any] | None:
        """The decoded ``reply_markup`` parameter (inline, reply keyboard, remove, force reply)."""
        markup = self.params.get("reply_markup")
        return markup if isinstance(markup, dict) else None

    def callback_data(self) -> list[str]:
        """All ``callback_data`` values of the inline keyboard, row by row."""
        markup = self.reply_markup or {}
        return [
            button["callback_data"]
            for row in markup.get("inline_keyboard", [])
            for button in row
            if "callback_data" in button
        ]


class RateLimitHit(NamedTuple):
    """A 429 the rate-limit mode provoked."""

    time: float
    method: str
    chat_id: ChatId | None
    scope: str  # "global", "chat" or "group"
    retry_after: int


@dataclass
class _Fault:
    method: str
    kind: str
    arg: float
    remaining: int
    chat_id: ChatId | None
    instance: str | None = None

    def matches(self, method: str, params: dict[str, Any], instance: str | None = None) -> bool:
        if self.method not in ("*", method):
            return False
        if self.instance is not None and self.instance != instance:
            return False
        return self.chat_id is None or params.get("chat_id") == self.chat_id


@dataclass
class _Limits:
    global_per_second: int | None
    per_chat_per_second: int | None
    per_group_per_minute: int | None
    global_window: deque[float] = field(default_factory=deque)
    chat_windows: dict[ChatId, deque[float]] = field(default_factory=dict)
    group_windows: dict[ChatId, deque[float]] = field(default_factory=dict)


def _decode_field(name: str, value: str) -> Any:
    if name in _STRING_FIELDS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


class FakeBotApi:
    """Fake ``api.telegram.org`` on ``127.0.0.1``.

    Recording: ``requests`` (every request, ``(monotonic_time, method, params, instance)``),
    ``deliveries`` (successful ones with results), ``sent_messages()``, ``texts()``,
    ``messages`` (current state of every message), ``uploads``, ``rate_limit_hits``,
    ``conflicts`` (getUpdates ended by a newer one), ``held`` (requests a ``hang`` fault holds).
    Control: ``push_update()``, ``add_file()``, ``inject()``, ``block()``,
    ``enforce_limits()``, ``wait_for()``, ``clear()``.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        bot_username: str = BOT_USERNAME,
        strict_edits: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Configure the server (nothing is started until :meth:`start`).

        :param host: interface to listen on.
        :param port: TCP port; 0 picks a free one (see :attr:`base_url`).
        :param token: if set, requests with another token get 401 Unauthorized.
        :param bot_username: username returned by getMe (its id is the token's prefix).
        :param strict_edits: if true, editing/deleting a message the server never produced
            answers 400 "message to edit not found" like Telegram; by default such messages
            are created on the fly (handy with callbacks built by ``UpdateFactory``).
        :param clock: monotonic clock for recorded times and the rate-limit windows
            (inject a manual clock to make rate-limit tests deterministic).
        """
        self.clock = clock
        self.host = host
        self.port = port
        self.token = token
        self.bot_username = bot_username
        self.strict_edits = strict_edits

        self.requests: list[RecordedRequest] = []
        self.deliveries: list[Delivery] = []
        self.rate_limit_hits: list[RateLimitHit] = []
        self.messages: dict[tuple[ChatId, int], dict[str, Any]] = {}
        self.pinned: dict[ChatId, list[int]] = {}  # pinChatMessage / unpinChatMessage, per chat
        self.uploads: dict[str, UploadedFile] = {}
        self.blocked: set[ChatId] = set()
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.menu_buttons: dict[ChatId | None, dict[str, Any]] = {}
        # (field, language_code or "") -> text: setMyDescription / setMyShortDescription
        self.descriptions: dict[tuple[str, str], str] = {}
        self.callback_answers: list[dict[str, Any]] = []
        self.webhook: dict[str, Any] = {}
        self.internal_errors: list[Exception] = []
        self.conflicts: list[float] = []  # clock() of each getUpdates terminated by a newer one
        self.held: list[RecordedRequest] = []  # requests a "hang" fault is holding unanswered now

        self._files: dict[str, tuple[str, bytes]] = {}
        self._paths: dict[str, str] = {}
        self._updates: list[dict[str, Any]] = []
        self._allowed_updates: list[str] | None = None
        self._next_update_id = 1
        self._message_ids: dict[ChatId, Iterator[int]] = {}
        self._channel_ids: dict[str, int] = {}
        self._file_counter: Iterator[int] = itertools.count(1)
        self._faults: list[_Fault] = []
        self._limits: _Limits | None = None
        self._changed: asyncio.Condition | None = None
        self._closing: asyncio.Event | None = None
        self._runner: web.AppRunner | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._polls: dict[str, asyncio.Event] = {}  # token -> set when its pending getUpdates is superseded
        self._bot_id = 42

    # ================================================================== lifecycle
    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` – pass to ``TelegramAPIServer.from_base``."""
        if self._runner is None:
            raise RuntimeError("FakeBotApi is not started")
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        """Start listening (on a random port when ``port`` was 0)."""
        self._changed = asyncio.Condition()
        self._closing = asyncio.Event()
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        # the same, behind a per-process prefix: several processes on one server, told apart
        app.router.add_route("*", "/{instance}/bot{token}/{method}", self._handle_method)
        app.router.add_get("/{instance}/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        """Answer pending long polls / held responses and shut the server down."""
        if self._runner is None:
            return
        assert self._closing is not None
        self._closing.set()
        await self._notify()
        await self._runner.cleanup()
        self._runner = None

    async def __aenter__(self) -> FakeBotApi:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ================================================================== test controls
    def push_update(self, update: Update | dict[str, Any]) -> int:
        """Queue an update for getUpdates (waking a pending long poll); returns its update_id.

        ``update_id`` is kept when it is larger than every earlier one and otherwise
        (re)assigned, since Telegram ids only grow and a smaller id would count as confirmed.
        """
        data = dict(update_to_dict(update))
        if not isinstance(data.get("update_id"), int) or data["update_id"] < self._next_update_id:
            # An id that goes backwards would count as already confirmed and be lost.
            data["update_id"] = self._next_update_id
        self._next_update_id = max(self._next_update_id, data["update_id"] + 1)
        self._updates.append(data)
        self._schedule_notify()
        return int(data["update_id"])

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by a getUpdates ``offset``."""
        return list(self._updates)

    def add_file(self, file_id: str, path: str, data: bytes) -> None:
        """Register a downloadable file: getFile(file_id) -> file_path=path, GET serves data."""
        self._files[file_id] = (path, data)
        self._paths[path] = file_id

    def inject(
        self,
        method: str,
        fault: str,
        times: int = 1,
        chat_id: ChatId | None = None,
        *,
        instance: str | None = None,
    ) -> None:
        """Make the next ``times`` requests of ``method`` (``"*"`` = any) to ``chat_id`` (from ``instance``) fail.

        Faults: ``"429:N"`` (retry_after N), ``"500"``, ``"502"`` (JSON bodies ->
        TelegramServerError), ``"502:html"`` (nginx HTML page -> ClientDecodeError),
        ``"timeout:S"`` (the request IS processed, the answer is held S seconds - a client
        with a shorter timeout sees a network error although the message was delivered),
        ``"reset"`` (connection closed before processing, nothing delivered),
        ``"reset_after"`` (processed, then the connection is closed without an answer),
        ``"blocked"`` (403), ``"chat_not_found"`` (400), ``"hang"`` (recorded, never processed nor
        answered while the client waits: in :attr:`held` until it gives up, e.g. is killed mid-request).
        """
        kind, _, arg = fault.partition(":")
        known = {"429", "500", "502", "timeout", "reset", "reset_after", "blocked", "chat_not_found", "hang"}
        if kind not in known or (kind in ("429", "timeout") and not arg) or (kind == "502" and arg not in ("", "html")):
            raise ValueError(
                f"unknown fault {fault!r}; use one of 429:N, 500, 502, 502:html, timeout:S, "
                "reset, reset_after, blocked, chat_not_found, hang"
            )
        if kind == "502" and arg == "html":
            kind, arg = "502html", "0"
        name = "*" if method == "*" else method.replace("_", "").lower()
        self._faults.append(_Fault(name, kind, float(arg or 0), times, chat_id, instance))

    def clear_faults(self) -> None:
        """Drop all pending injected faults."""
        self._faults.clear()

    def block(self, chat_id: ChatId) -> None:
        """Every later request to ``chat_id`` answers 403 "bot was blocked by the user"."""
        self.blocked.add(chat_id)

    def unblock(self, chat_id: ChatId) -> None:
        """Undo :meth:`block`."""
        self.blocked.discard(chat_id)

    def enforce_limits(
        self,
        global_per_second: int | None = 30,
        per_chat_per_second: int | None = 1,
        per_group_per_minute: int | None = 20,
    ) -> None:
        """Answer 429 (with ``retry_after``) to sends exceeding Telegram's broadcast limits.

        Sliding windows over successful sends (send*, copyMessage, forwardMessage): at most
        ``global_per_second`` in any second, ``per_chat_per_second`` per chat in any second
        and ``per_group_per_minute`` per group chat (negative id) in any minute.  ``None``
        disables a limit.  Provoked 429s are appended to :attr:`rate_limit_hits`.
        """
        self._limits = _Limits(global_per_second, per_chat_per_second, per_group_per_minute)

    def disable_limits(self) -> None:
        """Turn the rate-limit mode off."""
        self._limits = None

    def clear(self) -> None:
        """Forget recorded requests, deliveries and rate-limit hits (state is kept)."""
        self.requests.clear()
        self.deliveries.clear()
        self.rate_limit_hits.clear()
        self.callback_answers.clear()

    # ================================================================== queries
    def sent_messages(self, chat_id: ChatId | None = None) -> list[Delivery]:
        """Successful message sends (send*, forward/copy; not edits), optionally to one chat."""
        return [
            d
            for d in self.deliveries
            if d.method.lower() in _SEND_METHODS and (chat_id is None or self._same_chat(d.chat_id, chat_id))
        ]

    def edits(self, chat_id: ChatId | None = None) -> list[Delivery]:
        """Successful editMessage* requests, optionally in one chat."""
        return [
            d
            for d in self.deliveries
            if d.method.lower() in _EDIT_METHODS and (chat_id is None or self._same_chat(d.chat_id, chat_id))
        ]

    def texts(self, chat_id: ChatId | None = None, *, include_edits: bool = True) -> list[str]:
        """Text / caption of successful sends (and edits unless ``include_edits=False``) in order.

        Media groups contribute the captions of their items.
        """
        methods = _SEND_METHODS | (_EDIT_METHODS if include_edits else frozenset())
        texts: list[str] = []
        for d in self.deliveries:
            if d.method.lower() not in methods or (chat_id is not None and not self._same_chat(d.chat_id, chat_id)):
                continue
            if d.method.lower() == "sendmediagroup":
                texts.extend(item["caption"] for item in d.params.get("media", []) if item.get("caption"))
            elif d.text is not None:
                texts.append(d.text)
        return texts

    def chat_messages(self, chat_id: ChatId) -> list[dict[str, Any]]:
        """Current state (after edits, without deleted ones) of the bot's messages in a chat."""
        resolved = self._resolve_chat(chat_id)
        return [m for (cid, _), m in sorted(self.messages.items(), key=lambda kv: kv[0][1]) if cid == resolved]

    def duplicates(self, chat_id: ChatId | None = None) -> list[list[Delivery]]:
        """Groups of successful sends that delivered the same content to the same chat twice.

        Telegram has no idempotency key, so the key is (chat, method, text/caption,
        reply_markup, media fingerprint).  Returns ``[]`` when nothing was duplicated.
        """
        groups: dict[str, list[Delivery]] = {}
        for d in self.sent_messages(chat_id):
            media = {
                name: (hashlib.sha256(value.data).hexdigest() if isinstance(value, UploadedFile) else value)
                for name, value in d.params.items()
                if name
                in (
                    "photo",
                    "document",
                    "video",
                    "voice",
                    "audio",
                    "animation",
                    "sticker",
                    "media",
                    "latitude",
                    "longitude",
                    "from_chat_id",
                    "message_id",
                )
            }
            key = _canonical([self._resolve_chat(d.chat_id), d.method, d.text, d.reply_markup, _canonical(media)])
            groups.setdefault(key, []).append(d)
        return [group for group in groups.values() if len(group) > 1]

    async def wait_for(
        self,
        predicate: Callable[..., Any],
        timeout: float = 5.0,  # noqa: ASYNC109 - part of the fake's documented API
    ) -> Any:
        """Wait until ``predicate`` is truthy and return its value.

        The predicate is re-evaluated whenever a request arrives or is answered or an update
        is pushed (an ``asyncio.Condition``; no polling).  It is called with the server as
        its only argument, or with no argument if it takes none.

        :raises TimeoutError: if it does not become true within ``timeout`` seconds.
        """
        if self._changed is None:
            raise RuntimeError("FakeBotApi is not started")
        takes_server = bool(inspect.signature(predicate).parameters)

        def check() -> Any:
            return predicate(self) if takes_server else predicate()

        result: Any = None

        def ready() -> bool:
            nonlocal result
            result = check()
            return bool(result)

        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(ready)
        except TimeoutError:
            recent = ", ".join(f"{r.method}({r.params.get('chat_id', '')})" for r in self.requests[-10:])
            raise TimeoutError(f"condition not met within {timeout}s; last requests: {recent or 'none'}") from None
        return result

    # ================================================================== internals: plumbing
    async def _notify(self) -> None:
        if self._changed is None:
            return
        async with self._changed:
            self._changed.notify_all()

    def _schedule_notify(self) -> None:
        if self._changed is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        task = loop.create_task(self._notify())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _resolve_chat(self, chat_id: Any) -> Any:
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            return self._channel_ids.setdefault(chat_id, -1_000_000_000_000 - len(self._channel_ids) - 1)
        return chat_id

    def _same_chat(self, a: Any, b: Any) -> bool:
        return self._resolve_chat(a) == self._resolve_chat(b)

    async def _parse_params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = {key: _decode_field(key, value) for key, value in request.query.items()}
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                body = await request.json()
                if isinstance(body, dict):
                    params.update(body)
            else:
                form = await request.post()
                files: dict[str, UploadedFile] = {}
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        file_id = f"upload-{next(self._file_counter)}"
                        upload = UploadedFile(key, value.filename, value.content_type, value.file.read(), file_id)
                        files[key] = upload
                        self.uploads[file_id] = upload
                        ext = mimetypes.guess_extension(value.content_type or "") or ""
                        name = value.filename or f"{file_id}{ext}"
                        self.add_file(file_id, f"uploads/{file_id}/{name}", upload.data)
                    else:
                        params[key] = _decode_field(key, str(value))
                for key, value in list(params.items()):
                    if isinstance(value, str) and value.startswith("attach://") and value[9:] in files:
                        params[key] = files.pop(value[9:])
                for item in params.get("media", []) if isinstance(params.get("media"), list) else []:
                    for key in ("media", "thumbnail"):
                        ref = item.get(key)
                        if isinstance(ref, str) and ref.startswith("attach://") and ref[9:] in files:
                            item[key] = files.pop(ref[9:])
                params.update(files)  # files nobody referenced stay under their own field name
        return params

    @staticmethod
    def _json(payload: dict[str, Any], status: int = 200) -> web.Response:
        return web.Response(
            text=json.dumps(payload, ensure_ascii=False, default=str), status=status, content_type="application/json"
        )

    async def _hold(self, seconds: float) -> None:
        assert self._closing is not None
        try:
            await asyncio.wait_for(self._closing.wait(), seconds)
        except TimeoutError:
            pass

    # ================================================================== internals: HTTP
    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if self.token is not None and request.match_info["token"] != self.token:
            raise web.HTTPUnauthorized()
        file_id = self._paths.get(request.match_info["path"])
        if file_id is None:
            raise web.HTTPNotFound()
        return web.Response(body=self._files[file_id][1], content_type="application/octet-stream")

    async def _handle_method(self, request: web.Request) -> web.StreamResponse:
        raw_name = request.match_info["method"]
        name = raw_name.lower()
        method = _CANONICAL_NAMES.get(name, raw_name)
        params = await self._parse_params(request)
        token = request.match_info["token"]
        instance = request.match_info.get("instance")
        prefix = token.split(":", 1)[0]
        if prefix.isdigit():
            self._bot_id = int(prefix)
        fault: _Fault | None = None
        recorded = RecordedRequest(self.clock(), method, params, instance, request.content_type)
        self.requests.append(recorded)
        await self._notify()
        try:
            if self.token is not None and token != self.token:
                raise ApiError(401, "Unauthorized")
            fault = next((f for f in self._faults if f.matches(name, params, instance)), None)
            if fault is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                if fault.kind == "hang":
                    return await self._hang(recorded)
                early = await self._apply_fault(request, fault)
                if early is not None:
                    return early
            if params.get("chat_id") is not None and params["chat_id"] in self.blocked:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            if name in _SEND_METHODS:
                self._check_limits(method, params)
            result = await self._dispatch(name, params, token=token)
        except ApiError as error:
            await self._notify()
            return self._json(error.payload(), error.code)
        except Exception as exc:  # a bug in the fake or a malformed request: make it visible
            self.internal_errors.append(exc)
            await self._notify()
            description = f"FakeBotApi internal error in {method}: {type(exc).__name__}: {exc}"
            return self._json({"ok": False, "error_code": 500, "description": description}, 500)
        self.deliveries.append(Delivery(self.clock(), method, params, result, instance))
        if name in _SEND_METHODS:
            self._count_send(params)
        await self._notify()
        if fault is not None and fault.kind == "timeout":
            await self._hold(fault.arg)
        if fault is not None and fault.kind == "reset_after":
            assert request.transport is not None
            request.transport.abort()
            return web.Response(status=500)
        return self._json({"ok": True, "result": result})

    async def _hang(self, recorded: RecordedRequest) -> web.StreamResponse:
        """Hold the request unprocessed until the client goes away (the handler is then cancelled) or the
        server stops: what a process killed mid-request leaves behind - Telegram never saw the call."""
        assert self._closing is not None
        self.held.append(recorded)
        await self._notify()
        try:
            await self._closing.wait()
        finally:
            self.held.remove(recorded)
            self._schedule_notify()
        raise ApiError(500, "Internal Server Error: the server is stopping")

    async def _apply_fault(self, request: web.Request, fault: _Fault) -> web.StreamResponse | None:
        """Apply faults that prevent processing; return a response or None to go on."""
        if fault.kind == "429":
            retry_after = int(fault.arg)
            raise ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)
        if fault.kind == "500":
            raise ApiError(500, "Internal Server Error")
        if fault.kind == "502":
            raise ApiError(502, "Bad Gateway")
        if fault.kind == "502html":
            html = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n"  # noqa: E501
            return web.Response(text=html, status=502, content_type="text/html")
        if fault.kind == "blocked":
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if fault.kind == "chat_not_found":
            raise ApiError(400, "Bad Request: chat not found")
        if fault.kind == "reset":
            assert request.transport is not None
            request.transport.abort()
            return web.Response(status=500)  # never reaches the client: the socket is gone
        return None  # timeout / reset_after act after processing

    # ================================================================== internals: rate limits
    def _check_limits(self, method: str, params: dict[str, Any]) -> None:
        limits = self._limits
        if limits is None:
            return
        now = self.clock()
        chat = self._resolve_chat(params.get("chat_id"))
        checks: list[tuple[str, deque[float], int | None, float]] = [
            ("global", limits.global_window, limits.global_per_second, 1.0),
            ("chat", limits.chat_windows.setdefault(chat, deque()), limits.per_chat_per_second, 1.0),
        ]
        if isinstance(chat, int) and chat < 0:
            checks.append(("group", limits.group_windows.setdefault(chat, deque()), limits.per_group_per_minute, 60.0))
        for scope, window, limit, span in checks:
            while window and window[0] <= now - span:
                window.popleft()
            if limit is not None and len(window) >= limit:
                retry_after = max(1, math.ceil(window[len(window) - limit] + span - now))
                self.rate_limit_hits.append(RateLimitHit(now, method, params.get("chat_id"), scope, retry_after))
                raise ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)

    def _count_send(self, params: dict[str, Any]) -> None:
        limits = self._limits
        if limits is None:
            return
        now = self.clock()
        chat = self._resolve_chat(params.get("chat_id"))
        limits.global_window.append(now)
        limits.chat_windows.setdefault(chat, deque()).append(now)
        if isinstance(chat, int) and chat < 0:
            limits.group_windows.setdefault(chat, deque()).append(now)

    # ================================================================== internals: methods
    def _me(self) -> dict[str, Any]:
        return bot_user_dict(self._bot_id, self.bot_username)

    def _chat(self, chat_id: Any) -> dict[str, Any]:
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            return {"id": self._resolve_chat(chat_id), "type": "channel", "title": chat_id[1:], "username": chat_id[1:]}
        if isinstance(chat_id, int):
            return chat_dict(chat_id)
        raise ApiError(400, "Bad Request: chat not found")

    def _new_message(self, params: dict[str, Any], content: dict[str, Any]) -> dict[str, Any]:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise ApiError(400, "Bad Request: chat_id is empty")
        chat = self._chat(chat_id)
        message_id = next(self._message_ids.setdefault(chat["id"], itertools.count(1)))
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": self._me(),
            "chat": chat,
            "date": int(time.time()),
            **{key: value for key, value in content.items() if value is not None},
        }
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        self.messages[(chat["id"], message_id)] = message
        return message

    def _media(self, kind: str, value: Any) -> Any:
        if isinstance(value, UploadedFile):
            file_id, size, name, mime = value.file_id, len(value.data), value.filename, value.content_type
            if name and mime in (None, "application/octet-stream"):
                mime = mimetypes.guess_type(name)[0] or mime  # Telegram infers it from the name
        elif isinstance(value, str) and value:
            if value.startswith(("http://", "https://")):
                file_id = f"url-{next(self._file_counter)}"
            else:
                file_id = value
            size, name, mime = len(self._files.get(file_id, ("", b""))[1]) or None, None, None
        else:
            raise ApiError(400, f"Bad Request: there is no {kind} in the request")
        base: dict[str, Any] = {"file_id": file_id, "file_unique_id": f"{file_id}-u"}
        if size:
            base["file_size"] = size
        if kind == "photo":
            return [
                {"file_id": f"{file_id}-s", "file_unique_id": f"{file_id}-s-u", "width": 90, "height": 67},
                {**base, "width": 1280, "height": 960},
            ]
        if kind == "document":
            return {**base, "file_name": name or "document", **({"mime_type": mime} if mime else {})}
        if kind in ("video", "animation"):
            return {**base, "width": 640, "height": 480, "duration": 1}
        if kind == "sticker":
            return {**base, "type": "regular", "width": 512, "height": 512, "is_animated": False, "is_video": False}
        return {**base, "duration": 1}

    def _find_message(self, params: dict[str, Any], *, action: str = "edit") -> tuple[Any, dict[str, Any]]:
        chat = self._chat(params.get("chat_id"))
        key = (chat["id"], params.get("message_id"))
        current = self.messages.get(key)
        if current is None:
            if self.strict_edits or not isinstance(params.get("message_id"), int):
                raise ApiError(400, f"Bad Request: message to {action} not found")
            current = {"message_id": key[1], "from": self._me(), "chat": chat, "date": int(time.time())}
            self.messages[key] = current
        return key, current

    def _edit(self, params: dict[str, Any], changes: dict[str, Any]) -> Any:
        if params.get("inline_message_id"):
            return True
        key, current = self._find_message(params)
        updated = dict(current)
        updated.pop("edit_date", None)
        for name, value in changes.items():
            if value is None:
                updated.pop(name, None)
            else:
                updated[name] = value
        if updated == {k: v for k, v in current.items() if k != "edit_date"}:
            raise ApiError(400, _NOT_MODIFIED)
        updated["edit_date"] = int(time.time())
        self.messages[key] = updated
        return updated

    @staticmethod
    def _inline(params: dict[str, Any]) -> dict[str, Any] | None:
        markup = params.get("reply_markup")
        return markup if isinstance(markup, dict) and "inline_keyboard" in markup else None

    async def _dispatch(self, name: str, p: dict[str, Any], *, token: str = "") -> Any:
        if name == "getme":
            return self._me()
        if name == "getupdates":
            return await self._get_updates(p, token)
        if name == "sendmessage":
            if not p.get("text"):
                raise ApiError(400, "Bad Request: message text is empty")
            return self._new_message(p, {"text": p["text"]})
        if name in _MEDIA_SENDS:
            kind = _MEDIA_SENDS[name]
            return self._new_message(p, {kind: self._media(kind, p.get(kind)), "caption": p.get("caption")})
        if name == "sendlocation":
            return self._new_message(p, {"location": {"latitude": p.get("latitude"), "longitude": p.get("longitude")}})
        if name == "sendcontact":
            contact = {"phone_number": p.get("phone_number"), "first_name": p.get("first_name")}
            return self._new_message(p, {"contact": contact})
        if name == "sendmediagroup":
            media = p.get("media")
            if not isinstance(media, list) or not 2 <= len(media) <= 10:
                raise ApiError(400, "Bad Request: wrong number of media in the group")
            group_id = str(next(self._file_counter))
            return [
                self._new_message(
                    {"chat_id": p.get("chat_id")},
                    {
                        item["type"]: self._media(item["type"], item.get("media")),
                        "caption": item.get("caption"),
                        "media_group_id": group_id,
                    },
                )
                for item in media
            ]
        if name in ("forwardmessage", "copymessage"):
            source = self.messages.get((self._resolve_chat(p.get("from_chat_id")), p.get("message_id")))
            if source is None:
                raise ApiError(400, "Bad Request: message to copy not found")
            content = {k: v for k, v in source.items() if k not in ("message_id", "from", "chat", "date", "edit_date")}
            message = self._new_message(p, content)
            return message if name == "forwardmessage" else {"message_id": message["message_id"]}
        if name == "editmessagetext":
            if not p.get("text"):
                raise ApiError(400, "Bad Request: message text is empty")
            return self._edit(p, {"text": p["text"], "reply_markup": self._inline(p)})
        if name == "editmessagecaption":
            return self._edit(p, {"caption": p.get("caption"), "reply_markup": self._inline(p)})
        if name == "editmessagereplymarkup":
            return self._edit(p, {"reply_markup": self._inline(p)})
        if name == "deletemessage":
            key, _ = self._find_message(p, action="delete")
            del self.messages[key]
            return True
        if name in ("pinchatmessage", "unpinchatmessage"):  # the chat's pinned messages, newest last
            pins = self.pinned.setdefault(self._chat(p.get("chat_id"))["id"], [])
            if name == "pinchatmessage":
                key, _ = self._find_message(p, action="pin")
                pins.append(key[1])
            elif p.get("message_id") in pins:
                pins.remove(p["message_id"])
            elif pins and p.get("message_id") is None:
                pins.pop()
            return True
        if name == "answercallbackquery":
            if not p.get("callback_query_id"):
                raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
            self.callback_answers.append(p)
            return True
        if name in ("setmycommands", "getmycommands", "deletemycommands"):
            key = _canonical([p.get("scope") or {"type": "default"}, p.get("language_code") or ""])
            if name == "setmycommands":
                self.commands[key] = list(p.get("commands") or [])
                return True
            if name == "getmycommands":
                return self.commands.get(key, [])
            self.commands.pop(key, None)
            return True
        if name in ("setmydescription", "setmyshortdescription"):
            field = "description" if name == "setmydescription" else "short_description"
            self.descriptions[(field, p.get("language_code") or "")] = p.get(field) or ""
            return True
        if name == "setchatmenubutton":
            self.menu_buttons[p.get("chat_id")] = p.get("menu_button") or {"type": "default"}
            return True
        if name == "getchatmenubutton":
            return self.menu_buttons.get(p.get("chat_id"), {"type": "commands"})
        if name == "sendchataction":
            return True
        if name == "getfile":
            file_id = p.get("file_id")
            if file_id not in self._files:
                raise ApiError(400, "Bad Request: invalid file_id")
            path, data = self._files[file_id]
            return {"file_id": file_id, "file_unique_id": f"{file_id}-u", "file_size": len(data), "file_path": path}
        if name == "setwebhook":
            self.webhook = {
                "url": p.get("url") or "",
                "secret_token": p.get("secret_token"),
                "allowed_updates": p.get("allowed_updates"),
            }
            if p.get("drop_pending_updates"):
                self._updates.clear()
            return True
        if name == "deletewebhook":
            self.webhook = {}
            if p.get("drop_pending_updates"):
                self._updates.clear()
            return True
        if name == "getwebhookinfo":
            info: dict[str, Any] = {
                "url": self.webhook.get("url", ""),
                "has_custom_certificate": False,
                "pending_update_count": len(self._updates),
            }
            if self.webhook.get("allowed_updates"):
                info["allowed_updates"] = self.webhook["allowed_updates"]
            return info
        if name in ("close", "logout"):
            return True
        # Telegram answers unknown methods with a bare 404 "Not Found"; say what to add.
        raise ApiError(404, f"Not Found (FakeBotApi does not implement {name!r}; add it to FakeBotApi._dispatch)")

    async def _get_updates(self, p: dict[str, Any], token: str = "") -> list[dict[str, Any]]:
        # Telegram serves one getUpdates per token at a time: a newer one ends the pending one with 409.
        superseded = asyncio.Event()
        earlier = self._polls.get(token)
        if earlier is not None:
            earlier.set()
        self._polls[token] = superseded
        try:
            if earlier is not None:
                await self._notify()  # wake the earlier poll, so that it answers its 409 now
            return await self._poll(p, superseded)
        finally:
            if self._polls.get(token) is superseded:
                del self._polls[token]

    async def _poll(self, p: dict[str, Any], superseded: asyncio.Event) -> list[dict[str, Any]]:
        if self.webhook.get("url"):
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = p.get("offset")
        if isinstance(offset, int) and offset != 0:
            if offset > 0:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            else:
                self._updates = self._updates[offset:]
        if isinstance(p.get("allowed_updates"), list):
            self._allowed_updates = p["allowed_updates"] or None
        limit = p.get("limit") if isinstance(p.get("limit"), int) and 1 <= p["limit"] <= 100 else 100
        timeout = float(p.get("timeout") or 0)
        assert self._changed is not None and self._closing is not None

        def available() -> list[dict[str, Any]]:
            if self._allowed_updates:
                allowed = set(self._allowed_updates)
                # Telegram never delivers updates of types the bot did not subscribe to.
                self._updates = [u for u in self._updates if allowed & (set(u) - {"update_id"})]
            return self._updates[:limit]

        if available() or timeout <= 0:
            return available()
        closing = self._closing
        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(lambda: bool(available()) or closing.is_set() or superseded.is_set())
        except TimeoutError:
            pass
        if superseded.is_set():
            self.conflicts.append(self.clock())
            raise ApiError(409, TERMINATED_BY_OTHER_POLL)
        return available()


async def post_update(
    url: str,
    update: Update | dict[str, Any],
    secret_token: str | None = None,
    *,
    timeout: float = 10.0,  # noqa: ASYNC109 - HTTP client timeout
) -> int:
    """POST ``update`` to a webhook ``url`` as Telegram does; return the HTTP status code.

    The body is the update's Bot API JSON; ``secret_token`` goes to the
    ``X-Telegram-Bot-Api-Secret-Token`` header.
    """
    headers = {"Content-Type": "application/json"}
    if secret_token is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret_token
    body = json.dumps(update_to_dict(update), ensure_ascii=False)
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
        session.post(url, data=body.encode(), headers=headers) as response,
    ):
        await response.read()
        return response.status
