"""The north star's raw material: NPS answers, and the shop scores computed from the records."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from zhongcao.db import Base, BigId, IdMixin, TimestampMixin, json_type, str_enum


class NpsReason(enum.StrEnum):
    product = "product"
    logistics = "logistics"
    service = "service"
    price = "price"
    content = "content"


class NpsTrigger(enum.StrEnum):
    after_delivery = "after_delivery"
    after_after_sale = "after_after_sale"
    general = "general"


class NpsResponse(IdMixin, TimestampMixin, Base):
    __tablename__ = "nps_responses"
    __table_args__ = (
        CheckConstraint("score BETWEEN 0 AND 10", name="score_range"),
        # Backstops for the survey rate limits: one answer per delivered order, one per after-sales case.
        Index(
            "uq_nps_responses_after_delivery_order",
            "order_id",
            unique=True,
            postgresql_where=text("trigger = 'after_delivery'"),
            sqlite_where=text("trigger = 'after_delivery'"),
        ),
        Index(
            "uq_nps_responses_after_sale",
            "after_sale_id",
            unique=True,
            postgresql_where=text("after_sale_id IS NOT NULL"),
            sqlite_where=text("after_sale_id IS NOT NULL"),
        ),
    )

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    score: Mapped[int]
    reasons: Mapped[list[str]] = mapped_column(json_type(), default=list)
    text: Mapped[str] = mapped_column(Text, default="")
    trigger: Mapped[NpsTrigger] = mapped_column(
        str_enum(NpsTrigger, "nps_trigger"), default=NpsTrigger.general
    )
    order_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("orders.id"), index=True)
    shop_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("shops.id"), index=True)
    after_sale_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("after_sales.id"))


class ShopScore(IdMixin, Base):
    """A computed shop experience score (5-point scale in hundredths). Newest row per shop is current."""

    __tablename__ = "shop_scores"

    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("shops.id"), index=True)
    computed_at: Mapped[datetime] = mapped_column(index=True)
    score_centi: Mapped[int | None]  # NULL when the shop has too few orders to be scored
    product_centi: Mapped[int | None]
    logistics_centi: Mapped[int | None]
    service_centi: Mapped[int | None]
    order_count: Mapped[int] = mapped_column(default=0)
    details: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)
    source: Mapped[str] = mapped_column(String(20), default="computed")
