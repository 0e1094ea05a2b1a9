"""The merchant's product list (search, filters, sorting) and its bulk edits: one price, one stock count or on/off sale for many products.

All or nothing: every selected product is checked first and the changes are written in one
transaction; when any product cannot take the change, nothing is written and each refusal is
reported with its product.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, Final

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from zhongcao.catalog import service
from zhongcao.catalog.models import Product, ProductStatus, Sku
from zhongcao.errors import DomainError, InvalidInput, NotFound

MAX_BULK: Final = 200


@dataclasses.dataclass(frozen=True)
class BulkRefusal:
    product_id: int
    code: str
    message: str


@dataclasses.dataclass(frozen=True)
class BulkResult:
    changed: int
    refusals: list[BulkRefusal]

    @property
    def ok(self) -> bool:
        return not self.refusals


def bulk_edit(
    db: Session,
    shop_id: int,
    product_ids: Sequence[int],
    *,
    price_fen: int | None = None,
    stock: int | None = None,
    status: ProductStatus | None = None,
) -> BulkResult:
    """Set every active SKU of each product to ``price_fen`` and/or ``stock``, and/or move each
    product to ``status`` (active or delisted). Another shop's product is ``product_not_found``."""
    ids = list(dict.fromkeys(product_ids))
    if not ids:
        raise InvalidInput("select at least one product", code="nothing_selected", field="product_ids")
    if len(ids) > MAX_BULK:
        raise InvalidInput(f"at most {MAX_BULK} products at once", code="too_many", field="product_ids")
    if price_fen is None and stock is None and status is None:
        raise InvalidInput("say what to change", code="nothing_to_change", field="action")
    if price_fen is not None:
        service._check_price(price_fen, field="price_fen")
    if stock is not None and (isinstance(stock, bool) or not 0 <= stock <= service.MAX_STOCK):
        raise InvalidInput(f"stock must be between 0 and {service.MAX_STOCK}", field="stock")
    if status is not None and status not in (ProductStatus.active, ProductStatus.delisted):
        raise InvalidInput("on sale or off sale only", code="invalid_status", field="status")
    products = {
        p.id: p
        for p in db.scalars(
            select(Product)
            .where(Product.id.in_(ids), Product.shop_id == shop_id)
            .options(selectinload(Product.skus))
            .order_by(Product.id)
            .with_for_update()
        )
    }
    for i, product_id in enumerate(ids):
        if product_id not in products:
            db.rollback()
            raise NotFound("product not found", code="product_not_found", field=f"product_ids[{i}]")
    refusals: list[BulkRefusal] = []
    changed = 0
    for product_id in ids:
        product = products[product_id]
        active = [sku for sku in product.skus if sku.is_active]
        touched = False
        held = [sku for sku in active if stock is not None and sku.stock_held_by and sku.stock != stock]
        if held:
            refusals.append(
                BulkRefusal(
                    product_id,
                    "stock_held_by_warehouse",
                    "its stock is held by the platform warehouse: add units with an inbound shipment",
                )
            )
            continue
        for sku in active:
            if price_fen is not None and sku.price_fen != price_fen:
                sku.price_fen = price_fen
                touched = True
            if stock is not None and sku.stock != stock:
                sku.stock = stock
                touched = True
        if status is not None and status is not product.status:
            try:
                service._change_status(db, product, status)
                touched = True
            except DomainError as exc:
                refusals.append(BulkRefusal(product_id, exc.code, str(exc)))
        changed += touched
    if refusals:
        db.rollback()
        return BulkResult(changed=0, refusals=refusals)
    db.commit()
    return BulkResult(changed=changed, refusals=[])


# The merchant's product list: search, filters, sorting --------------------------------------------

SORTS: Final = ("new", "updated", "title", "price", "stock")


def search_shop_products(
    db: Session,
    shop_id: int,
    *,
    q: str = "",
    status: ProductStatus | None = None,
    category_id: int | None = None,
    low_stock_below: int | None = None,
    sort: str = "new",
    page: int = 1,
    per_page: int = 20,
) -> tuple[list[Product], int]:
    """One page of a shop's products and how many match. ``q`` matches either title (case-blind);
    ``category_id`` may be a top category (all of its leaves); ``low_stock_below`` keeps products
    with an active SKU under that stock. Sorts: newest, recently updated, title, lowest price,
    least stock."""
    stock = (
        select(Sku.product_id, func.min(Sku.price_fen).label("price"), func.sum(Sku.stock).label("stock"))
        .where(Sku.is_active.is_(True))
        .group_by(Sku.product_id)
        .subquery()
    )
    stmt = (
        select(Product).outerjoin(stock, stock.c.product_id == Product.id).where(Product.shop_id == shop_id)
    )
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            or_(Product.title_zh.ilike(pattern, escape="\\"), Product.title_en.ilike(pattern, escape="\\"))
        )
    if status is not None:
        stmt = stmt.where(Product.status == status)
    if category_id is not None:
        stmt = stmt.where(Product.category_id.in_(service.category_ids_under(db, category_id)))
    if low_stock_below is not None:
        low = select(Sku.product_id).where(Sku.is_active.is_(True), Sku.stock < low_stock_below)
        stmt = stmt.where(Product.id.in_(low))
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    orders: dict[str, list[Any]] = {
        "new": [Product.id.desc()],
        "updated": [Product.updated_at.desc(), Product.id.desc()],
        "title": [Product.title_zh, Product.id],
        "price": [stock.c.price.is_(None), stock.c.price, Product.id],
        "stock": [stock.c.stock.is_(None), stock.c.stock, Product.id],
    }
    order = orders[sort if sort in SORTS else "new"]
    rows = db.scalars(
        stmt.order_by(*order)
        .options(selectinload(Product.skus))
        .limit(per_page)
        .offset((max(page, 1) - 1) * per_page)
    ).all()
    return list(rows), total
