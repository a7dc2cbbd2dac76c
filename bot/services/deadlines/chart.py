"""The timeliness chart (E4): one horizontal bar per department, stacked by outcome, as PNG bytes.

matplotlib is imported when a chart is drawn (it is slow to import) and used through its object API
with the Agg canvas, so no global pyplot state is involved. Chinese labels need a CJK font: the
caller passes one (``bot.services.fonts.cjk_font``)."""

from __future__ import annotations

import io
from collections.abc import Sequence

COLOURS = ("#2e7d32", "#1565c0", "#ef6c00", "#c62828")  # on time, extended, late, missed


def timeliness_chart(
    title: str,
    bars: Sequence[tuple[str, Sequence[int], str]],
    legend: Sequence[str],
    font: str | None = None,
) -> bytes:
    """``bars``: (department label, counts in the order of ``legend``, rate label) per department."""
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    families = [font, "DejaVu Sans"] if font else ["DejaVu Sans"]
    with rc_context({"font.family": families}):
        figure = Figure(figsize=(7.5, 1.8 + 0.45 * len(bars)), dpi=100, layout="constrained")
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        positions = list(range(len(bars)))
        left = [0] * len(bars)
        for index, (name, colour) in enumerate(zip(legend, COLOURS, strict=False)):
            values = [counts[index] for _, counts, _ in bars]
            axes.barh(positions, values, left=left, color=colour, label=name, height=0.6)
            left = [start + value for start, value in zip(left, values, strict=True)]
        for position, (end, (_, _, rate)) in enumerate(zip(left, bars, strict=True)):
            axes.text(end + 0.1, position, rate, va="center", fontsize=9)
        axes.set_yticks(positions, [label for label, _, _ in bars])
        axes.invert_yaxis()
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_xlim(0, max([*left, 1]) * 1.2)
        axes.set_title(title)
        figure.legend(loc="outside lower center", ncol=4, frameon=False)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
    return buffer.getvalue()
