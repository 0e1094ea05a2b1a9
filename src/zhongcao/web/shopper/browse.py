"""The center field: search with facets, the mall and a shop's page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from zhongcao.catalog import service as catalog_service
from zhongcao.content import reads as content_reads
from zhongcao.content import service as content_service
from zhongcao.errors import DomainError, InvalidInput
from zhongcao.feed.views import feed_service
from zhongcao.fields import MAX_ID
from zhongcao.pagination import PageParams
from zhongcao.search import mall as mall_service
from zhongcao.search import service as search_service
from zhongcao.shops import service as shops_service
from zhongcao.web.context import Page
from zhongcao.web.forms import Form
from zhongcao.web.shopper.common import (
    FACETS,
    LIST_PAGE,
    SEARCH_SORTS,
    CursorQuery,
    IdPath,
    ProductTile,
    live_now,
    shop_score,
    tile_from_product,
    tiles_from_cards,
)

router = APIRouter()

# --- search ------------------------------------------------------------------------------------


def _yuan_to_fen(form: Form, name: str) -> int | None:
    raw = form.text(name, max_length=12)
    if not raw:
        return None
    whole, _, cents = raw.partition(".")
    if not whole.isdigit() or (cents and (not cents.isdigit() or len(cents) > 2)):
        form.error(name, form.t("form.invalid_number"))
        return None
    return int(whole) * 100 + int((cents + "00")[:2] or 0)


@router.get("/search")
def search(page: Page, request: Request) -> Response:
    params = request.query_params
    form = Form(params, page.t)
    q = form.text("q", max_length=256)
    sort = form.choice("sort", list(SEARCH_SORTS), required=False) or "relevance"
    ids = {name: form.integer(f"{name}_id", minimum=1, maximum=MAX_ID) for name in FACETS}
    price_min = _yuan_to_fen(form, "price_min")
    price_max = _yuan_to_fen(form, "price_max")
    if price_min is not None and price_max is not None and price_min > price_max:
        form.error("price_min", page.t("search.price_range_error"))
        price_min = price_max = None
    in_stock = form.text("in_stock") == "1"
    cursor = params.get("cursor") if len(params.get("cursor") or "") <= 200 else None
    state = search_service.state_for(request.app)
    filters = search_service.ProductFilters(
        category_id=ids["category"],
        brand_id=ids["brand"],
        shop_id=ids["shop"],
        price_min_fen=price_min if "price_min" not in form.errors else None,
        price_max_fen=price_max if "price_max" not in form.errors else None,
        in_stock=True if in_stock else None,
    )
    try:
        result = search_service.search_products(
            page.db, state, q, filters, sort=sort, limit=LIST_PAGE, cursor=cursor, user_id=page.shopper_id
        )
    except InvalidInput:  # a stale cursor: the first page
        result = search_service.search_products(
            page.db, state, q, filters, sort=sort, limit=LIST_PAGE, user_id=page.shopper_id
        )
    hits = [
        {
            "tile": ProductTile(
                id=h.document.product_id,
                title_zh=h.document.title_zh,
                title_en=h.document.title_en,
                price_fen=h.document.price_fen,
                in_stock=h.document.stock > 0,
                sales=h.document.sales,
            ),
            # The index escapes the titles and wraps the query's matches in <em>.
            "highlight": h.highlight if page.locale == "zh" else (h.highlight_en or h.highlight),
        }
        for h in result.hits
    ]
    facets = _facet_labels(page, state, result.facets)
    return page.render(
        "shopper/search.html",
        q=q,
        sort=sort,
        sorts=SEARCH_SORTS,
        selected=ids,
        in_stock=in_stock,
        form=form,
        result=result,
        hits=hits,
        facets=facets,
        query_without=lambda *names: _query_without(request, *names),
        live_rooms=live_now(page.db, page.locale),
    )


def _facet_labels(
    page: Any, state: Any, facets: dict[str, list[tuple[str, str, int]]]
) -> dict[str, list[tuple[str, str, int]]]:
    """The facets with labels in the page language (the index labels them in Chinese)."""
    if page.locale == "zh":
        return {name: values for name, values in facets.items() if name in FACETS}
    names: dict[str, dict[int, tuple[str, str]]] = {
        "category": state.catalogue.category_names,
        "brand": state.catalogue.brand_names,
    }
    shop_ids = [int(k) for k, _, _ in facets.get("shop", []) if k.isdigit()]
    shops = shops_service.shops_by_ids(page.db, shop_ids)
    names["shop"] = {sid: (s.name_zh, s.name_en) for sid, s in shops.items()}
    out = {}
    for name in FACETS:
        out[name] = [
            (key, (names[name].get(int(key)) or (label, label))[1] or label, count)
            for key, label, count in facets.get(name, [])
            if key.isdigit()
        ]
    return out


def _query_without(request: Request, *names: str) -> str:
    from urllib.parse import urlencode

    kept = [
        (k, v) for k, v in request.query_params.multi_items() if k not in names and k != "cursor" and v != ""
    ]
    return urlencode(kept)


# --- the mall ----------------------------------------------------------------------------------


def _feed_products(page: Any) -> list[int] | None:
    """The products the feed's model would show this shopper, or None (no model, not a shopper):
    the mall's "recommended" zone, as GET /api/mall computes it."""
    if page.shopper_id is None:
        return None

    try:
        served = feed_service(page.request).page(page.db, page.shopper_id, limit=20)
    except DomainError:
        return None
    anchored = content_service.anchored_product_ids_by_content(
        page.db, [it.content_id for it in served.items if it.content_id is not None]
    )
    products: list[int] = []
    for it in served.items:
        if it.product_id is not None:
            products.append(it.product_id)
        elif it.content_id is not None:
            products += anchored.get(it.content_id, [])
    return products


@router.get("/mall")
def mall(page: Page) -> Response:
    state = search_service.state_for(page.request.app)
    home = mall_service.mall_home(page.db, state, page.shopper_id, _feed_products(page))
    return page.render(
        "shopper/mall.html",
        home=home,
        buy_again=tiles_from_cards(home.buy_again),
        recommended=tiles_from_cards(home.recommended),
        new_from_followed=tiles_from_cards(home.new_from_followed),
        campaigns=[(zone, tiles_from_cards(zone.products)) for zone in home.campaigns],
        live_rooms=live_now(page.db, page.locale),
    )


# --- shops -------------------------------------------------------------------------------------


@router.get("/shops/{shop_id}")
def shop(page: Page, shop_id: IdPath, cursor: CursorQuery = None) -> Response:
    shop = shops_service.get_active_shop(page.db, shop_id)
    try:
        products, next_cursor = catalog_service.list_public_products(
            page.db, PageParams(limit=LIST_PAGE, cursor=cursor), shop_id=shop_id
        )
    except InvalidInput:
        products, next_cursor = catalog_service.list_public_products(
            page.db, PageParams(limit=LIST_PAGE), shop_id=shop_id
        )
    shown_sold = catalog_service.shown_sold_counts(page.db, [s.id for p in products for s in p.skus])
    account_ids = content_service.shop_account_ids(page.db, shop_id)
    accounts = content_service.accounts_by_ids(page.db, account_ids)
    account = accounts.get(account_ids[0]) if account_ids else None
    following = bool(page.user and account and content_service.follows(page.db, page.user.id, account.id))
    return page.render(
        "shopper/shop.html",
        shop=shop,
        score=shop_score(page, shop_id),
        products=[tile_from_product(p, shown_sold) for p in products],
        next_cursor=next_cursor,
        account=account,
        followers=content_reads.shown_follower_counts(page.db, [account.id]).get(account.id, 0)
        if account
        else 0,
        following=following,
        live_rooms=live_now(page.db, page.locale, shop_id=shop_id),
    )


# --- products ----------------------------------------------------------------------------------
