"""Publication review: the information publication form (信息发布管理表), rules D1–D6."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from ._base import Code, DepartmentCode, I18nText, PolicyModel, PublicationStep, invalid

PublicationKind = Literal["new", "change", "takedown"]
DEFAULT_PUBLICATION_CHAIN: tuple[str, ...] = ("department_head", "role:leader")
DEFAULT_CHANNELS: tuple[tuple[str, str, str, bool], ...] = (
    ("website", "公司网站", "Company website", True),
    ("wechat", "微信公众号", "WeChat official account", False),
    ("weibo", "微博", "Weibo", False),
    ("sms", "短信群发", "Bulk SMS", False),
    ("email", "邮件群发", "Bulk e-mail", False),
    ("forum", "论坛发帖", "Forum posts", False),
    ("marketplace", "电商平台（淘宝、阿里巴巴）", "Marketplace listings (Taobao, Alibaba)", False),
    ("telegram", "Telegram 频道", "Telegram channel", False),
)
DEFAULT_EXAGGERATION_WORDS: tuple[str, ...] = (
    "最",
    "第一",
    "顶级",
    "绝对",
    "100%",
    "国家级",
    "独家",
    "极致",
    "首选",
    "唯一",
    "best",
    "No. 1",
    "number one",
    "world-class",
    "guaranteed",
)
DEFAULT_PROHIBITED: tuple[tuple[str, str, str], ...] = (
    ("constitution", "违反宪法所确定的基本原则的信息", "Against the basic principles of the Constitution"),
    ("state_secrets", "危害国家安全、泄露国家秘密的信息", "Endangers national security or reveals state secrets"),
    ("company_honour", "损害公司荣誉和利益的信息", "Harms the company's honour or interests"),
    ("ethnic_hatred", "煽动民族仇恨、民族歧视、破坏民族团结的信息", "Incites ethnic hatred or discrimination"),
    (
        "religion_cults",
        "破坏宗教政策、宣扬邪教和封建迷信的信息",
        "Undermines religious policy or promotes cults or superstition",
    ),
    ("rumours", "散布谣言、扰乱社会秩序、破坏社会稳定的信息", "Spreads rumours or false news"),
    (
        "obscenity_violence",
        "散布淫秽、色情、赌博、暴力、恐怖或者教唆犯罪的信息",
        "Obscenity, pornography, gambling, violence, terror or incitement to crime",
    ),
    ("defamation", "侮辱或者诽谤他人、侵害他人合法权益的信息", "Insults or defames others"),
    ("other_illegal", "法律、法规禁止的其他内容", "Anything else prohibited by law or regulation"),
)

PublicationChain = Annotated[tuple[PublicationStep, ...], Field(min_length=1)]


def _chain_field(what: str) -> Any:
    return Field(default=DEFAULT_PUBLICATION_CHAIN, description=f"review steps for {what} (rule D2)")


class PublicationChains(PolicyModel):
    new: PublicationChain = _chain_field("a new publication")
    change: PublicationChain = _chain_field("changing a published item")
    takedown: PublicationChain = _chain_field("taking a published item down")


class DepartmentChains(PolicyModel):
    """A department whose forms follow their own chains (kinds left out use publication.chains)."""

    department: DepartmentCode = Field(description="the department's code")
    new: PublicationChain | None = Field(default=None, description="review steps for a new publication")
    change: PublicationChain | None = Field(default=None, description="review steps for changing a published item")
    takedown: PublicationChain | None = Field(default=None, description="review steps for a take-down")


class Channel(PolicyModel):
    code: Code = Field(description="the channel's code, e.g. wechat")
    name: I18nText = Field(description="the channel's name in every language")
    telegram_chat_id: int | None = Field(
        default=None, description="a Telegram chat the bot posts approved items to itself"
    )
    designated: bool = Field(default=False, description="the designated disclosure platform, published first (rule D5)")


def default_channels() -> tuple[Channel, ...]:
    return tuple(
        Channel(code=c, name=I18nText(zh_Hans=zh, en=en), designated=designated)
        for c, zh, en, designated in DEFAULT_CHANNELS
    )


class ChecklistItem(PolicyModel):
    code: Code = Field(description="the item's code, e.g. state_secrets")
    text: I18nText = Field(description="what the drafter confirms is absent")


def default_checklist() -> tuple[ChecklistItem, ...]:
    return tuple(ChecklistItem(code=c, text=I18nText(zh_Hans=zh, en=en)) for c, zh, en in DEFAULT_PROHIBITED)


class Publication(PolicyModel):
    step_window_hours: int = Field(
        default=24, ge=1, le=24 * 30, description="hours a reviewer has before a reminder and escalation"
    )
    chains: PublicationChains = Field(default_factory=PublicationChains, description="review chains by kind (rule D2)")
    department_chains: tuple[DepartmentChains, ...] = Field(
        default=(), description="departments whose forms follow other chains (rule D2)"
    )
    external_review_step: PublicationStep = Field(
        default="role:external_reviewer", description="the step added for disclosures (rule D5)"
    )
    disclosure_adds_external_review: bool = Field(
        default=True, description="disclosures get the external review step at the end (rule D5)"
    )
    channels: tuple[Channel, ...] = Field(
        default_factory=default_channels, min_length=1, description="where items are published (D1)"
    )
    exaggeration_words: tuple[str, ...] = Field(
        default=DEFAULT_EXAGGERATION_WORDS, description="words the pre-check flags (rule D3)"
    )
    prohibited_checklist: tuple[ChecklistItem, ...] = Field(
        default_factory=default_checklist,
        min_length=1,
        description="content kinds the drafter confirms are absent (rule D4)",
    )

    @field_validator("exaggeration_words")
    @classmethod
    def _clean_words(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        seen: set[str] = set()
        for word in value:
            key = word.strip().casefold()
            if not key:
                raise invalid("an empty word is listed", "remove the empty string from the list")
            if key in seen:
                raise invalid(f"'{word}' is listed twice", "list each word once (case does not matter)")
            seen.add(key)
        return value

    def channel(self, code: str) -> Channel:
        for channel in self.channels:
            if channel.code == code:
                return channel
        raise KeyError(code)

    def chain_for(
        self, kind: PublicationKind, disclosure: bool = False, department: str | None = None
    ) -> tuple[str, ...]:
        """Review steps for ``kind`` (the department's own, if it has them); disclosures end with the
        external review (rules D2, D5)."""
        own = next((d for d in self.department_chains if d.department == department), None)
        chain: tuple[str, ...] = (own and getattr(own, kind)) or getattr(self.chains, kind)
        if disclosure and self.disclosure_adds_external_review and self.external_review_step not in chain:
            return (*chain, self.external_review_step)
        return chain
