"""What the shopper pages share: URL parameter types, page sizes, the view models (:class:`ProductTile`,
:class:`FeedCard`) and the attribution a buy button carries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Path, Query

from zhongcao.affiliate import showcase as showcase_service
from zhongcao.catalog import service as catalog_service
from zhongcao.commerce.models import Channel
from zhongcao.commerce.schemas import AttributionIn
from zhongcao.content import reads as content_reads
from zhongcao.content import service as content_service
from zhongcao.experience import scores as experience_scores
from zhongcao.fields import MAX_ID
from zhongcao.shops import service as shops_service
from zhongcao.web.context import safe_next
from zhongcao.web.cover import cover_svg

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
CursorQuery = Annotated[str | None, Query(max_length=200)]
FEED_PAGE = 10
LIST_PAGE = 20
MAX_QUANTITY = 999
SEARCH_SORTS = ("relevance", "sales", "price_asc", "price_desc", "newest")
FACETS = ("category", "brand", "shop")
ADDRESS_FIELDS = ("name", "phone", "province", "city", "district", "line")
PAYMENT_METHODS = ("pm_card_ok", "pm_card_declined")


# --- view models -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductTile:
    id: int
    title_zh: str
    title_en: str
    price_fen: int | None
    in_stock: bool | None = None
    sales: int | None = None

    def cover(self, locale: str, *, wide: bool = False) -> Any:
        # The palette follows the product (its Chinese title), so it looks the same in both languages.
        title = self.title_zh if locale == "zh" else self.title_en
        return cover_svg(title, self.title_zh, width=400 if wide else 300, height=300)


@dataclass
class FeedCard:
    content_id: int | None
    kind: str  # short_video | live | product
    title_zh: str
    title_en: str
    topic: str
    account_id: int | None = None
    account_name: str = ""
    account_is_top_kol: bool = False
    followers: int = 0
    likes: int | None = None
    live_now: bool = False
    products: list[ProductTile] = field(default_factory=list)
    reason_zh: str = ""
    reason_en: str = ""
    source: str = ""  # attribution for the buy button: "short_video:12", "live:5", "product_page"
    # A short video's uploaded video (url, content_type, poster_url); None shows the cover art.
    video: Any = None

    @property
    def product(self) -> ProductTile | None:
        return self.products[0] if self.products else None

    def cover(self, locale: str, *, stage: bool = False) -> Any:
        title = self.title_zh if locale == "zh" else self.title_en
        if stage:  # a live room's stage: the art alone, the page draws over it
            return cover_svg(title, self.topic or self.title_zh, width=300, height=400, show_title=False)
        return cover_svg(title, self.topic or self.title_zh, width=300, height=375, label=self.topic)

    @property
    def url(self) -> str:
        if self.kind == "product" and self.product is not None:
            return f"/products/{self.product.id}"
        return f"/live/{self.content_id}" if self.kind == "live" else f"/videos/{self.content_id}"


def tiles_from_briefs(briefs: dict[int, catalog_service.ProductBrief], ids: list[int]) -> list[ProductTile]:
    return [
        ProductTile(
            id=b.id,
            title_zh=b.title_zh,
            title_en=b.title_en,
            price_fen=b.price_fen,
            in_stock=None if b.on_sale else False,
        )
        for pid in ids
        if (b := briefs.get(pid)) is not None
    ]


def tiles_from_cards(cards: list[Any]) -> list[ProductTile]:
    return [ProductTile(c.id, c.title_zh, c.title_en, c.price_fen, c.in_stock, c.sales) for c in cards]


def tile_from_product(product: Any, shown_sold: Mapping[int, int]) -> ProductTile:
    """``shown_sold``: ``catalog_service.shown_sold_counts`` of the product's SKUs (brushed orders'
    units left out); a SKU absent from it counts as none sold."""
    active = [s for s in product.skus if s.is_active]
    return ProductTile(
        id=product.id,
        title_zh=product.title_zh,
        title_en=product.title_en,
        price_fen=min((s.price_fen for s in active), default=None),
        in_stock=any(s.stock > 0 for s in active),
        sales=sum(shown_sold.get(s.id, 0) for s in product.skus),
    )


def parse_source(value: str | None) -> AttributionIn | None:
    """``short_video:12`` / ``live:5`` / ``search`` / ``mall`` ... (the ``from`` of product links)."""
    if not value:
        return None
    channel, _, content = value.partition(":")
    try:
        parsed = Channel(channel)
    except ValueError:
        return None
    if parsed in (Channel.short_video, Channel.live):
        if not content.isdigit() or not 0 < int(content) <= MAX_ID:
            return None
        return AttributionIn(channel=parsed, content_id=int(content))
    if parsed is Channel.showcase:  # showcase:<creator account id>
        if not content.isdigit() or not 0 < int(content) <= MAX_ID:
            return None
        return AttributionIn(channel=parsed, account_id=int(content))
    return AttributionIn(channel=parsed)


def source_of(attribution: AttributionIn | None) -> str:
    if attribution is None:
        return ""
    if attribution.content_id is not None:
        return f"{attribution.channel.value}:{attribution.content_id}"
    if attribution.channel is Channel.showcase and attribution.account_id is not None:
        return f"{attribution.channel.value}:{attribution.account_id}"
    return attribution.channel.value


def checked_attribution(db: Any, product_id: int, attribution: AttributionIn | None) -> AttributionIn:
    """The link's attribution when its content really anchors the product (or the creator's showcase
    really shows it); else the product page.
    (A stale or edited link must not make the purchase fail.)"""
    if attribution is None:
        return AttributionIn(channel=Channel.product_page)
    if attribution.content_id is not None and product_id not in content_service.anchored_product_ids(
        db, attribution.content_id
    ):
        return AttributionIn(channel=Channel.product_page)
    if attribution.channel is Channel.showcase and (
        attribution.account_id is None
        or product_id not in showcase_service.showcase_product_ids(db, attribution.account_id)
    ):
        return AttributionIn(channel=Channel.product_page)
    return attribution


# --- the feed ----------------------------------------------------------------------------------


def shop_score(page: Any, shop_id: int) -> Any:
    return experience_scores.latest_score(page.db, shop_id)


def back_to(data: Any, default: str) -> str:
    value = data.get("next")
    return safe_next(value if isinstance(value, str) else None, default)


def account_names(db: Any, accounts: Any, locale: str) -> dict[int, str]:
    """Each account's name as the page shows it: a shop's own account, named after the shop, reads as
    the shop's name in the page language (the shop has an English name; the account has one name)."""
    accounts = list(accounts)
    out = {account.id: account.name for account in accounts}
    if locale != "en":  # accounts are named in Chinese: nothing to look up
        return out
    shops = shops_service.shops_by_ids(db, [a.shop_id for a in accounts if a.shop_id is not None])
    for account in accounts:
        shop = shops.get(account.shop_id) if account.shop_id is not None else None
        if shop is not None and shop.name_en and account.name == shop.name_zh:
            out[account.id] = shop.name_en
    return out


# --- live rooms on air ---------------------------------------------------------------------------

LIVE_SHOWN = 3  # rooms on air in the mall's and search's "live now" strip


@dataclass(frozen=True)
class LiveRoom:
    """A room on air, as the "live now" strips link it."""

    content_id: int
    title_zh: str
    title_en: str
    account_name: str

    @property
    def url(self) -> str:
        return f"/live/{self.content_id}"


def live_now(db: Any, locale: str, *, shop_id: int | None = None, limit: int = LIVE_SHOWN) -> list[LiveRoom]:
    """Rooms on air now, newest first: every shop's and creator's, or only ``shop_id``'s own accounts'
    (a shop's page). Read from the rooms' status, so a room links here from the moment it starts."""
    rooms = content_service.content_by_ids(db, content_reads.live_rooms_on_air(db))
    if shop_id is not None:
        own = set(content_service.shop_account_ids(db, shop_id))
        rooms = {i: c for i, c in rooms.items() if c.account_id in own}
    newest = sorted(rooms.values(), key=lambda c: c.id, reverse=True)[:limit]
    accounts = content_service.accounts_by_ids(db, [c.account_id for c in newest])
    names = account_names(db, accounts.values(), locale)
    return [LiveRoom(c.id, c.title_zh, c.title_en, names.get(c.account_id, "")) for c in newest]
