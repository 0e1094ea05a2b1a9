"""The platform warehouse (云仓): the regional warehouses, the SKUs they hold for shops, the inbound
shipments that bring those units in, and the fulfilment tasks that send orders out.

How warehouse stock relates to the catalog's sellable stock (docs/warehouse.md):

* A SKU is *enrolled* in one warehouse from the moment its first inbound is received
  (``WarehouseStock`` row). From then on it sells only what that warehouse holds: at enrolment the
  shop's own units still on sale are taken off sale (they stay with the shop, recorded as
  ``withdrawn_at_enrolment``), and every receipt adds the received units to the catalog's sellable
  stock through :mod:`zhongcao.catalog.stock`, so the one oversell guard stays the catalog's.
* ``on_hand`` counts the units on the warehouse's shelves. Checkout still reserves from the
  catalog's ``Sku.stock``; ``on_hand`` goes down when a fulfilment task picks an order's units and
  back up if that order is cancelled before it is handed to the carrier. So ``on_hand - stock`` is
  what paid or unpaid orders hold but the warehouse has not picked yet.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from zhongcao.db import Base, BigId, IdMixin, TimestampMixin, str_enum


class WarehouseCode(enum.StrEnum):
    east = "east"  # 华东仓 · 上海
    south = "south"  # 华南仓 · 广州
    north = "north"  # 华北仓 · 北京


@dataclass(frozen=True)
class Warehouse:
    """One regional platform warehouse. Fixed by configuration (code), not a table: a new region is
    a new enum value and a migration that widens the CHECK."""

    code: WarehouseCode
    name_zh: str
    name_en: str
    address_zh: str
    address_en: str


WAREHOUSES: dict[WarehouseCode, Warehouse] = {
    WarehouseCode.east: Warehouse(
        WarehouseCode.east,
        "华东仓 · 上海",
        "East China · Shanghai",
        "上海市青浦区华新镇云仓路 1 号",
        "1 Yuncang Rd, Huaxin, Qingpu, Shanghai",
    ),
    WarehouseCode.south: Warehouse(
        WarehouseCode.south,
        "华南仓 · 广州",
        "South China · Guangzhou",
        "广东省广州市白云区太和镇云仓大道 8 号",
        "8 Yuncang Ave, Taihe, Baiyun, Guangzhou",
    ),
    WarehouseCode.north: Warehouse(
        WarehouseCode.north,
        "华北仓 · 北京",
        "North China · Beijing",
        "北京市大兴区亦庄经济开发区云仓街 6 号",
        "6 Yuncang St, Yizhuang, Daxing, Beijing",
    ),
}


class InboundStatus(enum.StrEnum):
    draft = "draft"  # the merchant is still filling it in
    in_transit = "in_transit"  # dispatched with the shop's carrier and tracking number
    received = "received"  # the warehouse counted it in (received quantities may differ)
    cancelled = "cancelled"


class FulfilmentStatus(enum.StrEnum):
    queued = "queued"  # a paid order of warehouse stock, waiting to be picked
    picked = "picked"  # its units taken off the shelves (on_hand down)
    packed = "packed"
    handed_over = "handed_over"  # given to the carrier: the order is shipped
    short = "short"  # the shelves did not hold the units: the shop ships it instead
    cancelled = "cancelled"  # the order was cancelled first; picked units went back on the shelf


class WarehouseStock(IdMixin, Base):
    """A SKU enrolled in a warehouse and the units on its shelves."""

    __tablename__ = "warehouse_stock"
    __table_args__ = (
        CheckConstraint("on_hand >= 0", name="on_hand_nonneg"),
        CheckConstraint("withdrawn_at_enrolment >= 0", name="withdrawn_nonneg"),
    )

    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("shops.id"), index=True)
    sku_id: Mapped[int] = mapped_column(BigId, ForeignKey("skus.id"), unique=True)
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("products.id"))
    warehouse: Mapped[WarehouseCode] = mapped_column(str_enum(WarehouseCode, "warehouse_code"))
    on_hand: Mapped[int] = mapped_column(default=0)
    received_total: Mapped[int] = mapped_column(default=0)
    # The shop's own units that were on sale when the SKU moved to the warehouse (taken off sale).
    withdrawn_at_enrolment: Mapped[int] = mapped_column(default=0)
    enrolled_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Inbound(IdMixin, TimestampMixin, Base):
    """A shipment of a shop's goods to a platform warehouse (入仓单)."""

    __tablename__ = "warehouse_inbounds"
    __table_args__ = (Index("ix_warehouse_inbounds_status", "status", "dispatched_at"),)

    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("shops.id"), index=True)
    warehouse: Mapped[WarehouseCode] = mapped_column(str_enum(WarehouseCode, "warehouse_code"))
    status: Mapped[InboundStatus] = mapped_column(str_enum(InboundStatus, "inbound_status"))
    # The shop's own carrier and tracking number for the leg to the warehouse (given at dispatch).
    carrier_name: Mapped[str | None] = mapped_column(String(40))
    tracking_number: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    dispatched_at: Mapped[datetime | None]
    received_at: Mapped[datetime | None]
    # The operator who counted it in; None when the simulated warehouse job received it.
    received_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    cancelled_at: Mapped[datetime | None]

    lines: Mapped[list[InboundLine]] = relationship(
        back_populates="inbound", order_by="InboundLine.id", cascade="all, delete-orphan"
    )

    @property
    def expected_units(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def received_units(self) -> int:
        return sum(line.received_quantity or 0 for line in self.lines)

    @property
    def has_discrepancy(self) -> bool:
        return self.status is InboundStatus.received and any(
            line.received_quantity != line.quantity for line in self.lines
        )


class InboundLine(IdMixin, Base):
    __tablename__ = "warehouse_inbound_lines"
    __table_args__ = (
        UniqueConstraint("inbound_id", "sku_id", name="uq_warehouse_inbound_lines_inbound_sku"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("received_quantity >= 0", name="received_nonneg"),
    )

    inbound_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("warehouse_inbounds.id", ondelete="CASCADE"), index=True
    )
    sku_id: Mapped[int] = mapped_column(BigId, ForeignKey("skus.id"), index=True)
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("products.id"))
    quantity: Mapped[int]  # what the shop says it sent
    received_quantity: Mapped[int | None]  # what the warehouse counted (None until received)

    inbound: Mapped[Inbound] = relationship(back_populates="lines")

    @property
    def discrepancy(self) -> int | None:
        """Counted minus sent (negative: short; positive: more arrived); None until received."""
        return None if self.received_quantity is None else self.received_quantity - self.quantity


class Fulfilment(IdMixin, TimestampMixin, Base):
    """The warehouse's work on one order: pick, pack, hand to the carrier (出库任务)."""

    __tablename__ = "warehouse_fulfilments"
    __table_args__ = (Index("ix_warehouse_fulfilments_status", "status"),)

    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id"), unique=True)
    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("shops.id"), index=True)
    warehouse: Mapped[WarehouseCode] = mapped_column(str_enum(WarehouseCode, "warehouse_code"))
    status: Mapped[FulfilmentStatus] = mapped_column(str_enum(FulfilmentStatus, "fulfilment_status"))
    carrier_code: Mapped[str] = mapped_column(String(40))
    tracking_number: Mapped[str] = mapped_column(String(64))
    picked_at: Mapped[datetime | None]
    packed_at: Mapped[datetime | None]
    handed_over_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]  # cancelled or short
