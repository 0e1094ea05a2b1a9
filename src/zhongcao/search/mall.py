"""The mall home (GET /api/mall): buy again, campaigns, categories, recommended, new from followed shops.

Every zone is assembled from other domains' service reads and the worker's product index (so the
cards carry current prices and stock without a query per product).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from zhongcao import clock
from zhongcao.campaigns import service as campaigns_service
from zhongcao.commerce import service as commerce_service
from zhongcao.commerce.models import OrderStatus
from zhongcao.pagination import PageParams
from zhongcao.search.index import ProductDocument
from zhongcao.search.schemas import CampaignZoneOut, CategoryEntryOut, MallOut, ProductCardOut
from zhongcao.search.service import SearchState, _user_followed_shops

ZONE_SIZE = 10
CAMPAIGNS_SHOWN = 3
BUY_AGAIN_ORDERS = 50


def card(doc: ProductDocument) -> ProductCardOut:
    return ProductCardOut(
        id=doc.product_id,
        title_zh=doc.title_zh,
        title_en=doc.title_en,
        price_fen=doc.price_fen,
        in_stock=doc.stock > 0,
        sales=doc.sales,
        shop_id=int(doc.shop),
    )


def _cards(state: SearchState, ids: list[int]) -> list[ProductCardOut]:
    assert state.products is not None
    docs = [state.products.get(pid) for pid in ids]
    return [card(d) for d in docs if d is not None]


def buy_again(db: Session, state: SearchState, user_id: int) -> list[int]:
    """Products of the user's completed orders, most recent first, still on sale."""
    orders, _ = commerce_service.list_buyer_orders(
        db, user_id, PageParams(limit=BUY_AGAIN_ORDERS), status=OrderStatus.completed
    )
    seen: dict[int, None] = {}
    for order in orders:
        for item in order.items:
            seen.setdefault(item.product_id, None)
    assert state.products is not None
    return [pid for pid in seen if pid in state.products][:ZONE_SIZE]


def recommended_products(
    db: Session,
    state: SearchState,
    user_id: int | None,
    k: int = ZONE_SIZE,
    from_feed: list[int] | None = None,
) -> tuple[list[int], str]:
    """The mall's recommendations and where they came from: the products the feed's model would show
    this user (``"feed"``, in stock and on sale, in the feed's order), topped up with the best sellers
    in stock (``"popular"`` alone when there is no feed model or no signed-in user)."""
    assert state.products is not None
    popular = state.products.search("", k, sort="sales", in_stock=True, facets=False).ids
    if not from_feed:
        return popular, "popular"
    sellable = {hit for hit in from_feed if hit in state.products}
    picked = list(dict.fromkeys(p for p in from_feed if p in sellable))[:k]
    picked += [p for p in popular if p not in picked][: k - len(picked)]
    return picked, "feed"


def mall_home(
    db: Session, state: SearchState, user_id: int | None, from_feed: list[int] | None = None
) -> MallOut:
    state.ensure_fresh(db)
    with state._lock:
        index = state.products
        assert index is not None
        again = _cards(state, buy_again(db, state, user_id)) if user_id is not None else []
        zones = []
        campaigns, _ = campaigns_service.list_open_campaigns(
            db, PageParams(limit=CAMPAIGNS_SHOWN), clock.now()
        )
        for campaign in campaigns:
            found = index.search(
                "", ZONE_SIZE, sort="sales", campaign=campaign.id, in_stock=True, facets=False
            )
            zones.append(
                CampaignZoneOut(
                    campaign_id=campaign.id,
                    name_zh=campaign.name_zh,
                    name_en=campaign.name_en,
                    subsidy_per_item_fen=campaign.subsidy_per_item_fen,
                    ends_at=campaign.ends_at.isoformat(),
                    products=_cards(state, found.ids),
                )
            )
        counts = index.search("", 1).facets.get("category", {})
        categories = []
        for top, leaves in state.catalogue.leaves_of_top.items():
            name_zh, name_en = state.catalogue.category_names.get(top, ("", ""))
            total = sum(counts.get(str(leaf), 0) for leaf in leaves)
            categories.append(CategoryEntryOut(id=top, name_zh=name_zh, name_en=name_en, product_count=total))
        recommended, source = recommended_products(db, state, user_id, from_feed=from_feed)
        followed = _user_followed_shops(db, user_id)
        new_arrivals: list[int] = []
        if followed:
            new_arrivals = index.search(
                "", ZONE_SIZE, sort="newest", shop=[str(s) for s in sorted(followed)], facets=False
            ).ids
        return MallOut(
            buy_again=again,
            campaigns=zones,
            categories=categories,
            recommended=_cards(state, recommended),
            recommended_source=source,
            new_from_followed=_cards(state, new_arrivals),
        )
