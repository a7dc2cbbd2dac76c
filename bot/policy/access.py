"""Data-access requests and approvals (rules C1–C7)."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, field_validator

from ._base import AccessStep, Code, I18nText, PolicyModel, RoleCode, invalid, unique_strings

AccessMode = Literal["read_only", "full", "export"]
ACCESS_MODES: tuple[AccessMode, ...] = ("read_only", "full", "export")
TOP_STEP_MODES: frozenset[str] = frozenset({"full", "export"})
DEFAULT_CLASSIFICATIONS: tuple[tuple[str, str, str, int], ...] = (
    ("internal", "内部", "Internal", 0),
    ("secret", "秘密", "Secret", 1),
    ("confidential", "机密", "Confidential", 2),
    ("top_secret", "绝密", "Top secret", 3),
)
DEFAULT_ACCESS_CHAINS: dict[str, tuple[str, ...]] = {
    "internal": ("data_owner",),
    "secret": ("department_head",),
    "confidential": ("department_head", "data_owner"),
    "top_secret": ("department_head", "data_owner", "role:leader"),
}

AccessChain = Annotated[tuple[AccessStep, ...], Field(min_length=1)]


def _distinct_modes(value: tuple[AccessMode, ...]) -> tuple[AccessMode, ...]:
    unique_strings(value, "mode")
    return value


Modes = Annotated[tuple[AccessMode, ...], AfterValidator(_distinct_modes)]


class Classification(PolicyModel):
    code: Code = Field(description="the level's code, e.g. confidential")
    name: I18nText = Field(description="the level's name, e.g. 机密")
    rank: int = Field(ge=0, description="higher is more sensitive; ranks are unique")


def default_classifications() -> tuple[Classification, ...]:
    return tuple(
        Classification(code=c, name=I18nText(zh_Hans=zh, en=en), rank=rank)
        for c, zh, en, rank in DEFAULT_CLASSIFICATIONS
    )


class MaxDays(PolicyModel):
    read_only: int = Field(default=90, ge=1, le=3650, description="longest read-only grant in days")
    full: int = Field(default=30, ge=1, le=3650, description="longest full-access grant in days")
    export: int = Field(default=7, ge=1, le=3650, description="longest export/copy grant in days")

    def for_mode(self, mode: str) -> int:
        return int(getattr(self, mode))


class Dataset(PolicyModel):
    code: Code = Field(description="the data set's code, e.g. customer_archives")
    name: I18nText = Field(description="the data set's name in every language")
    description: I18nText | None = Field(default=None, description="what the data set holds")
    department: Code = Field(description="the department that owns the data set")
    owner_role: RoleCode = Field(
        default="information_officer",
        description="holders of this role in the owning department are its data owners",
    )
    classification: Code = Field(description="the classification level (密级), e.g. confidential")
    modes: Modes = Field(default=ACCESS_MODES, min_length=1, description="the access modes that may be requested")
    max_days: MaxDays = Field(default_factory=MaxDays, description="the longest grant per mode (rule C7)")


class Access(PolicyModel):
    step_window_working_days: int = Field(
        default=1, ge=1, le=30, description="working days an approver has before escalation (rule C7)"
    )
    expiry_warning_days: int = Field(
        default=1, ge=0, le=90, description="days before expiry the holder is warned (rule C7)"
    )
    review_every_months: int = Field(
        default=3, ge=0, le=36, description="months between reviews of standing grants; 0 = never"
    )
    classifications: tuple[Classification, ...] = Field(
        default_factory=default_classifications, min_length=1, description="the levels (rule C2)"
    )
    chains: dict[Code, AccessChain] = Field(
        default_factory=lambda: dict(DEFAULT_ACCESS_CHAINS),
        description="classification code -> approval steps (rule C2)",
    )
    top_step: AccessStep = Field(
        default="role:leader", description="the step full and export requests always need (C4, C5)"
    )
    modes: Modes = Field(default=ACCESS_MODES, min_length=1, description="the access modes in use")
    provisioning_webhook: str | None = Field(
        default=None, description="an http(s) URL told about every grant and revocation"
    )
    provisioning_department: Code | None = Field(
        default=None,
        description="the information centre: its provisioning_role holders carry out grants and revocations",
    )
    provisioning_role: RoleCode = Field(
        default="information_officer", description="the role in provisioning_department that provisions access"
    )
    datasets: tuple[Dataset, ...] = Field(default=(), description="the data-set catalogue (rule C1)")

    @field_validator("provisioning_webhook")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise invalid(
                    f"'{value}' is not an http(s) URL",
                    'write a full address such as "https://iam.example.com/hooks/grants", or remove the line',
                )
        return value

    def dataset(self, code: str) -> Dataset:
        for dataset in self.datasets:
            if dataset.code == code:
                return dataset
        raise KeyError(code)

    def chain_for(self, dataset: str, mode: str) -> tuple[str, ...]:
        """Approval steps for ``mode`` access to ``dataset``: the classification's chain,
        plus the top step for full and export access (rules C2, C4, C5)."""
        return self.chain(self.dataset(dataset).classification, mode)

    def chain(self, classification: str, mode: str) -> tuple[str, ...]:
        """Approval steps for ``mode`` access to data of ``classification`` (C2, C4, C5)."""
        chain = self.chains[classification]
        if mode in TOP_STEP_MODES and self.top_step not in chain:
            return (*chain, self.top_step)
        return chain
