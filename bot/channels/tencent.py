"""Tencent Cloud SMS (SendSms 2021-01-11) and voice notifications (SendTtsVoice 2020-09-02), issue 12.

Every request is a JSON POST to ``/`` signed with TC3-HMAC-SHA256 (``Authorization``, ``X-TC-Action``,
``X-TC-Timestamp``, ``X-TC-Version``, ``X-TC-Region``; the canonical request covers
``content-type;host`` and the body). API errors come back as HTTP 200 with ``Response.Error.Code``;
SendSms also reports per number in ``SendStatusSet[].Code`` ("Ok" when accepted).

SMS in mainland China must use an approved template. The design: one template with a single
parameter, e.g. ``值班通知：{1}``; the text goes into ``{1}``. A template parameter has a length limit
(12 characters for a personally verified account; an enterprise account sees its own on the
template page), so a longer text is cut into pieces of at most ``sms_param_limit`` characters,
preferably after punctuation or a space, and each piece is one SendSms with the same template. At
most ``sms_max_parts`` pieces go out; beyond that the text is cut and ends with "…".

Voice notifications use a template with one parameter too (``TemplateParamSet``), played twice;
Tencent allows at most 350 characters of speech, so the text is cut at ``voice_param_limit``.

Idempotency: SendSms and SendTtsVoice take no idempotency key. The outbox key travels as
``SessionContext`` (echoed back, visible in Tencent's records) but Tencent does not de-duplicate on it,
so a send whose answer was lost (a timeout) may be repeated by a retry. Within one process, pieces
of a split SMS already accepted are not sent again when the same key is retried.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

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

SMS_HOST = "sms.tencentcloudapi.com"
SMS_VERSION = "2021-01-11"
VMS_HOST = "vms.tencentcloudapi.com"
VMS_VERSION = "2020-09-02"
CONTENT_TYPE = "application/json; charset=utf-8"
ALGORITHM = "TC3-HMAC-SHA256"
DEFAULT_REGION = "ap-guangzhou"
DEFAULT_SMS_PARAM_LIMIT = 12
DEFAULT_SMS_MAX_PARTS = 10
DEFAULT_VOICE_PARAM_LIMIT = 100
VOICE_MAX_CHARS = 350  # Tencent: a voice message is at most 350 characters
PLAY_TIMES = 2
_SESSION_CONTEXT_MAX = 500  # Tencent: SessionContext under 512 bytes
_REMEMBERED_KEYS = 1000  # split SMS with some pieces accepted, kept so a retry does not resend them

# Tencent error codes -> what the outbox should do. Codes not listed: see classify().
_RETRY_AFTER = {
    "LimitExceeded.PhoneNumberThirtySecondLimit": 30.0,
    "LimitExceeded.PhoneNumberOneHourLimit": 3600.0,
}
_RETRY = {
    "LimitExceeded.DeliveryFrequencyLimit",
    "FailedOperation.OtherError",
    "ResourceUnavailable",
}
_MISCONFIGURED = {
    "FailedOperation.SignatureIncorrectOrUnapproved",
    "FailedOperation.TemplateIncorrectOrUnapproved",
    "FailedOperation.MissingSignatureList",
    "FailedOperation.MissingTemplateList",
    "FailedOperation.InsufficientBalanceInSmsPackage",
    "FailedOperation.InsufficientBalanceInVoicePackage",
    "FailedOperation.PhonenumberUnappliedOrExpired",
    "FailedOperation.FailResolvePacket",
    "FailedOperation.JsonParseFail",
    "FailedOperation.InvalidJsonParameters",
    "FailedOperation.InvalidParameters",
    "InternalError.SigVerificationFail",
    "InternalError.SigFieldMissing",
    "InternalError.RequestTimeException",
    "InternalError.RestApiInterfaceNotExist",
    "InternalError.JsonParseFail",
    "InvalidParameterValue.SdkAppIdNotExist",
    "InvalidParameterValue.SdkAppidNotExist",
    # the configured parameter limit is larger than the account's or the template's
    "InvalidParameterValue.TemplateParameterLengthLimit",
    "InvalidParameterValue.ContentLengthLimit",
    "InvalidParameterValue.TemplateParameterFormatError",
}
_MISCONFIGURED_PREFIXES = (
    "AuthFailure",
    "UnauthorizedOperation",
    "InvalidAction",
    "ActionOffline",
    "NoSuchProduct",
    "NoSuchVersion",
    "IpInBlacklist",
    "IpNotInWhitelist",
    "MissingParameter",
    "InvalidParameter.",
)


def classify(code: str | None, message: str | None, *, what: str) -> Exception:
    """The exception for a Tencent error code (``Response.Error.Code`` or ``SendStatusSet[].Code``).

    Rate limits and internal errors are retried; a number's daily limit is not (waiting a day does not
    help an escalation); account and template problems are ``Misconfigured``; anything else refuses
    this message for good.
    """
    code = code or "UnknownError"
    reason = f"{what}: {code}" + (f": {message}" if message else "")
    if code in _RETRY_AFTER:
        return RetryLater(reason, after=_RETRY_AFTER[code])
    if code in _MISCONFIGURED or code.startswith(_MISCONFIGURED_PREFIXES):
        return Misconfigured(reason)
    if code in _RETRY or code.startswith(("RequestLimitExceeded", "InternalError")):
        return RetryLater(reason)
    return Unreachable(reason)


def tc3_authorization(
    *,
    secret_id: str,
    secret_key: str,
    service: str,
    host: str,
    payload: bytes,
    timestamp: int,
    content_type: str = CONTENT_TYPE,
) -> str:
    """The ``Authorization`` header of a POST to ``/``, signed as Tencent documents (signature v3)."""
    canonical_request = "\n".join(
        [
            "POST",
            "/",
            "",  # no query string in a POST
            f"content-type:{content_type.strip().lower()}\nhost:{host.strip().lower()}\n",
            "content-type;host",
            hashlib.sha256(payload).hexdigest(),
        ]
    )
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")  # UTC, never local time
    scope = f"{date}/{service}/tc3_request"
    string_to_sign = "\n".join(
        [ALGORITHM, str(timestamp), scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )

    def _hmac(key: bytes, message: str) -> bytes:
        return hmac.new(key, message.encode(), hashlib.sha256).digest()

    signing_key = _hmac(_hmac(_hmac(("TC3" + secret_key).encode(), date), service), "tc3_request")
    signature = hmac.new(signing_key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return f"{ALGORITHM} Credential={secret_id}/{scope}, SignedHeaders=content-type;host, Signature={signature}"


_BREAK_AFTER = set("。！？；，、：,.!?;: ")


def clean_text(text: str) -> str:
    """One line, single spaces (every character is counted and paid); 【】 belong to the signature."""
    return " ".join(str(text).split()).replace("【", "[").replace("】", "]")


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most ``limit`` characters, cut after punctuation or a space where one is near the end."""
    if limit < 1:
        raise ValueError("the template parameter limit must be at least 1")
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = max((i + 1 for i, ch in enumerate(window) if ch in _BREAK_AFTER), default=0)
        if cut <= limit // 2:  # no break in the second half: cut hard rather than send tiny pieces
            cut = limit
        piece, rest = rest[:cut].rstrip(), rest[cut:].lstrip()
        if piece:
            pieces.append(piece)
    if rest:
        pieces.append(rest)
    return pieces


def _cap(pieces: list[str], max_parts: int, limit: int) -> list[str]:
    if len(pieces) <= max_parts:
        return pieces
    capped = pieces[:max_parts]
    capped[-1] = capped[-1][: limit - 1] + "…"
    return capped


class TencentProvider:
    """SMS and voice calls through Tencent Cloud; one aiohttp session, made on first use."""

    name = "tencent"

    def __init__(
        self,
        *,
        secret_id: str,
        secret_key: str,
        sms_app_id: str,
        sms_sign: str,
        sms_template: str,
        region: str = DEFAULT_REGION,
        voice_app_id: str | None = None,
        voice_template: str | None = None,
        endpoint: str | None = None,
        sms_param_limit: int = DEFAULT_SMS_PARAM_LIMIT,
        sms_max_parts: int = DEFAULT_SMS_MAX_PARTS,
        voice_param_limit: int = DEFAULT_VOICE_PARAM_LIMIT,
        session_timeout: float = 10,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if sms_param_limit < 1 or sms_max_parts < 1 or not 1 <= voice_param_limit <= VOICE_MAX_CHARS:
            raise ValueError("Tencent limits: parameter limits and parts must be positive, speech ≤ 350")
        self._secret_id = secret_id
        self._secret_key = secret_key
        self.region = region
        self.sms_app_id = sms_app_id
        self.sms_sign = sms_sign
        self.sms_template = sms_template
        self.voice_app_id = voice_app_id
        self.voice_template = voice_template
        self.sms_param_limit = sms_param_limit
        self.sms_max_parts = sms_max_parts
        self.voice_param_limit = voice_param_limit
        self._endpoint = endpoint.rstrip("/") if endpoint else None
        self._timeout = session_timeout
        self._clock = clock
        self._session: aiohttp.ClientSession | None = None
        self._accepted: OrderedDict[tuple[str, str, str], list[str]] = OrderedDict()

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, session_timeout: float = 10) -> TencentProvider:
        def limit(name: str, default: int) -> int:
            raw = optional(env, name)
            if raw is None:
                return default
            try:
                return int(raw)
            except ValueError:
                raise ValueError(f"{name} must be a whole number, not {raw!r}") from None

        return cls(
            secret_id=setting(env, "TENCENT_SECRET_ID", "tencent"),
            secret_key=setting(env, "TENCENT_SECRET_KEY", "tencent"),
            sms_app_id=setting(env, "TENCENT_SMS_APP_ID", "tencent"),
            sms_sign=setting(env, "TENCENT_SMS_SIGN", "tencent"),
            sms_template=setting(env, "TENCENT_SMS_TEMPLATE", "tencent"),
            region=optional(env, "TENCENT_REGION") or DEFAULT_REGION,
            voice_app_id=optional(env, "TENCENT_VOICE_APP_ID"),
            voice_template=optional(env, "TENCENT_VOICE_TEMPLATE"),
            endpoint=optional(env, "TENCENT_ENDPOINT"),
            sms_param_limit=limit("TENCENT_SMS_PARAM_LIMIT", DEFAULT_SMS_PARAM_LIMIT),
            voice_param_limit=limit("TENCENT_VOICE_PARAM_LIMIT", DEFAULT_VOICE_PARAM_LIMIT),
            session_timeout=session_timeout,
        )

    @property
    def can_call(self) -> bool:
        return bool(self.voice_app_id and self.voice_template)

    # ------------------------------------------------------------------ sending
    async def send_sms(self, phone: str, text: str, *, key: str) -> Sent:
        """Send ``text`` through the one-parameter template, in as many pieces as the limit needs."""
        phone = require_e164(phone)
        pieces = _cap(split_text(clean_text(text), self.sms_param_limit), self.sms_max_parts, self.sms_param_limit)
        if not pieces:
            raise Unreachable("Tencent SendSms: the text is empty")
        memo = (key, phone, hashlib.sha256(text.encode()).hexdigest())
        accepted = self._accepted.pop(memo, [])
        try:
            for piece in pieces[len(accepted) :]:
                accepted.append(await self._send_piece(phone, piece, key))
        except RetryLater:
            # remember what went out, so the retry of this key sends only the rest
            self._accepted[memo] = accepted
            while len(self._accepted) > _REMEMBERED_KEYS:
                self._accepted.popitem(last=False)
            raise
        return Sent(",".join(accepted))

    async def _send_piece(self, phone: str, piece: str, key: str) -> str:
        response = await self._request(
            host=SMS_HOST,
            service="sms",
            action="SendSms",
            version=SMS_VERSION,
            body={
                "PhoneNumberSet": [phone],
                "SmsSdkAppId": self.sms_app_id,
                "TemplateId": self.sms_template,
                "SignName": self.sms_sign,
                "TemplateParamSet": [piece],
                "SessionContext": key[:_SESSION_CONTEXT_MAX],
            },
        )
        statuses = response.get("SendStatusSet")
        if not isinstance(statuses, list) or not statuses or not isinstance(statuses[0], dict):
            raise RetryLater("Tencent SendSms: the answer has no SendStatusSet")
        status = statuses[0]
        if status.get("Code") != "Ok":
            raise classify(status.get("Code"), status.get("Message"), what="Tencent SendSms")
        return str(status.get("SerialNo") or "")

    async def call(self, phone: str, speech: str, *, key: str, language: str = "zh_Hans") -> Sent:
        """A text-to-speech call through the voice template (its language is the template's)."""
        phone = require_e164(phone)
        if not phone.startswith("+86"):
            raise Unreachable(f"Tencent voice notifications reach mainland China numbers only, not {phone}")
        if not self.can_call:
            raise Misconfigured("Tencent voice calls need TENCENT_VOICE_APP_ID and TENCENT_VOICE_TEMPLATE")
        spoken = clean_text(speech)
        if len(spoken) > self.voice_param_limit:
            spoken = spoken[: self.voice_param_limit - 1] + "…"
        if not spoken:
            raise Unreachable("Tencent SendTtsVoice: the text is empty")
        response = await self._request(
            host=VMS_HOST,
            service="vms",
            action="SendTtsVoice",
            version=VMS_VERSION,
            body={
                "TemplateId": self.voice_template,
                "CalledNumber": phone,
                "VoiceSdkAppid": self.voice_app_id,
                "TemplateParamSet": [spoken],
                "PlayTimes": PLAY_TIMES,
                "SessionContext": key[:_SESSION_CONTEXT_MAX],
            },
        )
        status = response.get("SendStatus")
        call_id = status.get("CallId") if isinstance(status, dict) else None
        if not call_id:
            raise RetryLater("Tencent SendTtsVoice: the answer has no CallId")
        return Sent(str(call_id))

    async def close(self) -> None:
        await close_session(self._session)
        self._session = None

    # ------------------------------------------------------------------ HTTP
    def _target(self, host: str) -> tuple[str, str]:
        """URL and Host header: the real service, or the ``TENCENT_ENDPOINT`` override (tests, proxies)."""
        if self._endpoint:
            return self._endpoint + "/", urlsplit(self._endpoint).netloc
        return f"https://{host}/", host

    async def _request(self, *, host: str, service: str, action: str, version: str, body: dict[str, Any]) -> dict:
        what = f"Tencent {action}"
        url, host_header = self._target(host)
        payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = int(self._clock())
        headers = {
            "Authorization": tc3_authorization(
                secret_id=self._secret_id,
                secret_key=self._secret_key,
                service=service,
                host=host_header,
                payload=payload,
                timestamp=timestamp,
            ),
            "Content-Type": CONTENT_TYPE,
            "Host": host_header,
            "X-TC-Action": action,
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Version": version,
            "X-TC-Region": self.region,
        }
        if self._session is None or self._session.closed:
            self._session = new_session(self._timeout)
        status, response_headers, raw = await post(self._session, url, what=what, data=payload, headers=headers)
        if status == 429 or status >= 500:
            raise RetryLater(f"{what}: HTTP {status}", after=retry_after(response_headers.get("Retry-After")))
        try:
            response = json.loads(raw)["Response"]
            if not isinstance(response, dict):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            if status != 200:  # not Tencent's API answering: a wrong TENCENT_ENDPOINT or a proxy
                raise Misconfigured(f"{what}: HTTP {status} without a Tencent answer") from None
            raise RetryLater(f"{what}: unreadable answer") from None
        error = response.get("Error")
        if isinstance(error, dict):
            raise classify(error.get("Code"), error.get("Message"), what=what)
        return response


_DIGITS = re.compile(r"[0-9]+")


def parse_tencent_reply(body: bytes) -> InboundSms:
    """A reply SMS from Tencent's reply callback (回复短信回调): JSON ``mobile``, ``nationcode``, ``text``,
    ``sign``, ``time``, ``extend``. The callback is not signed: the caller checks a secret in the URL path.
    """
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ValueError("the Tencent reply callback is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("the Tencent reply callback is not a JSON object")
    mobile = str(data.get("mobile") or "").strip()
    nation = str(data.get("nationcode") or "").strip().lstrip("+")
    text = data.get("text")
    if not isinstance(text, str):
        raise ValueError("the Tencent reply callback has no text")
    if not _DIGITS.fullmatch(mobile) or not _DIGITS.fullmatch(nation):
        raise ValueError(f"the Tencent reply callback has no usable number: {nation!r} {mobile!r}")
    phone = "+" + nation + mobile
    if not is_e164(phone):
        raise ValueError(f"the Tencent reply callback's number is not plausible: {phone}")
    return InboundSms(phone=phone, text=text.strip())
