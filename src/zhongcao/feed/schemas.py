"""Feed API shapes: a page of items (video, live room or product card) with reasons and tracking ids."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from zhongcao.fields import Id, UserLine


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
    model_config = ConfigDict(extra="forbid")

    content_id: Id
    action: Literal["like", "not_interested"]
    request_id: Annotated[UserLine, Field(max_length=64)] | None = None


class FeedFeedbackOut(BaseModel):
    accepted: bool
