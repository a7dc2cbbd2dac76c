"""SMS and voice calls: what the escalation codes against, whichever provider carries them (issue 12).

A provider either accepts a message (``Sent`` with its id), asks to be tried again (``RetryLater``:
timeouts, network errors, 5xx, rate limits) or refuses it for good (``Unreachable``: a bad or blocked
number, an unsubscribed recipient, a rejected text). ``Misconfigured`` is the ``Unreachable`` that is
not about the number: the provider refused the account (wrong secret, unapproved template, no
balance), so every number fails the same way until an administrator fixes the settings.

Nothing here knows Telegram, the database or the outbox: the adapters are plain async HTTP clients,
and the outbox decides what a ``RetryLater`` or an ``Unreachable`` means for an escalation.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Protocol, runtime_checkable

import aiohttp

PROVIDERS = ("tencent", "twilio")


@dataclass(frozen=True)
class Sent:
    """The provider accepted the message or call (delivery itself is not confirmed)."""

    provider_id: str  # the provider's message/call id; several, comma-separated, for a split SMS


class RetryLater(Exception):
    """Try again later: timeout, network error, 5xx, rate limit.

    A timeout does not prove the provider refused the request: it may have been accepted and only the
    answer lost, so a retry can deliver the message twice (like a Telegram send).
    """

    def __init__(self, reason: str, after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.after = after  # seconds the provider asked to wait, when it said

    def __str__(self) -> str:
        return self.reason if self.after is None else f"{self.reason} (retry after {self.after:g} s)"


class Unreachable(Exception):
    """Permanent for this message: do not retry (bad, blocked or unsubscribed number, rejected text)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Misconfigured(Unreachable):
    """The provider refused the account or its settings, not the number: every send fails the same way."""


@runtime_checkable
class Provider(Protocol):
    name: str  # "tencent" | "twilio"
    can_call: bool  # False when the settings allow SMS only; call() then raises Misconfigured

    async def send_sms(self, phone: str, text: str, *, key: str) -> Sent: ...

    async def call(self, phone: str, speech: str, *, key: str, language: str = "zh_Hans") -> Sent: ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class InboundSms:
    phone: str  # E.164, e.g. +8613800000000
    text: str


# E.164: a country code that does not start with 0, at most 15 digits in all.
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_CN_MOBILE = re.compile(r"1[3-9][0-9]{9}")
# Chinese landlines after +86: Beijing 10 + 8 digits, 2x + 8 digits, 3-digit area codes + 7 or 8 digits.
_CN_LANDLINE = re.compile(r"10[0-9]{8}|2[0-9]{9}|[3-9][0-9]{9,10}")
_SEPARATORS = re.compile(r"[\s\-().]")


def is_e164(phone: str) -> bool:
    """``+`` and 7 to 15 digits, and for China (+86) a mobile or landline of the right length."""
    if not isinstance(phone, str) or not _E164.fullmatch(phone):
        return False
    if phone.startswith("+86"):
        national = phone[3:]
        return bool(_CN_MOBILE.fullmatch(national) or _CN_LANDLINE.fullmatch(national))
    return True


def require_e164(phone: str) -> str:
    """The number itself, or ``Unreachable`` before any request is made."""
    if not is_e164(phone):
        raise Unreachable(f"not an E.164 phone number (+ and digits): {phone!r}")
    return phone


def normalise_phone(text: str, default_country: str = "86") -> str | None:
    """A phone number as people type it, in E.164; ``None`` when it is not a plausible number.

    Spaces, dashes, dots and brackets are dropped and full-width digits read as digits
    (``＋８６ 138-0000-0000``). ``+86 138…`` and ``0086 138…`` keep their country; a bare Chinese mobile
    ``1xxxxxxxxxx`` (and ``86`` followed by one) gets +86; a national number with a trunk 0
    (``010 1234 5678``) gets ``default_country``.
    """
    if not isinstance(text, str):
        return None
    cleaned = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text))
    if cleaned.startswith("+"):
        digits = cleaned[1:]
    elif cleaned.startswith("00"):
        digits = cleaned[2:]
    elif default_country == "86" and _CN_MOBILE.fullmatch(cleaned):
        digits = "86" + cleaned
    elif default_country == "86" and cleaned.startswith("86") and _CN_MOBILE.fullmatch(cleaned[2:]):
        digits = cleaned
    elif cleaned.startswith("0") and len(cleaned) > 1:
        digits = default_country + cleaned[1:]
    else:
        return None
    phone = "+" + digits
    return phone if is_e164(phone) else None


def retry_after(value: str | None) -> float | None:
    """A ``Retry-After`` header in seconds (a number or an HTTP date), ``None`` when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


async def post(
    session: aiohttp.ClientSession, url: str, *, what: str, **kwargs: object
) -> tuple[int, Mapping[str, str], bytes]:
    """POST and read the whole answer; a timeout or a network error becomes ``RetryLater``."""
    try:
        async with session.post(url, **kwargs) as response:  # type: ignore[arg-type]
            return response.status, response.headers, await response.read()
    except TimeoutError as error:  # aiohttp's timeouts are TimeoutErrors (and ClientErrors)
        raise RetryLater(f"{what}: no answer in time (it may still have been accepted)") from error
    except aiohttp.ClientError as error:
        raise RetryLater(f"{what}: {type(error).__name__}: {error}") from error


def new_session(timeout: float) -> aiohttp.ClientSession:
    """One session per provider, made on first use (inside the running loop, never at import)."""
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout))


def setting(env: Mapping[str, str], name: str, provider: str) -> str:
    """A required setting, or a ``ValueError`` that names it."""
    value = (env.get(name) or "").strip()
    if not value:
        raise ValueError(f"SMS_PROVIDER={provider} needs {name}")
    return value


def optional(env: Mapping[str, str], name: str) -> str | None:
    return (env.get(name) or "").strip() or None


def provider_from_env(env: Mapping[str, str], *, session_timeout: float = 10) -> Provider | None:
    """The provider ``SMS_PROVIDER`` names, built from the environment; ``None`` when it is unset.

    A missing setting is a ``ValueError`` naming the variable, so a bad deployment fails at start.
    """
    name = (env.get("SMS_PROVIDER") or "").strip().lower()
    if not name:
        return None
    # imported here: the adapters import this module
    if name == "tencent":
        from bot.channels.tencent import TencentProvider

        return TencentProvider.from_env(env, session_timeout=session_timeout)
    if name == "twilio":
        from bot.channels.twilio import TwilioProvider

        return TwilioProvider.from_env(env, session_timeout=session_timeout)
    raise ValueError(f"SMS_PROVIDER={name!r} is not known: use one of {', '.join(PROVIDERS)}")


async def close_session(session: aiohttp.ClientSession | None) -> None:
    if session is not None and not session.closed:
        await session.close()
