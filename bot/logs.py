"""Logging set-up (issue 13): human-readable lines by default, or LOG_FORMAT=json for one JSON object per
line with the update, member and incident/request it concerns, taken from the context of the update."""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Any

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_fields: ContextVar[dict[str, Any]] = ContextVar("log_fields", default={})  # noqa: B039 - never mutated
ENTITY_FIELDS = {"incident": "incident_id", "approval": "request_id"}  # audit entity -> log field


def bind(**fields: Any) -> Token[dict[str, Any]]:
    """Add fields to every record logged from here on in this context; `unbind` with the token."""
    return _fields.set({**_fields.get(), **{k: v for k, v in fields.items() if v is not None}})


def unbind(token: Token[dict[str, Any]]) -> None:
    _fields.reset(token)


def bind_entity(entity: str, entity_id: object) -> None:
    """An update's work turned out to concern an incident or a request: say so in what it logs next."""
    if field := ENTITY_FIELDS.get(entity):
        bind(**{field: entity_id})


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_fields.get(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure(level: str, log_format: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
