"""The timeliness report as text and as a chart, in one language (E4)."""

from __future__ import annotations

import calendar
from typing import TYPE_CHECKING

from babel.dates import format_skeleton
from babel.numbers import format_percent

from bot.i18n import babel_locale
from bot.services.deadlines.chart import timeliness_chart
from bot.services.deadlines.views import DeadlineTexts
from bot.services.errors import N_
from bot.services.fonts import cjk_font

if TYPE_CHECKING:
    from bot.services.deadlines.timeliness import Tally, TimelinessReport


def period_title(report: TimelinessReport, texts: DeadlineTexts, language: str) -> str:
    """ "March 2026" for a whole month, else the first and last day."""
    start, end = report.start, report.end
    whole_month = (
        start.day == 1 and end.replace(day=1) == start and end.day == calendar.monthrange(end.year, end.month)[1]
    )
    if whole_month:
        period = format_skeleton("yMMMM", start, locale=babel_locale(language))
    else:
        period = f"{texts.day(start, language)} – {texts.day(end, language)}"
    return texts.gettext("Timeliness of reporting deadlines, {period}", language, period=period)


def figures(tally: Tally, texts: DeadlineTexts, language: str) -> str:
    return texts.gettext(
        "on time {on_time} · with extension {extended} · late {late} · missed {missed} · on-time rate {rate}",
        language,
        on_time=tally.on_time,
        extended=tally.extended,
        late=tally.late,
        missed=tally.missed,
        rate=rate_text(tally, language),
    )


def rate_text(tally: Tally, language: str) -> str:
    return "—" if tally.rate is None else format_percent(tally.rate, locale=babel_locale(language))


def report_text(report: TimelinessReport, order: list[str], texts: DeadlineTexts, language: str) -> str:
    lines = [period_title(report, texts, language)]
    departments = report.departments(order)
    if not departments:
        lines.append(texts.gettext("No deadlines fell due in this period.", language))

    def line(label: str, tally: Tally) -> str:
        return texts.gettext("{label}: {figures}", language, label=label, figures=figures(tally, texts, language))

    overall = None
    for department, total, rows in departments:
        lines.append(line(texts.department(department, language), total))
        if len(rows) > 1:  # several sources (e.g. incident reporting windows): show each
            lines += ["  · " + line(texts.gettext(row.source, language), row.tally) for row in rows]
        overall = total if overall is None else overall + total
    if len(departments) > 1 and overall is not None:
        lines.append(line(texts.gettext("All departments", language), overall))
    lines.append(texts.gettext("Counted by the original deadline; an extension does not count as on time.", language))
    return "\n".join(lines)


def report_chart(report: TimelinessReport, order: list[str], texts: DeadlineTexts, language: str) -> bytes:
    """Drawn in the member's language; in English only if no Chinese font could be found (see ``cjk_font``)."""
    font = cjk_font()
    if language != "en" and font is None:
        language = "en"
    bars = [
        (texts.department(department, language), total.counts, rate_text(total, language))
        for department, total, _ in report.departments(order)
    ]
    legend = [texts.gettext(name, language) for name in (N_("On time"), N_("With extension"), N_("Late"), N_("Missed"))]
    return timeliness_chart(period_title(report, texts, language), bars, legend, font)
