"""A local fake of Feishu's open platform (issue 12): the HTTP API the bot calls and the long connection
it keeps, like the Bot API fake for Telegram.

- ``POST /open-apis/auth/v3/tenant_access_token/internal`` checks the app's id and secret and hands out a
  token; every other call checks ``Authorization: Bearer <token>`` (99991663 for an unknown or expired one:
  ``fake.expire_tokens()``).
- ``POST /open-apis/im/v1/messages?receive_id_type=open_id`` records an interactive card in ``fake.cards``
  (de-duplicated on ``uuid``, as Feishu does); ``PATCH /open-apis/im/v1/messages/{id}`` records the new card
  in ``fake.updates``.
- ``POST /callback/ws/endpoint`` gives ``ws://…/ws?service_id=…``; over that WebSocket the fake answers pings
  with pongs and pushes events: ``await fake.press(open_id, action_id)`` (a ``card.action.trigger``,
  returning the bot's answer, e.g. its toast) and ``await fake.say(open_id, text)`` (an
  ``im.message.receive_v1``).

Faults on the messaging API (``fail_next(kind, request=n)``: the n-th request from now): ``timeout``,
``5xx``, ``rate_limit`` (HTTP 400, code 99991400), ``http429`` (HTTP 429 with ``x-ogw-ratelimit-reset``),
``unreachable`` (230013); ``fake.unreachable`` holds open_ids that are always refused (user not found).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import uuid
from dataclasses import dataclass
from typing import Any

from aiohttp import WSMsgType, web

from bot.channels.feishu_frames import CONTROL, DATA, Frame
from tests.support.fake_providers import _FakeServer

FEISHU_FAULTS = frozenset({"timeout", "5xx", "rate_limit", "http429", "unreachable"})
APP_ID, APP_SECRET = "cli_fake0000000001", "fake-feishu-app-secret-0001"


@dataclass
class SentCard:
    open_id: str
    card: dict[str, Any]
    message_id: str

    @property
    def text(self) -> str:
        return card_text(self.card)

    @property
    def buttons(self) -> list[tuple[str, str]]:
        return card_buttons(self.card)


def card_text(card: dict[str, Any]) -> str:
    return "\n".join(e["text"]["content"] for e in card.get("elements", []) if e.get("tag") == "div")


def card_buttons(card: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, action id) of every button on a card."""
    return [
        (b["text"]["content"], b["value"]["id"])
        for e in card.get("elements", [])
        if e.get("tag") == "action"
        for b in e["actions"]
    ]


class FakeFeishu(_FakeServer):
    def __init__(self, *, app_id: str = APP_ID, app_secret: str = APP_SECRET, **server: Any) -> None:
        super().__init__(**server)
        self.app_id, self.app_secret = app_id, app_secret
        self.cards: list[SentCard] = []
        self.updates: list[tuple[str, dict[str, Any]]] = []  # (message_id, new card)
        self.tokens: set[str] = set()
        self.token_requests = 0
        self.pings = 0
        self._uuids: dict[str, str] = {}
        self._tokens = itertools.count(1)
        self._ws: web.WebSocketResponse | None = None
        self.connected = asyncio.Event()
        self._answers: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._events = itertools.count(1)

    def env(self, **overrides: str) -> dict[str, str]:
        env = {"FEISHU_APP_ID": self.app_id, "FEISHU_APP_SECRET": self.app_secret, "FEISHU_ENDPOINT": self.base_url}
        env.update(overrides)
        return env

    def fail_next(self, kind: str, *, request: int = 1) -> None:
        if kind not in FEISHU_FAULTS:
            raise ValueError(f"unknown fault {kind!r}: one of {sorted(FEISHU_FAULTS)}")
        self._faults.append([request, kind])

    def expire_tokens(self) -> None:
        self.tokens.clear()

    def cards_to(self, open_id: str) -> list[SentCard]:
        return [card for card in self.cards if card.open_id == open_id]

    def updated(self, message_id: str) -> list[dict[str, Any]]:
        return [card for mid, card in self.updates if mid == message_id]

    # HTTP ---------------------------------------------------------------------------------------
    def _routes(self, app: web.Application) -> None:
        app.router.add_post("/open-apis/auth/v3/tenant_access_token/internal", self._token)
        app.router.add_post("/open-apis/im/v1/messages", self._send)
        app.router.add_patch("/open-apis/im/v1/messages/{message_id}", self._update)
        app.router.add_post("/callback/ws/endpoint", self._endpoint)
        app.router.add_get("/ws", self._websocket)

    def _error(self, code: int, message: str, status: int = 400, **headers: str) -> web.Response:
        self.refused.append(str(code))
        return web.json_response({"code": code, "msg": message}, status=status, headers=headers)

    async def _token(self, request: web.Request) -> web.Response:
        self.requests += 1
        self.token_requests += 1
        body = await request.json()
        if body.get("app_id") != self.app_id:
            return self._error(10003, "invalid param: app_id")
        if body.get("app_secret") != self.app_secret:
            return self._error(10014, "app secret invalid")
        token = f"t-fake{next(self._tokens):04d}"
        self.tokens.add(token)
        return web.json_response({"code": 0, "msg": "ok", "tenant_access_token": token, "expire": 7200})

    async def _authorised(self, request: web.Request) -> web.Response | None:
        self.requests += 1
        given = request.headers.get("Authorization", "")
        if not given.startswith("Bearer ") or given[7:] not in self.tokens:
            return self._error(99991663, "Invalid access token for authorization.")
        fault = self._take_fault()
        if fault == "timeout":
            await self._hang()
        if fault == "5xx":
            return web.Response(status=503, text="<html>service unavailable</html>")
        if fault == "rate_limit":
            return self._error(99991400, "request trigger frequency limit")
        if fault == "http429":
            return self._error(99991400, "too many requests", status=429, **{"x-ogw-ratelimit-reset": "2"})
        if fault == "unreachable":
            return self._error(230013, "Bot has NO availability to this user.")
        return None

    async def _send(self, request: web.Request) -> web.Response:
        refused = await self._authorised(request)
        if refused is not None:
            return refused
        if request.query.get("receive_id_type") != "open_id":
            return self._error(99992402, "field validation failed: receive_id_type")
        body = await request.json()
        open_id = body.get("receive_id", "")
        if open_id in self.unreachable:
            return self._error(230013, "Bot has NO availability to this user.")
        if body.get("msg_type") != "interactive":
            return self._error(230001, "invalid msg_type")
        key = body.get("uuid") or str(uuid.uuid4())
        if key in self._uuids:  # Feishu: one message per uuid within an hour
            return web.json_response({"code": 0, "msg": "success", "data": {"message_id": self._uuids[key]}})
        message_id = f"om_{uuid.uuid4().hex}"
        self._uuids[key] = message_id
        self.cards.append(SentCard(open_id, json.loads(body["content"]), message_id))
        return web.json_response({"code": 0, "msg": "success", "data": {"message_id": message_id}})

    async def _update(self, request: web.Request) -> web.Response:
        refused = await self._authorised(request)
        if refused is not None:
            return refused
        message_id = request.match_info["message_id"]
        if message_id not in {card.message_id for card in self.cards}:
            return self._error(230001, "invalid message_id")
        body = await request.json()
        self.updates.append((message_id, json.loads(body["content"])))
        return web.json_response({"code": 0, "msg": "success", "data": {}})

    async def _endpoint(self, request: web.Request) -> web.Response:
        self.requests += 1
        body = await request.json()
        if body.get("AppID") != self.app_id or body.get("AppSecret") != self.app_secret:
            return web.json_response({"code": 1000040351, "msg": "incorrect app id or secret"})
        url = f"ws://{self.host}:{self.port}/ws?device_id=fake-device&service_id=33"
        config = {"PingInterval": 120, "ReconnectCount": -1, "ReconnectInterval": 0, "ReconnectNonce": 0}
        return web.json_response({"code": 0, "msg": "ok", "data": {"URL": url, "ClientConfig": config}})

    # The long connection --------------------------------------------------------------------------
    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._ws = ws
        self.connected.set()
        try:
            async for message in ws:
                if message.type != WSMsgType.BINARY:
                    continue
                frame = Frame.decode(message.data)
                if frame.method == CONTROL and frame.header("type") == "ping":
                    self.pings += 1
                    pong = Frame(service=frame.service, method=CONTROL, headers=[("type", "pong")])
                    await ws.send_bytes(pong.encode())
                elif frame.method == DATA:
                    answer = json.loads(frame.payload)
                    future = self._answers.pop(frame.header("message_id"), None)
                    if future is not None and not future.done():
                        data = answer.get("data")
                        result = json.loads(base64.b64decode(data)) if data else {}
                        future.set_result({"code": answer.get("code"), **result})
        finally:
            self._ws = None
            self.connected.clear()
        return ws

    async def drop(self) -> None:
        """Close the long connection from the server's side (a restart, a network change)."""
        if self._ws is not None:
            await self._ws.close()

    async def push(self, kind: str, event_type: str, event: dict[str, Any], *, parts: int = 1) -> dict[str, Any]:
        """Push an event over the long connection; returns the bot's answer (``code`` and its data)."""
        await asyncio.wait_for(self.connected.wait(), 5)
        assert self._ws is not None
        number = next(self._events)
        message_id = f"fake-msg-{number}"
        body = {
            "schema": "2.0",
            "header": {"event_id": f"ev-{number}", "event_type": event_type, "app_id": self.app_id},
            "event": event,
        }
        payload = json.dumps(body, ensure_ascii=False).encode()
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._answers[message_id] = future
        size = -(-len(payload) // parts)
        for seq in range(parts):
            headers = [("type", kind), ("message_id", message_id), ("sum", str(parts)), ("seq", str(seq))]
            headers.append(("trace_id", f"trace-{number}"))
            chunk = payload[seq * size : (seq + 1) * size]
            frame = Frame(seq_id=number, service=33, method=DATA, headers=headers, payload=chunk)
            await self._ws.send_bytes(frame.encode())
        return await asyncio.wait_for(future, 10)

    async def press(self, open_id: str, action_id: str, *, message_id: str = "om_x") -> dict[str, Any]:
        event = {
            "operator": {"open_id": open_id},
            "token": "c-fake",
            "action": {"tag": "button", "value": {"id": action_id}},
            "context": {"open_message_id": message_id, "open_chat_id": "oc_fake"},
        }
        return await self.push("card", "card.action.trigger", event)

    async def say(self, open_id: str, text: str, *, parts: int = 1) -> dict[str, Any]:
        event = {
            "sender": {"sender_id": {"open_id": open_id}, "sender_type": "user"},
            "message": {
                "message_id": f"om_in_{uuid.uuid4().hex[:8]}",
                "chat_type": "p2p",
                "message_type": "text",
                "content": json.dumps({"text": text}, ensure_ascii=False),
            },
        }
        return await self.push("event", "im.message.receive_v1", event, parts=parts)
