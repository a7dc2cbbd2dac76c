"""`python -m bench [--quick]`: every benchmark in turn, then a summary of the targets missed."""

from __future__ import annotations

import asyncio
import sys

from bench import alert_latency, footprint, outbox_rate, throughput, timer_precision
from bench.common import Report, machine


async def main() -> None:
    reports: list[Report] = []
    for module in (alert_latency, throughput, timer_precision, outbox_rate, footprint):
        reports.append(await module.main())
    print(f"\n== Summary ==  ({machine()})")
    for report in reports:
        missed = report.missed
        verdict = "all targets met" if not missed else "; ".join(f"{f.name}: {f.verdict}" for f in missed)
        print(f"{report.title}: {verdict}")


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
