"""The chat layer: one router per flow, in the order they are tried."""

from __future__ import annotations

from aiogram import Router

from handlers import admin, common, fallback, start


def build_router() -> Router:
    root = Router(name="root")
    root.include_routers(start.build(), common.build(), admin.build(), fallback.build())
    return root
