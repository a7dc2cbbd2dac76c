"""aiogram's ~300 Telegram types are pydantic models, and importing `aiogram.types` builds every one of them
(its `model_rebuild` loop): 2.7 s and ~110 MiB here, more than the whole start-up and memory budget, for
models the bot mostly never uses. pydantic can build a model on its first use instead; aiogram's loop only
exists to give each model the names its forward references need. So: skip the loop while aiogram is
imported, and put those names where pydantic looks for them when it builds a model on first use."""

from __future__ import annotations

import sys
from typing import Any


def build_on_first_use() -> None:
    """Call before anything imports aiogram; afterwards it is too late and nothing changes."""
    if "aiogram" in sys.modules:
        return
    import pydantic

    eager = pydantic.BaseModel.__dict__["model_rebuild"]
    rebuild = eager.__func__

    def skip_aiogram_loop(cls: type[pydantic.BaseModel], **kwargs: Any) -> Any:
        if cls.__module__.startswith("aiogram.types.") and "_types_namespace" in kwargs:
            return None
        return rebuild(cls, **kwargs)

    pydantic.BaseModel.model_rebuild = classmethod(skip_aiogram_loop)  # type: ignore[method-assign,assignment]
    try:
        from typing import Literal, Optional, Union

        import aiogram.types as types
        from aiogram.client.default import Default
    finally:
        pydantic.BaseModel.model_rebuild = eager  # type: ignore[method-assign]

    # The names aiogram's loop resolves forward references with (aiogram/types/__init__.py), made visible
    # in every module that defines a model, where pydantic looks when it builds one on first use.
    namespace = {name: getattr(types, name) for name in types.__all__}
    namespace.update(List=list, Optional=Optional, Union=Union, Literal=Literal, Default=Default)
    import aiogram.methods  # noqa: F401  (its models refer to the types too)

    for name, module in list(sys.modules.items()):
        if name.startswith(("aiogram.types.", "aiogram.methods.")) and module is not None:
            for key, value in namespace.items():
                module.__dict__.setdefault(key, value)
