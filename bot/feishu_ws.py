"""Feishu's long connection (长连接, issue 12): events reach the bot over a WebSocket it opens itself, so no
public HTTPS endpoint, domain or certificate is needed. A small aiohttp client of the protocol that
``lark-oapi`` speaks, running inside the bot's own event loop:

1. ``POST /callback/ws/endpoint`` with the app's id and secret gives a ``wss://`` URL (with ``service_id``)
   and how often to ping and reconnect;
2. frames are protobuf ``pbbp2.Frame`` (bot/channels/feishu_frames.py): control frames ping and pong, data
   frames carry an event as JSON (``type`` ``event`` or ``card``; a large one comes in ``sum`` parts);
3. each data frame is answered with the same frame, its payload ``{"code": 200, "data": <base64 JSON>}``,
   where the JSON is the answer to a card action (a toast).

A dropped connection is opened again after Feishu's reconnect interval (jittered), and so is one that stays
silent for three ping intervals (every ping is answered with a pong); a refused app (wrong secret) is logged
and tried again much later. Started and stopped with the app (``App.workers``).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp

from bot.channels.base import Misconfigured
from bot.channels.feishu import FeishuClient, WsEndpoint
from bot.channels.feishu_frames import CONTROL, DATA, Frame

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], Awaitable[dict[str, Any] | None]]
MISCONFIGURED_PAUSE = 600.0


class FeishuLongConnection:
    def __init__(self, client: FeishuClient, handler: Handler) -> None:
        self._client = client
        self._handler = handler
        self._stopping = asyncio.Event()
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._parts: dict[str, list[bytes | None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.connected = asyncio.Event()  # set while a connection is open

    async def run(self) -> None:
        while not self._stopping.is_set():
            pause = 5.0 + random.random() * 30
            try:
                endpoint = await self._client.ws_endpoint()
                pause = endpoint.reconnect_interval + random.random() * endpoint.reconnect_nonce  # Feishu's jitter
                await self._connection(endpoint)
            except Misconfigured as error:
                log.error("Feishu refused the long connection (check FEISHU_APP_ID/SECRET): %s", error)
                pause = MISCONFIGURED_PAUSE
            except asyncio.CancelledError:
                raise
            except Exception as error:  # network, Feishu busy: try again
                log.warning("Feishu long connection failed: %s", error)
            finally:
                self.connected.clear()
            if self._stopping.is_set():
                break
            try:
                await asyncio.wait_for(self._stopping.wait(), pause)
            except TimeoutError:
                pass
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def stop(self) -> None:
        self._stopping.set()
        if self._ws is not None and not self._ws.closed:
            task = asyncio.ensure_future(self._ws.close())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _connection(self, endpoint: WsEndpoint) -> None:
        query = parse_qs(urlsplit(endpoint.url).query)
        service_id = int((query.get("service_id") or ["0"])[0] or 0)
        async with aiohttp.ClientSession() as session, session.ws_connect(endpoint.url, autoping=True) as ws:
            self._ws = ws
            if self._stopping.is_set():  # stopped while connecting
                return
            self.connected.set()
            log.info("Feishu long connection open")
            pinging = asyncio.create_task(self._ping(ws, service_id, endpoint.ping_interval))
            silence = max(3 * endpoint.ping_interval, 30.0)  # every ping is answered: this long quiet is a dead line
            try:
                while not ws.closed:
                    try:
                        message = await ws.receive(timeout=silence)
                    except TimeoutError:
                        log.warning("Feishu long connection silent for %.0f s: opening it again", silence)
                        break
                    if message.type == aiohttp.WSMsgType.BINARY:
                        self._start(self._frame(ws, message.data))
                    elif message.type in (
                        aiohttp.WSMsgType.ERROR,
                        aiohttp.WSMsgType.CLOSE,
                        aiohttp.WSMsgType.CLOSING,
                        aiohttp.WSMsgType.CLOSED,
                    ):
                        break
            finally:
                pinging.cancel()
                self._ws = None

    async def _ping(self, ws: aiohttp.ClientWebSocketResponse, service_id: int, every: float) -> None:
        ping = Frame(service=service_id, method=CONTROL, headers=[("type", "ping")]).encode()
        while not ws.closed:
            try:
                await ws.send_bytes(ping)
            except (ConnectionError, RuntimeError):
                return
            await asyncio.sleep(max(every, 1.0))

    def _start(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _frame(self, ws: aiohttp.ClientWebSocketResponse, data: bytes) -> None:
        try:
            frame = Frame.decode(data)
        except ValueError as error:
            log.warning("a malformed Feishu frame was dropped: %s", error)
            return
        if frame.method != DATA:
            return  # pong (with the server's settings) or ping: nothing to answer
        payload = self._whole(frame)
        if payload is None:
            return
        started = time.monotonic()
        status, answer = 200, None
        try:
            body = json.loads(payload)
            answer = await self._handler(body if isinstance(body, dict) else {})
        except Exception:
            log.exception("a Feishu event failed")
            status = 500
        response: dict[str, Any] = {"code": status, "headers": {}}
        if answer is not None:
            response["data"] = base64.b64encode(json.dumps(answer, ensure_ascii=False).encode()).decode()
        reply = frame.with_header("biz_rt", str(int((time.monotonic() - started) * 1000)))
        reply.payload = json.dumps(response).encode()
        if not ws.closed:
            await ws.send_bytes(reply.encode())

    def _whole(self, frame: Frame) -> bytes | None:
        """The event's JSON, once every part of it arrived."""
        total = int(frame.header("sum", "1") or 1)
        if total <= 1:
            return frame.payload
        message_id, seq = frame.header("message_id"), int(frame.header("seq", "0") or 0)
        if message_id not in self._parts and len(self._parts) >= 100:  # parts of events that never completed
            self._parts.pop(next(iter(self._parts)))
        parts = self._parts.setdefault(message_id, [None] * min(total, 1000))
        if 0 <= seq < len(parts):
            parts[seq] = frame.payload
        if any(part is None for part in parts):
            return None
        del self._parts[message_id]
        return b"".join(part or b"" for part in parts)
