"""Feed API shapes: a page of items (video, live room or product card) with reasons and tracking ids."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class FeedAnchorOut(BaseModel):
    product_id: int
    title_zh: str
    title_en: str
    price_fen: int | None
    on_sale: bool


class FeedReasonOut(BaseModel):
    code: str  # followed | live_now | trending | next_items | similar_taste | new | campaign
    zh: str
    en: str


class FeedAccountOut(BaseModel):
    id: int
    name: str


class FeedItemOut(BaseModel):
    kind: Literal["short_video", "live", "product"]
    position: int
    tracking_id: str  # echo it as an event's request_id with the item's position in extra
    content_id: int | None
    title_zh: str
    title_en: str
    account: FeedAccountOut | None
    anchors: list[FeedAnchorOut]  # a product card has exactly one: the product
    reason: FeedReasonOut
    source: str


class FeedPageOut(BaseModel):
    request_id: str
    model_version: str | None
    items: list[FeedItemOut]
    next_cursor: str | None = None


class FeedFeedbackIn(BaseModel):
    content_id: int = Field(ge=1)
    action: Literal["like", "not_interested"]
    request_id: str | None = Field(default=None, max_length=64)


class FeedFeedbackOut(BaseModel):
    accepted: bool
