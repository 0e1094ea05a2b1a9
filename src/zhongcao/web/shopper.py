"""Shopper pages (mobile first): the feed, live rooms and videos, search, the mall, shops, products,
the cart, checkout and payment, orders, after-sales, reviews and the NPS survey.

Each view reads through the domain services (never the JSON API, never another domain's tables),
turns what it read into small view models (:class:`ProductTile`, :class:`FeedCard`), and renders a
template. Lists are read in batches (``*_by_ids``) so a page costs a handful of queries whatever its
length. Forms post back to the same URL; a refusal re-renders the form with what was typed and the
error next to its field; success redirects (303) with a one-shot notice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import ValidationError

from zhongcao.aftersales import service as aftersales_service
from zhongcao.aftersales.models import AfterSaleKind, AfterSaleReason
from zhongcao.catalog import lookup
from zhongcao.catalog import service as catalog_service
from zhongcao.commerce import cart as cart_service
from zhongcao.commerce import checkout as checkout_service
from zhongcao.commerce import idempotency
from zhongcao.commerce import service as order_service
from zhongcao.commerce.models import Channel, Order, OrderStatus, Shipment
from zhongcao.commerce.schemas import AttributionIn, CheckoutCreate, CheckoutLineIn, ShippingAddress
from zhongcao.content import service as content_service
from zhongcao.content.models import Content, ContentKind, ContentStatus
from zhongcao.errors import DomainError, InvalidInput, NotFound
from zhongcao.experience import scores as experience_scores
from zhongcao.experience import surveys as experience_surveys
from zhongcao.experience.models import NpsReason, NpsTrigger
from zhongcao.feed.service import ModelNotReady
from zhongcao.feed.views import feed_service
from zhongcao.fields import MAX_ID
from zhongcao.pagination import PageParams
from zhongcao.reviews import service as reviews_service
from zhongcao.search import mall as mall_service
from zhongcao.search import service as search_service
from zhongcao.shops import service as shops_service
from zhongcao.users import service as users_service
from zhongcao.web.context import FormData, Page, ShopperPage, safe_next, session_token
from zhongcao.web.cover import cover_svg
from zhongcao.web.forms import Form, error_message
from zhongcao.web.likes import like_counts
from zhongcao.web.live import live_hub, mask_name

router = APIRouter()

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


def tile_from_product(product: Any) -> ProductTile:
    active = [s for s in product.skus if s.is_active]
    return ProductTile(
        id=product.id,
        title_zh=product.title_zh,
        title_en=product.title_en,
        price_fen=min((s.price_fen for s in active), default=None),
        in_stock=any(s.stock > 0 for s in active),
        sales=sum(s.sold_count for s in product.skus),
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
    return AttributionIn(channel=parsed)


def source_of(attribution: AttributionIn | None) -> str:
    if attribution is None:
        return ""
    if attribution.content_id is not None:
        return f"{attribution.channel.value}:{attribution.content_id}"
    return attribution.channel.value


def checked_attribution(db: Any, product_id: int, attribution: AttributionIn | None) -> AttributionIn:
    """The link's attribution when its content really anchors the product; else the product page.
    (A stale or edited link must not make the purchase fail.)"""
    if attribution is None:
        return AttributionIn(channel=Channel.product_page)
    if attribution.content_id is not None and product_id not in content_service.anchored_product_ids(
        db, attribution.content_id
    ):
        return AttributionIn(channel=Channel.product_page)
    return attribution


# --- the feed ----------------------------------------------------------------------------------


def _cards_for_content(
    page: Any, contents: list[Content], reasons: dict[int, tuple[str, str]]
) -> list[FeedCard]:
    db = page.db
    accounts = content_service.accounts_by_ids(db, [c.account_id for c in contents])
    anchors = content_service.anchored_product_ids_by_content(db, [c.id for c in contents])
    briefs = catalog_service.product_briefs(db, {p for c in contents for p in anchors.get(c.id, [])[:3]})
    likes = like_counts(page.request.app)
    cards = []
    for content in contents:
        account = accounts.get(content.account_id)
        live = content.kind is ContentKind.live
        reason = reasons.get(content.id, ("", ""))
        cards.append(
            FeedCard(
                content_id=content.id,
                kind="live" if live else "short_video",
                title_zh=content.title_zh,
                title_en=content.title_en,
                topic=content.topic or "",
                account_id=content.account_id,
                account_name=account.name if account else "",
                account_is_top_kol=bool(account and account.is_top_kol),
                followers=account.follower_count if account else 0,
                likes=likes.get(content.id),
                live_now=content.status is ContentStatus.live,
                products=tiles_from_briefs(briefs, anchors.get(content.id, [])[:3]),
                reason_zh=reason[0],
                reason_en=reason[1],
                source=f"{'live' if live else 'short_video'}:{content.id}",
            )
        )
    return cards


def _model_feed(page: Any, cursor: str | None) -> tuple[list[FeedCard], str | None] | None:
    """The feed model's page: the signed-in user's, or what is trending for a signed-out visitor
    (when the feed service offers it). None when no model is trained yet."""
    service = feed_service(page.request)
    signed_in = page.user_id is not None
    anonymous = getattr(service, "anonymous_page", None)
    if not signed_in and anonymous is None:
        return None

    def serve(after: str | None) -> Any:
        if signed_in:
            return service.page(page.db, page.user_id, FEED_PAGE, after)
        assert anonymous is not None  # a signed-out visitor without it returned None above
        return anonymous(page.db, FEED_PAGE, after)

    try:
        served = serve(cursor)
    except ModelNotReady:
        return None
    except InvalidInput:  # a cursor from another kind of page: start over
        served = serve(None)
    content_ids = [it.content_id for it in served.items if it.content_id is not None]
    contents = content_service.content_by_ids(page.db, content_ids)
    reasons = {
        it.content_id: (it.reason_zh, it.reason_en) for it in served.items if it.content_id is not None
    }
    by_id = {c.content_id: c for c in _cards_for_content(page, list(contents.values()), reasons)}
    product_ids = [it.product_id for it in served.items if it.product_id is not None]
    briefs = catalog_service.product_briefs(page.db, product_ids)
    cards: list[FeedCard] = []
    for it in served.items:
        if it.content_id is not None and it.content_id in by_id:
            cards.append(by_id[it.content_id])
        elif it.product_id is not None and it.product_id in briefs:
            tiles = tiles_from_briefs(briefs, [it.product_id])
            cards.append(
                FeedCard(
                    content_id=None,
                    kind="product",
                    title_zh=tiles[0].title_zh,
                    title_en=tiles[0].title_en,
                    topic="",
                    products=tiles,
                    reason_zh=it.reason_zh,
                    reason_en=it.reason_en,
                    source="product_page",
                )
            )
    if not signed_in:  # a visitor's pages are kept apart by the cursor alone
        return cards, served.next_cursor
    # What was served is remembered (no repeats on the next page) in a short write session of its
    # own, as GET /api/feed does: the page's session is read-only.
    page.db.rollback()
    writer = page.request.app.state.database.session()
    try:
        service.record(writer, served)
    finally:
        writer.close()
    return cards, served.next_cursor


@router.get("/")
def feed(
    page: Page,
    cursor: Annotated[str | None, Query(max_length=4000)] = None,
    mode: Annotated[str | None, Query(max_length=10)] = None,
) -> Response:
    ranked = _model_feed(page, cursor) if mode != "latest" else None
    if ranked is not None:
        cards, next_cursor = ranked
        mode = "personal" if page.user_id is not None else "trending"
        return page.render("shopper/feed.html", cards=cards, mode=mode, next_cursor=next_cursor)
    try:
        rows, next_cursor = content_service.watchable_content_page(
            page.db, PageParams(limit=FEED_PAGE, cursor=cursor)
        )
    except InvalidInput:
        rows, next_cursor = content_service.watchable_content_page(page.db, PageParams(limit=FEED_PAGE))
    rows = sorted(rows, key=lambda c: c.status is not ContentStatus.live)  # rooms on air first
    cards = _cards_for_content(page, list(rows), {})
    return page.render("shopper/feed.html", cards=cards, mode="latest", next_cursor=next_cursor)


# --- videos and live rooms ---------------------------------------------------------------------


def _content_page_data(page: Any, content: Content) -> dict[str, Any]:
    view = content_service.content_view(page.db, content)
    tiles = {
        anchor.product_id: ProductTile(
            id=anchor.product_id,
            title_zh=brief.title_zh,
            title_en=brief.title_en,
            price_fen=brief.price_fen,
            in_stock=None if brief.on_sale else False,
        )
        for anchor, brief in view.anchors
        if brief is not None and brief.on_sale
    }
    card = _cards_for_content(page, [content], {})[0]
    following = bool(page.user and content_service.follows(page.db, page.user.id, content.account_id))
    return {
        "content": content,
        "card": card,
        "account": view.account,
        "products": list(tiles.values()),
        "product_sets": [(s.name, [tiles[p] for p in ids if p in tiles]) for s, ids in view.product_sets],
        "pinned": tiles.get(content.pinned_product_id or 0),
        "following": following,
        "source": card.source,
    }


@router.get("/videos/{content_id}")
def video(page: Page, content_id: IdPath) -> Response:
    content = content_service.get_public_content(page.db, content_id)
    if content.kind is ContentKind.live:
        return page.redirect(f"/live/{content_id}")
    return page.render("shopper/video.html", **_content_page_data(page, content))


@router.get("/live/{content_id}")
def live_room(page: Page, content_id: IdPath) -> Response:
    content = content_service.get_public_content(page.db, content_id)
    if content.kind is not ContentKind.live:
        return page.redirect(f"/videos/{content_id}")
    data = _content_page_data(page, content)
    sales = order_service.content_sales(page.db, content_id, limit=10)
    names = users_service.users_by_ids(page.db, {s.user_id for s in sales})
    ticker = [(s, mask_name(names[s.user_id].display_name) if s.user_id in names else "") for s in sales]
    return page.render(
        "shopper/live.html",
        ticker=ticker,
        last_sale_id=sales[0].item_id if sales else 0,
        viewers=live_hub(page.request.app).count_from_thread(content_id),
        viewer_key=uuid.uuid4().hex,
        **data,
    )


@router.get("/live/{content_id}/events")
async def live_events(
    request: Request,
    content_id: IdPath,
    viewer: Annotated[str, Query(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")],
    after: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> StreamingResponse:
    """Server-Sent Events of one live room: ``sale``, ``viewers`` and ``status`` messages."""

    def who() -> int | None:
        database = request.app.state.database
        with database.session(read_only=True) as db:
            content_service.get_public_content(db, content_id)  # 404 for rooms that do not exist
            token = session_token(request)
            user = users_service.user_for_token(db, token) if token else None
            return user.id if user is not None else None

    user_id = await to_thread.run_sync(who)
    last_seen = request.headers.get("last-event-id", "")
    if last_seen.isdigit():
        after = max(after, int(last_seen))
    stream = live_hub(request.app).stream(content_id, viewer, user_id, after)
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.post("/accounts/{account_id}/follow")
def follow_account(page: ShopperPage, account_id: IdPath, data: FormData) -> Response:
    assert page.user is not None
    back = _back(data, "/")
    if data.get("action") == "unfollow":
        content_service.unfollow_account(page.db, page.user.id, account_id)
        return page.redirect(back, flash="shop.unfollowed")
    content_service.follow_account(page.db, page.user.id, account_id)
    return page.redirect(back, flash="shop.followed")


def _back(data: Any, default: str) -> str:
    value = data.get("next")
    return safe_next(value if isinstance(value, str) else None, default)


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
    )


# --- shops -------------------------------------------------------------------------------------


def _shop_score(page: Any, shop_id: int) -> Any:
    return experience_scores.latest_score(page.db, shop_id)


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
    account_ids = content_service.shop_account_ids(page.db, shop_id)
    accounts = content_service.accounts_by_ids(page.db, account_ids)
    account = accounts.get(account_ids[0]) if account_ids else None
    following = bool(page.user and account and content_service.follows(page.db, page.user.id, account.id))
    return page.render(
        "shopper/shop.html",
        shop=shop,
        score=_shop_score(page, shop_id),
        products=[tile_from_product(p) for p in products],
        next_cursor=next_cursor,
        account=account,
        following=following,
    )


# --- products ----------------------------------------------------------------------------------


def _product_page(
    page: Any, product_id: int, source: str | None, form: Form | None = None, status_code: int = 200
) -> Response:
    product = catalog_service.get_active_product(page.db, product_id)
    shop = shops_service.get_shop(page.db, product.shop_id)
    skus = [s for s in product.skus if s.is_active]
    summary = reviews_service.rating_summary(page.db, product_id)
    reviews, _ = reviews_service.list_for_product(page.db, product_id, PageParams(limit=10))
    category = catalog_service.categories_by_id(page.db, [product.category_id]).get(product.category_id)
    brand = (
        catalog_service.brands_by_ids(page.db, [product.brand_id]).get(product.brand_id)
        if product.brand_id
        else None
    )
    attribution = parse_source(source)
    tile = tile_from_product(product)
    selected = None
    if form is not None:
        selected = form.values.get("sku_id")
    if selected is None:
        selected = next((str(s.id) for s in skus if s.stock > 0), str(skus[0].id) if skus else None)
    return page.render(
        "shopper/product.html",
        status_code=status_code,
        product=product,
        tile=tile,
        shop=shop,
        score=_shop_score(page, shop.id),
        skus=skus,
        selected_sku=selected,
        summary=summary,
        reviews=reviews,
        category=category,
        brand=brand,
        source=source_of(attribution),
        form=form,
    )


@router.get("/products/{product_id}")
def product(
    page: Page, product_id: IdPath, source: Annotated[str | None, Query(alias="from", max_length=40)] = None
) -> Response:
    return _product_page(page, product_id, source)


def _read_line(page: Any, data: Any) -> tuple[Form, int | None, int | None, AttributionIn | None]:
    form = Form(data, page.t)
    sku_id = form.integer("sku_id", required=True, minimum=1, maximum=MAX_ID)
    quantity = form.integer("quantity", required=True, minimum=1, maximum=MAX_QUANTITY)
    source = form.text("from", max_length=40)
    return form, sku_id, quantity, parse_source(source)


@router.post("/products/{product_id}")
def product_action(page: ShopperPage, product_id: IdPath, data: FormData) -> Response:
    """The product form's two buttons: add to cart, or buy now (straight to checkout)."""
    assert page.user is not None
    form, sku_id, quantity, attribution = _read_line(page, data)
    source = source_of(attribution)
    if form.ok and sku_id is not None and quantity is not None:
        info = lookup.skus_by_ids(page.db, [sku_id]).get(sku_id)
        if info is None or info.product_id != product_id:
            form.error("sku_id", page.t("product.sku_unavailable"))
        elif data.get("action") == "buy":
            if not info.for_sale or info.stock < quantity:
                form.error(
                    "quantity",
                    page.t("err.insufficient_stock") if info.for_sale else page.t("product.sku_unavailable"),
                )
            else:
                line = f"sku={sku_id}&qty={quantity}" + (f"&from={source}" if source else "")
                return page.redirect(f"/checkout?{line}")
        else:
            try:
                cart_service.add_to_cart(
                    page.db,
                    page.user.id,
                    sku_id=sku_id,
                    quantity=quantity,
                    attribution=checked_attribution(page.db, product_id, attribution),
                )
            except DomainError as exc:
                form.add_domain_error(exc, {"sku_id": "sku_id", "quantity": "quantity"})
            else:
                back = f"/products/{product_id}" + (f"?from={source}" if source else "")
                return page.redirect(back, flash="product.added")
    return _product_page(page, product_id, source, form, status_code=422)


# --- the cart ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    item_id: int | None
    sku_id: int
    product_id: int
    shop_id: int
    title_zh: str
    title_en: str
    attributes: dict[str, Any]
    unit_price_fen: int
    quantity: int
    available: bool

    @property
    def total_fen(self) -> int:
        return self.unit_price_fen * self.quantity

    @property
    def tile(self) -> ProductTile:
        return ProductTile(self.product_id, self.title_zh, self.title_en, self.unit_price_fen)


def _cart_lines(page: Any) -> list[Line]:
    items = cart_service.cart_items(page.db, page.user.id)
    infos = lookup.skus_by_ids(page.db, [i.sku_id for i in items])
    lines = []
    for item in items:
        info = infos.get(item.sku_id)
        if info is None:
            continue
        lines.append(
            Line(
                item_id=item.id,
                sku_id=item.sku_id,
                product_id=info.product_id,
                shop_id=info.shop_id,
                title_zh=info.title_zh,
                title_en=info.title_en,
                attributes=info.attributes,
                unit_price_fen=info.price_fen,
                quantity=item.quantity,
                available=info.for_sale and info.stock >= item.quantity,
            )
        )
    return lines


@router.get("/cart")
def cart(page: ShopperPage) -> Response:
    lines = _cart_lines(page)
    return page.render(
        "shopper/cart.html",
        lines=lines,
        total_fen=sum(line.total_fen for line in lines if line.available),
        can_check_out=any(line.available for line in lines),
        error=None,
    )


@router.post("/cart/items/{item_id}")
def cart_update(page: ShopperPage, item_id: IdPath, data: FormData) -> Response:
    assert page.user is not None
    try:
        if data.get("action") == "remove":
            cart_service.remove_cart_item(page.db, page.user.id, item_id)
            return page.redirect("/cart", flash="cart.removed")
        form = Form(data, page.t)
        quantity = form.integer("quantity", required=True, minimum=1, maximum=MAX_QUANTITY)
        if quantity is None:
            raise InvalidInput(page.t("form.invalid_number"), field="quantity")
        cart_service.update_cart_item(page.db, page.user.id, item_id, quantity=quantity)
    except DomainError as exc:
        lines = _cart_lines(page)
        return page.render(
            "shopper/cart.html",
            status_code=exc.status_code if exc.status_code < 500 else 409,
            lines=lines,
            total_fen=sum(line.total_fen for line in lines if line.available),
            can_check_out=any(line.available for line in lines),
            error=(item_id, error_message(page.t, exc)),
        )
    return page.redirect("/cart", flash="cart.updated")


# --- checkout and payment ----------------------------------------------------------------------


@dataclass
class CheckoutPlan:
    lines: list[Line]
    from_cart: bool
    source: str = ""

    @property
    def item_total_fen(self) -> int:
        return sum(line.total_fen for line in self.lines)


def _plan(page: Any, params: Any) -> CheckoutPlan:
    if params.get("from_cart"):
        return CheckoutPlan(lines=[line for line in _cart_lines(page) if line.available], from_cart=True)
    form = Form(params, page.t)
    sku_id = form.integer("sku", minimum=1, maximum=MAX_ID)
    quantity = form.integer("qty", minimum=1, maximum=MAX_QUANTITY) or 1
    info = lookup.skus_by_ids(page.db, [sku_id]).get(sku_id) if sku_id else None
    if info is None or not info.for_sale:
        return CheckoutPlan(lines=[], from_cart=False)
    line = Line(
        None,
        info.sku_id,
        info.product_id,
        info.shop_id,
        info.title_zh,
        info.title_en,
        info.attributes,
        info.price_fen,
        quantity,
        info.stock >= quantity,
    )
    return CheckoutPlan(lines=[line], from_cart=False, source=form.text("from", max_length=40))


def _shipping_preview(page: Any, plan: CheckoutPlan) -> dict[int, tuple[Any, int, int]]:
    """shop id -> (shop, item total, shipping fee) as checkout will charge it (one order per shop)."""
    shops = shops_service.shops_by_ids(page.db, {line.shop_id for line in plan.lines})
    out: dict[int, tuple[Any, int, int]] = {}
    for shop_id, shop in shops.items():
        total = sum(line.total_fen for line in plan.lines if line.shop_id == shop_id)
        free = shop.free_shipping_threshold_fen > 0 and total >= shop.free_shipping_threshold_fen
        out[shop_id] = (shop, total, 0 if free else shop.shipping_fee_fen)
    return out


def _last_address(page: Any) -> dict[str, str]:
    orders, _ = order_service.list_buyer_orders(page.db, page.user.id, PageParams(limit=1))
    return {k: str(v) for k, v in (orders[0].shipping_address or {}).items()} if orders else {}


def _render_checkout(page: Any, plan: CheckoutPlan, form: Form | None, status_code: int = 200) -> Response:
    values = form.values if form is not None else _last_address(page)
    preview = _shipping_preview(page, plan)
    return page.render(
        "shopper/checkout.html",
        status_code=status_code,
        plan=plan,
        shops=preview,
        shipping_fen=sum(fee for _, _, fee in preview.values()),
        values=values,
        form=form,
        idempotency_key=uuid.uuid4().hex,
        address_fields=ADDRESS_FIELDS,
    )


@router.get("/checkout")
def checkout(page: ShopperPage, request: Request) -> Response:
    return _render_checkout(page, _plan(page, request.query_params), None)


@router.post("/checkout")
def place_order(page: ShopperPage, request: Request, data: FormData) -> Response:
    assert page.user is not None
    plan = _plan(page, data)
    form = Form(data, page.t)
    address = {
        name: form.text(name, required=True, max_length=200 if name == "line" else 40)
        for name in ADDRESS_FIELDS
    }
    key = form.text("idempotency_key", max_length=128)
    if not plan.lines:
        form.message = page.t("checkout.nothing")
    shipping = None
    try:
        shipping = ShippingAddress.model_validate(address)
    except ValidationError as exc:  # every bad field at once, not one per submit
        for err in exc.errors():
            name = str(err["loc"][0]) if err.get("loc") else ""
            form.error(name, page.t("form.invalid_phone") if name == "phone" else page.t("form.required"))
    if not form.ok or shipping is None:
        return _render_checkout(page, plan, form, status_code=422)
    if plan.from_cart:
        body = CheckoutCreate(from_cart=True, shipping_address=shipping)
    else:
        line = plan.lines[0]
        attribution = checked_attribution(page.db, line.product_id, parse_source(plan.source))
        body = CheckoutCreate(
            items=[CheckoutLineIn(sku_id=line.sku_id, quantity=line.quantity, attribution=attribution)],
            shipping_address=shipping,
        )
    settings = request.app.state.settings
    user_id = page.user.id

    def action() -> tuple[int, Any]:
        placed = checkout_service.place_checkout(page.db, user_id, body, settings=settings, commit=False)
        return 201, {"checkout_id": placed.id}

    try:
        outcome = idempotency.execute(
            page.db,
            user_id=user_id,
            scope="web-checkout",
            key=key or None,
            body=body.model_dump(mode="json"),
            action=action,
        )
    except DomainError as exc:
        form.add_domain_error(exc, {f"shipping_address.{n}": n for n in ADDRESS_FIELDS})
        return _render_checkout(
            page, plan, form, status_code=exc.status_code if exc.status_code < 500 else 503
        )
    if outcome.status_code >= 400:  # the same form sent twice after a refusal: the same answer
        form.message = (outcome.body or {}).get("error", {}).get("message") or page.t("error.other.body")
        return _render_checkout(page, plan, form, status_code=outcome.status_code)
    return page.redirect(f"/checkouts/{outcome.body['checkout_id']}/pay")


def _render_pay(
    page: Any,
    checkout_id: int,
    error: str | None = None,
    status_code: int = 200,
    method: str = PAYMENT_METHODS[0],
) -> Response:
    placed = checkout_service.get_checkout_for_buyer(page.db, page.user.id, checkout_id)
    orders = list(placed.orders)
    items = checkout_service.items_of(page.db, [o.id for o in orders])
    shops = shops_service.shops_by_ids(page.db, {o.shop_id for o in orders})
    return page.render(
        "shopper/pay.html",
        status_code=status_code,
        checkout=placed,
        orders=[(o, shops.get(o.shop_id), [i for i in items if i.order_id == o.id]) for o in orders],
        payable=placed.status.value == "pending_payment",
        error=error,
        method=method,
        methods=PAYMENT_METHODS,
        idempotency_key=uuid.uuid4().hex,
    )


@router.get("/checkouts/{checkout_id}/pay")
def pay_page(page: ShopperPage, checkout_id: IdPath) -> Response:
    return _render_pay(page, checkout_id)


@router.post("/checkouts/{checkout_id}/pay")
def pay(page: ShopperPage, checkout_id: IdPath, data: FormData) -> Response:
    assert page.user is not None
    form = Form(data, page.t)
    method = form.choice("payment_method", list(PAYMENT_METHODS)) or PAYMENT_METHODS[0]
    key = form.text("idempotency_key", max_length=128)
    user_id = page.user.id

    def action() -> tuple[int, Any]:
        paid = checkout_service.pay_checkout(
            page.db, user_id, checkout_id, payment_method=method, client_key=key, commit=False
        )
        return 200, {"order_ids": [o.id for o in paid.orders]}

    try:
        outcome = idempotency.execute(
            page.db,
            user_id=user_id,
            scope=f"web-pay:{checkout_id}",
            key=key or None,
            body={"payment_method": method},
            action=action,
        )
    except DomainError as exc:
        if exc.code == "payment_failed":
            message = page.t("checkout.declined", code=exc.details.get("decline_code") or exc.code)
        else:
            message = error_message(page.t, exc)
        return _render_pay(
            page, checkout_id, message, exc.status_code if exc.status_code < 500 else 503, method
        )
    if outcome.status_code >= 400:
        return _render_pay(page, checkout_id, page.t("checkout.not_payable"), outcome.status_code, method)
    order_ids = outcome.body["order_ids"]
    target = f"/orders/{order_ids[0]}" if len(order_ids) == 1 else "/orders"
    return page.redirect(target, flash="checkout.paid")


# --- orders ------------------------------------------------------------------------------------


def timeline(order: Order, shipment: Shipment | None) -> list[tuple[str, Any]]:
    events = [("created", order.created_at), ("paid", order.paid_at), ("shipped", order.shipped_at)]
    if shipment is not None:
        events.append(("picked_up", shipment.picked_up_at))
    events += [
        ("delivered", order.delivered_at),
        ("completed", order.completed_at),
        ("cancelled", order.cancelled_at),
    ]
    return [(name, at) for name, at in events if at is not None]


# The steps an order goes through, for the progress bar (cancelled orders show what happened).
ORDER_STEPS = ("created", "paid", "shipped", "delivered", "completed")


@router.get("/orders")
def orders(
    page: ShopperPage,
    cursor: CursorQuery = None,
    status: Annotated[OrderStatus | None, Query()] = None,
) -> Response:
    assert page.user is not None
    try:
        rows, next_cursor = order_service.list_buyer_orders(
            page.db, page.user.id, PageParams(limit=LIST_PAGE, cursor=cursor), status=status
        )
    except InvalidInput:
        rows, next_cursor = order_service.list_buyer_orders(
            page.db, page.user.id, PageParams(limit=LIST_PAGE), status=status
        )
    shops = shops_service.shops_by_ids(page.db, {o.shop_id for o in rows})
    return page.render(
        "shopper/orders.html",
        orders=[(o, shops.get(o.shop_id)) for o in rows],
        next_cursor=next_cursor,
        status=status.value if status else "",
        statuses=[s.value for s in OrderStatus],
    )


@router.get("/orders/{order_id}")
def order_detail(page: ShopperPage, order_id: IdPath) -> Response:
    assert page.user is not None
    order = order_service.get_order_for_buyer(page.db, page.user.id, order_id)
    shipment = order_service.get_shipment(page.db, order.id)
    shop = shops_service.get_shop(page.db, order.shop_id)
    cases = aftersales_service.cases_for_order(page.db, order.id)
    delivered = order.status in (OrderStatus.delivered, OrderStatus.completed)
    return page.render(
        "shopper/order.html",
        order=order,
        items=list(order.items),
        shipment=shipment,
        shop=shop,
        events=timeline(order, shipment),
        steps=ORDER_STEPS,
        cases=cases,
        open_case_items={c.order_item_id for c in cases if aftersales_service.is_open(c)},
        can_review=delivered,
        can_after_sale=delivered,
        can_confirm=order.status is OrderStatus.delivered,
        can_cancel=order.status in (OrderStatus.created, OrderStatus.paid),
    )


@router.post("/orders/{order_id}/confirm-receipt")
def confirm_receipt(page: ShopperPage, order_id: IdPath, _: FormData) -> Response:
    assert page.user is not None
    order_service.confirm_receipt(page.db, page.user.id, order_id)
    return page.redirect(f"/orders/{order_id}", flash="orders.received")


@router.post("/orders/{order_id}/cancel")
def cancel_order(page: ShopperPage, order_id: IdPath, _: FormData) -> Response:
    assert page.user is not None
    order_service.cancel_order_as_buyer(page.db, page.user.id, order_id, reason=None)
    return page.redirect(f"/orders/{order_id}", flash="orders.cancelled_msg")


# --- after-sales -------------------------------------------------------------------------------


def _order_item(page: Any, order_id: int, item_id: int) -> tuple[Order, Any]:
    order = order_service.get_order_for_buyer(page.db, page.user.id, order_id)
    item = next((i for i in order.items if i.id == item_id), None)
    if item is None:
        raise NotFound("order item not found", code="order_item_not_found")
    return order, item


def _render_after_sale(
    page: Any, order: Order, item: Any, form: Form | None, status_code: int = 200
) -> Response:
    return page.render(
        "shopper/after_sale.html",
        status_code=status_code,
        order=order,
        item=item,
        units_left=item.quantity - item.refunded_quantity,
        values=form.values if form else {"kind": "refund_only", "quantity": "1"},
        form=form,
    )


@router.get("/orders/{order_id}/items/{item_id}/after-sale")
def after_sale_form(page: ShopperPage, order_id: IdPath, item_id: IdPath) -> Response:
    order, item = _order_item(page, order_id, item_id)
    return _render_after_sale(page, order, item, None)


@router.post("/orders/{order_id}/items/{item_id}/after-sale")
def after_sale_submit(page: ShopperPage, order_id: IdPath, item_id: IdPath, data: FormData) -> Response:
    assert page.user is not None
    order, item = _order_item(page, order_id, item_id)
    form = Form(data, page.t)
    kind = form.choice("kind", [k.value for k in AfterSaleKind])
    reason = form.choice("reason", [r.value for r in AfterSaleReason])
    units_left = item.quantity - item.refunded_quantity
    quantity = form.integer("quantity", required=True, minimum=1, maximum=max(units_left, 1))
    description = form.text("description", max_length=1000)
    if form.ok and kind and reason and quantity:
        try:
            aftersales_service.open_case(
                page.db,
                page.user.id,
                order_id,
                order_item_id=item_id,
                kind=AfterSaleKind(kind),
                reason=AfterSaleReason(reason),
                description=description,
                quantity=quantity,
            )
        except DomainError as exc:
            page.db.rollback()
            form.add_domain_error(exc)
        else:
            return page.redirect(f"/orders/{order_id}", flash="aftersale.sent")
    order, item = _order_item(page, order_id, item_id)
    return _render_after_sale(page, order, item, form, status_code=422)


# --- reviews -----------------------------------------------------------------------------------


def _render_review(page: Any, order: Order, item: Any, form: Form | None, status_code: int = 200) -> Response:
    return page.render(
        "shopper/review.html",
        status_code=status_code,
        order=order,
        item=item,
        values=form.values if form else {},
        form=form,
    )


@router.get("/orders/{order_id}/items/{item_id}/review")
def review_form(page: ShopperPage, order_id: IdPath, item_id: IdPath) -> Response:
    order, item = _order_item(page, order_id, item_id)
    return _render_review(page, order, item, None)


@router.post("/orders/{order_id}/items/{item_id}/review")
def review_submit(page: ShopperPage, order_id: IdPath, item_id: IdPath, data: FormData) -> Response:
    assert page.user is not None
    order, item = _order_item(page, order_id, item_id)
    form = Form(data, page.t)
    rating = form.choice("rating", ["1", "2", "3", "4", "5"], message=page.t("review.choose_rating"))
    text = form.text("text", max_length=2000)
    tags_text = form.text("tags", max_length=240)
    tags = [t.strip() for t in tags_text.replace("，", ",").split(",") if t.strip()]
    if form.ok and rating:
        try:
            reviews_service.create_review(
                page.db, page.user.id, order_id, item_id, rating=int(rating), text=text, tags=tags
            )
        except DomainError as exc:
            page.db.rollback()
            form.add_domain_error(exc, {"tags": "tags", "text": "text", "rating": "rating"})
        else:
            return page.redirect(f"/orders/{order_id}", flash="review.thanks")
    order, item = _order_item(page, order_id, item_id)
    return _render_review(page, order, item, form, status_code=422)


# --- the NPS survey ----------------------------------------------------------------------------


def _render_nps(
    page: Any,
    order_id: int | None,
    after_sale_id: int | None,
    form: Form | None,
    status_code: int = 200,
    done: bool = False,
) -> Response:
    return page.render(
        "shopper/nps.html",
        status_code=status_code,
        order_id=order_id,
        after_sale_id=after_sale_id,
        reasons=[r.value for r in NpsReason],
        values=form.values if form else {},
        form=form,
        done=done,
    )


@router.get("/nps")
def nps_form(
    page: ShopperPage,
    order_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    after_sale_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Response:
    return _render_nps(page, order_id, after_sale_id, None)


@router.post("/nps")
def nps_submit(page: ShopperPage, data: FormData) -> Response:
    assert page.user is not None
    form = Form(data, page.t)
    score = form.choice("score", [str(n) for n in range(11)], message=page.t("nps.choose_score"))
    reasons = form.choices("reasons", [r.value for r in NpsReason])
    text = form.text("text", max_length=1000)
    order_id = form.integer("order_id", minimum=1, maximum=MAX_ID)
    after_sale_id = form.integer("after_sale_id", minimum=1, maximum=MAX_ID)
    if after_sale_id is not None:
        trigger = NpsTrigger.after_after_sale
    elif order_id is not None:
        trigger = NpsTrigger.after_delivery
    else:
        trigger = NpsTrigger.general
    if form.ok and score is not None:
        try:
            experience_surveys.submit_nps(
                page.db,
                page.user.id,
                score=int(score),
                trigger=trigger,
                reasons=reasons,
                text=text,
                order_id=order_id,
                after_sale_id=after_sale_id,
            )
        except DomainError as exc:
            if exc.code == "survey_rate_limited":
                form.message = page.t("nps.already")
            else:
                form.add_domain_error(exc)
        else:
            return _render_nps(page, order_id, after_sale_id, None, done=True)
    return _render_nps(page, order_id, after_sale_id, form, status_code=422)
