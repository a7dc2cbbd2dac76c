"""Feishu (飞书) / Lark open platform: a second messenger for alerts and approval cards (issue 12).

A plain async HTTP client with no database and no Telegram in it, like the SMS providers:

- ``tenant_access_token`` from the app's id and secret (``/open-apis/auth/v3/tenant_access_token/internal``),
  cached until shortly before it expires, fetched again when Feishu says it is no longer valid;
- ``send_card``: an interactive card to a user's ``open_id`` (``POST /open-apis/im/v1/messages``,
  ``receive_id_type=open_id``). Feishu de-duplicates on ``uuid`` for an hour, and the outbox key goes
  there (hashed), so a retry of a send whose answer was lost does not post the card twice;
- ``update_card``: the card of a message sent before, after an action (``PATCH /open-apis/im/v1/messages/{id}``);
- ``ws_endpoint``: the long-connection URL (``POST /callback/ws/endpoint``) for ``bot.feishu_inbound``.

Answers become the outcomes the outbox knows (bot/channels/base.py): ``Sent`` with the ``om_…`` id;
``RetryLater`` for timeouts, network errors, HTTP 5xx, HTTP 429 and Feishu's rate limits (99991400,
230020; the wait from ``x-ogw-ratelimit-reset`` or ``Retry-After``); ``Unreachable`` when the user cannot
be reached (not in the app's availability, another tenant's or an unknown open_id, a rejected card);
``Misconfigured`` when Feishu refuses the app itself (wrong id or secret, bot ability off, a missing scope).

Settings: ``FEISHU_APP_ID``, ``FEISHU_APP_SECRET`` (both, or neither: off), ``FEISHU_ENDPOINT`` (another
base URL: Lark's ``https://open.larksuite.com``, a proxy, or the fake in the tests), ``FEISHU_TIMEOUT``
(seconds to wait for an answer, default 10).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp

from bot.channels.base import (
    Misconfigured,
    RetryLater,
    Sent,
    Unreachable,
    close_session,
    new_session,
    optional,
    retry_after,
)

CHANNEL = "feishu"
DEFAULT_ENDPOINT = "https://open.feishu.cn"
TOKEN_PATH = "/open-apis/auth/v3/tenant_access_token/internal"
MESSAGES_PATH = "/open-apis/im/v1/messages"
WS_ENDPOINT_PATH = "/callback/ws/endpoint"
TOKEN_MARGIN = 300  # seconds: a token is fetched again this long before Feishu says it expires

RATE_LIMITED = {99991400, 230020}  # the app's or the chat's request rate
TOKEN_INVALID = {99991661, 99991663, 99991664, 99991665, 99991668}  # missing, invalid or expired token
RETRY = {1500, 1503, 230035, 230054}  # internal errors
MISCONFIGURED = {
    10003,  # invalid app_id
    10014,  # app secret invalid
    10012,  # app not found
    230006,  # the bot ability is not enabled
    99991672,  # the app lacks the scope (im:message:send_as_bot)
    99991679,  # user-level scope missing
    99991401,  # the caller's IP is not allowed
}
UNREACHABLE = {
    230013,  # the bot has no availability to this user (outside the app's visible range)
    230002,  # the bot is not in the chat
    230001,  # invalid parameter (an unknown receive_id among them)
    99992360,  # invalid open_id
    99992361,  # an open_id of another app
    99992364,  # the user has resigned / is deactivated
    230099,  # the card was rejected
}


def _reason(what: str, code: object, message: object) -> str:
    return f"{what}: Feishu {code}" + (f": {message}" if message else "")


def classify(status: int, body: Mapping[str, Any], headers: Mapping[str, str], *, what: str) -> Exception:
    """The outcome of a refused call, from the HTTP status and Feishu's ``code``."""
    code = body.get("code")
    reason = _reason(what, code if code is not None else f"HTTP {status}", body.get("msg"))
    wait = retry_after(headers.get("x-ogw-ratelimit-reset")) or retry_after(headers.get("Retry-After"))
    if status == 429 or code in RATE_LIMITED:
        return RetryLater(reason, after=wait or 1.0)
    if code in MISCONFIGURED:
        return Misconfigured(reason)
    if code in UNREACHABLE:
        return Unreachable(reason)
    if status >= 500 or code in RETRY:
        return RetryLater(reason, after=wait)
    return Unreachable(reason)


@dataclass(frozen=True)
class WsEndpoint:
    """Where the long connection goes, and how the server wants it kept (seconds)."""

    url: str
    ping_interval: float = 120
    reconnect_interval: float = 120
    reconnect_nonce: float = 30


class FeishuClient:
    name = CHANNEL

    def __init__(
        self,
        app_id: str,
        app_secret: str,
        *,
        endpoint: str = DEFAULT_ENDPOINT,
        session_timeout: float = 10,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app_id = app_id
        self._secret = app_secret
        self.endpoint = endpoint.rstrip("/")
        self._timeout = session_timeout
        self._monotonic = monotonic
        self._session: aiohttp.ClientSession | None = None
        self._token: str | None = None
        self._token_until = 0.0
        self._fetching = asyncio.Lock()  # one token request at a time, however many sends wait for it

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, session_timeout: float = 10) -> FeishuClient | None:
        """``None`` when neither FEISHU_APP_ID nor FEISHU_APP_SECRET is set; a ``ValueError`` naming the
        setting when one is missing or FEISHU_ENDPOINT is not a URL, so a bad deployment fails at start."""
        app_id, secret = optional(env, "FEISHU_APP_ID"), optional(env, "FEISHU_APP_SECRET")
        if app_id is None and secret is None:
            return None
        if app_id is None:
            raise ValueError("FEISHU_APP_SECRET is set but FEISHU_APP_ID is not: set both (the app's credentials)")
        if secret is None:
            raise ValueError("FEISHU_APP_ID is set but FEISHU_APP_SECRET is not: set both (the app's credentials)")
        if not app_id.startswith("cli_"):
            raise ValueError(
                f"FEISHU_APP_ID must be the app's id as the developer console shows it (cli_…), not {app_id!r}"
            )
        timeout = optional(env, "FEISHU_TIMEOUT")
        if timeout is not None:
            try:
                session_timeout = float(timeout)
            except ValueError:
                session_timeout = 0
            if not 0 < session_timeout <= 120:
                raise ValueError(f"FEISHU_TIMEOUT must be a number of seconds between 0 and 120, not {timeout!r}")
        endpoint = optional(env, "FEISHU_ENDPOINT") or DEFAULT_ENDPOINT
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"FEISHU_ENDPOINT must be a base URL such as {DEFAULT_ENDPOINT}, not {endpoint!r}")
        return cls(app_id, secret, endpoint=endpoint, session_timeout=session_timeout)

    # Requests ---------------------------------------------------------------------------------
    async def _request(
        self, method: str, path: str, *, what: str, body: Mapping[str, Any], token: str | None = None
    ) -> tuple[int, dict[str, Any], Mapping[str, str]]:
        if self._session is None or self._session.closed:
            self._session = new_session(self._timeout)
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        try:
            async with self._session.request(method, self.endpoint + path, json=body, headers=headers) as response:
                raw = await response.read()
                status, response_headers = response.status, response.headers
        except TimeoutError as error:
            raise RetryLater(f"{what}: no answer in time (it may still have been accepted)") from error
        except aiohttp.ClientError as error:
            raise RetryLater(f"{what}: {type(error).__name__}: {error}") from error
        try:
            answer = json.loads(raw) if raw else {}
        except ValueError:
            answer = {}
        if not isinstance(answer, dict):
            answer = {}
        return status, answer, response_headers

    async def token(self) -> str:
        """The tenant_access_token, cached until ``TOKEN_MARGIN`` seconds before it expires."""
        if self._token is not None and self._monotonic() < self._token_until:
            return self._token
        async with self._fetching:
            if self._token is not None and self._monotonic() < self._token_until:
                return self._token  # fetched by the send that held the lock
            return await self._fetch_token()

    async def _fetch_token(self) -> str:
        status, body, headers = await self._request(
            "POST", TOKEN_PATH, what="tenant_access_token", body={"app_id": self.app_id, "app_secret": self._secret}
        )
        if status == 200 and body.get("code") == 0 and body.get("tenant_access_token"):
            self._token = str(body["tenant_access_token"])
            lifetime = float(body.get("expire") or 7200)
            self._token_until = self._monotonic() + max(lifetime - TOKEN_MARGIN, lifetime / 2)
            return self._token
        error = classify(status, body, headers, what="tenant_access_token")
        if type(error) is Unreachable:  # a refused token is about the app, never about a user
            raise Misconfigured(error.reason)
        raise error

    async def _call(self, method: str, path: str, body: Mapping[str, Any], *, what: str) -> dict[str, Any]:
        """An authorised call; a token Feishu no longer accepts is fetched again once."""
        for attempt in (1, 2):
            status, answer, headers = await self._request(method, path, what=what, body=body, token=await self.token())
            if status == 200 and answer.get("code") == 0:
                data = answer.get("data")
                return data if isinstance(data, dict) else {}
            if answer.get("code") in TOKEN_INVALID and attempt == 1:
                self._token = None
                continue
            raise classify(status, answer, headers, what=what)
        raise RetryLater(f"{what}: Feishu refused a fresh tenant_access_token")  # pragma: no cover

    async def send_card(self, open_id: str, card: Mapping[str, Any], *, key: str) -> Sent:
        """Send an interactive card to one user; ``key`` (the outbox key) de-duplicates for an hour."""
        if not open_id:
            raise Unreachable("no Feishu open_id")
        body = {
            "receive_id": open_id,
            "msg_type": "interactive",
            "content": json.dumps(card, ensure_ascii=False),
            "uuid": hashlib.sha256(key.encode()).hexdigest()[:40],  # Feishu: at most 50 characters
        }
        data = await self._call("POST", f"{MESSAGES_PATH}?receive_id_type=open_id", body, what="send card")
        return Sent(str(data.get("message_id") or ""))

    async def update_card(self, message_id: str, card: Mapping[str, Any]) -> Sent:
        """Replace the card of a message the bot sent (e.g. an alert someone acknowledged)."""
        body = {"content": json.dumps(card, ensure_ascii=False)}
        await self._call("PATCH", f"{MESSAGES_PATH}/{quote(message_id, safe='')}", body, what="update card")
        return Sent(message_id)

    async def ws_endpoint(self) -> WsEndpoint:
        """The long connection's URL; it takes the app's id and secret, not a token."""
        status, body, headers = await self._request(
            "POST", WS_ENDPOINT_PATH, what="long connection", body={"AppID": self.app_id, "AppSecret": self._secret}
        )
        data = body.get("data") if isinstance(body.get("data"), dict) else {}
        if status == 200 and body.get("code") == 0 and data.get("URL"):
            config = data.get("ClientConfig") if isinstance(data.get("ClientConfig"), dict) else {}

            def seconds(name: str, default: float) -> float:
                value = config.get(name)
                return float(value) if isinstance(value, int | float) and value >= 0 else default

            return WsEndpoint(
                str(data["URL"]),
                ping_interval=max(seconds("PingInterval", 120), 1.0),
                reconnect_interval=seconds("ReconnectInterval", 120),
                reconnect_nonce=seconds("ReconnectNonce", 30),
            )
        error = classify(status, body, headers, what="long connection")
        if type(error) is Unreachable:
            raise Misconfigured(error.reason)
        raise error

    async def close(self) -> None:
        await close_session(self._session)
        self._session = None


# Members who use Feishu only have no Telegram account, yet every outbox row and audit entry is addressed to a
# member's ``telegram_id``. Such a member gets a stand-in id in a range Telegram never uses: Bot API chat ids
# have at most 52 significant bits, so anything at or below -2**60 is never a Telegram chat.
STAND_IN_BASE = -(2**60)


def stand_in_chat_id(open_id: str) -> int:
    """The stand-in ``telegram_id`` of a member who joined over Feishu (a 52-bit hash of the open_id)."""
    return STAND_IN_BASE - int(hashlib.sha256(open_id.encode()).hexdigest()[:13], 16)


def is_stand_in(chat_id: int) -> bool:
    """Is this chat id a Feishu member's stand-in, never a Telegram chat?"""
    return chat_id <= STAND_IN_BASE
