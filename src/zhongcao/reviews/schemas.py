from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from zhongcao.fields import multi_line, single_line
from zhongcao.pagination import Page

Tag = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20), AfterValidator(single_line)
]


class ReviewCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rating: Annotated[int, Field(strict=True, ge=1, le=5)]
    text: Annotated[
        str, StringConstraints(strip_whitespace=True, max_length=2000), AfterValidator(multi_line)
    ] = ""
    tags: Annotated[list[Tag], Field(max_length=10)] = []


class PublicReviewOut(BaseModel):
    """What anyone may see: no buyer or order ids."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    product_id: int
    rating: int
    text: str
    tags: list[str]
    is_first: bool
    created_at: datetime


class ReviewOut(PublicReviewOut):
    order_id: int
    order_item_id: int
    shop_id: int
    user_id: int


class RatingSummaryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    count: int = Field(description="First reviews only: follow-ups do not count.")
    average_rating_centi: int = Field(description="Average rating × 100, rounded half up; 0 with no reviews.")
    distribution: dict[int, int] = Field(description="Number of first reviews per rating 1..5.")


class ProductReviewsPage(Page[PublicReviewOut]):
    summary: RatingSummaryOut
