"""Categories, brands, products (SPU) and their SKUs."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from zhongcao import clock
from zhongcao.db import Base, BigId, IdMixin, TimestampMixin, json_type, str_enum


class ProductStatus(enum.StrEnum):
    draft = "draft"
    active = "active"  # on sale
    delisted = "delisted"


class Category(IdMixin, Base):
    """Two levels: a top category (parent_id NULL) and its leaves; products attach to leaves."""

    __tablename__ = "categories"
    __table_args__ = (
        CheckConstraint(
            "platform_fee_bps IS NULL OR (platform_fee_bps BETWEEN 0 AND 10000)", name="fee_bps_range"
        ),
    )

    parent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("categories.id"), index=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name_zh: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(80))
    # Platform fee for products in this category; NULL falls back to the parent, then the setting.
    platform_fee_bps: Mapped[int | None]


class Brand(IdMixin, Base):
    __tablename__ = "brands"

    name_zh: Mapped[str] = mapped_column(String(80), unique=True)
    name_en: Mapped[str] = mapped_column(String(120))


class Product(IdMixin, TimestampMixin, Base):
    __tablename__ = "products"

    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("shops.id"), index=True)
    category_id: Mapped[int] = mapped_column(BigId, ForeignKey("categories.id"), index=True)
    brand_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("brands.id"), index=True)
    title_zh: Mapped[str] = mapped_column(String(120))
    title_en: Mapped[str] = mapped_column(String(200))
    description_zh: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    # Facts about the product as a whole, shown on its page: {"材质": "棉", "产地": "杭州"}.
    attributes: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)
    # The SKU matrix's axes, at most two, in the order the picker shows them:
    # [{"name": "颜色", "values": ["黑色", "白色"]}, {"name": "尺码", "values": ["S", "M", "L"]}].
    options: Mapped[list[Any]] = mapped_column(json_type(), default=list)
    status: Mapped[ProductStatus] = mapped_column(
        str_enum(ProductStatus, "product_status"), default=ProductStatus.active, index=True
    )
    updated_at: Mapped[datetime] = mapped_column(
        default=lambda: clock.now(), onupdate=lambda: clock.now(), index=True
    )

    skus: Mapped[list[Sku]] = relationship(back_populates="product", order_by="Sku.id")
    images: Mapped[list[ProductImage]] = relationship(
        order_by="ProductImage.position", cascade="all, delete-orphan"
    )


class ProductImage(IdMixin, Base):
    """One of a product's pictures: an image upload (media domain), in the order shown; position 0 is
    the main image. The row only points at the upload; the media domain owns the stored files."""

    __tablename__ = "product_images"
    __table_args__ = (
        UniqueConstraint("product_id", "position", name="uq_product_images_position"),
        CheckConstraint("position >= 0", name="position_nonneg"),
    )

    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("products.id", ondelete="CASCADE"), index=True)
    media_id: Mapped[int] = mapped_column(BigId, ForeignKey("media.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]


class Sku(IdMixin, Base):
    """A buyable variant. ``stock`` is what can still be sold: checkout reserves by decrementing it."""

    __tablename__ = "skus"
    __table_args__ = (
        CheckConstraint("stock >= 0", name="stock_nonneg"),
        CheckConstraint("price_fen > 0", name="price_positive"),
        CheckConstraint("sold_count >= 0", name="sold_nonneg"),
        UniqueConstraint("product_id", "code", name="uq_skus_product_code"),
    )

    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("products.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    # e.g. {"colour": "黑色", "size": "M"}
    attributes: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)
    price_fen: Mapped[int]
    stock: Mapped[int] = mapped_column(default=0)
    sold_count: Mapped[int] = mapped_column(default=0)
    is_active: Mapped[bool] = mapped_column(default=True)
    # The platform warehouse (云仓, zhongcao.warehouse) that holds this SKU's units, by its code, from
    # the first inbound it received: ``stock`` is then what the warehouse holds, and the shop cannot
    # edit it by hand (only inbounds add units). None: the shop ships it and keeps its stock.
    stock_held_by: Mapped[str | None] = mapped_column(String(16), default=None)
    # Set by every UPDATE through SQLAlchemy (ORM or Core, e.g. checkout's stock moves): the search
    # index's change feed reads it to pick up price and stock changes without a rebuild.
    updated_at: Mapped[datetime | None] = mapped_column(
        default=lambda: clock.now(), onupdate=lambda: clock.now(), index=True
    )

    product: Mapped[Product] = relationship(back_populates="skus")
