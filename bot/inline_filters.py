"""aiogram runs every synchronous filter through `asyncio.to_thread` (`CallableObject.call`), meant for callbacks
that may block. Ours are all in-memory checks of the update — magic filters (`F.text`, `F.data.startswith`),
wizard states (`SomeForm.step` as a filter) and a few small functions of `handlers` — yet each check cost a trip
to the default thread pool and back: ~24 per wizard update, each a thread wake-up, a loop wake-up and a GIL
handover, and more under load (issue 15). After the flows are installed they run on the event loop instead.
A filter of another kind (none today) keeps aiogram's thread.

A button press also went through every handler of every router before its own (~70 checks for a press in the
report wizard, each unpacking the button's data); `gate_callbacks_by_prefix` lets a router whose buttons all
carry its own prefixes be passed over with one check."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.handler import FilterObject
from aiogram.filters import Filter
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery


def _in_memory(filter_: FilterObject) -> bool:
    callback = filter_.callback
    if filter_.magic is not None or isinstance(callback, State):
        return True
    return inspect.isfunction(callback) and callback.__module__.startswith("handlers.")


def _on_the_loop(callback: Callable[..., Any]) -> Callable[..., Any]:
    async def check(*args: Any, **kwargs: Any) -> Any:
        return callback(*args, **kwargs)

    return check


def run_filters_inline(router: Router) -> int:
    """Every in-memory synchronous filter of the router and those below it runs on the event loop; how many."""
    changed = 0
    for observer in router.observers.values():
        filters = [f for handler in observer.handlers for f in handler.filters or []]
        filters += observer._handler.filters or []  # the observer's own (`router.message.filter(...)`)
        for filter_ in filters:
            if not filter_.awaitable and _in_memory(filter_):
                filter_.callback, filter_.awaitable = _on_the_loop(filter_.callback), True
                changed += 1
    return changed + sum(run_filters_inline(sub) for sub in router.sub_routers)


class _PrefixGate(Filter):
    """A router-level check: the pressed button's data starts with one of the router's prefixes."""

    def __init__(self, prefixes: tuple[str, ...]) -> None:
        self.prefixes = prefixes

    async def __call__(self, query: CallbackQuery) -> bool:
        return bool(query.data) and query.data.startswith(self.prefixes)  # type: ignore[union-attr]


def gate_callbacks_by_prefix(router: Router) -> int:
    """Each router (this one and those below it) whose every button handler matches a `CallbackData` of its
    own checks the prefixes first, before its other router-level filters; how many routers got the check.
    A router with any other button handler (a catch-all, a magic filter on the data) is left as it is."""
    observer = router.callback_query
    prefixes = set()
    for handler in observer.handlers:
        kinds = [f.callback for f in handler.filters or [] if isinstance(f.callback, CallbackQueryFilter)]
        if not kinds:
            prefixes = set()
            break
        prefixes |= {kind.callback_data.__prefix__ + kind.callback_data.__separator__ for kind in kinds}
    if prefixes:
        observer._handler.filters = [
            FilterObject(_PrefixGate(tuple(sorted(prefixes)))),
            *(observer._handler.filters or []),
        ]
    return bool(prefixes) + sum(gate_callbacks_by_prefix(sub) for sub in router.sub_routers)
