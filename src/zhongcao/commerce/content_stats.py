"""A live room's takings as its host watches them: orders, GMV, units and the best-selling products of
the paid lines attributed to the room (``order_items.content_id``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zhongcao.commerce.models import Order, OrderItem

# A session's lines are among the newest: the read is kept to a primary-key range of this many lines
# however large the table grows (as the room's ticker does; the column has no index of its own).
RECENT_LINES = 100_000
TOP_PRODUCTS = 5


@dataclass(frozen=True)
class ProductTakings:
    product_id: int
    title_zh: str
    title_en: str
    units: int
    gmv_fen: int


@dataclass(frozen=True)
class ContentTakings:
    orders: int = 0
    units: int = 0
    gmv_fen: int = 0  # what buyers paid for the goods (before refunds, without shipping)
    top_products: list[ProductTakings] = field(default_factory=list)


def content_takings(db: Session, content_id: int, *, recent_lines: int = RECENT_LINES) -> ContentTakings:
    newest = db.scalar(select(func.max(OrderItem.id))) or 0
    paid_lines = (
        select(OrderItem.order_id, OrderItem.product_id, OrderItem.quantity, OrderItem.paid_fen)
        .join(Order, Order.id == OrderItem.order_id)
        .where(
            OrderItem.id > newest - recent_lines,
            OrderItem.content_id == content_id,
            Order.paid_at.is_not(None),
        )
        .subquery()
    )
    orders, units, gmv = db.execute(
        select(
            func.count(func.distinct(paid_lines.c.order_id)),
            func.coalesce(func.sum(paid_lines.c.quantity), 0),
            func.coalesce(func.sum(paid_lines.c.paid_fen), 0),
        )
    ).one()
    top = db.execute(
        select(
            paid_lines.c.product_id,
            func.sum(paid_lines.c.quantity).label("units"),
            func.sum(paid_lines.c.paid_fen).label("gmv"),
        )
        .group_by(paid_lines.c.product_id)
        .order_by(func.sum(paid_lines.c.paid_fen).desc(), paid_lines.c.product_id)
        .limit(TOP_PRODUCTS)
    ).all()
    titles = dict(
        (pid, (zh, en))
        for pid, zh, en in db.execute(
            select(OrderItem.product_id, OrderItem.title_zh, OrderItem.title_en)
            .where(OrderItem.product_id.in_([r[0] for r in top]), OrderItem.content_id == content_id)
            .order_by(OrderItem.id)
        )
    )
    return ContentTakings(
        orders=int(orders),
        units=int(units),
        gmv_fen=int(gmv),
        top_products=[
            ProductTakings(pid, *titles.get(pid, ("", "")), units=int(u), gmv_fen=int(g)) for pid, u, g in top
        ],
    )
