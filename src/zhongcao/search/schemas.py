"""Search and mall responses."""

from __future__ import annotations

from pydantic import BaseModel


class Contribution(BaseModel):
    feature: str
    contribution: float


class ProductHitOut(BaseModel):
    id: int
    title_zh: str
    title_en: str
    # Titles with the query's matches wrapped in <em>…</em>; everything else HTML-escaped.
    highlight: str
    highlight_en: str
    price_fen: int
    in_stock: bool
    sales: int
    shop_id: int
    category_id: int
    brand_id: int | None
    score: float  # BM25 text score
    explanation: list[Contribution] | None = None  # with ?explain=true: the top features of the ranking


class FacetValueOut(BaseModel):
    key: str  # the id (category, brand, shop) or "true"/"false" (in_stock)
    label: str
    count: int


class ProductSearchOut(BaseModel):
    items: list[ProductHitOut]
    next_cursor: str | None = None
    total: int
    facets: dict[str, list[FacetValueOut]]
    suggestion: str | None = None  # "did you mean"
    # None, or why the items are not matches: "popular_in_filters" / "popular" when nothing matched.
    fallback: str | None = None
    truncated: bool = False  # the query was cut to its first 256 characters
    ranking: str  # "bm25" or "ltr:<model version>"


class SimpleHitOut(BaseModel):
    id: int
    title_zh: str
    title_en: str
    highlight: str
    score: float


class SimpleSearchOut(BaseModel):
    items: list[SimpleHitOut]
    next_cursor: str | None = None
    total: int
    fallback: str | None = None


class SuggestionOut(BaseModel):
    text: str
    source: str  # "query" or "product"


class SuggestOut(BaseModel):
    items: list[SuggestionOut]


class ProductCardOut(BaseModel):
    id: int
    title_zh: str
    title_en: str
    price_fen: int
    in_stock: bool
    sales: int
    shop_id: int


class CampaignZoneOut(BaseModel):
    campaign_id: int
    name_zh: str
    name_en: str
    subsidy_per_item_fen: int
    ends_at: str
    products: list[ProductCardOut]


class CategoryEntryOut(BaseModel):
    id: int
    name_zh: str
    name_en: str
    product_count: int


class MallOut(BaseModel):
    buy_again: list[ProductCardOut]
    campaigns: list[CampaignZoneOut]
    categories: list[CategoryEntryOut]
    recommended: list[ProductCardOut]
    recommended_source: str  # "feed" (the feed's model, topped up with best sellers) or "popular"
    new_from_followed: list[ProductCardOut]
