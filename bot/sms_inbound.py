"""Replies to SMS alerts (issue 12): the providers' inbound webhooks on the bot's HTTP server (the webhook
server, or HEALTH_PORT in polling mode). A reply is handed to the incidents' ``acknowledge_by_sms``, which
authorises it like the Acknowledge button.

- Tencent Cloud posts its reply callback (回复短信回调) to ``/sms/tencent/<SMS_INBOUND_SECRET>``: the
  callback is not signed, so the secret path is what proves it is Tencent.
- Twilio posts to ``/sms/twilio``, signed with the account's auth token over the public URL it called
  (``TWILIO_INBOUND_URL`` when a proxy changes the URL the bot sees).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from aiohttp import web

from bot.channels.base import optional
from bot.channels.tencent import parse_tencent_reply
from bot.channels.twilio import parse_twilio_inbound

log = logging.getLogger(__name__)

Acknowledge = Callable[[str, str], Awaitable[None]]  # (phone, text)
TENCENT_PATH, TWILIO_PATH = "/sms/tencent/{secret}", "/sms/twilio"


@dataclass(frozen=True)
class SmsInbound:
    tencent_secret: str | None = None
    twilio_token: str | None = None
    twilio_url: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SmsInbound:
        provider = (env.get("SMS_PROVIDER") or "").strip().lower()
        return cls(
            tencent_secret=optional(env, "SMS_INBOUND_SECRET") if provider == "tencent" else None,
            twilio_token=optional(env, "TWILIO_AUTH_TOKEN") if provider == "twilio" else None,
            twilio_url=optional(env, "TWILIO_INBOUND_URL"),
        )


def add_routes(web_app: web.Application, inbound: SmsInbound, acknowledge: Acknowledge) -> None:
    async def tencent(request: web.Request) -> web.Response:
        given = request.match_info["secret"]
        if not inbound.tencent_secret or not hmac.compare_digest(given, inbound.tencent_secret):
            raise web.HTTPNotFound()
        try:
            sms = parse_tencent_reply(await request.read())
        except ValueError as exc:
            log.warning("a Tencent reply callback was refused: %s", exc)
            return web.json_response({"result": 1, "errmsg": str(exc)}, status=400)
        await acknowledge(sms.phone, sms.text)
        return web.json_response({"result": 0, "errmsg": "OK"})  # what Tencent expects back

    async def twilio(request: web.Request) -> web.Response:
        if not inbound.twilio_token:
            raise web.HTTPNotFound()
        form = {key: str(value) for key, value in (await request.post()).items()}
        url = inbound.twilio_url or str(request.url)
        try:
            sms = parse_twilio_inbound(url, form, request.headers.get("X-Twilio-Signature", ""), inbound.twilio_token)
        except PermissionError as exc:
            log.warning("an inbound SMS was refused: %s", exc)
            raise web.HTTPForbidden() from None
        except ValueError as exc:
            return web.Response(status=400, text=str(exc))
        await acknowledge(sms.phone, sms.text)
        return web.Response(text="<Response/>", content_type="text/xml")  # no reply from Twilio itself

    web_app.router.add_post(TENCENT_PATH, tencent)
    web_app.router.add_post(TWILIO_PATH, twilio)
