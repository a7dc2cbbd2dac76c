"""The chat layer: one router per flow, in the order they are tried."""

from __future__ import annotations

from aiogram import Router

from handlers import admin, common, fallback, start


def build_routers() -> tuple[Router, Router]:
    """The root router, and the empty router where flows plug theirs in (before the fallbacks)."""
    flows = Router(name="flows")
    root = Router(name="root")
    root.include_routers(start.build(), common.build(), admin.build(), flows, fallback.build())
    return root, flows
