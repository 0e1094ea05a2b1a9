from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field


class Totals(BaseModel):
    gmv_fen: int
    orders: int
    buyers: int
    refunded_fen: int
    visitors: int = Field(description="people who viewed one of the shop's products")
    aov_fen: int | None = Field(description="GMV per order, whole fen")
    conversion: float | None = Field(description="buyers ÷ visitors")


class DayRow(BaseModel):
    day: date
    gmv_fen: int
    orders: int
    buyers: int
    refunded_fen: int
    visitors: int


class CoreDataOut(BaseModel):
    first_day: date
    last_day: date
    current: Totals
    previous: Totals = Field(description="the same number of days just before")
    change: dict[str, float | None] = Field(
        description="(current − previous) ÷ previous per measure; null when the previous period is 0 "
        "or the shop's records do not cover all of it (no base to compare with)"
    )
    daily: list[DayRow]


class SourceRow(BaseModel):
    key: str
    gmv_fen: int
    orders: int
    buyers: int


class SourcesOut(BaseModel):
    first_day: date
    last_day: date
    by_channel: list[SourceRow]
    by_carrier: list[SourceRow] = Field(description="FACT: field, alliance, campaign, top_kol")


class CreatorRow(BaseModel):
    account_id: int
    carrier: str = Field(description="alliance or top_kol")
    gmv_fen: int
    orders: int
    commission_fen: int


class CreatorsOut(BaseModel):
    first_day: date
    last_day: date
    creators: list[CreatorRow]


class AudienceOut(BaseModel):
    first_day: date
    last_day: date
    buyers: int
    new_buyers: int = Field(description="first order from the shop in the period")
    returning_buyers: int
    repurchase_rate: float | None = Field(description="buyers with two orders or more in the period")
    segments: dict[str, int] = Field(description="RFM: champions, loyal, new, at_risk, occasional")


class IndicatorPoint(BaseModel):
    computed_at: datetime
    score_centi: int | None
    values: dict[str, float | None] = Field(description="each experience indicator's value")


class ServiceOut(BaseModel):
    points: list[IndicatorPoint]


class NpsPoint(BaseModel):
    starts_at: datetime
    responses: int
    nps: float | None
    ci_low: float | None
    ci_high: float | None


class FieldDay(BaseModel):
    day: date
    content_fen: int = Field(description="GMV from short videos and live rooms")
    center_fen: int = Field(description="GMV from search, mall, shop and product pages")
    other_fen: int


class OperatorOut(BaseModel):
    first_day: date
    last_day: date
    nps_weekly: list[NpsPoint]
    gmv_by_field: list[FieldDay]
    content_share: float | None = Field(description="content field's share of GMV over the period")
    score_distribution: dict[str, int] = Field(description="active shops per current-score band")


class ContentRow(BaseModel):
    content_id: int
    impressions: int
    plays: int
    anchor_clicks: int
    orders: int
    gmv_fen: int
    gpm_fen: int | None = Field(description="GMV per 1,000 impressions, whole fen")
    watch_ms: int


class ContentOut(BaseModel):
    first_day: date
    last_day: date
    content: list[ContentRow]


class ProductMeasures(BaseModel):
    exposures: int = Field(description="search_exposures + content_exposures")
    search_exposures: int = Field(description="slots on search result pages")
    content_exposures: int = Field(description="impressions of videos and live rooms anchoring it")
    clicks: int = Field(description="product page views, from anywhere")
    add_to_carts: int
    orders: int = Field(description="paid orders of it, by day paid")
    units: int
    buyers: int
    gmv_fen: int
    refunds: int = Field(description="of those orders, the ones with any of it refunded")
    refunded_fen: int
    reviews: int = Field(description="first reviews written in the period")
    bad_reviews: int = Field(description="of them, rated 1 or 2 stars")
    average_rating_centi: int | None = Field(description="average rating of those reviews, in 1/100 star")
    click_rate: float | None = Field(description="clicks ÷ exposures")
    conversion: float | None = Field(description="orders ÷ clicks")
    refund_rate: float | None = Field(description="refunds ÷ orders")


class ProductRow(BaseModel):
    product_id: int
    title_zh: str | None = None
    title_en: str | None = None
    on_sale: bool | None = None
    current: ProductMeasures
    previous: ProductMeasures = Field(description="the same number of days just before")
    change: dict[str, float | None] = Field(
        description="(current − previous) ÷ previous per count; null when the previous period is 0 "
        "or the shop's records do not cover all of it"
    )


class ProductsOut(BaseModel):
    first_day: date
    last_day: date
    products: list[ProductRow]


class SearchCounts(BaseModel):
    exposures: int
    clicks: int
    orders: int
    gmv_fen: int


class QueryRow(BaseModel):
    query: str = Field(description="normalised as search does (NFKC, simplified, lower case)")
    searches: int = Field(description="searches for it, by everyone")
    exposures: int = Field(description="slots the shop's products had on its result pages")
    clicks: int = Field(description="product views of the shop's products credited to it")
    orders: int = Field(description="paid orders of the shop's products credited to it")
    gmv_fen: int
    exposure_share: float | None = Field(description="the shop's share of all slots shown for it")
    click_share: float | None = Field(description="the shop's share of all clicks credited to it")
    previous: SearchCounts = Field(description="the shop's numbers for it the period before")
    change: dict[str, float | None]


class MissedQueryRow(BaseModel):
    query: str
    category_id: int = Field(description="the leaf category most of its clicks went to")
    category_zh: str | None = None
    category_en: str | None = None
    searches: int = Field(description="searches for it, by everyone")
    exposures: int = Field(description="slots shown for it, all shops")
    clicks: int = Field(description="clicks credited to it, all shops")
    orders: int = Field(description="paid orders credited to it, all shops")
    shop_exposures: int
    shop_clicks: int
    shop_orders: int
    exposure_share: float | None
    click_share: float | None


class SearchInsightsOut(BaseModel):
    first_day: date
    last_day: date
    queries: list[QueryRow] = Field(description="queries that showed, brought clicks to or sold the shop")
    missed: list[MissedQueryRow] = Field(
        description="queries in a category the shop sells in, of whose clicks it got less than "
        "missed_below_share (or nobody clicked), most searched first"
    )
    missed_below_share: float


class CreatorDataRowOut(BaseModel):
    id: int = Field(description="The content item's or the product's id")
    title_zh: str
    title_en: str
    kind: str | None = Field(description="short_video or live for content; null for a product")
    impressions: int = Field(description="content: times shown in feeds (0 for products)")
    plays: int = Field(description="content: plays (0 for products)")
    orders: int
    gmv_fen: int = Field(description="paid for goods bought through the creator")
    commission_fen: int = Field(description="the creator's commission on those lines (before refunds)")


class CreatorDataOut(BaseModel):
    first_day: date
    last_day: date
    orders: int
    gmv_fen: int
    commission_fen: int
    content: list[CreatorDataRowOut]
    products: list[CreatorDataRowOut]
