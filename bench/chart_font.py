"""`python -m bench.chart_font`: what the packaged Chinese font costs a chart. The /stats chart is drawn 20 times
in Chinese with the packaged Noto Sans CJK, and 20 times without it (the English fallback of a machine with
no Chinese font), each in a fresh process; prints the median and slowest draw and the process's memory."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime

DRAWS = 20


def draw_in_this_process(with_font: bool) -> str:
    from bot.i18n import load_catalogues
    from bot.outgoing.speaker import Speaker
    from bot.policy import load_policy
    from bot.services import fonts
    from bot.services.incidents.files import chart_png
    from bot.services.incidents.views import Figures

    if not with_font:
        fonts.packaged_font_file = lambda: None  # type: ignore[assignment]
    policy = load_policy(None)
    words = Speaker(load_catalogues(), policy, "zh_Hans")
    categories = [category.code for category in policy.incidents.categories]
    departments = [department.code for department in policy.departments]
    figures = Figures(
        start=datetime(2026, 3, 1, tzinfo=UTC),
        end=datetime(2026, 4, 1, tzinfo=UTC),
        total=100,
        by_category=[(code, 10 + n) for n, code in enumerate(categories)],
        by_department=[(code, 5 + n) for n, code in enumerate(departments)],
        acknowledged=90,
        in_window=80,
        median_seconds=60,
        p90_seconds=300,
    )
    chart_png(figures, words)  # the first: imports matplotlib, registers the font
    times = []
    for _ in range(DRAWS):
        started = time.perf_counter()
        chart_png(figures, words)
        times.append(time.perf_counter() - started)
    times.sort()
    rss = int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0]) / 1024
    label = "Chinese, packaged font" if with_font else "English fallback, no font"
    return f"{label:28} p50 {times[DRAWS // 2] * 1000:5.0f} ms  max {times[-1] * 1000:5.0f} ms  resident {rss:4.0f} MiB"


def main() -> None:
    if len(sys.argv) > 1:
        print(draw_in_this_process(sys.argv[1] == "font"))
        return
    print(f"/stats chart, {DRAWS} draws after the first, each mode in a fresh process:")
    for mode in ("font", "none", "font", "none"):
        subprocess.run([sys.executable, "-m", "bench.chart_font", mode], check=True)


if __name__ == "__main__":
    main()
