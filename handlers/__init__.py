"""The chat layer: one router per flow, in the order they are tried."""

from __future__ import annotations

from collections.abc import Iterable

from aiogram import Router

from handlers import admin, common, fallback, start


def build_routers(flows: Iterable[Router]) -> list[Router]:
    """Every router in the order they are tried: the foundation's, the flows' (`App.flow_routers`), the
    fallbacks. They sit side by side under the dispatcher: each level of nesting cost every update another pass
    through aiogram's propagation and middleware chain (issue 15)."""
    return [start.build(), common.build(), admin.build(), *flows, fallback.build()]
