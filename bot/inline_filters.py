"""aiogram runs every synchronous filter through `asyncio.to_thread` (`CallableObject.call`), meant for callbacks
that may block. Ours are all in-memory checks of the update — magic filters (`F.text`, `F.data.startswith`),
wizard states (`SomeForm.step` as a filter) and a few small functions of `handlers` — yet each check cost a trip
to the default thread pool and back: ~24 per wizard update, each a thread wake-up, a loop wake-up and a GIL
handover, and more under load (issue 15). After the flows are installed they run on the event loop instead.
A filter of another kind (none today) keeps aiogram's thread."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.handler import FilterObject
from aiogram.fsm.state import State


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
