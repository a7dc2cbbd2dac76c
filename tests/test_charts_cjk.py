"""Charts in Chinese on a machine with no Chinese font (E4, A5): the font comes with the install (the
``noto-cjk-sans-otc`` package), registered with matplotlib when the first chart is drawn.

The machine is made font-less by leaving matplotlib's font manager only the fonts matplotlib ships itself
(DejaVu), so these tests prove the packaged font is what draws the Chinese even where system CJK fonts exist.
A drawn text is followed through the Agg renderer: its string and the font file it is drawn with."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import matplotlib
import pytest
from matplotlib import font_manager
from matplotlib.backends.backend_agg import RendererAgg

from bot.i18n import load_catalogues
from bot.outgoing.speaker import Speaker
from bot.policy import load_policy
from bot.services import fonts
from bot.services.deadlines.catalogue import Catalogue
from bot.services.deadlines.reporting import report_chart
from bot.services.deadlines.timeliness import Tally, TallyRow, TimelinessReport
from bot.services.deadlines.views import DeadlineTexts
from bot.services.incidents.files import chart_png
from bot.services.incidents.views import Figures

HAN = re.compile(r"[\u4e00-\u9fff]")
MATPLOTLIB_FONTS = Path(matplotlib.get_data_path()) / "fonts"


@pytest.fixture
def no_system_fonts(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """matplotlib sees only its own fonts, and the packaged font is registered afresh."""
    manager = font_manager.fontManager
    bare = [font for font in manager.ttflist if MATPLOTLIB_FONTS in Path(font.fname).parents]
    assert bare and not any(HAN.search(font.name) or "CJK" in font.name for font in bare)
    monkeypatch.setattr(manager, "ttflist", bare)
    forget = (fonts._cjk_font.cache_clear, manager._findfont_cached.cache_clear)
    for clear in forget:
        clear()
    yield
    monkeypatch.undo()
    for clear in forget:
        clear()


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Path]]:
    """Each text the Agg renderer draws, with the font file matplotlib picked for it."""
    texts: list[tuple[str, Path]] = []
    draw_text = RendererAgg.draw_text

    def recording(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):  # type: ignore[no-untyped-def]
        texts.append((s, Path(font_manager.findfont(prop))))
        return draw_text(self, gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)

    monkeypatch.setattr(RendererAgg, "draw_text", recording)
    return texts


def missing_glyphs(draw: Callable[[], bytes]) -> tuple[bytes, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = draw()
    return png, [str(w.message) for w in caught if "missing from font" in str(w.message)]


def incident_chart(language: str) -> bytes:
    policy = load_policy(None)
    figures = Figures(
        start=datetime(2026, 3, 1, tzinfo=UTC),
        end=datetime(2026, 4, 1, tzinfo=UTC),
        total=5,
        by_category=[("fire", 3), ("theft_fraud", 2)],
        by_department=[("finance", 4), ("security", 1)],
        acknowledged=5,
        in_window=5,
        median_seconds=60,
        p90_seconds=120,
    )
    return chart_png(figures, Speaker(load_catalogues(), policy, language))


def timeliness_chart(language: str) -> bytes:
    policy = load_policy(None)
    texts = DeadlineTexts(load_catalogues(), policy, Catalogue(policy))
    rows = [TallyRow("finance", "Reporting deadlines", Tally(3, 1, 0, 1)), TallyRow("security", "x", Tally(on_time=2))]
    report = TimelinessReport(date(2026, 3, 1), date(2026, 3, 31), rows)
    return report_chart(report, ["finance", "security"], texts, language)


def packaged(path: Path) -> bool:
    packaged_file = fonts.packaged_font_file()
    return packaged_file is not None and path == packaged_file


@pytest.mark.parametrize("draw", [incident_chart, timeliness_chart], ids=["incidents", "timeliness"])
def test_a_chinese_chart_is_drawn_in_chinese_with_the_packaged_font(
    no_system_fonts: None, drawn: list[tuple[str, Path]], draw: Callable[[str], bytes]
) -> None:
    png, missing = missing_glyphs(lambda: draw("zh_Hans"))
    assert png.startswith(b"\x89PNG")
    chinese = [(text, path) for text, path in drawn if HAN.search(text)]
    assert chinese, f"the chart fell back to English: {[text for text, _ in drawn]}"
    assert all(packaged(path) for _, path in chinese), chinese
    assert missing == []  # every glyph was found: no empty boxes


def test_without_any_chinese_font_the_chart_falls_back_to_english(
    no_system_fonts: None, drawn: list[tuple[str, Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the test above guards against: with the registration gone, a font-less machine has no Chinese."""
    monkeypatch.setattr(fonts, "packaged_font_file", lambda: None)
    png, missing = missing_glyphs(lambda: incident_chart("zh_Hans"))
    assert png.startswith(b"\x89PNG") and missing == []
    assert "By category" in [text for text, _ in drawn]
    assert not any(HAN.search(text) for text, _ in drawn)


def test_the_font_is_registered_once(no_system_fonts: None) -> None:
    assert fonts.cjk_font() == fonts.cjk_font() == "Noto Sans CJK SC"
    packaged_file = fonts.packaged_font_file()
    faces = [font for font in font_manager.fontManager.ttflist if Path(font.fname) == packaged_file]
    assert faces and len({(font.name, font.index) for font in faces}) == len(faces)
