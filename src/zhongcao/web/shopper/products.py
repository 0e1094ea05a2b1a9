"""The product page: SKU choice, add to cart, buy now, and the coupons that apply (shop and platform)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from markupsafe import Markup

from zhongcao.campaigns import coupons as coupons_service
from zhongcao.catalog import editor, lookup
from zhongcao.catalog import service as catalog_service
from zhongcao.catalog.description import render_markdown
from zhongcao.commerce import cart as cart_service
from zhongcao.commerce.schemas import AttributionIn
from zhongcao.errors import DomainError
from zhongcao.fields import MAX_ID
from zhongcao.membership import service as membership_service
from zhongcao.pagination import PageParams
from zhongcao.reviews import service as reviews_service
from zhongcao.shops import service as shops_service
from zhongcao.warehouse import service as warehouse_service
from zhongcao.web.context import FormData, Page, ShopperPage
from zhongcao.web.forms import Form
from zhongcao.web.shopper.common import (
    MAX_QUANTITY,
    IdPath,
    checked_attribution,
    parse_source,
    shop_score,
    source_of,
    tile_from_product,
)
from zhongcao.web.shopper.flash_sale import flash_context

router = APIRouter()


def _product_page(
    page: Any,
    product_id: int,
    source: str | None,
    form: Form | None = None,
    status_code: int = 200,
    chosen_sku: int | None = None,
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
    tile = tile_from_product(
        product, catalog_service.shown_sold_counts(page.db, [s.id for s in product.skus])
    )
    description = product.description_en if page.locale == "en" else product.description_zh
    # Markdown rendered with raw HTML off (catalog.description): nothing the merchant typed is markup.
    description_html = Markup(render_markdown(description or product.description_zh))
    options = editor.options_of(product)
    groups: list[tuple[str, list[Any]]] = []
    short: dict[int, str] = {}
    if len(options) == 2:
        # Two axes: the SKUs under each value of the first (colour), in the order of the second (size).
        order = {v: i for i, v in enumerate(options[1].values)}
        for value in options[0].values:
            members = [s for s in skus if (s.attributes or {}).get(options[0].name) == value]
            members.sort(key=lambda s: order.get(str((s.attributes or {}).get(options[1].name)), 99))
            if members:
                groups.append((f"{options[0].name}: {value}", members))
        # Under "颜色: 黑色" each choice needs only its size.
        short = {s.id: str((s.attributes or {}).get(options[1].name, "")) for s in skus}
        grouped = {s.id for _, members in groups for s in members}
        if len(grouped) != len(skus):
            groups = []
    if not groups:
        groups = [("", skus)]
    selected = None
    if form is not None:
        selected = form.values.get("sku_id")
    if selected is None and chosen_sku is not None:
        # Back from "add to cart": the SKU the shopper chose stays chosen (if it can still be bought).
        selected = next((str(s.id) for s in skus if s.id == chosen_sku and s.stock > 0), None)
    if selected is None:
        selected = next((str(s.id) for s in skus if s.stock > 0), str(skus[0].id) if skus else None)
    offers = coupons_service.offers_for_shop(page.db, page.shopper_id, shop.id)
    # SKUs that ship from a platform warehouse and have stock: the faster delivery promise.
    from_warehouse = {
        sku_id
        for sku_id in warehouse_service.promised_skus(page.db, [s.id for s in skus])
        if any(s.id == sku_id and s.stock > 0 for s in skus)
    }
    return page.render(
        "shopper/product.html",
        offers=offers,
        # Members-only coupons: a member claims them here, anyone else is offered to join first.
        is_member=page.shopper_id is not None
        and any(o.coupon.members_only for o in offers)
        and membership_service.is_member(page.db, shop.id, page.shopper_id),
        here=str(page.request.url.path) + (f"?from={source}" if source else ""),
        status_code=status_code,
        product=product,
        tile=tile,
        shop=shop,
        score=shop_score(page, shop.id),
        skus=skus,
        sku_groups=groups,
        sku_short=short if len(groups) > 1 or (groups and groups[0][0]) else {},
        pictures=editor.pictures(page.db, [product.id]).get(product.id, []),
        description_html=description_html,
        attributes=dict(product.attributes or {}),
        selected_sku=selected,
        from_warehouse=from_warehouse,
        promise_days=warehouse_service.PROMISE_DAYS,
        summary=summary,
        reviews=reviews,
        category=category,
        brand=brand,
        source=source_of(attribution),
        form=form,
        flash=flash_context(page, product.id),
    )


@router.get("/products/{product_id}")
def product(
    page: Page,
    product_id: IdPath,
    source: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    sku: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Response:
    return _product_page(page, product_id, source, chosen_sku=sku)


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
                back = f"/products/{product_id}?sku={sku_id}" + (f"&from={source}" if source else "")
                return page.redirect(back, flash="product.added")
    return _product_page(page, product_id, source, form, status_code=422)
