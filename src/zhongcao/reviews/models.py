"""Reviews of order items. Only the first review of an item counts; later ones are follow-ups."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Index, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from zhongcao.db import Base, BigId, IdMixin, TimestampMixin, json_type


class Review(IdMixin, TimestampMixin, Base):
    """Only the first review of an order item counts (``is_first``); later ones are follow-ups."""

    __tablename__ = "reviews"
    __table_args__ = (
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
        Index(
            "uq_reviews_first_per_item",
            "order_item_id",
            unique=True,
            postgresql_where=text("is_first"),
            sqlite_where=text("is_first"),
        ),
    )

    order_item_id: Mapped[int] = mapped_column(BigId, ForeignKey("order_items.id"), index=True)
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id"), index=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("shops.id"), index=True)
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("products.id"), index=True)
    rating: Mapped[int]
    text: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[str]] = mapped_column(json_type(), default=list)
    is_first: Mapped[bool] = mapped_column(default=True)
