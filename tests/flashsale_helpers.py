"""Flash-sale test helpers: a shop with a product on sale, a sale on its SKU, buyers, the job writer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from tests.commerce_helpers import ADDRESS
from tests.factories import ShopBundle, make_product, make_shop
from zhongcao import clock
from zhongcao.catalog.models import Product, Sku
from zhongcao.config import Settings
from zhongcao.flashsales import service, writer
from zhongcao.flashsales.models import FlashSale


@dataclass
class SaleWorld:
    shop: ShopBundle
    product: Product
    sku: Sku
    sale: FlashSale


def make_sale(
    db: Session,
    settings: Settings,
    *,
    quantity: int = 3,
    stock: int = 10,
    limit: int = 1,
    starts_at: datetime | None = None,
    window: int = 15,
    **extra: Any,
) -> SaleWorld:
    shop = make_shop(db)
    product = make_product(db, shop.shop, stock=stock, price_fen=9900)
    sku = product.skus[0]
    sale = service.create_sale(
        db,
        shop_id=shop.shop.id,
        created_by=shop.owner.id,
        new=service.NewSale(
            sku_id=sku.id,
            title="秒杀",
            price_fen=1990,
            quantity=quantity,
            per_buyer_limit=limit,
            payment_window_minutes=window,
            starts_at=starts_at or clock.now() - timedelta(seconds=1),
            **extra,
        ),
        settings=settings,
    )
    return SaleWorld(shop, product, sku, sale)


def address(n: int) -> dict[str, str]:
    """A distinct address per buyer (the per-address limit counts the place)."""
    return {**ADDRESS, "line": f"文三路 {n} 号"}


def write_all(db: Session, settings: Settings) -> dict[str, int]:
    return writer.write_batch(db, settings, clock.now())
