"""Products and stock: the list, the edit page, listing and delisting."""

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from zhongcao.catalog import service as catalog_service
from zhongcao.catalog.models import ProductStatus
from zhongcao.errors import DomainError
from zhongcao.web.console import (
    Console,
    CursorQuery,
    IdPath,
    MerchantConsole,
    page_of,
    yuan_to_fen,
)
from zhongcao.web.context import FormData
from zhongcao.web.forms import Form, error_message

router = APIRouter(prefix="/merchant")

# Stock below this is flagged on the product list.
LOW_STOCK = 10


def _product_row(product: Any) -> dict[str, Any]:
    skus = list(product.skus)
    active = [s for s in skus if s.is_active]
    prices = [s.price_fen for s in active]
    return {
        "product": product,
        "skus": len(skus),
        "price_min": min(prices) if prices else None,
        "price_max": max(prices) if prices else None,
        "stock": sum(s.stock for s in active),
        "sold": sum(s.sold_count for s in skus),
        "low": any(s.stock < LOW_STOCK for s in active),
    }


@router.get("/products")
def products(
    console: MerchantConsole,
    status: Annotated[ProductStatus | None, Query()] = None,
    cursor: CursorQuery = None,
) -> Response:
    db, shop_id = console.db, console.shop_id
    assert shop_id is not None
    rows, next_cursor = page_of(
        lambda p: catalog_service.list_shop_products(db, shop_id, p, status=status), cursor
    )
    return console.render(
        "merchant/products.html",
        "products",
        rows=[_product_row(p) for p in rows],
        status=status.value if status else "",
        statuses=[s.value for s in ProductStatus],
        next_cursor=next_cursor,
        low_stock=LOW_STOCK,
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
        form=form,
        typed=form.values if form is not None else {},
        category=catalog_service.categories_by_id(console.db, [product.category_id]).get(product.category_id),
    )


@router.get("/products/{product_id}")
def product(console: MerchantConsole, product_id: IdPath) -> Response:
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
