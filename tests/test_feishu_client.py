"""The Feishu client over real HTTP against the local fake (issue 12): the tenant token is fetched once and
again when Feishu stops accepting it, cards are sent and updated, and each failure becomes the outcome the
outbox acts on (retry later with its wait, unreachable user, misconfigured app). Settings are checked at start."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.channels.base import Misconfigured, RetryLater, Unreachable
from bot.channels.feishu import FeishuClient, is_stand_in, stand_in_chat_id
from bot.channels.feishu_frames import DATA, Frame
from bot.outgoing.cards import Action
from bot.outgoing.feishu import card
from tests.support.fake_feishu import FakeFeishu, card_buttons

OPEN_ID = "ou_7d8a6e6df7621556ce0d21922b676706ccs"


@pytest.fixture
async def fake() -> AsyncIterator[FakeFeishu]:
    async with FakeFeishu() as server:
        yield server


@pytest.fixture
async def client(fake: FakeFeishu) -> AsyncIterator[FeishuClient]:
    found = FeishuClient.from_env(fake.env(), session_timeout=0.5)
    assert found is not None
    yield found
    await found.close()


async def test_a_card_is_sent_with_one_token_and_updated(fake: FakeFeishu, client: FeishuClient) -> None:
    alert = card("🚨 INC-2026-000001 火灾", ((Action("✅ 确认", "inc:ack:1:0"), Action("ℹ️ 详情", "inc:det:1:0")),))
    sent = await client.send_card(OPEN_ID, alert, key="incident:1:alert:0:5")
    again = await client.send_card(OPEN_ID, alert, key="incident:1:alert:1:5")
    assert sent.provider_id.startswith("om_") and again.provider_id != sent.provider_id
    assert fake.token_requests == 1  # cached until it expires
    [first, _second] = fake.cards_to(OPEN_ID)
    assert first.text == "🚨 INC-2026-000001 火灾"
    assert first.buttons == [("✅ 确认", "inc:ack:1:0"), ("ℹ️ 详情", "inc:det:1:0")]
    await client.update_card(sent.provider_id, card("done"))
    [update] = fake.updated(sent.provider_id)
    assert card_buttons(update) == []


async def test_sends_at_once_share_one_token_request(fake: FakeFeishu, client: FeishuClient) -> None:
    await asyncio.gather(*(client.send_card(OPEN_ID, card(str(n)), key=f"k-{n}") for n in range(5)))
    assert fake.token_requests == 1 and len(fake.cards) == 5


async def test_the_same_outbox_key_posts_one_card(fake: FakeFeishu, client: FeishuClient) -> None:
    """A retry after a lost answer: Feishu de-duplicates on uuid, which carries the outbox key."""
    first = await client.send_card(OPEN_ID, card("x"), key="k-1")
    second = await client.send_card(OPEN_ID, card("x"), key="k-1")
    assert first == second and len(fake.cards) == 1


async def test_a_token_feishu_no_longer_accepts_is_fetched_again(fake: FakeFeishu, client: FeishuClient) -> None:
    await client.send_card(OPEN_ID, card("one"), key="k-1")
    fake.expire_tokens()
    await client.send_card(OPEN_ID, card("two"), key="k-2")
    assert fake.token_requests == 2 and len(fake.cards) == 2


@pytest.mark.parametrize(
    ("fault", "outcome", "after"),
    [
        ("timeout", RetryLater, None),
        ("5xx", RetryLater, None),
        ("rate_limit", RetryLater, 1.0),
        ("http429", RetryLater, 2.0),
        ("unreachable", Unreachable, None),
    ],
)
async def test_failures_become_the_outcomes_the_outbox_knows(
    fake: FakeFeishu, client: FeishuClient, fault: str, outcome: type[Exception], after: float | None
) -> None:
    await client.token()
    fake.fail_next(fault)
    with pytest.raises(outcome) as raised:
        await client.send_card(OPEN_ID, card("x"), key="k")
    assert not isinstance(raised.value, Misconfigured)
    if isinstance(raised.value, RetryLater) and after is not None:
        assert raised.value.after == pytest.approx(after, abs=0.5)
    assert not fake.cards


async def test_a_user_outside_the_app_is_unreachable(fake: FakeFeishu, client: FeishuClient) -> None:
    fake.unreachable.add(OPEN_ID)
    with pytest.raises(Unreachable, match="230013"):
        await client.send_card(OPEN_ID, card("x"), key="k")


async def test_a_wrong_secret_is_misconfigured(fake: FakeFeishu) -> None:
    wrong = FeishuClient.from_env(fake.env(FEISHU_APP_SECRET="not-the-secret"))
    assert wrong is not None
    try:
        with pytest.raises(Misconfigured, match="10014"):
            await wrong.send_card(OPEN_ID, card("x"), key="k")
        with pytest.raises(Misconfigured):
            await wrong.ws_endpoint()
    finally:
        await wrong.close()


async def test_the_long_connection_endpoint(fake: FakeFeishu, client: FeishuClient) -> None:
    endpoint = await client.ws_endpoint()
    assert endpoint.url.startswith("ws://") and "service_id=33" in endpoint.url
    assert endpoint.ping_interval == 120 and endpoint.reconnect_interval == 0


def test_settings_are_checked_at_start() -> None:
    assert FeishuClient.from_env({}) is None
    with pytest.raises(ValueError, match="FEISHU_APP_SECRET is not"):
        FeishuClient.from_env({"FEISHU_APP_ID": "cli_a1"})
    with pytest.raises(ValueError, match="FEISHU_APP_ID is not"):
        FeishuClient.from_env({"FEISHU_APP_SECRET": "s"})
    with pytest.raises(ValueError, match="cli_"):
        FeishuClient.from_env({"FEISHU_APP_ID": "12345", "FEISHU_APP_SECRET": "s"})
    with pytest.raises(ValueError, match="FEISHU_TIMEOUT"):
        FeishuClient.from_env({"FEISHU_APP_ID": "cli_a1", "FEISHU_APP_SECRET": "s", "FEISHU_TIMEOUT": "soon"})
    with pytest.raises(ValueError, match="FEISHU_ENDPOINT"):
        FeishuClient.from_env({"FEISHU_APP_ID": "cli_a1", "FEISHU_APP_SECRET": "s", "FEISHU_ENDPOINT": "feishu"})
    lark = FeishuClient.from_env(
        {"FEISHU_APP_ID": "cli_a1", "FEISHU_APP_SECRET": "s", "FEISHU_ENDPOINT": "https://open.larksuite.com/"}
    )
    assert lark is not None and lark.endpoint == "https://open.larksuite.com"


def test_a_stand_in_chat_id_is_never_a_telegram_chat() -> None:
    chat = stand_in_chat_id(OPEN_ID)
    assert is_stand_in(chat) and chat == stand_in_chat_id(OPEN_ID) and chat != stand_in_chat_id(OPEN_ID + "x")
    assert not is_stand_in(-1001234567890123) and not is_stand_in(2**52)  # Telegram's ids: at most 52 bits


def test_frames_round_trip() -> None:
    frame = Frame(
        seq_id=7,
        log_id=2**40,
        service=33,
        method=DATA,
        headers=[("type", "card"), ("message_id", "m1"), ("sum", "1")],
        payload='{"k": "值班"}'.encode(),
        log_id_new="log-1",
    )
    assert Frame.decode(frame.encode()) == frame
    with pytest.raises(ValueError):
        Frame.decode(frame.encode()[:-3])
