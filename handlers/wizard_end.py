"""A wizard that ends with a service's work ends in that work's transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiogram.fsm.context import FSMContext


@asynccontextmanager
async def ending_with_the_work(state: FSMContext) -> AsyncIterator[None]:
    """Clears the wizard before the work inside the block commits, so its removal is written in the work's own
    transaction (`storage.uow.UpdateMark`): no transaction of its own after it (issue 15), and no moment at
    which the work is stored and its wizard still open. If the work fails, the wizard is put back as it was:
    the member's answers are not lost, and they can press again."""
    step, answers = await state.get_state(), await state.get_data()
    await state.clear()
    try:
        yield
    except BaseException:
        await state.set_state(step)
        await state.set_data(answers)
        raise
