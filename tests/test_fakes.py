"""Prove that the Telegram fakes behave like Telegram where the bot relies on it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.methods import GetUpdates, SendMessage
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    Message,
)
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from tests.support.botapi_server import FakeBotApi, post_update
from tests.support.recording_session import RecordingSession
from tests.support.updates import UpdateFactory

TOKEN = "42:TEST"


def keyboard(*data: str) -> InlineKeyboardMarkup:
    """One-row inline keyboard with the given callback data."""
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=d, callback_data=d) for d in data]])


@pytest.fixture
async def server() -> AsyncIterator[FakeBotApi]:
    """A running fake Bot API server."""
    async with FakeBotApi() as fake:
        yield fake


def make_bot(server: FakeBotApi, timeout: float = 5.0) -> Bot:
    """A real aiogram Bot talking HTTP to ``server``."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(server.base_url), timeout=timeout)
    return Bot(TOKEN, session=session)


@pytest.fixture
async def bot(server: FakeBotApi) -> AsyncIterator[Bot]:
    """A real aiogram Bot talking HTTP to the fake server."""
    real_bot = make_bot(server)
    yield real_bot
    await real_bot.session.close()


@pytest.fixture
def session() -> RecordingSession:
    """A recording session."""
    return RecordingSession()


@pytest.fixture
def recording_bot(session: RecordingSession) -> Bot:
    """A Bot whose calls go to the recording session."""
    return Bot(TOKEN, session=session)


# ====================================================================== FakeBotApi over HTTP
async def test_get_me_send_and_edit(server: FakeBotApi, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.username) == (42, True, "test_duty_bot")

    first = await bot.send_message(1, "Привет, 123", reply_markup=keyboard("ok", "no"))
    second = await bot.send_message(1, "second")
    other_chat = await bot.send_message(2, "other")
    assert (first.message_id, second.message_id, other_chat.message_id) == (1, 2, 1)
    assert first.chat.id == 1 and first.text == "Привет, 123"
    assert first.reply_markup is not None  # (== would also compare the bound bot)
    assert first.reply_markup.model_dump() == keyboard("ok", "no").model_dump()

    edited = await first.edit_text("done")  # shortcut: the result is bound to the bot
    assert isinstance(edited, Message)
    assert edited.message_id == first.message_id and edited.text == "done" and edited.reply_markup is None

    assert server.texts(1) == ["Привет, 123", "second", "done"]
    assert server.texts(1, include_edits=False) == ["Привет, 123", "second"]
    sent = server.sent_messages(1)
    assert [d.message_id for d in sent] == [1, 2]
    assert sent[0].callback_data() == ["ok", "no"]
    assert sent[0].params["chat_id"] == 1  # JSON-encoded form fields are decoded
    assert [r.method for r in server.requests] == [
        "getMe",
        "sendMessage",
        "sendMessage",
        "sendMessage",
        "editMessageText",
    ]
    assert server.chat_messages(1)[0]["text"] == "done"


async def test_editing_with_same_content_is_not_modified(bot: Bot) -> None:
    message = await bot.send_message(1, "same", reply_markup=keyboard("a"))
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text("same", chat_id=1, message_id=message.message_id, reply_markup=keyboard("a"))
    changed = await bot.edit_message_reply_markup(chat_id=1, message_id=message.message_id)
    assert isinstance(changed, Message) and changed.text == "same" and changed.reply_markup is None


async def test_simple_methods_answer_true(server: FakeBotApi, bot: Bot) -> None:
    message = await bot.send_location(5, latitude=31.2, longitude=121.4)
    assert message.location is not None and message.location.latitude == pytest.approx(31.2)
    assert await bot.answer_callback_query("cbq-1", text="ok") is True
    assert await bot.delete_message(5, message.message_id) is True
    assert await bot.set_my_commands([]) is True
    assert await bot.delete_my_commands() is True
    assert await bot.set_chat_menu_button() is True
    assert await bot.set_webhook("https://example.org/hook", secret_token="s3cret") is True
    assert (await bot.get_webhook_info()).url == "https://example.org/hook"
    assert await bot.delete_webhook() is True
    assert server.chat_messages(5) == []
    assert server.callback_answers[0]["text"] == "ok"


async def test_media_group_and_photo_upload(server: FakeBotApi, bot: Bot) -> None:
    photo = await bot.send_photo(-1001, BufferedInputFile(b"png-bytes", "chart.png"), caption="chart")
    assert photo.photo is not None and photo.caption == "chart"
    group = await bot.send_media_group(
        -1001,
        [
            InputMediaPhoto(media=BufferedInputFile(b"one", "1.png"), caption="first"),
            InputMediaPhoto(media=photo.photo[-1].file_id),
        ],
    )
    assert [m.message_id for m in group] == [2, 3]
    assert group[0].media_group_id == group[1].media_group_id is not None
    assert server.texts(-1001) == ["chart", "first"]
    upload = server.sent_messages(-1001)[0].params["photo"]
    assert upload.data == b"png-bytes" and upload.filename == "chart.png"


async def test_429_injection_surfaces_as_retry_after(server: FakeBotApi, bot: Bot) -> None:
    server.inject("sendMessage", "429:7", chat_id=1)
    await bot.send_message(2, "other chat is not affected")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(1, "hello")
    assert caught.value.retry_after == 7
    await bot.send_message(1, "hello")  # the fault was used up
    assert server.texts(1) == ["hello"]
    assert server.duplicates() == []


async def test_blocked_and_chat_not_found(server: FakeBotApi, bot: Bot) -> None:
    server.inject("send_message", "blocked")
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(1, "x")
    server.inject("sendMessage", "chat_not_found")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(1, "x")
    server.block(3)
    with pytest.raises(TelegramForbiddenError):
        await bot.send_message(3, "x")
    assert server.sent_messages() == []


async def test_server_errors(bot: Bot, server: FakeBotApi) -> None:
    server.inject("sendMessage", "500")
    server.inject("sendMessage", "502")
    server.inject("sendMessage", "502:html")
    for expected in (TelegramServerError, TelegramServerError, ClientDecodeError):
        with pytest.raises(expected):
            await bot.send_message(1, "x")
    assert server.sent_messages() == []


async def test_reset_is_a_network_error_and_delivers_nothing(server: FakeBotApi, bot: Bot) -> None:
    server.inject("sendMessage", "reset")
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(1, "lost?")
    assert server.sent_messages() == []
    assert await bot.send_message(1, "after reset")  # the client recovers on a new connection

    server.inject("sendMessage", "reset_after")
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(1, "delivered but unanswered")
    assert server.texts(1) == ["after reset", "delivered but unanswered"]


async def test_timeout_fault_delivers_but_client_times_out(server: FakeBotApi, bot: Bot) -> None:
    server.inject("sendMessage", "timeout:0.5")
    with pytest.raises(TelegramNetworkError, match="timeout"):
        await bot(SendMessage(chat_id=1, text="slow"), request_timeout=0.2)  # type: ignore[arg-type]
    await server.wait_for(lambda s: s.sent_messages(1), timeout=5)
    # Telegram processed it: a naive retry now creates a duplicate, which the server detects.
    await bot.send_message(1, "slow")
    duplicates = server.duplicates()
    assert len(duplicates) == 1 and [d.text for d in duplicates[0]] == ["slow", "slow"]


class ManualClock:
    """A monotonic clock the test moves by hand (keeps rate-limit tests deterministic)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def limited() -> AsyncIterator[tuple[FakeBotApi, Bot, ManualClock]]:
    """A server on a manual clock plus a bot talking to it."""
    clock = ManualClock()
    async with FakeBotApi(clock=clock) as fake:
        client = make_bot(fake)
        yield fake, client, clock
        await client.session.close()


async def test_rate_limit_mode(limited: tuple[FakeBotApi, Bot, ManualClock]) -> None:
    server, bot, clock = limited
    server.enforce_limits(global_per_second=30, per_chat_per_second=1, per_group_per_minute=20)
    await bot.send_message(1, "first")
    clock.now += 0.4
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(1, "too fast")
    assert caught.value.retry_after == 1
    await bot.send_message(2, "another chat is fine")
    clock.now += 0.6
    await bot.send_message(1, "after a second")
    assert len(server.rate_limit_hits) == 1
    hit = server.rate_limit_hits[0]
    assert (hit.time, hit.method, hit.chat_id, hit.scope, hit.retry_after) == (1000.4, "sendMessage", 1, "chat", 1)
    assert server.texts() == ["first", "another chat is fine", "after a second"]


async def test_rate_limit_global_and_group_windows(limited: tuple[FakeBotApi, Bot, ManualClock]) -> None:
    server, bot, clock = limited
    server.enforce_limits(global_per_second=3, per_chat_per_second=None, per_group_per_minute=2)
    await bot.send_message(-5, "group 1")
    clock.now += 10
    await bot.send_message(-5, "group 2")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(-5, "group 3")
    assert caught.value.retry_after == 50  # the first group message leaves the minute window then
    await bot.send_message(7, "private 1")
    await bot.send_message(8, "private 2")
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(9, "fourth in a second")
    clock.now += 1
    await bot.send_message(9, "next second")
    assert [h.scope for h in server.rate_limit_hits] == ["group", "global"]


async def test_download_registered_file(server: FakeBotApi, bot: Bot) -> None:
    server.add_file("doc-1", "documents/file_1.pdf", b"%PDF-1.4 fake")
    file = await bot.get_file("doc-1")
    assert file.file_path == "documents/file_1.pdf" and file.file_size == 13
    downloaded = await bot.download("doc-1")
    assert downloaded is not None and downloaded.read() == b"%PDF-1.4 fake"
    with pytest.raises(TelegramBadRequest, match="invalid file_id"):
        await bot.get_file("missing")


async def test_uploaded_document_can_be_downloaded_again(bot: Bot) -> None:
    sent = await bot.send_document(9, BufferedInputFile(b"xlsx-bytes", "report.xlsx"))
    assert sent.document is not None and sent.document.file_name == "report.xlsx"
    downloaded = await bot.download(sent.document)
    assert downloaded is not None and downloaded.read() == b"xlsx-bytes"


async def test_get_updates_long_poll_wakes_on_push_and_honours_offset(server: FakeBotApi, bot: Bot) -> None:
    factory = UpdateFactory()
    started = time.monotonic()
    poll = asyncio.create_task(bot(GetUpdates(timeout=20), request_timeout=30))
    await server.wait_for(lambda s: any(r.method == "getUpdates" for r in s.requests), timeout=5)
    first_id = server.push_update(factory.message(1, "hello"))
    updates = await poll
    assert time.monotonic() - started < 5  # woke on push, not after the 20 s poll timeout
    assert [u.update_id for u in updates] == [first_id]
    assert updates[0].message is not None and updates[0].message.text == "hello"

    assert [u.update_id for u in await bot.get_updates(timeout=0)] == [first_id]  # not confirmed yet
    second_id = server.push_update(factory.message(1, "again"))
    assert [u.update_id for u in await bot.get_updates(offset=first_id + 1)] == [second_id]
    assert [u["update_id"] for u in server.pending_updates] == [second_id]
    assert await bot.get_updates(offset=second_id + 1, timeout=0) == []
    assert server.pending_updates == []


async def test_get_updates_conflicts_with_webhook(bot: Bot) -> None:
    await bot.set_webhook("https://example.org/hook")
    with pytest.raises(Exception, match="webhook is active"):
        await bot.get_updates()


async def test_polling_dispatcher_answers_pushed_update(server: FakeBotApi) -> None:
    router = Router()

    @router.message(Command("ping"))
    async def ping(message: Message) -> None:
        await message.answer(f"pong {message.from_user.first_name if message.from_user else ''}")

    @router.callback_query(F.data == "approve")
    async def approve(query: CallbackQuery) -> None:
        assert isinstance(query.message, Message)
        await query.message.edit_text("approved")
        await query.answer()

    dp = Dispatcher()
    dp.include_router(router)
    polling_bot = make_bot(server)
    polling = asyncio.create_task(dp.start_polling(polling_bot, handle_signals=False, polling_timeout=10))
    try:
        factory = UpdateFactory()
        server.push_update(factory.command(7, "/ping", first_name="Ann"))
        await server.wait_for(lambda s: s.texts(7), timeout=5)
        assert server.texts(7) == ["pong Ann"]

        message_id = server.sent_messages(7)[0].message_id
        assert message_id is not None
        server.push_update(factory.callback(7, "approve", message_id=message_id, message_text="pong Ann"))
        await server.wait_for(lambda: server.callback_answers, timeout=5)
        assert server.texts(7) == ["pong Ann", "approved"]
        assert server.chat_messages(7)[0]["text"] == "approved"
        await server.wait_for(lambda s: not s.pending_updates, timeout=5)
    finally:
        await dp.stop_polling()
        await polling
    assert server.duplicates() == []
    assert server.conflicts == []  # one poller: each getUpdates followed the previous one's answer


async def test_409_over_raw_http_and_only_for_the_same_token(server: FakeBotApi) -> None:
    """The wire answer is Telegram's JSON body with error_code 409; a poll of another token is left alone."""
    url = f"{server.base_url}/bot{TOKEN}/getUpdates"
    other = f"{server.base_url}/bot43:OTHER/getUpdates"
    async with aiohttp.ClientSession() as client:

        async def poll(address: str) -> tuple[int, dict]:
            async with client.post(address, data={"timeout": "20"}) as response:
                return response.status, await response.json()

        older = asyncio.create_task(poll(url))
        other_token = asyncio.create_task(poll(other))
        await server.wait_for(lambda s: sum(r.method == "getUpdates" for r in s.requests) == 2, timeout=5)
        newer = asyncio.create_task(poll(url))
        status, body = await older
        assert status == 409
        assert body == {
            "ok": False,
            "error_code": 409,
            "description": "Conflict: terminated by other getUpdates request; "
            "make sure that only one bot instance is running",
        }
        assert not other_token.done() and not newer.done()
        server.push_update(UpdateFactory().message(1, "wake up"))
        (status, body), (other_status, _) = await newer, await other_token
        assert status == 200 and [u["message"]["text"] for u in body["result"]] == ["wake up"]
        assert other_status == 200  # the other bot was never in conflict
        assert len(server.conflicts) == 1


async def test_two_polling_dispatchers_on_one_token_keep_conflicting(server: FakeBotApi) -> None:
    """Two bot processes polling with one token is what the 409 is for: the server records the conflicts
    (tests assert `server.conflicts == []` to prove only one instance polled)."""
    dispatchers = [Dispatcher(), Dispatcher()]
    bots = [make_bot(server), make_bot(server)]
    polls = [
        asyncio.create_task(dp.start_polling(b, handle_signals=False, polling_timeout=10))
        for dp, b in zip(dispatchers, bots, strict=True)
    ]
    try:
        await server.wait_for(lambda s: s.conflicts, timeout=10)
    finally:
        for dp in dispatchers:
            await dp.stop_polling()
        await asyncio.gather(*polls)


async def test_instances_are_told_apart_by_their_base_url(server: FakeBotApi) -> None:
    """Processes sharing the server each use `base_url/<name>`: their requests and deliveries say which."""
    bots = {
        name: Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(f"{server.base_url}/{name}")))
        for name in ("a", "b")
    }
    try:
        await bots["a"].send_message(1, "from a")
        await bots["b"].send_message(1, "from b")
        await make_bot(server).send_message(1, "from nobody in particular")
        assert [(d.text, d.instance) for d in server.sent_messages(1)] == [
            ("from a", "a"),
            ("from b", "b"),
            ("from nobody in particular", None),
        ]
        assert [r.instance for r in server.requests] == ["a", "b", None]
        server.add_file("f-1", "docs/f.txt", b"bytes")
        downloaded = await bots["b"].download_file("docs/f.txt")
        assert downloaded is not None and downloaded.read() == b"bytes"
    finally:
        for b in bots.values():
            await b.session.close()


async def test_hang_fault_holds_the_request_unprocessed_until_the_client_gives_up(server: FakeBotApi) -> None:
    """`hang` (for one instance here): the call reaches the server and is never processed nor answered - a
    process killed mid-request left nothing delivered. The held request is listed while it waits."""
    bots = {
        name: Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(f"{server.base_url}/{name}")))
        for name in ("a", "b")
    }
    try:
        server.inject("sendMessage", "hang", instance="a")
        stuck = asyncio.create_task(bots["a"].send_message(5, "never delivered"))
        await server.wait_for(lambda s: s.held, timeout=5)
        assert [(r.method, r.instance, r.params["text"]) for r in server.held] == [
            ("sendMessage", "a", "never delivered")
        ]
        await bots["b"].send_message(5, "b is not held")
        stuck.cancel()  # the client goes away, as a killed process does
        with pytest.raises(asyncio.CancelledError):
            await stuck
        await bots["a"].session.close()  # its connection closes: the server forgets the request
        await server.wait_for(lambda s: not s.held, timeout=5)
        assert server.texts(5) == ["b is not held"]
    finally:
        for b in bots.values():
            await b.session.close()


async def test_webhook_post_update_with_secret(server: FakeBotApi) -> None:
    dp = Dispatcher()
    seen: list[str] = []

    @dp.message()
    async def remember(message: Message) -> None:
        seen.append(message.text or "")
        await message.answer("got it")

    webhook_bot = make_bot(server)
    app = web.Application()
    SimpleRequestHandler(dp, webhook_bot, handle_in_background=False, secret_token="s3cret").register(
        app, path="/webhook"
    )
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/webhook"
    try:
        factory = UpdateFactory()
        assert await post_update(url, factory.message(3, "via webhook"), secret_token="wrong") == 401
        assert await post_update(url, factory.message(3, "via webhook"), secret_token="s3cret") == 200
        await server.wait_for(lambda s: s.texts(3), timeout=5)
        assert seen == ["via webhook"] and server.texts(3) == ["got it"]
    finally:
        await runner.cleanup()
        await webhook_bot.session.close()


async def test_wait_for_times_out_with_context(server: FakeBotApi) -> None:
    with pytest.raises(TimeoutError, match="condition not met"):
        await server.wait_for(lambda s: s.texts(1), timeout=0.05)


def test_inject_rejects_unknown_faults() -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        FakeBotApi().inject("sendMessage", "418")
    FakeBotApi().inject("sendMessage", "hang", instance="a")  # known


# ====================================================================== RecordingSession
async def test_recording_session_ids_texts_and_queries(session: RecordingSession, recording_bot: Bot) -> None:
    first = await recording_bot.send_message(1, "one", reply_markup=keyboard("x"))
    second = await recording_bot.send_message(1, "two")
    other = await recording_bot.send_photo(2, "photo-file-id", caption="pic")
    assert (first.message_id, second.message_id, other.message_id) == (1, 2, 1)
    assert first.chat.id == 1 and first.from_user is not None and first.reply_markup is not None
    assert first.reply_markup.model_dump() == keyboard("x").model_dump()
    assert other.photo is not None and other.photo[-1].file_id == "photo-file-id"

    await first.edit_text("one (edited)")
    assert await recording_bot.answer_callback_query("cbq") is True
    assert (await recording_bot.get_me()).username == "test_duty_bot"

    assert session.texts(1) == ["one", "two", "one (edited)"]
    assert session.texts(2) == ["pic"]
    assert [type(m).__name__ for m in session.sent(1)] == ["SendMessage", "SendMessage", "EditMessageText"]
    assert len(session.sent(method="sendMessage")) == 2
    last = session.last(1)
    assert last is not None and last.text == "one (edited)"  # type: ignore[attr-defined]
    assert len(session.requests) == 6
    session.clear()
    assert session.requests == [] and session.texts() == []


async def test_recording_session_results_and_files(session: RecordingSession, recording_bot: Bot) -> None:
    group = await recording_bot.send_media_group(
        -1001, [InputMediaPhoto(media="a", caption="c1"), InputMediaPhoto(media=BufferedInputFile(b"b", "b.png"))]
    )
    assert [m.message_id for m in group] == [1, 2]
    assert session.texts(-1001) == ["c1"]
    file = await recording_bot.get_file("abc")
    assert file.file_path
    assert await recording_bot.edit_message_text("inline", inline_message_id="im-1") is True
    assert await recording_bot.delete_message(1, 99) is True
    assert await recording_bot.set_my_commands([]) is True


async def test_recording_session_fault_injection(session: RecordingSession, recording_bot: Bot) -> None:
    session.fail_next("sendMessage", 1, "blocked")
    session.fail_next("send_message", None, "retry_after:4")
    session.fail_next("sendMessage", 1, "chat_not_found")
    session.fail_next("sendMessage", 1, "server_error")
    session.fail_next("sendMessage", 1, "network")
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await recording_bot.send_message(1, "a")
    with pytest.raises(TelegramRetryAfter) as caught:
        await recording_bot.send_message(2, "b")
    assert caught.value.retry_after == 4
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await recording_bot.send_message(1, "c")
    with pytest.raises(TelegramServerError):
        await recording_bot.send_message(1, "d")
    with pytest.raises(TelegramNetworkError):
        await recording_bot.send_message(1, "e")
    assert (await recording_bot.send_message(1, "f")).message_id == 1

    session.block(5)
    for _ in range(2):
        with pytest.raises(TelegramForbiddenError):
            await recording_bot.send_message(5, "blocked")
    assert session.texts() == ["f"] and len(session.failures) == 7
    with pytest.raises(ValueError, match="unknown error"):
        session.fail_next("sendMessage", 1, "teapot")


async def test_recording_session_unknown_method_is_explained(recording_bot: Bot) -> None:
    with pytest.raises(NotImplementedError, match="getChat"):
        await recording_bot.get_chat(1)


# ====================================================================== UpdateFactory
async def test_command_start_deep_link_via_feed_update(session: RecordingSession, recording_bot: Bot) -> None:
    dp = Dispatcher()
    received: list[str | None] = []

    @dp.message(CommandStart(deep_link=True))
    async def start(message: Message, command: CommandObject) -> None:
        received.append(command.args)
        await message.answer(f"deep link {command.args}")

    factory = UpdateFactory()
    update = factory.command(1, "/start abc")
    assert update.message is not None and update.message.entities is not None
    assert (update.message.entities[0].type, update.message.entities[0].length) == ("bot_command", 6)
    await dp.feed_update(recording_bot, update)
    assert received == ["abc"]
    assert session.texts(1) == ["deep link abc"]
    assert factory.command(1, "/start").update_id == update.update_id + 1


async def test_factory_callback_message_and_media(session: RecordingSession, recording_bot: Bot) -> None:
    dp = Dispatcher()
    events: list[str] = []

    @dp.callback_query(F.data.startswith("approve:"))
    async def approve(query: CallbackQuery) -> None:
        assert isinstance(query.message, Message)
        events.append(f"{query.data}@{query.message.message_id}:{query.message.text}")
        await query.message.edit_text("approved")
        await query.answer("done")

    @dp.message(F.photo | F.document | F.location | F.contact | F.voice)
    async def media(message: Message) -> None:
        events.append(message.content_type)

    factory = UpdateFactory()
    await dp.feed_update(recording_bot, factory.callback(4, "approve:7", message_id=10, message_text="Request #7"))
    await dp.feed_update(recording_bot, factory.message(4, photo=True, caption="broken pump"))
    await dp.feed_update(recording_bot, factory.message(4, document="doc-9"))
    await dp.feed_update(recording_bot, factory.location(4, 1.5, 2.5))
    await dp.feed_update(recording_bot, factory.contact(4, "+100"))
    await dp.feed_update(recording_bot, factory.message(4, voice=True))
    assert events == ["approve:7@10:Request #7", "photo", "document", "location", "contact", "voice"]
    assert session.texts(4) == ["approved"]

    group_update = factory.message(5, "hi", chat_id=-1001234)
    assert group_update.message is not None
    assert group_update.message.chat.type == "supergroup" and group_update.message.from_user is not None
    assert group_update.message.from_user.language_code == "zh-hans"


async def test_recording_session_downloads(session: RecordingSession, recording_bot: Bot) -> None:
    session.add_file("photo-1", b"jpeg-bytes", "photos/file_1.jpg")
    assert (await recording_bot.get_file("photo-1")).file_path == "photos/file_1.jpg"
    downloaded = await recording_bot.download("photo-1")
    assert downloaded is not None and downloaded.read() == b"jpeg-bytes"
    unknown = await recording_bot.download("voice-3")
    assert unknown is not None and unknown.read() == b"fake-file:voice-3"


async def test_stop_answers_pending_long_poll() -> None:
    fake = FakeBotApi()
    await fake.start()
    polling_bot = make_bot(fake)
    try:
        poll = asyncio.create_task(polling_bot.get_updates(timeout=30))
        await fake.wait_for(lambda s: s.requests, timeout=5)
        started = time.monotonic()
        await fake.stop()
        assert await poll == []
        assert time.monotonic() - started < 5
    finally:
        await polling_bot.session.close()


async def test_a_second_get_updates_cuts_the_waiting_one_off_with_409_like_telegram(server: FakeBotApi) -> None:
    """Two processes polling one token (issue 13): Telegram ends the earlier long poll with 409 Conflict and
    serves the newer one; the fake does the same and records the conflict."""
    first, second = make_bot(server, timeout=30), make_bot(server, timeout=30)
    try:
        waiting = asyncio.create_task(first(GetUpdates(timeout=20)))
        await server.wait_for(lambda s: any(r.method == "getUpdates" for r in s.requests), timeout=5)
        newer = asyncio.create_task(second(GetUpdates(timeout=20)))
        with pytest.raises(TelegramConflictError, match="terminated by other getUpdates request"):
            await asyncio.wait_for(waiting, timeout=5)
        assert not newer.done()  # the newer one was not cut off: it goes on waiting
        server.push_update(UpdateFactory().command(7, "/start"))
        updates = await asyncio.wait_for(newer, timeout=5)
        assert [u.message.text for u in updates if u.message] == ["/start"]
        assert len(server.conflicts) == 1
    finally:
        await first.session.close()
        await second.session.close()
