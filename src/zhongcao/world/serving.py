"""What the demo world does when it starts serving: its clock is now, not when the world was built.

The simulated month ends at the last midnight; the demo is served hours or days later. So, each time
``zhongcao demo`` starts serving, the good shop goes live (a session scheduled for now, through the
content service, with its products anchored and one pinned), ending its own earlier session if that
has run longer than a session does; and the demo shopper, who has just picked something and not paid
yet, has an order awaiting payment (which the payment-timeout job cancels if it stays unpaid, as for
anyone). Nothing is written that a merchant or a shopper could not do through the app.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
from sqlalchemy.orm import Session

from zhongcao import clock
from zhongcao.catalog import service as catalog_service
from zhongcao.commerce import checkout as checkout_service
from zhongcao.commerce import service as commerce_service
from zhongcao.commerce.models import Channel, OrderStatus
from zhongcao.commerce.schemas import AttributionIn, CheckoutCreate, CheckoutLineIn
from zhongcao.content import reads as content_reads
from zhongcao.content import service as content_service
from zhongcao.content.models import ContentKind
from zhongcao.db import Database
from zhongcao.errors import DomainError
from zhongcao.pagination import PageParams
from zhongcao.world import buyers, vocab
from zhongcao.world.demo_accounts import DEMO_SHOPPER, GOOD_SHOP
from zhongcao.world.service import load_latent

SESSION = timedelta(hours=2)  # a live session runs this long (then the next serve starts a new one)
ANCHORS = 6


@dataclass(frozen=True)
class Serving:
    live_content_id: int | None
    awaiting_payment_order_id: int | None


def prepare(database: Database, world_path: Path, seed: int) -> Serving:
    """Put the world's demo logins in the present: a live room on air, an order awaiting payment."""
    latent = load_latent(world_path)
    return Serving(_go_live(database, latent), _order_to_pay(database, latent, seed))


def _go_live(database: Database, latent: dict[str, np.ndarray]) -> int | None:
    account_id = int(latent["shop_account_ids"][GOOD_SHOP])
    now = clock.now()
    with database.session() as db:
        on_air = content_service.content_by_ids(db, content_reads.live_rooms_on_air(db))
        for room in on_air.values():
            if room.account_id != account_id:
                continue
            started = room.started_at
            if started is not None and started.tzinfo is None:
                started = started.replace(tzinfo=now.tzinfo)
            if started is not None and now - started < SESSION:
                return room.id  # still within its session
            content_service.end_live(db, room.id)
        products = _on_sale(db, latent, GOOD_SHOP)[:ANCHORS]
        if not products:
            return None
        first = catalog_service.product_briefs(db, products[:1]).get(products[0])
        kind_zh = first.title_zh.split(" ")[-1] if first else "好物"
        kind_en = first.title_en.split(" ")[-1] if first else "finds"
        zh, en = vocab.LIVE_TEMPLATES[0]
        topic = vocab.TOPICS["makeup"]
        room = content_service.publish_content(
            db,
            account_id,
            kind=ContentKind.live,
            title_zh=zh.format(topic=topic[0], product=kind_zh),
            title_en=en.format(topic=topic[1], product=kind_en),
            topic="makeup",
            scheduled_at=now + timedelta(minutes=1),  # announced for now; the host goes live at once
            anchors=products,
        )
        content_service.start_live(db, room.id)
        content_service.pin_product(db, room.id, products[0])
        db.commit()
        return room.id


def _on_sale(db: Session, latent: dict[str, np.ndarray], shop: int) -> list[int]:
    """The shop's products that are on sale with stock, cheapest SKU first, in id order."""
    ids = latent["product_ids"][latent["product_shop_index"] == shop].tolist()
    snap = catalog_service.catalogue_snapshot(db)
    sellable = {p for p, sku in zip(snap.product_ids, snap.sku_ids, strict=True) if sku >= 0}
    return [int(p) for p in ids if p in sellable]


def _order_to_pay(database: Database, latent: dict[str, np.ndarray], seed: int) -> int | None:
    user_id = int(latent["user_ids"][DEMO_SHOPPER])
    with database.session() as db:
        waiting, _ = commerce_service.list_buyer_orders(
            db, user_id, PageParams(limit=1), status=OrderStatus.created
        )
        if waiting:
            return waiting[0].id
        snap = catalog_service.catalogue_snapshot(db)
        sku_of = dict(zip(snap.product_ids, snap.sku_ids, strict=True))
        products = [p for p in _on_sale(db, latent, GOOD_SHOP) if sku_of.get(p, -1) >= 0]
        if not products:
            return None
        request = CheckoutCreate(
            items=[
                CheckoutLineIn(
                    sku_id=sku_of[products[len(products) // 2]],
                    quantity=1,
                    attribution=AttributionIn(channel=Channel.mall),
                )
            ],
            shipping_address=buyers.shipping(buyers.buyer(seed, user_id)),
        )
        try:
            checkout = checkout_service.place_checkout(db, user_id, request)
        except DomainError:  # sold out since, say: the shopper has nothing waiting this time
            db.rollback()
            return None
        return checkout.orders[0].id if checkout.orders else None
