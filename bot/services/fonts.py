"""A Chinese font for the charts (E4, A5) that needs nothing installed on the machine.

The ``noto-cjk-sans-otc`` package (a dependency; Noto Sans CJK, SIL Open Font License 1.1) carries the font
file; it is registered with matplotlib's font manager the first time a chart asks for it, not at import.
Without the package (installed with ``--no-deps``, say) a system CJK font is used if there is one."""

from __future__ import annotations

import threading
from functools import cache
from importlib import resources
from pathlib import Path

PACKAGE = "noto_cjk_sans_otc"
PACKAGED_FILE = "NotoSansCJK-Regular.ttc"
PACKAGED_FAMILY = "Noto Sans CJK SC"  # the Simplified Chinese face of the collection
SYSTEM_CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "Heiti SC",
)

_registering = threading.Lock()  # charts are drawn in worker threads: register once


def packaged_font_file() -> Path | None:
    try:
        path = resources.files(PACKAGE) / PACKAGED_FILE
    except ModuleNotFoundError:
        return None
    return Path(str(path)) if path.is_file() else None


def cjk_font() -> str | None:
    """The font family to draw Chinese with, or None when there is none (the caller then draws in English)."""
    with _registering:
        return _cjk_font()


@cache
def _cjk_font() -> str | None:
    from matplotlib import font_manager

    path = packaged_font_file()
    if path is not None:
        if not any(Path(font.fname) == path for font in font_manager.fontManager.ttflist):
            font_manager.fontManager.addfont(path)  # every face of the collection, SC among them
        return PACKAGED_FAMILY
    installed = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in SYSTEM_CJK_FONTS if name in installed), None)
