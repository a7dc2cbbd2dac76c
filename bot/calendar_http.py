"""GET /calendar/<token>.ics: the roster's calendar feeds (issue 14), on the bot's HTTP server — the
webhook server in webhook mode, the HEALTH_PORT server in polling mode. An unknown, revoked or no
longer entitled token gets a bare 404, whatever the reason."""

from __future__ import annotations

from aiohttp import web

from bot.services.roster_feeds import CalendarFeeds

ROUTE = "/calendar/{token}.ics"


def add_routes(web_app: web.Application, feeds: CalendarFeeds) -> None:
    async def feed(request: web.Request) -> web.Response:
        data = await feeds.fetch(request.match_info["token"])
        if data is None:
            return web.Response(status=404, text="not found")
        return web.Response(
            body=data,
            content_type="text/calendar",
            charset="utf-8",
            headers={"Cache-Control": "private, max-age=300", "Content-Disposition": 'inline; filename="duty.ics"'},
        )

    web_app.router.add_get(ROUTE, feed)
