"""Settings read from the environment and `.env` (DESIGN.md, Configuration)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from dotenv import dotenv_values
from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

TOKEN_PATTERN = re.compile(r"^\d{3,12}:[A-Za-z0-9_-]{30,}$")
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./data/bot.sqlite3"


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one sentence for the operator."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: str = ""
    database_url: str = DEFAULT_DATABASE_URL
    # PostgreSQL: at most this many connections (unset: SQLAlchemy's 5, up to 15 under load); SQLite: always one
    database_pool_size: int | None = Field(default=None, ge=1, le=100)
    telegram_api_base: str | None = None
    bot_policy: Path | None = None
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    webhook_url: str | None = None
    webhook_secret: str | None = None
    webhook_host: str = "0.0.0.0"
    webhook_port: int = 8080
    webhook_path: str = "/telegram/webhook"
    redis_url: str | None = None
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"
    health_port: int | None = None
    health_host: str = "0.0.0.0"
    metrics: bool = True  # count updates per flow for /metrics (off: only for measuring what it costs)
    # The public address of the bot's HTTP server for calendar feeds (issue 14), e.g. https://duty.example.com;
    # unset: the origin of WEBHOOK_URL, else no feed addresses (the .ics file in chat still works).
    calendar_base_url: str | None = None

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(part) for part in value.replace(" ", "").split(",") if part]
        return value

    @field_validator(
        "telegram_api_base",
        "webhook_url",
        "redis_url",
        "webhook_secret",
        "health_port",
        "calendar_base_url",
        mode="before",
    )
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    def sms_env(self) -> dict[str, str]:
        """The SMS provider's settings (SMS_PROVIDER, TENCENT_*, TWILIO_*, SMS_INBOUND_SECRET): the
        environment over .env, as for every other setting. Read by bot/channels (issue 12)."""
        env_file = Path(str(self.model_config.get("env_file") or ".env"))
        from_file = dotenv_values(env_file) if env_file.is_file() else {}
        return {**{key: value for key, value in from_file.items() if value is not None}, **os.environ}

    @property
    def feed_base_url(self) -> str | None:
        """Where calendar feeds are reachable: CALENDAR_BASE_URL, else WEBHOOK_URL's scheme and host."""
        if self.calendar_base_url:
            return self.calendar_base_url.rstrip("/")
        if self.webhook_url:
            parts = urlsplit(self.webhook_url)
            return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None
        return None

    @property
    def uses_webhook(self) -> bool:
        return bool(self.webhook_url)

    def require_token(self) -> str:
        """The token, or a one-sentence ConfigError saying what to set."""
        if not self.bot_token:
            raise ConfigError(
                "BOT_TOKEN is not set: put the token from @BotFather in the environment or in .env "
                "(BOT_TOKEN=123456:ABC...)."
            )
        if not TOKEN_PATTERN.match(self.bot_token):
            raise ConfigError("BOT_TOKEN is malformed: it must look like 123456789:AAE... as issued by @BotFather.")
        return self.bot_token


def load_settings(**overrides: object) -> Settings:
    """Build settings; a malformed variable becomes one readable ConfigError."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "a setting"
        raise ConfigError(f"{name} is invalid: {first['msg']}.") from None
