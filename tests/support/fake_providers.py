"""Local fakes of Tencent Cloud's SMS/voice API and Twilio's REST API (aiohttp servers), issue 12.

They check credentials the way the real services do, independently of the clients under test:
the Tencent fake recomputes the TC3-HMAC-SHA256 signature from the request it received (and answers
``AuthFailure.SignatureFailure`` when it differs), the Twilio fake checks HTTP Basic auth (401, code
20003). Every accepted SMS and call is recorded in ``fake.sms`` / ``fake.calls``; every refusal in
``fake.refused`` (the error code).

Example::

    async with FakeTencentCloud() as fake:
        provider = provider_from_env(fake.env())
        await provider.send_sms("+8613800000000", "机房漏水", key="k1")
        assert fake.sms[0].text == "机房漏水"
        fake.fail_next("rate_limit")           # the next request is refused with RequestLimitExceeded
        fake.unreachable.add("+8613900000000")  # this number is always refused

Faults (``fail_next(kind, request=n)`` hits the n-th request from now): ``timeout`` (no answer until
the server stops: longer than any client timeout), ``5xx``, ``rate_limit``, ``unreachable``; the
Tencent fake also knows ``number_rate_limit`` (the per-number 30-second limit).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import re
import time
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Self

from aiohttp import web

FAULTS = frozenset({"timeout", "5xx", "rate_limit", "unreachable", "number_rate_limit"})
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


@dataclass(frozen=True)
class Delivery:
    """One accepted SMS (or SMS piece) or call."""

    phone: str
    text: str
    key: str | None  # the outbox key when the API carries it (Tencent SessionContext), else None
    provider_id: str
    extra: dict[str, Any] = field(default_factory=dict)


class _FakeServer:
    """Start/stop on 127.0.0.1 (a random port), faults, and what was accepted or refused."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self.sms: list[Delivery] = []
        self.calls: list[Delivery] = []
        self.refused: list[str] = []  # error codes answered, in order
        self.requests = 0  # every request that reached the server
        self.unreachable: set[str] = set()  # numbers always refused
        self._faults: list[list[Any]] = []
        self._runner: web.AppRunner | None = None
        self._closing: asyncio.Event | None = None
        self._ids = itertools.count(1)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def fail_next(self, kind: str, *, request: int = 1) -> None:
        """Make the ``request``-th request from now fail with ``kind`` (one of ``FAULTS``)."""
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}: one of {sorted(FAULTS)}")
        self._faults.append([request, kind])

    def _take_fault(self) -> str | None:
        for fault in self._faults:
            fault[0] -= 1
        for fault in self._faults:
            if fault[0] <= 0:
                self._faults.remove(fault)
                return str(fault[1])
        return None

    async def _hang(self) -> None:
        # until the client gives up (aiohttp then cancels the handler) or the server stops
        assert self._closing is not None
        await self._closing.wait()

    def _routes(self, app: web.Application) -> None:
        raise NotImplementedError

    async def start(self) -> None:
        self._closing = asyncio.Event()
        app = web.Application()
        self._routes(app)
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is None:
            return
        assert self._closing is not None
        self._closing.set()
        await self._runner.cleanup()
        self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()


# ====================================================================== Tencent Cloud
_AUTHORIZATION = re.compile(
    r"TC3-HMAC-SHA256 Credential=(?P<id>[^/\s]+)/(?P<date>\d{4}-\d{2}-\d{2})/(?P<service>[a-z]+)/tc3_request, "
    r"SignedHeaders=(?P<signed>[a-z0-9;-]+), Signature=(?P<signature>[0-9a-f]{64})"
)
_ACTIONS = {"SendSms": ("sms", "2021-01-11"), "SendTtsVoice": ("vms", "2020-09-02")}


def _tc3_signature(secret_key: str, date: str, service: str, string_to_sign: str) -> str:
    key = ("TC3" + secret_key).encode()
    for part in (date, service, "tc3_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


class FakeTencentCloud(_FakeServer):
    """``POST /`` with ``X-TC-Action: SendSms`` or ``SendTtsVoice``, answered like Tencent API 3.0."""

    def __init__(
        self,
        *,
        secret_id: str = "AKIDfake0000000000000000000000000000",
        secret_key: str = "fake-tencent-secret-key-000000000",
        sms_app_id: str = "1400000001",
        sms_sign: str = "值班台",
        sms_template: str = "1000001",
        voice_app_id: str = "1400000002",
        voice_template: str = "2000001",
        param_limit: int = 12,
        voice_param_limit: int = 100,
        **server: Any,
    ) -> None:
        super().__init__(**server)
        self.secret_id = secret_id
        self.secret_key = secret_key
        self.sms_app_id = sms_app_id
        self.sms_sign = sms_sign
        self.sms_template = sms_template
        self.voice_app_id = voice_app_id
        self.voice_template = voice_template
        self.param_limit = param_limit
        self.voice_param_limit = voice_param_limit

    def env(self, **overrides: str) -> dict[str, str]:
        """The environment of a provider talking to this fake (``provider_from_env(fake.env())``)."""
        env = {
            "SMS_PROVIDER": "tencent",
            "TENCENT_SECRET_ID": self.secret_id,
            "TENCENT_SECRET_KEY": self.secret_key,
            "TENCENT_SMS_APP_ID": self.sms_app_id,
            "TENCENT_SMS_SIGN": self.sms_sign,
            "TENCENT_SMS_TEMPLATE": self.sms_template,
            "TENCENT_VOICE_APP_ID": self.voice_app_id,
            "TENCENT_VOICE_TEMPLATE": self.voice_template,
            "TENCENT_SMS_PARAM_LIMIT": str(self.param_limit),
            "TENCENT_ENDPOINT": self.base_url,
        }
        env.update(overrides)
        return env

    @staticmethod
    def reply_body(phone: str, text: str, *, sign: str = "值班台") -> bytes:
        """What Tencent's reply callback posts when ``phone`` (+86…) answers an SMS."""
        return json.dumps(
            {"extend": "", "mobile": phone[3:], "nationcode": phone[1:3], "sign": sign, "text": text, "time": 0},
            ensure_ascii=False,
        ).encode()

    def _routes(self, app: web.Application) -> None:
        app.router.add_post("/", self._handle)

    def _error(self, code: str, message: str = "") -> web.Response:
        self.refused.append(code)
        body = {"Response": {"Error": {"Code": code, "Message": message or code}, "RequestId": str(uuid.uuid4())}}
        return web.json_response(body)  # Tencent answers API errors with HTTP 200

    def _check_signature(self, request: web.Request, body: bytes, service: str) -> web.Response | None:
        match = _AUTHORIZATION.fullmatch(request.headers.get("Authorization", ""))
        if match is None:
            return self._error("AuthFailure.InvalidAuthorization")
        if match["id"] != self.secret_id:
            return self._error("AuthFailure.SecretIdNotFound")
        try:
            timestamp = int(request.headers.get("X-TC-Timestamp", ""))
        except ValueError:
            return self._error("MissingParameter", "X-TC-Timestamp")
        if abs(time.time() - timestamp) > 300:
            return self._error("AuthFailure.SignatureExpire")
        signed = match["signed"].split(";")
        if "content-type" not in signed or "host" not in signed or signed != sorted(signed):
            return self._error("AuthFailure.InvalidAuthorization", "content-type and host must be signed")
        if match["date"] != datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d") or match["service"] != service:
            return self._error("AuthFailure.SignatureFailure", "credential scope")
        canonical_headers = "".join(f"{name}:{request.headers.get(name, '').strip().lower()}\n" for name in signed)
        canonical = "\n".join(["POST", "/", "", canonical_headers, match["signed"], hashlib.sha256(body).hexdigest()])
        scope = f"{match['date']}/{service}/tc3_request"
        to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        expected = _tc3_signature(self.secret_key, match["date"], service, to_sign)
        if not hmac.compare_digest(expected, match["signature"]):
            return self._error("AuthFailure.SignatureFailure", "The provided credentials could not be validated.")
        return None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        body = await request.read()
        fault = self._take_fault()
        if fault == "timeout":
            await self._hang()
            return web.Response(status=504)
        if fault == "5xx":
            self.refused.append("HTTP 503")
            return web.Response(status=503, text="<html>503 Service Unavailable</html>", content_type="text/html")
        action = request.headers.get("X-TC-Action", "")
        if action not in _ACTIONS:
            return self._error("InvalidAction", action)
        service, version = _ACTIONS[action]
        if request.headers.get("X-TC-Version") != version:
            return self._error("NoSuchVersion", request.headers.get("X-TC-Version", ""))
        if not request.headers.get("X-TC-Region"):
            return self._error("MissingParameter", "X-TC-Region")
        refused = self._check_signature(request, body, service)
        if refused is not None:
            return refused
        if fault == "rate_limit":
            return self._error("RequestLimitExceeded", "Your current request times equals to `3000` in a second")
        try:
            params = json.loads(body)
        except ValueError:
            return self._error("FailedOperation.JsonParseFail")
        if not isinstance(params, dict):
            return self._error("FailedOperation.JsonParseFail")
        if action == "SendSms":
            return self._send_sms(params, fault)
        return self._send_tts_voice(params, fault)

    def _send_sms(self, params: dict[str, Any], fault: str | None) -> web.Response:
        if params.get("SmsSdkAppId") != self.sms_app_id:
            return self._error("InvalidParameterValue.SdkAppIdNotExist")
        if params.get("SignName") != self.sms_sign:
            return self._error("FailedOperation.SignatureIncorrectOrUnapproved")
        values = params.get("TemplateParamSet")
        if params.get("TemplateId") != self.sms_template or not isinstance(values, list) or len(values) != 1:
            return self._error("FailedOperation.TemplateIncorrectOrUnapproved")  # the template has one {1}
        if not isinstance(values[0], str) or len(values[0]) > self.param_limit:
            return self._error("InvalidParameterValue.TemplateParameterLengthLimit")
        phones = params.get("PhoneNumberSet")
        if not isinstance(phones, list) or not phones:
            return self._error("MissingParameter.EmptyPhoneNumberSet")
        if len(phones) > 200:
            return self._error("LimitExceeded.PhoneNumberCountLimit")
        context = params.get("SessionContext")
        statuses = []
        for phone in phones:
            code = "Ok"
            if not isinstance(phone, str) or not _E164.fullmatch(phone):
                code = "InvalidParameterValue.IncorrectPhoneNumber"
            elif phone in self.unreachable or fault == "unreachable":
                code = "FailedOperation.PhoneNumberInBlacklist"
            elif fault == "number_rate_limit":
                code = "LimitExceeded.PhoneNumberThirtySecondLimit"
            serial = f"2433:{next(self._ids):010d}" if code == "Ok" else ""
            if code == "Ok":
                self.sms.append(Delivery(phone, values[0], context, serial, {"template": self.sms_template}))
            else:
                self.refused.append(code)
            statuses.append(
                {
                    "SerialNo": serial,
                    "PhoneNumber": phone,
                    "Fee": 1 if code == "Ok" else 0,
                    "SessionContext": context or "",
                    "Code": code,
                    "Message": "send success" if code == "Ok" else code,
                    "IsoCode": "CN",
                }
            )
        return web.json_response({"Response": {"SendStatusSet": statuses, "RequestId": str(uuid.uuid4())}})

    def _send_tts_voice(self, params: dict[str, Any], fault: str | None) -> web.Response:
        if params.get("VoiceSdkAppid") != self.voice_app_id:
            return self._error("InvalidParameterValue.SdkAppidNotExist")
        values = params.get("TemplateParamSet")
        if params.get("TemplateId") != self.voice_template or not isinstance(values, list) or len(values) != 1:
            return self._error("FailedOperation.TemplateIncorrectOrUnapproved")
        if not isinstance(values[0], str) or len(values[0]) > self.voice_param_limit:
            return self._error("InvalidParameterValue.ContentLengthLimit")
        play_times = params.get("PlayTimes", 2)
        if not isinstance(play_times, int) or not 1 <= play_times <= 3:
            return self._error("FailedOperation.InvalidParameters", "PlayTimes")
        phone = params.get("CalledNumber")
        if not isinstance(phone, str) or not re.fullmatch(r"\+861[3-9][0-9]{9}", phone):
            return self._error("InvalidParameterValue.CalledNumberVerifyFail")
        if phone in self.unreachable or fault == "unreachable":
            return self._error("InvalidParameterValue.CalledNumberVerifyFail")
        if fault == "number_rate_limit":
            return self._error("LimitExceeded.DeliveryFrequencyLimit")
        call_id = uuid.uuid4().hex
        context = params.get("SessionContext")
        self.calls.append(Delivery(phone, values[0], context, call_id, {"play_times": play_times}))
        body = {"SendStatus": {"CallId": call_id, "SessionContext": context or ""}, "RequestId": str(uuid.uuid4())}
        return web.json_response({"Response": body})


# ====================================================================== Twilio
class FakeTwilio(_FakeServer):
    """``POST /2010-04-01/Accounts/{sid}/Messages.json`` and ``…/Calls.json``, answered like Twilio."""

    def __init__(
        self,
        *,
        account_sid: str = "AC" + "f" * 32,
        auth_token: str = "fake-twilio-auth-token",
        from_number: str = "+15005550006",
        messaging_service_sid: str = "MG" + "e" * 32,
        **server: Any,
    ) -> None:
        super().__init__(**server)
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid

    def env(self, **overrides: str) -> dict[str, str]:
        env = {
            "SMS_PROVIDER": "twilio",
            "TWILIO_ACCOUNT_SID": self.account_sid,
            "TWILIO_AUTH_TOKEN": self.auth_token,
            "TWILIO_FROM": self.from_number,
            "TWILIO_ENDPOINT": self.base_url,
        }
        env.update(overrides)
        return {name: value for name, value in env.items() if value}

    def signed_inbound(self, url: str, phone: str, text: str) -> tuple[dict[str, str], str]:
        """The form and ``X-Twilio-Signature`` Twilio would post to ``url`` for an SMS from ``phone``."""
        form = {
            "AccountSid": self.account_sid,
            "Body": text,
            "From": phone,
            "MessageSid": "SM" + uuid.uuid4().hex,
            "NumMedia": "0",
            "To": self.from_number,
        }
        data = url + "".join(name + form[name] for name in sorted(form))
        signature = base64.b64encode(hmac.new(self.auth_token.encode(), data.encode(), hashlib.sha1).digest())
        return form, signature.decode()

    def _routes(self, app: web.Application) -> None:
        app.router.add_post("/2010-04-01/Accounts/{sid}/{resource}", self._handle)

    def _error(self, status: int, code: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
        self.refused.append(str(code))
        body = {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}"}
        return web.json_response({**body, "status": status}, status=status, headers=headers)

    def _authenticated(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:], validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return hmac.compare_digest(user, self.account_sid) and hmac.compare_digest(password, self.auth_token)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        form = {name: str(value) for name, value in (await request.post()).items()}
        fault = self._take_fault()
        if fault == "timeout":
            await self._hang()
            return web.Response(status=504)
        if fault == "5xx":
            return self._error(500, 20500, "Internal Server Error")
        if not self._authenticated(request):
            return self._error(401, 20003, "Authenticate")
        if request.match_info["sid"] != self.account_sid:
            return self._error(404, 20404, "The requested resource was not found")
        if fault == "rate_limit":
            return self._error(429, 20429, "Too Many Requests", headers={"Retry-After": "2"})
        resource = request.match_info["resource"]
        if resource == "Messages.json":
            return self._message(form, fault)
        if resource == "Calls.json":
            return self._call(form, fault)
        return self._error(404, 20404, "The requested resource was not found")

    def _message(self, form: dict[str, str], fault: str | None) -> web.Response:
        phone = form.get("To", "")
        if not phone:
            return self._error(400, 21604, "A 'To' phone number is required.")
        if not _E164.fullmatch(phone):
            return self._error(400, 21211, f"The 'To' number {phone} is not a valid phone number.")
        if "MessagingServiceSid" in form:
            if form["MessagingServiceSid"] != self.messaging_service_sid:
                return self._error(400, 21705, "The Messaging Service Sid is invalid.")
        elif not form.get("From"):
            return self._error(400, 21603, "A 'From' phone number is required.")
        elif form["From"] != self.from_number:
            return self._error(400, 21606, f"The 'From' phone number provided ({form['From']}) is not valid.")
        body = form.get("Body", "")
        if not body:
            return self._error(400, 21602, "Message body is required.")
        if len(body) > 1600:
            return self._error(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
        if phone in self.unreachable:
            return self._error(400, 21614, f"'To' number {phone} is not a valid mobile number")
        if fault == "unreachable":
            return self._error(400, 21610, "Attempt to send to unsubscribed recipient")
        sid = "SM" + uuid.uuid4().hex
        sender = {"messaging_service": form.get("MessagingServiceSid"), "from": form.get("From")}
        self.sms.append(Delivery(phone, body, None, sid, sender))
        return web.json_response(
            {"sid": sid, "status": "queued", "to": phone, "from": form.get("From"), "body": body}, status=201
        )

    def _call(self, form: dict[str, str], fault: str | None) -> web.Response:
        phone = form.get("To", "")
        if not _E164.fullmatch(phone):
            return self._error(400, 21217, "Phone number does not appear to be valid")
        if not form.get("From"):
            return self._error(400, 21213, "Caller phone number is required")
        if form["From"] != self.from_number:
            return self._error(400, 21210, "The source phone number provided is not yet verified for your account")
        twiml = form.get("Twiml")
        if not twiml:
            return self._error(400, 21205, "Url parameter is required.")
        try:
            root = ET.fromstring(twiml)
        except ET.ParseError:
            return self._error(400, 12100, "Document parse failure")
        say = root.find("Say")
        if root.tag != "Response" or say is None:
            return self._error(400, 12100, "Document parse failure")
        if phone in self.unreachable or fault == "unreachable":
            return self._error(400, 13224, "Twilio does not support calling this number or the number is invalid")
        sid = "CA" + uuid.uuid4().hex
        extra = {"language": say.get("language"), "loop": say.get("loop"), "twiml": twiml}
        self.calls.append(Delivery(phone, say.text or "", None, sid, extra))
        return web.json_response({"sid": sid, "status": "queued", "to": phone, "from": form["From"]}, status=201)
