"""Benchmark 4, outbox rate: `python -m bench.outbox_rate [--quick] [--runs N]`.

3,000 messages to 500 chats go through the real outbox sender against a fake Bot API server that
enforces Telegram's limits (30 messages/s overall, 1/s per chat, 20/min per group) with
429 + retry_after. Measured: sustained messages/s, 429 responses provoked after a 2 s warm-up,
per-chat order, duplicates. Baseline: a bare aiogram loop sending the same messages through the
same pacer, without a database.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from typing import Any

from aiogram.exceptions import TelegramRetryAfter

from bench.botapi_process import BotApiProcess
from bench.common import Report, arguments, bench_settings, median, percentile, running_app, scratch
from bench.echo_bot import echo_bot

WARM_UP = 2.0


def plan(messages: int, chats: int) -> list[tuple[int, str]]:
    """(chat, text) in the order they are queued: each chat's messages numbered in order."""
    return [(20_000 + n % chats, f"chat {20_000 + n % chats} message {n // chats}") for n in range(messages)]


async def queue_all(app: Any, messages: list[tuple[int, str]]) -> None:
    from bot.services.messages import queue_text

    for start in range(0, len(messages), 500):
        async with app.uow() as uow:
            for chat, text in messages[start : start + 500]:
                await queue_text(uow, app.clock.now(), key=text, chat_id=chat, text=text)
            await uow.commit()


async def our_run(server: BotApiProcess, messages: list[tuple[int, str]]) -> dict[str, float]:
    await server.clear()
    await server.enforce_limits(30, 1, 20)
    async with scratch() as folder:

        async def queue(app: Any) -> None:
            await queue_all(app, messages)

        async with running_app(bench_settings(folder / "bot.sqlite3", server.base_url), before_start=queue):
            arrivals = await server.collect(len(messages), within=len(messages) / 20 + 120)
    return await _figures(server, arrivals)


async def bare_run(server: BotApiProcess, messages: list[tuple[int, str]]) -> dict[str, float]:
    """The same messages through the same pacer by a bare aiogram bot, 16 at a time, no database."""
    from bot.pacer import Pacer

    await server.clear()
    await server.enforce_limits(30, 1, 20)
    bot, pacer, slots = echo_bot(server.base_url), Pacer(), asyncio.Semaphore(16)

    async def send(chat: int, text: str) -> None:
        async with slots:
            while True:
                await pacer.wait_turn(chat)
                try:
                    await bot.send_message(chat, text)
                    return
                except TelegramRetryAfter as exc:
                    pacer.pause(exc.retry_after)

    await asyncio.gather(*(send(chat, text) for chat, text in messages))
    await bot.session.close()
    return await _figures(server, await server.collect(len(messages)))


async def _figures(server: BotApiProcess, arrivals: list[list[Any]]) -> dict[str, float]:
    times = [at for at, *_ in arrivals]
    first, last = min(times), max(times)
    per_second: dict[int, int] = defaultdict(int)
    for at in times:
        per_second[int(at - first)] += 1
    full_seconds = [count for second, count in per_second.items() if 0 < second < int(last - first)]
    order: dict[int, list[int]] = defaultdict(list)
    for _at, _method, chat, text in arrivals:
        order[chat].append(int(text.split()[-1]))
    stats = await server.stats()
    return {
        "rate": (len(times) - 1) / (last - first),
        "worst_second": percentile(full_seconds, 1) if full_seconds else float("nan"),
        "hits_after_warm_up": sum(1 for at, _scope in stats["rate_limit_hits"] if at > first + WARM_UP),
        "per_chat_hits": sum(1 for _at, scope in stats["rate_limit_hits"] if scope == "chat"),
        "hits": len(stats["rate_limit_hits"]),
        "out_of_order_chats": sum(1 for numbers in order.values() if numbers != sorted(numbers)),
        "duplicates": stats["duplicates"],
        "seconds": last - first,
    }


async def main() -> Report:
    args = arguments(__doc__.splitlines()[0], runs=2)
    messages = plan(600, 100) if args.quick else plan(3_000, 500)
    chats = len({chat for chat, _ in messages})
    report = Report(f"Outbox rate: {len(messages):,} messages to {chats} chats, limits 30/s, 1/s per chat")
    async with BotApiProcess() as server:
        started = time.monotonic()
        ours = [await our_run(server, messages) for _ in range(args.runs)]
        bare = await bare_run(server, messages[: len(messages) // 5])
    rate = median([run["rate"] for run in ours])
    report.add("sustained rate (median of runs)", rate, "msg/s", at_least=28)
    report.add("worst full second (p1 of per-second counts)", median([run["worst_second"] for run in ours]), "msg")
    report.add(
        "429 responses provoked after warm-up (all runs)", sum(run["hits_after_warm_up"] for run in ours), "", at_most=0
    )
    report.add(
        "429 responses in the warm-up (all runs)", sum(run["hits"] - run["hits_after_warm_up"] for run in ours), ""
    )
    report.add("  of all 429s, for one chat's limit (the rest: overall)", sum(run["per_chat_hits"] for run in ours), "")
    report.add(
        "chats whose messages arrived out of order", sum(run["out_of_order_chats"] for run in ours), "", at_most=0
    )
    report.add("messages delivered twice", sum(run["duplicates"] for run in ours), "", at_most=0)
    report.add("bare aiogram bot, same pacer: rate", bare["rate"], "msg/s")
    report.add("bare aiogram bot: 429 responses provoked after warm-up", bare["hits_after_warm_up"], "")
    report.add("ratio of our rate to the bare bot's", rate / bare["rate"], "×")
    report.note(
        f"{args.runs} run(s) in {time.monotonic() - started:.0f} s; per-run rates: "
        + ", ".join(f"{run['rate']:.2f}" for run in ours)
        + f"; the bare bot sent {len(messages) // 5:,}"
    )
    report.print()
    return report


if __name__ == "__main__":
    asyncio.run(main())
