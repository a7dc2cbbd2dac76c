"""Webhook mode: checks X-Telegram-Bot-Api-Secret-Token, serves /health, /ready and /metrics, stops gracefully."""

from __future__ import annotations

import hmac

from aiogram.types import Update
from aiohttp import web

from bot.app import App, add_http_routes


def build_web_app(app: App) -> web.Application:
    settings = app.settings
    web_app = web.Application()

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not settings.webhook_secret or not hmac.compare_digest(given, settings.webhook_secret):
            return web.Response(status=401, text="wrong secret token")
        try:
            update = Update.model_validate(await request.json(), context={"bot": app.bot})
        except ValueError:
            return web.Response(status=400, text="not an update")
        await app.dispatcher.feed_update(app.bot, update)
        return web.Response(text="ok")

    web_app.router.add_post(settings.webhook_path, receive)
    add_http_routes(web_app, app)
    return web_app


async def serve_webhook(app: App) -> None:
    settings = app.settings
    if not settings.webhook_secret:
        raise SystemExit("WEBHOOK_SECRET must be set in webhook mode, so that only Telegram can post updates.")
    runner = web.AppRunner(build_web_app(app))
    await runner.setup()
    site = web.TCPSite(runner, settings.webhook_host, settings.webhook_port)
    await site.start()
    url = settings.webhook_url.rstrip("/") + settings.webhook_path  # type: ignore[union-attr]
    await app.bot.set_webhook(url, secret_token=settings.webhook_secret, allowed_updates=["message", "callback_query"])
    try:
        await app.stopping.wait()
    finally:
        await runner.cleanup()  # stops taking requests and lets in-flight ones finish
