"""Files for managers (A5, A6): the /stats chart (PNG) and the /export table (CSV or XLSX) with timelines."""

from __future__ import annotations

import csv
import ctypes
import io
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.outgoing.speaker import Speaker
from bot.services.fonts import cjk_font
from bot.services.incidents import render
from bot.services.incidents.views import Figures, IncidentCard

FORMATS = ("csv", "xlsx")


def chart_png(figures: Figures, w: Speaker) -> bytes:
    """Incidents by category and by department as bars. Chinese comes with the packaged font (``cjk_font``);
    without any Chinese font the labels fall back to English, so the chart never shows empty boxes. No pyplot:
    safe to draw in a worker thread."""
    from matplotlib import font_manager
    from matplotlib.figure import Figure

    cjk = cjk_font()
    labels = w if cjk or w.language == "en" else w.other("en")
    font = font_manager.FontProperties(family=[cjk] if cjk else ["DejaVu Sans"])
    figure = Figure(figsize=(10, 4.5))
    left, right = figure.subplots(1, 2)
    _bars(left, [(labels.category(code), n) for code, n in figures.by_category], labels._("By category"), font)
    _bars(right, [(labels.department(code), n) for code, n in figures.by_department], labels._("By department"), font)
    figure.suptitle(labels._("Incidents {start} – {end}").format(**_period(labels, figures)), fontproperties=font)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    del figure
    _give_memory_back()
    return buffer.getvalue()


def _give_memory_back() -> None:
    """Drawing runs in a worker thread, and glibc keeps what a thread's malloc arena freed: without this the
    process held ~170 MiB more after 20 charts (bench/footprint.py). Elsewhere than glibc, nothing to do."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _bars(axes: Any, counts: Sequence[tuple[str, int]], title: str, font: Any) -> None:
    names = [name for name, _count in counts][::-1] or ["-"]
    axes.barh(names, [count for _name, count in counts][::-1] or [0], color="#c0392b")
    axes.set_title(title, fontproperties=font)
    for label in axes.get_yticklabels():
        label.set_fontproperties(font)
    axes.xaxis.get_major_locator().set_params(integer=True)


def _period(w: Speaker, figures: Figures) -> dict[str, str]:
    zone = w.policy.organisation.zone
    return {
        "start": figures.start.astimezone(zone).date().isoformat(),
        "end": (figures.end - timedelta(seconds=1)).astimezone(zone).date().isoformat(),  # the end is exclusive
    }


def columns(w: Speaker) -> list[str]:
    return [
        w._("Number"),
        w._("Category"),
        w._("Severity"),
        w._("Department"),
        w._("Duty room"),
        w._("Reporter"),
        w._("Status"),
        w._("Duplicate of"),
        w._("Occurred"),
        w._("Reported"),
        w._("Acknowledged"),
        w._("Acknowledged by"),
        w._("Minutes to acknowledge"),
        w._("Acknowledged within the window"),
        w._("Resolved"),
        w._("Closed"),
        w._("What happened"),
        w._("Where"),
        w._("Latitude"),
        w._("Longitude"),
        w._("Loss (yuan)"),
        w._("Reported outside because"),
        w._("Outside report due"),
        w._("Outside report filed"),
        w._("Outside report missed"),
        w._("Outside body"),
        w._("Reference"),
        w._("Timeline"),
    ]


def row(w: Speaker, card: IncidentCard) -> list[object]:
    i = card.incident
    local = _local(w)
    yes, no = w._("yes"), w._("no")
    return [
        i.number,
        w.category(i.category),
        w.severity(i.severity),
        w.department(i.department),
        w.room(i.duty_room),
        card.reporter,
        render.status_name(w, i.status),
        card.duplicate_of or "",  # the same case as that report: counted there (/stats)
        local(i.occurred_at),
        local(i.reported_at),
        local(i.acknowledged_at),
        card.acknowledged_by or "",
        round(i.ack_seconds / 60, 1) if i.ack_seconds is not None else "",
        "" if i.ack_in_window is None else (yes if i.ack_in_window else no),
        local(i.resolved_at),
        local(i.closed_at),
        i.description,
        i.location_text or "",
        i.latitude if i.latitude is not None else "",
        i.longitude if i.longitude is not None else "",
        i.loss_yuan if i.loss_yuan is not None else "",
        render.reasons_text(w, i.reportable_reasons),
        local(i.external_due_at),
        local(i.external_filed_at),
        yes if i.external_missed else ("" if i.external_due_at is None else no),
        i.external_body or "",
        i.external_reference or "",
        "\n".join(f"{local(e.at)} {render.timeline_text(w, e)}" for e in card.timeline),
    ]


def _local(w: Speaker) -> Callable[[datetime | None], str]:
    zone = w.policy.organisation.zone

    def show(moment: datetime | None) -> str:
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else ""

    return show


def table_bytes(w: Speaker, cards: Iterable[IncidentCard], fmt: str) -> bytes:
    """CSV (UTF-8 with a byte-order mark, so spreadsheet programs read the Chinese) or XLSX."""
    header, rows = columns(w), [row(w, card) for card in cards]
    if fmt == "csv":
        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow(header)
        writer.writerows(rows)
        return ("\ufeff" + text.getvalue()).encode("utf-8")
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "incidents"
    sheet.append(header)
    for values in rows:
        sheet.append(values)
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
