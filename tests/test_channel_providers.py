"""The SMS and voice providers against local fakes of Tencent Cloud and Twilio, over real HTTP (issue 12).

The fakes check signatures and auth themselves (tests/support/fake_providers.py), so a signer that
drifted from Tencent's documented TC3 steps is refused here, not only in production. Both signers are
also checked against the worked examples the providers publish.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest

from bot.channels import InboundSms, Misconfigured, Provider, RetryLater, Sent, Unreachable, provider_from_env
from bot.channels.base import normalise_phone
from bot.channels.tencent import TencentProvider, parse_tencent_reply, split_text, tc3_authorization
from bot.channels.twilio import TwilioProvider, parse_twilio_inbound, twilio_signature, twiml_say
from tests.support.fake_providers import FakeTencentCloud, FakeTwilio
from tests.test_layers import violations

PHONE = "+8613800000000"
OTHER = "+8613900000000"
SHORT_TIMEOUT = 0.3  # the fakes' "timeout" fault never answers; the client gives up after this


@pytest.fixture
async def tencent() -> AsyncIterator[FakeTencentCloud]:
    async with FakeTencentCloud() as fake:
        yield fake


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    async with FakeTwilio() as fake:
        yield fake


async def provider_for(env: dict[str, str], *, session_timeout: float = 5) -> Provider:
    provider = provider_from_env(env, session_timeout=session_timeout)
    assert provider is not None
    return provider


# ====================================================================== signers vs published examples
def test_tc3_signature_matches_tencents_published_example() -> None:
    # cloud.tencent.com/document/api/213/30654 (signature v3): CVM DescribeInstances at 1551113065
    payload = b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
    authorization = tc3_authorization(
        secret_id="AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
        secret_key="Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
        service="cvm",
        host="cvm.tencentcloudapi.com",
        payload=payload,
        timestamp=1551113065,
    )
    assert authorization == (
        "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, "
        "SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
    )


def test_twilio_signature_matches_twilios_published_example() -> None:
    form = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+12349013030",
        "Digits": "1234",
        "From": "+12349013030",
        "To": "+18005551212",
    }
    signature = twilio_signature("https://mycompany.com/myapp.php?foo=1&bar=2", form, "12345")
    assert signature == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


# ====================================================================== Tencent
async def test_tencent_sms_is_accepted_and_recorded_with_its_text_and_key(tencent: FakeTencentCloud) -> None:
    provider = await provider_for(tencent.env())
    try:
        assert isinstance(provider, TencentProvider) and provider.name == "tencent"
        sent = await provider.send_sms(PHONE, "机房漏水，请确认", key="outbox:1")
    finally:
        await provider.close()
    assert isinstance(sent, Sent) and sent.provider_id == tencent.sms[0].provider_id
    [sms] = tencent.sms
    assert (sms.phone, sms.text, sms.key) == (PHONE, "机房漏水，请确认", "outbox:1")


async def test_tencent_call_is_accepted_and_played_twice(tencent: FakeTencentCloud) -> None:
    provider = await provider_for(tencent.env())
    try:
        assert provider.can_call
        sent = await provider.call(PHONE, "一级事故：机房漏水。请立即确认。", key="outbox:2")
    finally:
        await provider.close()
    [call] = tencent.calls
    assert sent.provider_id == call.provider_id
    assert (call.phone, call.text, call.key, call.extra["play_times"]) == (
        PHONE,
        "一级事故：机房漏水。请立即确认。",
        "outbox:2",
        2,
    )


async def test_tencent_long_chinese_text_is_split_into_template_parameters(tencent: FakeTencentCloud) -> None:
    text = "三号楼机房漏水，已断电。请值班人员在五分钟内回复1确认，超时将升级至部门负责人。"
    provider = await provider_for(tencent.env())
    try:
        sent = await provider.send_sms(PHONE, text, key="outbox:3")
    finally:
        await provider.close()
    pieces = [sms.text for sms in tencent.sms]
    assert len(pieces) > 1 and all(len(piece) <= tencent.param_limit for piece in pieces)
    assert "".join(pieces) == text  # nothing lost, nothing added, in order
    assert pieces[0] == "三号楼机房漏水，已断电。"  # cut after punctuation, not mid-phrase
    assert {sms.key for sms in tencent.sms} == {"outbox:3"}
    assert sent.provider_id.split(",") == [sms.provider_id for sms in tencent.sms]


async def test_tencent_retry_of_a_split_sms_sends_only_the_pieces_not_yet_accepted(
    tencent: FakeTencentCloud,
) -> None:
    text = "一级事故：三号楼机房漏水，已断电。请值班人员确认。"
    provider = await provider_for(tencent.env())
    try:
        tencent.fail_next("5xx", request=2)
        with pytest.raises(RetryLater):
            await provider.send_sms(PHONE, text, key="outbox:4")
        assert len(tencent.sms) == 1
        await provider.send_sms(PHONE, text, key="outbox:4")
    finally:
        await provider.close()
    assert "".join(sms.text for sms in tencent.sms) == text  # the first piece went out once


async def test_tencent_wrong_secret_is_refused_by_the_fakes_signature_check(tencent: FakeTencentCloud) -> None:
    provider = await provider_for(tencent.env(TENCENT_SECRET_KEY="not-the-secret"))
    try:
        with pytest.raises(Misconfigured, match="AuthFailure.SignatureFailure"):
            await provider.send_sms(PHONE, "测试", key="outbox:5")
        with pytest.raises(Misconfigured, match="AuthFailure.SignatureFailure"):
            await provider.call(PHONE, "测试", key="outbox:6")
    finally:
        await provider.close()
    assert tencent.sms == [] and tencent.calls == []
    assert tencent.refused == ["AuthFailure.SignatureFailure", "AuthFailure.SignatureFailure"]


async def test_tencent_a_stale_timestamp_is_refused_as_expired(tencent: FakeTencentCloud) -> None:
    env = tencent.env()
    provider = TencentProvider(
        secret_id=env["TENCENT_SECRET_ID"],
        secret_key=env["TENCENT_SECRET_KEY"],
        sms_app_id=env["TENCENT_SMS_APP_ID"],
        sms_sign=env["TENCENT_SMS_SIGN"],
        sms_template=env["TENCENT_SMS_TEMPLATE"],
        endpoint=tencent.base_url,
        clock=lambda: time.time() - 600,  # a server clock ten minutes behind
    )
    try:
        with pytest.raises(Misconfigured, match="AuthFailure.SignatureExpire"):
            await provider.send_sms(PHONE, "测试", key="outbox:7")
    finally:
        await provider.close()


@pytest.mark.parametrize(
    ("fault", "expected", "after"),
    [
        ("5xx", RetryLater, None),
        ("rate_limit", RetryLater, None),
        ("number_rate_limit", RetryLater, 30.0),
        ("timeout", RetryLater, None),
        ("unreachable", Unreachable, None),
    ],
)
async def test_tencent_sms_faults_map_to_the_right_exception(
    tencent: FakeTencentCloud, fault: str, expected: type[Exception], after: float | None
) -> None:
    provider = await provider_for(tencent.env(), session_timeout=SHORT_TIMEOUT)
    try:
        tencent.fail_next(fault)
        with pytest.raises(expected) as caught:
            await provider.send_sms(PHONE, "测试", key="outbox:8")
        assert not isinstance(caught.value, Misconfigured)  # about this message, not the account
        if isinstance(caught.value, RetryLater):
            assert caught.value.after == after
        # the next request is served normally
        await provider.send_sms(PHONE, "测试", key="outbox:8")
    finally:
        await provider.close()
    assert [sms.text for sms in tencent.sms] == ["测试"]


@pytest.mark.parametrize(("fault", "expected"), [("timeout", RetryLater), ("unreachable", Unreachable)])
async def test_tencent_call_faults_map_to_the_right_exception(
    tencent: FakeTencentCloud, fault: str, expected: type[Exception]
) -> None:
    provider = await provider_for(tencent.env(), session_timeout=SHORT_TIMEOUT)
    try:
        tencent.fail_next(fault)
        with pytest.raises(expected):
            await provider.call(PHONE, "测试", key="outbox:9")
    finally:
        await provider.close()
    assert tencent.calls == []


async def test_tencent_a_number_that_is_always_unreachable_is_refused(tencent: FakeTencentCloud) -> None:
    tencent.unreachable.add(OTHER)
    provider = await provider_for(tencent.env())
    try:
        with pytest.raises(Unreachable, match="PhoneNumberInBlacklist"):
            await provider.send_sms(OTHER, "测试", key="outbox:10")
        await provider.send_sms(PHONE, "测试", key="outbox:11")
    finally:
        await provider.close()
    assert [sms.phone for sms in tencent.sms] == [PHONE]


async def test_tencent_without_voice_settings_cannot_call(tencent: FakeTencentCloud) -> None:
    provider = await provider_for(tencent.env(TENCENT_VOICE_APP_ID="", TENCENT_VOICE_TEMPLATE=""))
    try:
        assert not provider.can_call
        with pytest.raises(Misconfigured, match="TENCENT_VOICE_APP_ID"):
            await provider.call(PHONE, "测试", key="outbox:12")
        with pytest.raises(Unreachable, match="mainland China"):
            await provider.call("+15005550006", "测试", key="outbox:13")
    finally:
        await provider.close()
    assert tencent.requests == 0


# ====================================================================== Twilio
async def test_twilio_sms_is_accepted_and_recorded(twilio: FakeTwilio) -> None:
    provider = await provider_for(twilio.env())
    try:
        assert isinstance(provider, TwilioProvider) and provider.name == "twilio"
        sent = await provider.send_sms(PHONE, "机房漏水，请确认", key="outbox:20")
    finally:
        await provider.close()
    [sms] = twilio.sms
    assert sent.provider_id == sms.provider_id and sms.provider_id.startswith("SM")
    assert (sms.phone, sms.text, sms.extra["from"]) == (PHONE, "机房漏水，请确认", twilio.from_number)


async def test_twilio_sms_through_a_messaging_service_and_no_calls_without_a_from(twilio: FakeTwilio) -> None:
    env = twilio.env(TWILIO_FROM="", TWILIO_MESSAGING_SERVICE_SID=twilio.messaging_service_sid)
    provider = await provider_for(env)
    try:
        await provider.send_sms(PHONE, "测试", key="outbox:21")
        assert not provider.can_call
        with pytest.raises(Misconfigured, match="TWILIO_FROM"):
            await provider.call(PHONE, "测试", key="outbox:22")
    finally:
        await provider.close()
    assert twilio.sms[0].extra == {"messaging_service": twilio.messaging_service_sid, "from": None}
    assert twilio.requests == 1


@pytest.mark.parametrize(("language", "say"), [("zh_Hans", "zh-CN"), ("en", "en-US")])
async def test_twilio_call_says_the_escaped_text_twice_in_the_language(
    twilio: FakeTwilio, language: str, say: str
) -> None:
    speech = '事故 <#12> "A&B" 请确认'
    provider = await provider_for(twilio.env())
    try:
        sent = await provider.call(PHONE, speech, key="outbox:23", language=language)
    finally:
        await provider.close()
    [call] = twilio.calls
    assert sent.provider_id == call.provider_id and call.provider_id.startswith("CA")
    assert (call.phone, call.text, call.extra["language"], call.extra["loop"]) == (PHONE, speech, say, "2")
    assert "&lt;#12&gt;" in call.extra["twiml"] and "A&amp;B" in call.extra["twiml"]


async def test_twilio_wrong_token_is_refused_with_20003(twilio: FakeTwilio) -> None:
    provider = await provider_for(twilio.env(TWILIO_AUTH_TOKEN="wrong"))
    try:
        with pytest.raises(Misconfigured, match="code 20003"):
            await provider.send_sms(PHONE, "测试", key="outbox:24")
        with pytest.raises(Misconfigured, match="code 20003"):
            await provider.call(PHONE, "测试", key="outbox:25")
    finally:
        await provider.close()
    assert twilio.sms == [] and twilio.calls == [] and twilio.refused == ["20003", "20003"]


@pytest.mark.parametrize(
    ("fault", "expected", "after"),
    [
        ("rate_limit", RetryLater, 2.0),  # 429 with Retry-After: 2
        ("5xx", RetryLater, None),
        ("timeout", RetryLater, None),
        ("unreachable", Unreachable, None),
    ],
)
@pytest.mark.parametrize("kind", ["sms", "call"])
async def test_twilio_faults_map_to_the_right_exception(
    twilio: FakeTwilio, kind: str, fault: str, expected: type[Exception], after: float | None
) -> None:
    provider = await provider_for(twilio.env(), session_timeout=SHORT_TIMEOUT)
    send = provider.send_sms if kind == "sms" else provider.call
    try:
        twilio.fail_next(fault)
        with pytest.raises(expected) as caught:
            await send(PHONE, "测试", key="outbox:26")
        assert not isinstance(caught.value, Misconfigured)
        if isinstance(caught.value, RetryLater):
            assert caught.value.after == after
        await send(PHONE, "测试", key="outbox:26")
    finally:
        await provider.close()
    assert len(twilio.sms if kind == "sms" else twilio.calls) == 1


async def test_twilio_a_number_that_is_always_unreachable_is_refused(twilio: FakeTwilio) -> None:
    twilio.unreachable.add(OTHER)
    provider = await provider_for(twilio.env())
    try:
        with pytest.raises(Unreachable, match="21614"):
            await provider.send_sms(OTHER, "测试", key="outbox:27")
        with pytest.raises(Unreachable, match="13224"):
            await provider.call(OTHER, "测试", key="outbox:28")
    finally:
        await provider.close()
    assert twilio.sms == [] and twilio.calls == []


# ====================================================================== both
@pytest.mark.parametrize("phone", ["13800000000", "+86 138 0000 0000", "8613800000000", "+86-1380000000", "", "+0123"])
async def test_a_malformed_number_is_unreachable_without_a_request(
    tencent: FakeTencentCloud, twilio: FakeTwilio, phone: str
) -> None:
    providers = [await provider_for(tencent.env()), await provider_for(twilio.env())]
    try:
        for provider in providers:
            with pytest.raises(Unreachable, match="E.164"):
                await provider.send_sms(phone, "测试", key="outbox:30")
            with pytest.raises(Unreachable, match="E.164"):
                await provider.call(phone, "测试", key="outbox:31")
    finally:
        for provider in providers:
            await provider.close()
    assert tencent.requests == 0 and twilio.requests == 0


async def test_close_is_safe_before_use_and_twice(tencent: FakeTencentCloud) -> None:
    provider = await provider_for(tencent.env())
    await provider.close()
    await provider.send_sms(PHONE, "测试", key="outbox:32")  # a closed provider opens a new session
    await provider.close()
    await provider.close()
    assert len(tencent.sms) == 1


@pytest.mark.parametrize(
    ("typed", "phone"),
    [
        ("13800000000", "+8613800000000"),
        ("138 0000 0000", "+8613800000000"),
        ("138-0000-0000", "+8613800000000"),
        ("+86 138 0000 0000", "+8613800000000"),
        ("+86-138-0000-0000", "+8613800000000"),
        ("0086 13800000000", "+8613800000000"),
        ("8613800000000", "+8613800000000"),
        ("＋８６ １３８００００００００", "+8613800000000"),  # full-width, as a Chinese keyboard types it
        ("(010) 1234 5678", "+861012345678"),  # a Beijing landline with its trunk 0
        ("+1 (415) 555-0100", "+14155550100"),
        ("00447911123456", "+447911123456"),
        ("12345", None),
        ("1380000000", None),  # ten digits: not a mobile
        ("23800000000", None),
        ("+86 12345678901", None),  # 12x is not a Chinese mobile prefix
        ("+0123456789", None),
        ("phone", None),
        ("", None),
        ("+8613800000000x", None),
    ],
)
def test_normalise_phone(typed: str, phone: str | None) -> None:
    assert normalise_phone(typed) == phone


def test_normalise_phone_with_another_default_country() -> None:
    assert normalise_phone("07911 123456", default_country="44") == "+447911123456"
    assert normalise_phone("13800000000", default_country="44") is None


def test_split_text_prefers_punctuation_and_never_exceeds_the_limit() -> None:
    assert split_text("短文本", 12) == ["短文本"]
    assert split_text("一二三四五六七八九十甲乙丙", 12) == ["一二三四五六七八九十甲乙", "丙"]  # no break: hard cut
    assert split_text("alarm in room 12 please confirm", 12) == ["alarm in", "room 12", "please", "confirm"]
    assert split_text("", 12) == []


# ====================================================================== settings
def test_provider_from_env_is_none_when_sms_is_not_set_up() -> None:
    assert provider_from_env({}) is None
    assert provider_from_env({"SMS_PROVIDER": " "}) is None


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SMS_PROVIDER": "nexmo"}, "SMS_PROVIDER='nexmo' is not known: use one of tencent, twilio"),
        ({"SMS_PROVIDER": "tencent"}, "SMS_PROVIDER=tencent needs TENCENT_SECRET_ID"),
        (
            {
                "SMS_PROVIDER": "tencent",
                "TENCENT_SECRET_ID": "id",
                "TENCENT_SECRET_KEY": "key",
                "TENCENT_SMS_APP_ID": "1",
            },
            "SMS_PROVIDER=tencent needs TENCENT_SMS_SIGN",
        ),
        ({"SMS_PROVIDER": "twilio", "TWILIO_ACCOUNT_SID": "AC1"}, "SMS_PROVIDER=twilio needs TWILIO_AUTH_TOKEN"),
        (
            {"SMS_PROVIDER": "twilio", "TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t"},
            "needs TWILIO_FROM (or TWILIO_MESSAGING_SERVICE_SID",
        ),
        (
            {"SMS_PROVIDER": "twilio", "TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t", "TWILIO_FROM": "555"},
            "TWILIO_FROM must be an E.164 number",
        ),
    ],
)
def test_provider_from_env_names_the_missing_or_bad_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
        provider_from_env(env)


def test_tencent_settings_and_defaults_from_env(tencent: FakeTencentCloud) -> None:
    env = {k: v for k, v in tencent.env().items() if k not in ("TENCENT_ENDPOINT", "TENCENT_SMS_PARAM_LIMIT")}
    provider = provider_from_env(env)
    assert isinstance(provider, TencentProvider)
    assert (provider.region, provider.sms_param_limit) == ("ap-guangzhou", 12)
    assert provider._target("sms.tencentcloudapi.com") == (
        "https://sms.tencentcloudapi.com/",
        "sms.tencentcloudapi.com",
    )
    with pytest.raises(ValueError, match="TENCENT_SMS_PARAM_LIMIT must be a whole number"):
        provider_from_env({**env, "TENCENT_SMS_PARAM_LIMIT": "many"})


# ====================================================================== inbound
def test_parse_tencent_reply() -> None:
    assert parse_tencent_reply(FakeTencentCloud.reply_body(PHONE, " 1 ")) == InboundSms(PHONE, "1")
    body = '{"extend":"","mobile":"13800000000","nationcode":86,"sign":"值班台","text":"收到","time":1457336869}'
    assert parse_tencent_reply(body.encode()) == InboundSms(PHONE, "收到")


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"\xff\xfe",
        b"[]",
        b'{"mobile": "13800000000", "nationcode": "86"}',  # no text
        b'{"mobile": "", "nationcode": "86", "text": "1"}',
        b'{"mobile": "138-0000", "nationcode": "86", "text": "1"}',
        b'{"mobile": "12345678901", "nationcode": "86", "text": "1"}',
    ],
)
def test_parse_tencent_reply_refuses_bad_input(body: bytes) -> None:
    with pytest.raises(ValueError):
        parse_tencent_reply(body)


def test_parse_twilio_inbound_accepts_what_twilio_signed(twilio: FakeTwilio) -> None:
    url = "https://duty.example.com/sms/twilio?team=3"
    form, signature = twilio.signed_inbound(url, PHONE, "1 收到 ")
    assert parse_twilio_inbound(url, form, signature, twilio.auth_token) == InboundSms(PHONE, "1 收到")
    # Twilio may sign the URL with its default port spelled out
    form, signature = twilio.signed_inbound("https://duty.example.com:443/sms/twilio", PHONE, "2")
    assert parse_twilio_inbound("https://duty.example.com/sms/twilio", form, signature, twilio.auth_token).text == "2"


def test_parse_twilio_inbound_refuses_a_forged_or_altered_request(twilio: FakeTwilio) -> None:
    url = "https://duty.example.com/sms/twilio"
    form, signature = twilio.signed_inbound(url, PHONE, "1")
    forged = twilio_signature(url, form, "someone-elses-token")
    with pytest.raises(PermissionError):
        parse_twilio_inbound(url, form, forged, twilio.auth_token)
    with pytest.raises(PermissionError):
        parse_twilio_inbound(url, {**form, "Body": "2"}, signature, twilio.auth_token)  # body altered
    with pytest.raises(PermissionError):
        parse_twilio_inbound(url + "/other", form, signature, twilio.auth_token)
    with pytest.raises(PermissionError):
        parse_twilio_inbound(url, form, "", twilio.auth_token)
    bad_from, bad_signature = twilio.signed_inbound(url, "alice", "1")
    with pytest.raises(ValueError, match="From"):
        parse_twilio_inbound(url, bad_from, bad_signature, twilio.auth_token)


def test_twiml_drops_characters_xml_cannot_carry() -> None:
    assert twiml_say("a\x00b\x07c & d", "en") == '<Response><Say language="en-US" loop="2">abc &amp; d</Say></Response>'


def test_the_adapters_know_nothing_of_telegram_the_database_or_the_services() -> None:
    forbidden = ("aiogram", "handlers", "storage", "sqlalchemy", "bot.services", "bot.outbox", "bot.app")
    assert violations("bot/channels", forbidden) == []
