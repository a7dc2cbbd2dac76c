"""Building blocks shared by every section of the policy: the base model, codes,
localised text, clock times, reminder offsets and escalation steps.

Validators raise :func:`invalid` errors: a message plus a ``hint`` sentence that
the loader shows next to the file and line (see ``loader.py``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, model_validator
from pydantic_core import PydanticCustomError

from bot import languages

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ROLE_CODE_RE = re.compile(r"[a-z_]{2,32}")
CODE_RE = re.compile(r"[a-z][a-z0-9_]{1,47}")
DEPARTMENT_CODE_RE = re.compile(r"[a-z][a-z0-9_]{1,31}")
CLOCK_RE = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
MONTH_DAY_RE = re.compile(r"(\d\d)-(\d\d)")
OFFSET_RE = re.compile(r"(\d+)\s*([dhm])")
OFFSET_UNITS = {"d": "days", "h": "hours", "m": "minutes"}
ROLE_PREFIX = "role:"
ERROR_TYPE = "policy_invalid"


class PolicyModel(BaseModel):
    """Base of every policy model: unknown keys are errors and values never change."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def invalid(message: str, hint: str) -> PydanticCustomError:
    """A validation error whose context carries a human hint for the loader."""
    return PydanticCustomError(ERROR_TYPE, "{message}", {"message": message, "hint": hint})


def _code_checker(pattern: re.Pattern[str], what: str, example: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise invalid(f"'{value}' is not a valid {what}", f"{what}s are {example}")
        return value

    return check


RoleCode = Annotated[
    str,
    AfterValidator(
        _code_checker(ROLE_CODE_RE, "role code", "2 to 32 lowercase letters or underscores, e.g. duty_officer")
    ),
]
Code = Annotated[
    str,
    AfterValidator(
        _code_checker(
            CODE_RE,
            "code",
            "2 to 48 lowercase letters, digits or underscores starting with a letter, e.g. board_resolution",
        )
    ),
]
DepartmentCode = Annotated[
    str,
    AfterValidator(
        _code_checker(
            DEPARTMENT_CODE_RE,
            "department code",
            "2 to 32 lowercase letters, digits or underscores starting with a letter, e.g. branch_a",
        )
    ),
]


def _check_language(value: str) -> str:
    if value not in languages.codes():
        raise invalid(f"'{value}' is not a language the bot speaks", "choose one of: " + ", ".join(languages.codes()))
    return value


Language = Annotated[str, AfterValidator(_check_language)]


class I18nText(PolicyModel):
    """A text keyed by language, e.g. ``{ zh_Hans = "调度室", en = "Control room" }``: the source language
    (Simplified Chinese) always, the others while ``organisation.languages`` lists them."""

    model_config = ConfigDict(extra="allow", frozen=True)

    zh_Hans: str = Field(min_length=1, description="the Simplified Chinese text (always required)")

    @model_validator(mode="after")
    def _known_languages(self) -> I18nText:
        for code, text in (self.model_extra or {}).items():
            if code not in languages.codes():
                raise invalid(
                    f"'{code}' is not a language the bot speaks",
                    "texts are keyed by language: " + ", ".join(languages.codes()),
                )
            if not isinstance(text, str) or not text:
                raise invalid(f"the {code} text is empty or not text", f'write it in double quotes: {code} = "…"')
        return self

    @classmethod
    def of(cls, texts: dict[str, str | None]) -> I18nText:
        return cls(**{code: text for code, text in texts.items() if text})

    def texts(self) -> dict[str, str]:
        """Every language's text, the source language first."""
        return {"zh_Hans": self.zh_Hans, **(self.model_extra or {})}

    def exact(self, language: str) -> str | None:
        """The text written in ``language``, without falling back."""
        return self.texts().get(language)

    def get(self, language: str) -> str:
        """The text in ``language``, falling back to the source language."""
        return self.exact(language) or self.zh_Hans


def _parse_clock(value: Any) -> Any:
    if isinstance(value, dt.time):
        if value.second or value.microsecond or value.tzinfo:
            raise invalid(f"'{value}' is not a whole minute", 'write the time as "HH:MM", e.g. "08:00"')
        return value
    if isinstance(value, str):
        match = CLOCK_RE.fullmatch(value.strip())
        if match:
            return dt.time(int(match[1]), int(match[2]))
    raise invalid(
        f"{value!r} is not a time of day",
        'write it as "HH:MM" on the 24-hour clock, e.g. "08:00" or "20:00"',
    )


def _check_clock_text(value: str) -> str:
    if not CLOCK_RE.fullmatch(value):
        raise invalid(
            f"'{value}' is not a time of day",
            'write it as "HH:MM" on the 24-hour clock, e.g. "12:00" or "23:59"',
        )
    return value


ClockText = Annotated[str, AfterValidator(_check_clock_text)]
"""A time of day kept as the text "HH:MM" (what the due-date engine reads)."""

ClockTime = Annotated[
    dt.time,
    BeforeValidator(_parse_clock),
    PlainSerializer(lambda value: value.strftime("%H:%M"), return_type=str),
]


def month_day(value: str) -> tuple[int, int]:
    """``"MM-DD"`` as (month, day); the caller has validated the text."""
    month, day = value.split("-")
    return int(month), int(day)


def _check_month_day(value: str) -> str:
    match = MONTH_DAY_RE.fullmatch(value)
    try:
        if not match:
            raise ValueError(value)
        dt.date(2000, int(match[1]), int(match[2]))  # a leap year: "02-29" is 28 February in others
    except ValueError:
        raise invalid(f"'{value}' is not a day of the year", 'write it as "MM-DD", e.g. "12-31" or "03-31"') from None
    return value


MonthDay = Annotated[str, AfterValidator(_check_month_day)]


def _parse_offset(value: Any) -> Any:
    if isinstance(value, dt.timedelta):
        return value
    if isinstance(value, str):
        match = OFFSET_RE.fullmatch(value.strip())
        if match and int(match[1]) > 0:
            return dt.timedelta(**{OFFSET_UNITS[match[2]]: int(match[1])})
    raise invalid(
        f"{value!r} is not a reminder offset",
        'write a positive number followed by d (days), h (hours) or m (minutes), e.g. "7d", "2h", "30m"',
    )


def format_offset(value: dt.timedelta) -> str:
    """The inverse of the offset parser: ``"7d"``, ``"2h"`` or ``"30m"``."""
    minutes = int(value.total_seconds() // 60)
    if minutes % 1440 == 0:
        return f"{minutes // 1440}d"
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"


Offset = Annotated[
    dt.timedelta,
    BeforeValidator(_parse_offset),
    PlainSerializer(format_offset, return_type=str),
]


def _unique_offsets(values: tuple[dt.timedelta, ...]) -> tuple[dt.timedelta, ...]:
    if len(set(values)) != len(values):
        raise invalid("the same reminder offset is listed twice", "list each offset once")
    return tuple(sorted(values, reverse=True))


Reminders = Annotated[tuple[Offset, ...], AfterValidator(_unique_offsets)]


def unique_strings(values: Iterable[str], what: str) -> None:
    """Raise if ``values`` holds a duplicate."""
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise invalid(f"{what} '{value}' is listed twice", f"list each {what} once")
        seen.add(value)


def _step_checker(simple: tuple[str, ...], *, channels: bool = False) -> Callable[[str], str]:
    allowed = ", ".join(simple)
    also = ", each also as sms:<step> or voice:<step> (e.g. sms:on_duty_primary)" if channels else ""

    def check(value: str) -> str:
        channel, step = step_channel(value) if channels else (TELEGRAM, value)
        if step in simple:
            return value
        if step.startswith(ROLE_PREFIX) and ROLE_CODE_RE.fullmatch(step[len(ROLE_PREFIX) :]):
            return value
        raise invalid(
            f"'{value}' is not a step", f"a step is one of {allowed}, or role:<role code> such as role:leader{also}"
        )

    return check


TELEGRAM, SMS, VOICE = "telegram", "sms", "voice"


def step_channel(step: str) -> tuple[str, str]:
    """How a step reaches its people and who they are: ``sms:role:leader`` → ("sms", "role:leader");
    a step without a channel is Telegram's (issue 12)."""
    channel, _, rest = step.partition(":")
    return (channel, rest) if channel in (SMS, VOICE) and rest else (TELEGRAM, step)


def step_role(step: str) -> str | None:
    """The role code of a ``role:<code>`` step (on any channel), else None."""
    step = step_channel(step)[1]
    return step[len(ROLE_PREFIX) :] if step.startswith(ROLE_PREFIX) else None


IncidentStep = Annotated[
    str, AfterValidator(_step_checker(("on_duty_primary", "on_duty_backup", "department_head"), channels=True))
]
AccessStep = Annotated[str, AfterValidator(_step_checker(("data_owner", "department_head")))]
PublicationStep = Annotated[str, AfterValidator(_step_checker(("department_head",)))]
