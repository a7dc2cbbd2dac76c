"""SMS and voice escalation steps (issue 12, A2): an alert nobody acknowledges in Telegram goes on to an SMS,
then a voice call, through the provider's fake over real HTTP; the SMS reply code acknowledges it like the
button; a number the provider refuses is skipped at once and the administrators are told."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import add_http_routes
from bot.clock import ManualClock
from bot.policy import load_policy
from bot.policy.loader import default_policy_path
from storage.incidents_models import ACKNOWLEDGED, REPORTED
from tests.conftest import ADMIN_ID, Harness
from tests.support.fake_providers import FakeTencentCloud, FakeTwilio
from tests.support.incidents import LI, WANG, alerts, crew, incident, report, started

WANG_PHONE = "+8613800000001"
SECRET = "reply-secret-0001"


@pytest.fixture
async def tencent() -> AsyncIterator[FakeTencentCloud]:
    async with FakeTencentCloud(param_limit=200) as fake:
        yield fake


@pytest.fixture
async def h(database_url: str, clock: ManualClock, tmp_path: Path, tencent: FakeTencentCloud) -> AsyncIterator[Harness]:
    """The default chain with an SMS and a call to the primary officer before the backup."""
    policy = (
        default_policy_path()
        .read_text(encoding="utf-8")
        .replace(
            'default = ["on_duty_backup",',
            'default = ["sms:on_duty_primary", "voice:on_duty_primary", "on_duty_backup",',
        )
    )
    (tmp_path / "policy.toml").write_text(policy, encoding="utf-8")
    env = tencent.env(TENCENT_SMS_PARAM_LIMIT="200", SMS_INBOUND_SECRET=SECRET)
    app, _session, harness = await started(
        database_url, clock, policy=load_policy(tmp_path / "policy.toml"), sms_env=env
    )
    try:
        yield harness
    finally:
        await app.close()


async def _with_phone(h: Harness) -> None:
    await crew(h)
    await h.app.members.set_phone(WANG, WANG, "138 0000 0001")


async def test_telegram_then_sms_then_voice_and_the_sms_reply_acknowledges(
    h: Harness, tencent: FakeTencentCloud
) -> None:
    await _with_phone(h)
    await report(h)
    assert len(alerts(h, WANG)) == 1 and not tencent.sms
    await h.advance(minutes=3)
    [sms] = tencent.sms
    assert sms.phone == WANG_PHONE and "INC-2026-000001" in sms.text and "Reply 1 to acknowledge." in sms.text
    assert not tencent.calls
    await h.advance(minutes=3)
    [call] = tencent.calls
    assert call.phone == WANG_PHONE and "INC-2026-000001" in call.text
    async with _inbound(h) as client:
        assert (await client.post("/sms/tencent/wrong", data=tencent.reply_body(WANG_PHONE, "1"))).status == 404
        answer = await client.post(f"/sms/tencent/{SECRET}", data=tencent.reply_body(WANG_PHONE, "1"))
        assert answer.status == 200 and (await answer.json())["result"] == 0
    await h.app.outbox.drain()
    found = await incident(h)
    assert found.status == ACKNOWLEDGED and found.acknowledged_by == (await h.app.members.find(WANG)).id
    assert tencent.sms[-1].text == "✅ INC-2026-000001 acknowledged. The details are in Telegram."
    await h.advance(minutes=10)
    assert not alerts(h, LI)  # acknowledged: the chain stops


async def test_a_reply_from_a_member_outside_the_chain_is_refused_in_the_reply(
    h: Harness, tencent: FakeTencentCloud
) -> None:
    await _with_phone(h)
    await h.app.members.set_phone(LI, LI, "13800000002")
    await report(h)
    await h.app.members.set_phone(ADMIN_ID, ADMIN_ID, "13800000009")
    async with _inbound(h) as client:
        await client.post(f"/sms/tencent/{SECRET}", data=tencent.reply_body("+8613800000009", "1"))
        await client.post(f"/sms/tencent/{SECRET}", data=tencent.reply_body("+8613800000002", "ok"))
    await h.app.outbox.drain()
    assert (await incident(h)).status == REPORTED
    replies = {delivery.phone: delivery.text for delivery in tencent.sms}
    assert replies["+8613800000009"] == "Only the officers on duty and this incident's chain can acknowledge it."
    assert replies["+8613800000002"] == "Reply with the number given in the alert to acknowledge it."


async def test_a_number_the_provider_refuses_is_skipped_at_once_and_the_administrators_are_told(
    h: Harness, tencent: FakeTencentCloud
) -> None:
    await _with_phone(h)
    tencent.unreachable.add(WANG_PHONE)
    await report(h)
    await h.advance(minutes=3)  # the SMS step: refused, then the call: refused, so the backup now
    assert not tencent.sms and not tencent.calls
    assert len(alerts(h, LI)) == 1
    told = [text for text in h.session.texts(ADMIN_ID) if "could not reach Wang by" in text]
    assert len(told) == 2 and "by SMS" in told[0] and "by phone call" in told[1]


def _inbound(h: Harness) -> TestClient:
    web_app = web.Application()
    add_http_routes(web_app, h.app)
    return TestClient(TestServer(web_app))


async def test_through_twilio_a_signed_reply_acknowledges_and_a_forged_one_is_refused(
    database_url: str, clock: ManualClock, tmp_path: Path
) -> None:
    policy = (
        default_policy_path()
        .read_text(encoding="utf-8")
        .replace('default = ["on_duty_backup",', 'default = ["sms:on_duty_primary", "on_duty_backup",')
    )
    (tmp_path / "policy.toml").write_text(policy, encoding="utf-8")
    async with FakeTwilio() as twilio:
        url = "https://bot.example.org/sms/twilio"
        env = twilio.env(TWILIO_INBOUND_URL=url)
        app, _session, h = await started(database_url, clock, policy=load_policy(tmp_path / "policy.toml"), sms_env=env)
        try:
            await _with_phone(h)
            await report(h)
            await h.advance(minutes=3)
            [sms] = twilio.sms
            assert sms.phone == WANG_PHONE and "Reply 1 to acknowledge." in sms.text
            form, signature = twilio.signed_inbound(url, WANG_PHONE, "1")
            async with _inbound(h) as client:
                forged = await client.post("/sms/twilio", data=form, headers={"X-Twilio-Signature": "AAAA"})
                assert forged.status == 403
                assert (await incident(h)).status == REPORTED
                signed = await client.post("/sms/twilio", data=form, headers={"X-Twilio-Signature": signature})
                assert signed.status == 200
            await h.app.outbox.drain()
            assert (await incident(h)).status == ACKNOWLEDGED
            assert twilio.sms[-1].text == "✅ INC-2026-000001 acknowledged. The details are in Telegram."
        finally:
            await app.close()
