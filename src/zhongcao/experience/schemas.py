from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator

from zhongcao.experience.models import NpsReason, NpsTrigger
from zhongcao.experience.surveys import NPS_TEXT_MAX
from zhongcao.fields import MAX_ID, multi_line


class NpsCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    score: Annotated[
        int, Field(strict=True, ge=0, le=10, description="0 (not at all likely) to 10 (extremely likely)")
    ]
    reasons: Annotated[list[NpsReason], Field(max_length=len(NpsReason))] = []
    text: Annotated[
        str, StringConstraints(strip_whitespace=True, max_length=NPS_TEXT_MAX), AfterValidator(multi_line)
    ] = ""
    trigger: NpsTrigger
    order_id: Annotated[
        int | None,
        Field(strict=True, ge=1, le=MAX_ID, description="Required for after_delivery: your delivered order"),
    ] = None
    after_sale_id: Annotated[
        int | None,
        Field(
            strict=True,
            ge=1,
            le=MAX_ID,
            description="Required for after_after_sale: your finished after-sale case",
        ),
    ] = None

    @field_validator("reasons")
    @classmethod
    def _no_duplicates(cls, value: list[NpsReason]) -> list[NpsReason]:
        if len(set(value)) != len(value):
            raise ValueError("reasons must not repeat")
        return value


class NpsOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    score: int
    reasons: list[str]
    text: str
    trigger: NpsTrigger
    order_id: int | None
    shop_id: int | None
    after_sale_id: int | None
    created_at: datetime


class ShopScoreOut(BaseModel):
    """A shop's current experience score with its explanation (``score`` is null below the minimum
    number of orders, or before the first computation)."""

    model_config = ConfigDict(from_attributes=True)

    shop_id: int
    score: float | None = Field(description="3.00–5.00, or null when not scored")
    score_centi: int | None
    product_centi: int | None
    logistics_centi: int | None
    service_centi: int | None
    order_count: int
    computed_at: datetime | None
    details: dict = Field(
        description="Each indicator's value, percentile and contribution; improve_first: the change "
        "that would raise the score most; or the reason there is no score."
    )


class ScoreRunOut(BaseModel):
    computed_at: datetime
    shops: int
    scored: int


class NpsStatOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    responses: int
    promoters: int
    detractors: int
    nps: float | None = Field(description="% promoters − % detractors, −100 to 100")
    ci_low: float | None = Field(description="95% interval; null below 10 answers")
    ci_high: float | None


class NpsDriverOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    key: str
    label_en: str
    label_zh: str
    share: float
    detractor_rate_with: float | None
    detractor_rate_without: float | None
    nps_with: float | None
    nps_without: float | None
    explained_detractors: float = Field(description="detractors per 100 order answers this driver explains")


class NpsReportOut(BaseModel):
    since: datetime
    until: datetime
    overall: NpsStatOut
    by_reason: dict[str, NpsStatOut]
    by_category: dict[int, NpsStatOut]
    by_channel: dict[str, NpsStatOut]
    by_shop: dict[int, NpsStatOut]
    drivers: list[NpsDriverOut]
