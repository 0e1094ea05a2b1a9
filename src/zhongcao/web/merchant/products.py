"""Products and stock: the list, the edit page, listing and delisting."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import APIRouter, Query
from fastapi.responses import Response

from zhongcao.catalog import bulk, editor
from zhongcao.catalog import service as catalog_service
from zhongcao.catalog.models import ProductStatus
from zhongcao.errors import DomainError
from zhongcao.fields import MAX_ID, IdQuery
from zhongcao.web.console import (
    Console,
    IdPath,
    MerchantConsole,
    yuan_to_fen,
)
from zhongcao.web.context import FormData
from zhongcao.web.forms import Form, error_message

router = APIRouter(prefix="/merchant")

# Stock below this is flagged on the product list.
LOW_STOCK = 10


def _product_row(product: Any, shown_sold: Mapping[int, int]) -> dict[str, Any]:
    skus = list(product.skus)
    active = [s for s in skus if s.is_active]
    prices = [s.price_fen for s in active]
    return {
        "product": product,
        "skus": len(skus),
        "price_min": min(prices) if prices else None,
        "price_max": max(prices) if prices else None,
        "stock": sum(s.stock for s in active),
        "sold": sum(shown_sold.get(s.id, 0) for s in skus),  # brushed orders' units left out
        "low": any(s.stock < LOW_STOCK for s in active),
    }


PER_PAGE = 20
SORTS = bulk.SORTS


@dataclass(frozen=True)
class ListQuery:
    q: str
    status: str
    category_id: int | None
    low: bool
    sort: str
    page: int

    def url(self, **change: Any) -> str:
        values = {
            "q": self.q,
            "status": self.status,
            "category": self.category_id or "",
            "low": "1" if self.low else "",
            "sort": "" if self.sort == "new" else self.sort,
            "page": "" if self.page == 1 else self.page,
        }
        values.update(change)
        query = urlencode({k: v for k, v in values.items() if v not in ("", None)})
        return "/merchant/products" + ("?" + query if query else "")


def _list(
    console: Console,
    query: ListQuery,
    *,
    form: Form | None = None,
    refusals: dict[int, dict[str, str]] | None = None,
    status_code: int = 200,
) -> Response:
    db, shop_id = console.db, console.shop_id
    assert shop_id is not None
    rows, total = bulk.search_shop_products(
        db,
        shop_id,
        q=query.q,
        status=ProductStatus(query.status) if query.status else None,
        category_id=query.category_id,
        low_stock_below=LOW_STOCK if query.low else None,
        sort=query.sort,
        page=query.page,
        per_page=PER_PAGE,
    )
    thumbs = editor.pictures(db, [p.id for p in rows])
    shown_sold = catalog_service.shown_sold_counts(db, [s.id for p in rows for s in p.skus])
    return console.render(
        "merchant/products.html",
        "products",
        status_code=status_code,
        rows=[{**_product_row(p, shown_sold), "thumb": next(iter(thumbs.get(p.id, [])), None)} for p in rows],
        query=query,
        total=total,
        pages=max(1, -(-total // PER_PAGE)),
        statuses=[s.value for s in ProductStatus],
        sorts=SORTS,
        tree=catalog_service.category_tree(db),
        low_stock=LOW_STOCK,
        form=form,
        typed=form.values if form is not None else {},
        refusals=refusals or {},
    )


@router.get("/products")
def products(
    console: MerchantConsole,
    q: Annotated[str, Query(max_length=100)] = "",
    status: Annotated[ProductStatus | None, Query()] = None,
    category: IdQuery = None,
    low: Annotated[str, Query(max_length=1)] = "",
    sort: Annotated[str, Query(max_length=10)] = "new",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    query = ListQuery(
        q=q.strip(),
        status=status.value if status else "",
        category_id=category,
        low=low == "1",
        sort=sort if sort in SORTS else "new",
        page=page,
    )
    return _list(console, query)


@router.post("/products/bulk")
def products_bulk(console: MerchantConsole, data: FormData) -> Response:
    """The same price, stock or on/off sale for the ticked products: all or nothing."""
    console.require_manager()
    assert console.shop_id is not None
    form = Form(data, console.t)
    ids = [
        int(v) for v in data.getlist("product_ids") if isinstance(v, str) and v.isdigit() and int(v) <= MAX_ID
    ]
    back = form.text("back", max_length=500)
    query = _query_of(back)
    action = form.choice("bulk_action", ["price", "stock", "on", "off"])
    price = stock = None
    if not ids:
        form.message = console.t("merchant.bulk.none_selected")
    if action == "price":
        price = yuan_to_fen(form, "bulk_value", required=True, minimum_fen=1)
        if price is not None and price > catalog_service.MAX_PRICE_FEN:
            form.error("bulk_value", console.t("console.form.bad_amount"))
    elif action == "stock":
        stock = form.integer("bulk_value", required=True, minimum=0, maximum=catalog_service.MAX_STOCK)
    elif action is None:
        form.error("bulk_action", console.t("form.required"))
    form.values["product_ids"] = {str(i) for i in ids}
    if not form.ok:
        return _list(console, query, form=form, status_code=422)
    status = {"on": ProductStatus.active, "off": ProductStatus.delisted}.get(action or "")
    try:
        result = bulk.bulk_edit(console.db, console.shop_id, ids, price_fen=price, stock=stock, status=status)
    except DomainError as exc:
        console.db.rollback()
        form.message = error_message(console.t, exc)
        return _list(console, query, form=form, status_code=exc.status_code)
    if not result.ok:
        form.message = console.t("merchant.bulk.refused")
        briefs = catalog_service.product_briefs(console.db, [r.product_id for r in result.refusals])
        english = console.page.locale == "en"
        refusals = {
            r.product_id: {
                "title": briefs[r.product_id].title_en if english else briefs[r.product_id].title_zh,
                "message": error_message(console.t, DomainError(r.message, code=r.code)),
            }
            for r in result.refusals
        }
        return _list(console, query, form=form, refusals=refusals, status_code=409)
    return console.redirect(query.url(), flash="merchant.bulk.done")


def _query_of(url: str) -> ListQuery:
    """The list the bulk form was sent from, so the merchant lands back on it."""
    params = dict(parse_qsl(urlsplit(url).query)) if url.startswith("/merchant/products") else {}
    category = params.get("category", "")
    page = params.get("page", "")
    return ListQuery(
        q=params.get("q", "")[:100],
        status=params.get("status", "") if params.get("status") in {s.value for s in ProductStatus} else "",
        category_id=int(category) if category.isdigit() and 0 < int(category) <= MAX_ID else None,
        low=params.get("low") == "1",
        sort=params.get("sort", "new") if params.get("sort") in SORTS else "new",
        page=int(page) if page.isdigit() and 0 < int(page) <= 10_000 else 1,
    )


def _render_product(console: Console, product_id: int, form: Form | None, status_code: int = 200) -> Response:
    assert console.shop_id is not None
    product = catalog_service.get_shop_product(console.db, console.shop_id, product_id)
    skus = sorted(product.skus, key=lambda s: s.id)
    return console.render(
        "merchant/product.html",
        "products",
        status_code=status_code,
        product=product,
        skus=skus,
        shown_sold=catalog_service.shown_sold_counts(console.db, [s.id for s in skus]),
        form=form,
        typed=form.values if form is not None else {},
        category=catalog_service.categories_by_id(console.db, [product.category_id]).get(product.category_id),
    )


@router.get("/products/{product_id}/skus")
def product(console: MerchantConsole, product_id: IdPath) -> Response:
    """Quick edits of the SKUs' price, stock and sale (the editor is at /merchant/products/{id})."""
    return _render_product(console, product_id, None)


@router.post("/products/{product_id}")
def product_save(console: MerchantConsole, product_id: IdPath, data: FormData) -> Response:
    """One form for all of the product's SKUs: price, stock and whether each is sold. Everything is
    checked before anything is saved; stock is changed by the difference from the stock the page
    showed, so units sold while the merchant was typing are not written back."""
    console.require_manager()
    db, shop_id = console.db, console.shop_id
    assert shop_id is not None
    product = catalog_service.get_shop_product(db, shop_id, product_id)
    form = Form(data, console.t)
    wanted = []
    for sku in sorted(product.skus, key=lambda s: s.id):
        price = yuan_to_fen(form, f"price_{sku.id}", required=True, minimum_fen=1)
        if price is not None and price > catalog_service.MAX_PRICE_FEN:
            form.error(f"price_{sku.id}", console.t("console.form.bad_amount"))
        stock = form.integer(f"stock_{sku.id}", required=True, minimum=0, maximum=catalog_service.MAX_STOCK)
        shown = form.integer(f"stock_was_{sku.id}", minimum=0, maximum=catalog_service.MAX_STOCK)
        active = form.text(f"active_{sku.id}") == "1"
        form.values[f"active_{sku.id}"] = active
        wanted.append((sku, price, stock, sku.stock if shown is None else shown, active))
    if form.ok and product.status is ProductStatus.active and not any(w[4] for w in wanted):
        # Checked here, before anything is saved (the catalog would refuse only the last one).
        form.message = console.t("err.last_active_sku")
    if not form.ok:
        return _render_product(console, product_id, form, status_code=422)
    changed = False
    for sku, price, stock, shown, active in wanted:
        sku_id = sku.id
        assert price is not None and stock is not None
        try:
            if price != sku.price_fen or active != sku.is_active:
                catalog_service.update_sku(db, shop_id, sku_id, price_fen=price, is_active=active)
                changed = True
            if stock != shown:
                catalog_service.adjust_stock(db, shop_id, sku_id, delta=stock - shown)
                changed = True
        except DomainError as exc:
            db.rollback()
            field = {"price_fen": "price", "is_active": "active", "delta": "stock", "set": "stock"}.get(
                str(exc.details.get("field") or ""), "stock"
            )
            form.error(f"{field}_{sku_id}", error_message(console.t, exc))
            return _render_product(console, product_id, form, status_code=exc.status_code)
    return console.redirect(
        f"/merchant/products/{product_id}",
        flash="merchant.product.saved" if changed else "merchant.product.unchanged",
    )


@router.post("/products/{product_id}/status")
def product_status(console: MerchantConsole, product_id: IdPath, data: FormData) -> Response:
    """Put a product on sale or take it off."""
    console.require_manager()
    assert console.shop_id is not None
    form = Form(data, console.t)
    target = form.choice("status", [ProductStatus.active.value, ProductStatus.delisted.value])
    back = form.text("next", max_length=300)
    back = back if back.startswith("/merchant/products") else f"/merchant/products/{product_id}"
    if target is None:
        return console.redirect(back)
    try:
        catalog_service.update_product(console.db, console.shop_id, product_id, status=ProductStatus(target))
    except DomainError as exc:
        console.db.rollback()
        if exc.status_code == 404:
            raise
        refusal = Form({}, console.t)
        refusal.message = error_message(console.t, exc)
        return _render_product(console, product_id, refusal, status_code=exc.status_code)
    flash = "merchant.product.listed" if target == ProductStatus.active.value else "merchant.product.delisted"
    return console.redirect(back, flash=flash)


# --- orders and shipping -----------------------------------------------------------------------------
