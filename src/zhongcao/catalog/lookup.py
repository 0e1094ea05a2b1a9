"""Catalog reads that checkout and the cart need: what a SKU is, whether it is on sale, its fee rate.

A SKU can be bought when the SKU is active, its product is ``active`` and the product's shop is
not suspended. The platform fee rate of a product is its leaf category's ``platform_fee_bps``,
else the parent category's, else ``settings.default_platform_fee_bps``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhongcao.catalog import service as catalog_service
from zhongcao.catalog.models import Product, ProductStatus, Sku
from zhongcao.config import Settings
from zhongcao.errors import Conflict, NotFound
from zhongcao.shops import service as shops_service


@dataclass(frozen=True)
class SkuInfo:
    sku_id: int
    product_id: int
    shop_id: int
    category_id: int
    code: str
    title_zh: str
    title_en: str
    attributes: dict[str, Any]
    price_fen: int
    stock: int
    sku_active: bool
    product_active: bool
    shop_active: bool

    @property
    def for_sale(self) -> bool:
        return self.sku_active and self.product_active and self.shop_active


def skus_by_ids(db: Session, sku_ids: Iterable[int]) -> dict[int, SkuInfo]:
    """SKU facts for every id that exists (unknown ids are simply absent)."""
    ids = sorted(set(sku_ids))
    if not ids:
        return {}
    # One round trip: whether the shop is active comes with the row (a sub-select of the shops service).
    # Only the columns a SkuInfo needs: a checkout asks for this on every line, and loading the whole
    # product (its description and images) cost more than the query.
    shop_active = Product.shop_id.in_(shops_service.active_shop_ids_query()).label("shop_active")
    rows = db.execute(
        select(
            Sku.id,
            Sku.product_id,
            Product.shop_id,
            Product.category_id,
            Sku.code,
            Product.title_zh,
            Product.title_en,
            Sku.attributes,
            Sku.price_fen,
            Sku.stock,
            Sku.is_active,
            Product.status,
            shop_active,
        )
        .join(Product, Product.id == Sku.product_id)
        .where(Sku.id.in_(ids))
    ).all()
    out: dict[int, SkuInfo] = {}
    for row in rows:
        out[row[0]] = SkuInfo(
            sku_id=row[0],
            product_id=row[1],
            shop_id=row[2],
            category_id=row[3],
            code=row[4],
            title_zh=row[5],
            title_en=row[6],
            attributes=dict(row[7] or {}),
            price_fen=row[8],
            stock=row[9],
            sku_active=row[10],
            product_active=row[11] == ProductStatus.active,
            shop_active=bool(row[12]),
        )
    return out


def sku_for_sale(db: Session, sku_id: int, *, field: str = "sku_id") -> SkuInfo:
    """The SKU if it can be bought now: 404 ``sku_not_found`` / 409 ``not_for_sale`` otherwise."""
    info = skus_by_ids(db, [sku_id]).get(sku_id)
    if info is None:
        raise NotFound("no such SKU", code="sku_not_found", field=field, details={"sku_id": sku_id})
    ensure_for_sale(info, field=field)
    return info


def ensure_for_sale(info: SkuInfo, *, field: str = "sku_id") -> None:
    if info.for_sale:
        return
    if not info.shop_active:
        why = "the shop is suspended"
    elif not info.product_active:
        why = "the product is not on sale"
    else:
        why = "this SKU is not on sale"
    raise Conflict(why, code="not_for_sale", field=field, details={"sku_id": info.sku_id})


def platform_fee_bps_by_category(
    db: Session, category_ids: Iterable[int], settings: Settings | None = None
) -> dict[int, int]:
    """The platform fee rate of each category (:func:`catalog.service.effective_platform_fee_bps`)."""
    return catalog_service.effective_platform_fee_bps_many(db, category_ids, settings)
