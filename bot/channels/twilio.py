"""Twilio: SMS through the Messages resource and text-to-speech calls through Calls (issue 12).

``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` (form ``To``, ``From`` or
``MessagingServiceSid``, ``Body``) and ``…/Calls.json`` (``To``, ``From``, ``Twiml``), HTTP Basic auth
with the Account SID and Auth Token. Errors are JSON ``{"code", "message", "more_info", "status"}``.

Twilio's REST API takes no idempotency key, so the outbox key is not sent: a request whose answer
was lost (a timeout) may be repeated by the retry and the person then gets the SMS or the call twice,
as with a Telegram send.

Inbound SMS arrive as a form POST to the webhook configured on the number; Twilio signs it in
``X-Twilio-Signature``: base64 HMAC-SHA1, keyed with the Auth Token, of the full URL followed by every
form field as name + value, sorted by name. ``parse_twilio_inbound`` checks it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from xml.sax.saxutils import escape

import aiohttp

from bot.channels.base import (
    InboundSms,
    Misconfigured,
    RetryLater,
    Sent,
    Unreachable,
    close_session,
    is_e164,
    new_session,
    optional,
    post,
    require_e164,
    retry_after,
    setting,
)

API_BASE = "https://api.twilio.com"
API_VERSION = "2010-04-01"
BODY_MAX = 1600  # Twilio refuses a longer Body (21617)
SPEECH_MAX = 1000  # well inside the 4000 characters Twilio allows for Twiml
SAY_LOOP = 2
# the bot's locale -> <Say language>
SAY_LANGUAGES = {"zh_Hans": "zh-CN", "zh": "zh-CN", "en": "en-US"}

# Error codes (https://www.twilio.com/docs/api/errors) that refuse the number or the text for good.
UNREACHABLE_CODES = {
    13223,  # Dial: invalid phone number format
    13224,  # Dial: Twilio does not support calling this number or the number is invalid
    13225,  # Dial: forbidden phone number
    13226,  # Dial: invalid country code
    21211,  # invalid 'To' phone number
    21214,  # 'To' phone number cannot be reached
    21215,  # geographic permission for calls to this number not enabled
    21217,  # phone number does not appear to be valid
    21219,  # 'To' not verified (trial account)
    21401,  # invalid phone number
    21407,  # this phone number type does not support SMS
    21408,  # permission to send an SMS to this region not enabled
    21608,  # 'To' not verified (trial account)
    21610,  # the recipient replied STOP: unsubscribed
    21612,  # Twilio cannot route to this number
    21614,  # 'To' is not a valid mobile number
    21617,  # the message body is too long
    21635,  # 'To' is a landline
}
# ...and those that refuse the account or its settings: every send would fail the same way.
MISCONFIGURED_CODES = {
    10001,  # account is not active
    20003,  # authenticate: wrong Account SID or Auth Token
    20005,  # account not active
    20008,  # test credentials cannot do this
    20404,  # resource not found (a wrong Account SID in the URL)
    21210,  # 'From' phone number not verified
    21212,  # invalid 'From' phone number
    21213,  # 'From' phone number is required (calls)
    21603,  # 'From' phone number is required (messages)
    21606,  # 'From' is not a valid, SMS-capable Twilio number
    21659,  # 'From' is not a Twilio phone number
    21705,  # invalid messaging service
}
RETRY_CODES = {20429, 14107, 20500, 20503}  # too many requests, SMS rate exceeded, Twilio's own failures

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def twiml_say(speech: str, language: str = "zh_Hans") -> str:
    """``<Response><Say language=… loop="2">…</Say></Response>`` with the text XML-escaped."""
    lang = SAY_LANGUAGES.get(language, "zh-CN")
    text = escape(_XML_INVALID.sub("", " ".join(str(speech).split()))[:SPEECH_MAX])
    return f'<Response><Say language="{lang}" loop="{SAY_LOOP}">{text}</Say></Response>'


class TwilioProvider:
    """SMS and voice calls through Twilio; one aiohttp session, made on first use."""

    name = "twilio"

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        endpoint: str | None = None,
        session_timeout: float = 10,
    ) -> None:
        if not from_number and not messaging_service_sid:
            raise ValueError("Twilio needs a From number or a messaging service")
        self.account_sid = account_sid
        self._auth_token = auth_token
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid
        self._base = (endpoint or API_BASE).rstrip("/")
        self._timeout = session_timeout
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, session_timeout: float = 10) -> TwilioProvider:
        from_number = optional(env, "TWILIO_FROM")
        service = optional(env, "TWILIO_MESSAGING_SERVICE_SID")
        account_sid = setting(env, "TWILIO_ACCOUNT_SID", "twilio")
        auth_token = setting(env, "TWILIO_AUTH_TOKEN", "twilio")
        if not from_number and not service:
            raise ValueError("SMS_PROVIDER=twilio needs TWILIO_FROM (or TWILIO_MESSAGING_SERVICE_SID for SMS only)")
        if from_number and not is_e164(from_number):
            raise ValueError(f"TWILIO_FROM must be an E.164 number such as +15005550006, not {from_number!r}")
        return cls(
            account_sid=account_sid,
            auth_token=auth_token,
            from_number=from_number,
            messaging_service_sid=service,
            endpoint=optional(env, "TWILIO_ENDPOINT"),
            session_timeout=session_timeout,
        )

    @property
    def can_call(self) -> bool:
        return bool(self.from_number)  # a call needs a caller number; a messaging service cannot call

    async def send_sms(self, phone: str, text: str, *, key: str) -> Sent:
        """Send ``text`` (cut at 1600 characters); ``key`` is not sent, Twilio has no idempotency key."""
        phone = require_e164(phone)
        body = str(text).strip()[:BODY_MAX]
        if not body:
            raise Unreachable("Twilio Messages: the text is empty")
        form = {"To": phone, "Body": body}
        if self.messaging_service_sid:
            form["MessagingServiceSid"] = self.messaging_service_sid
        else:
            form["From"] = self.from_number or ""
        return Sent(await self._create("Messages.json", form))

    async def call(self, phone: str, speech: str, *, key: str, language: str = "zh_Hans") -> Sent:
        """Call ``phone`` and say ``speech`` twice (zh_Hans -> zh-CN, en -> en-US)."""
        phone = require_e164(phone)
        if not self.from_number:
            raise Misconfigured("Twilio calls need TWILIO_FROM (a messaging service cannot call)")
        form = {"To": phone, "From": self.from_number, "Twiml": twiml_say(speech, language)}
        return Sent(await self._create("Calls.json", form))

    async def close(self) -> None:
        await close_session(self._session)
        self._session = None

    async def _create(self, resource: str, form: dict[str, str]) -> str:
        what = f"Twilio {resource.removesuffix('.json')}"
        url = f"{self._base}/{API_VERSION}/Accounts/{self.account_sid}/{resource}"
        if self._session is None or self._session.closed:
            self._session = new_session(self._timeout)
        credentials = base64.b64encode(f"{self.account_sid}:{self._auth_token}".encode()).decode()
        status, headers, raw = await post(
            self._session, url, what=what, data=form, headers={"Authorization": f"Basic {credentials}"}
        )
        try:
            answer: Any = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            answer = None
        if not isinstance(answer, dict):
            answer = {}
        if 200 <= status < 300:
            sid = answer.get("sid")
            if not sid:
                raise RetryLater(f"{what}: HTTP {status} without a sid")
            return str(sid)
        code = answer.get("code")
        code = code if isinstance(code, int) else None
        reason = f"{what}: HTTP {status}" + (f", code {code}" if code else "")
        if answer.get("message"):
            reason += f": {answer['message']}"
        if status == 429 or code in RETRY_CODES or status >= 500:
            raise RetryLater(reason, after=retry_after(headers.get("Retry-After")))
        if code in MISCONFIGURED_CODES or status in (401, 403, 404):
            raise Misconfigured(reason)
        # a 400 refuses this request; an unknown code is not retried either (it would fail again)
        raise Unreachable(reason)


def twilio_signature(url: str, form: Mapping[str, str], auth_token: str) -> str:
    """What Twilio puts in ``X-Twilio-Signature`` for a form POST to ``url``."""
    data = url + "".join(name + form[name] for name in sorted(form))
    return base64.b64encode(hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def _url_variants(url: str) -> list[str]:
    """The URL as given and with its default port added or dropped: Twilio may sign either form."""
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    variants = [url]
    if default is None or not parts.hostname:
        return variants
    if parts.port is None:
        variants.append(urlunsplit(parts._replace(netloc=f"{parts.netloc}:{default}")))
    elif parts.port == default:
        variants.append(urlunsplit(parts._replace(netloc=parts.netloc.rsplit(":", 1)[0])))
    return variants


def parse_twilio_inbound(url: str, form: Mapping[str, str], signature: str, auth_token: str) -> InboundSms:
    """An inbound SMS webhook, once its ``X-Twilio-Signature`` is proven (else ``PermissionError``).

    ``url`` is the public URL Twilio called, query string included (behind a proxy: the outside one).
    """
    if not signature or not any(
        hmac.compare_digest(twilio_signature(candidate, form, auth_token), signature)
        for candidate in _url_variants(url)
    ):
        raise PermissionError("the X-Twilio-Signature does not match: not a request from Twilio")
    phone = form.get("From", "")
    text = form.get("Body")
    if not is_e164(phone):
        raise ValueError(f"the Twilio inbound SMS has no E.164 From: {phone!r}")
    if text is None:
        raise ValueError("the Twilio inbound SMS has no Body")
    return InboundSms(phone=phone, text=text.strip())
