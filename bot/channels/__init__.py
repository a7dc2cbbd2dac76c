"""Reaching people when Telegram does not: SMS and voice-call providers (issue 12).

``provider_from_env(os.environ)`` builds the provider ``SMS_PROVIDER`` names (``tencent`` or
``twilio``), or returns ``None`` when SMS is not set up. See ``base`` for the interface.
"""

from bot.channels.base import (
    InboundSms,
    Misconfigured,
    Provider,
    RetryLater,
    Sent,
    Unreachable,
    normalise_phone,
    provider_from_env,
)

__all__ = [
    "InboundSms",
    "Misconfigured",
    "Provider",
    "RetryLater",
    "Sent",
    "Unreachable",
    "normalise_phone",
    "provider_from_env",
]
