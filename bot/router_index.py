"""Routers an update cannot match are passed over (issue 15).

aiogram offers each update to every router in turn, each router to every handler of the update's kind: a typed
answer in the report wizard went through ~40 message handlers of ten routers before its own, and each router
visited cost its own middleware chain and copies of the update's context. Most of our handlers name what they
need before their other filters are worth running: a command (`Command`), a wizard state (`State`,
`StateFilter`) or a button of their own (`CallbackData.filter()`). A router all of whose handlers of a kind
name one is asked only for an update that meets one of them; a router with any other handler of that kind (the
fallback's catch-all, a magic filter alone) is asked as before. Filters still decide: this only skips routers
where every handler would have said no."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.dispatcher.event.handler import HandlerObject
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BotCommand, CallbackQuery, Message, TelegramObject

_NO_STATE_KNOWN = object()  # the update's context has no wizard state (no FSM middleware ran)


@dataclass(frozen=True)
class Needs:
    """What one handler needs of an update before its filters can pass; None: this index cannot tell."""

    commands: frozenset[str] | None = None  # "/name" commands, lower case
    states: frozenset[str | None] | None = None  # raw wizard states
    prefixes: tuple[str, ...] | None = None  # the start of a pressed button's data

    @property
    def narrows(self) -> bool:
        return self.commands is not None or self.states is not None or self.prefixes is not None

    def met_by(self, event: TelegramObject, raw_state: Any) -> bool:
        if self.states is not None and raw_state is not _NO_STATE_KNOWN and raw_state not in self.states:
            return False
        if self.prefixes is not None:
            data = event.data if isinstance(event, CallbackQuery) else None
            if not data or not data.startswith(self.prefixes):
                return False
        return self.commands is None or command_of(event) in self.commands


def command_of(event: TelegramObject) -> str | None:
    """ "/Report@our_bot details" → "report", as `Command` reads it (text or caption), in lower case."""
    text = (event.text or event.caption) if isinstance(event, Message) else None
    if not text or not text.startswith("/"):
        return None
    return text.split(maxsplit=1)[0][1:].partition("@")[0].lower()


def needs_of(handler: HandlerObject) -> Needs:
    commands = states = prefixes = None
    for filter_ in handler.filters or []:
        check = filter_.callback
        if isinstance(check, Command) and commands is None:
            commands = _command_names(check)
        elif isinstance(check, (State, StateFilter)) and states is None:
            states = _state_names(check.states if isinstance(check, StateFilter) else (check,))
        elif isinstance(check, CallbackQueryFilter) and prefixes is None:
            data = check.callback_data
            prefixes = (data.__prefix__ + data.__separator__,)
    return Needs(commands, states, prefixes)


def _command_names(command: Command) -> frozenset[str] | None:
    if command.prefix != "/":
        return None
    names = [item.command if isinstance(item, BotCommand) else item for item in command.commands]
    return frozenset(name.lower() for name in names) if all(isinstance(n, str) for n in names) else None


def _state_names(allowed: Any) -> frozenset[str | None] | None:
    names: set[str | None] = set()
    for state in allowed:
        if inspect.isclass(state) and issubclass(state, StatesGroup):
            names.update(state.__all_states_names__)
            continue
        name = state.state if isinstance(state, State) else state
        if name == "*" or not (name is None or isinstance(name, str)):
            return None  # any state (or a kind this index does not know)
        names.add(name)
    return frozenset(names)


def _handlers(router: Router, kind: str) -> Iterator[HandlerObject]:
    yield from router.observers[kind].handlers
    for sub in router.sub_routers:
        yield from _handlers(sub, kind)


def _with_outer_middleware(router: Router, kind: str) -> bool:
    """An outer middleware runs for every update offered to its router, so such a router is never skipped."""
    return bool(router.observers[kind].outer_middleware) or any(
        _with_outer_middleware(sub, kind) for sub in router.sub_routers
    )


def admission(router: Router, kind: str) -> Callable[[TelegramObject, Any], bool] | None:
    """Whether an update of this kind could match a handler of the router (or of those below it); None when
    any update could."""
    if _with_outer_middleware(router, kind):
        return None
    needs = list(dict.fromkeys(needs_of(handler) for handler in _handlers(router, kind)))
    if not all(need.narrows for need in needs):
        return None
    return lambda event, raw_state: any(need.met_by(event, raw_state) for need in needs)


def skip_routers_that_cannot_match(router: Router) -> int:
    """Below this router (the dispatcher), each router is offered an update only if it could match; how many
    routers got a check for at least one kind of update. Call it once the routers are complete."""
    checked = 0
    for sub in router.sub_routers:
        checks = {kind: check for kind in sub.observers if (check := admission(sub, kind)) is not None}
        if checks:
            _offer_only_when_admitted(sub, checks)
            checked += 1
        checked += skip_routers_that_cannot_match(sub)
    return checked


def _offer_only_when_admitted(router: Router, checks: dict[str, Callable[[TelegramObject, Any], bool]]) -> None:
    propagate = router.propagate_event

    async def propagate_event(update_type: str, event: TelegramObject, **kwargs: Any) -> Any:
        check = checks.get(update_type)
        if check is not None and not check(event, kwargs.get("raw_state", _NO_STATE_KNOWN)):
            return UNHANDLED
        return await propagate(update_type=update_type, event=event, **kwargs)

    router.propagate_event = propagate_event  # type: ignore[method-assign]
