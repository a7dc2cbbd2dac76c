"""Outgoing messages, below the services and the handlers.

What a member is sent is decided by a service and shaped here, platform-neutral: a `Card` is a text and
rows of `Action`s (a label in the recipient's language and the id its press carries back). Services
queue cards in the outbox; the Telegram renderer (`bot.outgoing.telegram`) turns them into text and an
inline keyboard at send time. The callback data a press carries (its id) is defined once here, so the
handlers that answer a press and the services that queue the button agree on it. A `Speaker` says
things in one member's language (`bot.outgoing.speaker`).

Nothing here imports `bot.services` or `handlers` (tests/test_layers.py)."""
