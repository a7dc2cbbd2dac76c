"""The fake Bot API server in its own process, so Telegram's side does not share the bot's CPU.

The child runs `tests.support.botapi_server.FakeBotApi` on loopback (the same fake the tests use)
and a small control server beside it; the parent talks to both over HTTP. Times are recorded with
the wall clock (`time.time`), so the parent can compare them with due times and process starts.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

import aiohttp
from aiohttp import web

from tests.support.botapi_server import FakeBotApi


# The child -----------------------------------------------------------------------------------------
def _control_app(fake: FakeBotApi) -> web.Application:
    async def limits(request: web.Request) -> web.Response:
        body = await request.json()
        if body:
            fake.enforce_limits(body.get("global"), body.get("chat"), body.get("group"))
        else:
            fake.disable_limits()
        return web.json_response({})

    async def deliveries(request: web.Request) -> web.Response:
        since = int(request.query.get("since", 0))
        items = [[d.time, d.method, d.chat_id, d.text] for d in fake.deliveries[since:]]
        return web.json_response({"next": since + len(items), "items": items})

    async def stats(request: web.Request) -> web.Response:
        after = float(request.query.get("after", 0))
        polls = [r.time for r in fake.requests if r.method == "getUpdates" and r.time >= after]
        calls = [r.time for r in fake.requests if r.time >= after]
        return web.json_response(
            {
                "requests": len(fake.requests),
                "deliveries": len(fake.deliveries),
                "first_get_updates": polls[0] if polls else None,
                "first_request": calls[0] if calls else None,
                "rate_limit_hits": [[hit.time, hit.scope] for hit in fake.rate_limit_hits],
                "duplicates": sum(len(group) - 1 for group in fake.duplicates()),
            }
        )

    async def clear(_: web.Request) -> web.Response:
        fake.clear()
        return web.json_response({})

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_post("/limits", limits)
    app.router.add_get("/deliveries", deliveries)
    app.router.add_get("/stats", stats)
    app.router.add_post("/clear", clear)
    return app


async def _serve() -> None:
    fake = FakeBotApi(clock=time.time)
    await fake.start()
    runner = web.AppRunner(_control_app(fake), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    control_port = runner.addresses[0][1]
    print(json.dumps({"base_url": fake.base_url, "control_url": f"http://127.0.0.1:{control_port}"}), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until the parent closes stdin
    await runner.cleanup()
    await fake.stop()


# The parent ----------------------------------------------------------------------------------------
class BotApiProcess:
    """Start with `async with BotApiProcess() as server:`; `server.base_url` goes to TELEGRAM_API_BASE."""

    base_url: str
    control_url: str

    async def __aenter__(self) -> BotApiProcess:
        self._process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.botapi_process", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
        )
        assert self._process.stdout is not None
        line = await asyncio.wait_for(self._process.stdout.readline(), timeout=60)
        addresses = json.loads(line)
        self.base_url, self.control_url = addresses["base_url"], addresses["control_url"]
        self._http = aiohttp.ClientSession()
        self._seen = 0
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._http.close()
        assert self._process.stdin is not None
        self._process.stdin.close()
        try:
            await asyncio.wait_for(self._process.wait(), timeout=10)
        except TimeoutError:
            self._process.kill()
            await self._process.wait()

    async def _call(self, method: str, path: str, body: Any = None, **query: Any) -> Any:
        async with self._http.request(method, self.control_url + path, json=body, params=query) as response:
            response.raise_for_status()
            return await response.json()

    async def enforce_limits(self, global_per_second: int, per_chat: int, per_group_minute: int) -> None:
        await self._call("POST", "/limits", {"global": global_per_second, "chat": per_chat, "group": per_group_minute})

    async def stats(self, after: float = 0.0) -> dict[str, Any]:
        """Counts, rate-limit hits, duplicates, and the first getUpdates at or after `after` (wall clock)."""
        return await self._call("GET", "/stats", after=after)

    async def first_call_after(self, moment: float, method: str = "getUpdates", within: float = 60.0) -> float:
        """When a bot started at `moment` first called the server: "any" method (imports done, app built),
        or "getUpdates" (ready for updates)."""
        field = {"getUpdates": "first_get_updates", "any": "first_request"}[method]
        deadline = time.monotonic() + within
        while (polled := (await self.stats(moment))[field]) is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no getUpdates within {within:.0f} s")
            await asyncio.sleep(0.01)
        return float(polled)

    async def clear(self) -> None:
        """Forget what was recorded: a new phase of the benchmark starts."""
        await self._call("POST", "/clear")
        self._seen = 0

    async def deliveries(self, since: int = 0) -> tuple[int, list[list[Any]]]:
        """Successful requests since index `since`: [time, method, chat_id, text]; and the next index."""
        answer = await self._call("GET", "/deliveries", since=since)
        return answer["next"], answer["items"]

    async def collect(self, wanted: int, *, method: str = "sendMessage", within: float = 300.0) -> list[list[Any]]:
        """Wait until `wanted` new successful `method` requests arrived (checked every 50 ms) and return them."""
        found: list[list[Any]] = []
        deadline = time.monotonic() + within
        while True:
            self._seen, items = await self.deliveries(self._seen)
            found.extend(item for item in items if item[1] == method)
            if len(found) >= wanted:
                return found
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {len(found)} of {wanted} {method} requests arrived within {within:.0f} s")
            await asyncio.sleep(0.05)

    async def arrivals(
        self, markers: dict[str, int], *, method: str = "sendMessage", within: float = 60.0
    ) -> dict[str, float]:
        """When the first `method` request to each marker's chat whose text contains the marker reached the
        server (wall clock, `time.time()` in the server process): {marker: time}. Waits until every marker
        arrived or `within` seconds passed (then returns what arrived). Markers must not contain each other."""
        found: dict[str, float] = {}
        deadline = time.monotonic() + within
        while len(found) < len(markers) and time.monotonic() < deadline:
            self._seen, items = await self.deliveries(self._seen)
            for moment, name, chat_id, text in items:
                if name != method or not text:
                    continue
                for marker in [m for m, chat in markers.items() if chat == chat_id and m not in found and m in text]:
                    found[marker] = moment
            if len(found) < len(markers):
                await asyncio.sleep(0.05)
        return found


if __name__ == "__main__":
    asyncio.run(_serve())
