"""Operations figures (issue 13): what /metrics costs per update, and how fast /ready and /metrics answer.

1. The throughput benchmark's wizard (bench/throughput.py) with METRICS on and off, alternating runs on the
   same machine: cost per update and the ratio on/off (the counters of the outbox, timers and session are
   counted either way; METRICS=false drops the per-update middleware, the part that scales with updates).
2. After such a run (200 reports, their alerts and timers in the database), /ready and /metrics are asked
   `--requests` times over HTTP on loopback, one after another: p50 and p99 of the answer time.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import time

from aiohttp import ClientSession, web

from bench.botapi_process import BotApiProcess
from bench.common import Report, bench_settings, median, organise, percentile, running_app, scratch
from bench.throughput import FIRST_MEMBER, MEMBERS, OFFICER, drive, incident_wizard, our_run
from bot.health import add_routes, serve


async def endpoint_latency(server: BotApiProcess, requests: int) -> dict[str, list[float]]:
    members = [FIRST_MEMBER + n for n in range(MEMBERS)]
    async with scratch() as folder, running_app(bench_settings(folder / "bot.sqlite3", server.base_url)) as app:
        await organise(app, {"dispatch": OFFICER}, members)
        await drive(lambda update: app.dispatcher.feed_update(app.bot, update), incident_wizard(), 1)
        web_app = web.Application()
        add_routes(web_app, app.readiness, app.metrics, app.uow)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        stop = await serve(web_app, "127.0.0.1", port)
        timings: dict[str, list[float]] = {"/ready": [], "/metrics": []}
        try:
            async with ClientSession() as http:
                for path, times in timings.items():
                    for _ in range(requests):
                        started = time.perf_counter()
                        async with http.get(f"http://127.0.0.1:{port}{path}") as response:
                            await response.read()
                        times.append(time.perf_counter() - started)
        finally:
            await stop()
        return timings


async def main() -> Report:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one run each, 50 requests")
    parser.add_argument("--runs", type=int, default=3, help="throughput runs with metrics on, and as many off")
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    if args.quick:
        args.runs, args.requests = 1, 50
    updates = MEMBERS * len(incident_wizard())
    report = Report(f"Operations: metrics cost per update ({updates:,} updates a run), /ready and /metrics latency")
    async with BotApiProcess() as server:
        on, off = [], []
        for _ in range(args.runs):  # alternating, so a drift of the machine touches both alike
            on.append(updates / (await our_run(server, 1, "incident"))[0])
            off.append(updates / (await our_run(server, 1, "incident", metrics=False))[0])
        timings = await endpoint_latency(server, args.requests)
    ms = 1000.0
    report.add("cost per update, metrics on (median of runs)", ms / median(on), "ms")
    report.add("cost per update, metrics off (median of runs)", ms / median(off), "ms")
    report.add("ratio on/off", median(off) / median(on), "×")
    for path, times in timings.items():
        report.add(f"{path} answer p50", percentile(times, 50) * ms, "ms")
        report.add(f"{path} answer p99", percentile(times, 99) * ms, "ms")
    report.note(
        "per-run rates on: " + ", ".join(f"{r:.0f}" for r in on) + "; off: " + ", ".join(f"{r:.0f}" for r in off)
    )
    report.print()
    return report


if __name__ == "__main__":
    asyncio.run(main())
