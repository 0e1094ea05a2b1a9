"""Carts, checkouts, orders (one per shop), payments, refunds, shipments, after-sales and reviews.

Money columns are integer fen. Every order reconciles (see docs/money.md):

    item_total - shop_discount - platform_discount - campaign_subsidy + shipping = paid
    paid + platform_discount + campaign_subsidy = shop_settlement + platform_fee + commission
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from zhongcao.db import Base, BigId, IdMixin, TimestampMixin, json_type, str_enum


class Channel(enum.StrEnum):
    short_video = "short_video"
    live = "live"
    search = "search"
    mall = "mall"
    shop_page = "shop_page"
    product_page = "product_page"
    other = "other"
    showcase = "showcase"  # a creator's showcase (商品橱窗): the account is the creator, no content


class Carrier(enum.StrEnum):
    """FACT: which force carried the sale."""

    field = "F"  # the shop's own accounts and pages
    alliance = "A"  # affiliated creators
    campaign = "C"  # platform campaigns and subsidies
    top_kol = "T"  # top KOLs


class CheckoutStatus(enum.StrEnum):
    pending_payment = "pending_payment"
    paid = "paid"
    cancelled = "cancelled"  # by the buyer, or expired unpaid


class OrderStatus(enum.StrEnum):
    created = "created"
    paid = "paid"
    shipped = "shipped"
    delivered = "delivered"
    completed = "completed"
    cancelled = "cancelled"


class PaymentStatus(enum.StrEnum):
    pending = "pending"
    authorized = "authorized"
    captured = "captured"
    failed = "failed"
    voided = "voided"
    refunded = "refunded"  # fully
    partially_refunded = "partially_refunded"


class Cart(IdMixin, TimestampMixin, Base):
    __tablename__ = "carts"

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), unique=True)

    items: Mapped[list[CartItem]] = relationship(
        back_populates="cart", order_by="CartItem.id", cascade="all, delete-orphan"
    )


class AttributionColumns:
    """Where a purchase came from. Set at add-to-cart / checkout, frozen once the order is paid."""

    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "channel"), default=Channel.other)
    content_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("content.id"))
    account_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("accounts.id"))
    campaign_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("campaigns.id"))


class CartItem(IdMixin, TimestampMixin, AttributionColumns, Base):
    __tablename__ = "cart_items"
    __table_args__ = (
        UniqueConstraint("cart_id", "sku_id", name="uq_cart_items_cart_sku"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    cart_id: Mapped[int] = mapped_column(BigId, ForeignKey("carts.id", ondelete="CASCADE"), index=True)
    sku_id: Mapped[int] = mapped_column(BigId, ForeignKey("skus.id"))
    quantity: Mapped[int]

    cart: Mapped[Cart] = relationship(back_populates="items")


class Checkout(IdMixin, TimestampMixin, Base):
    """One buyer action that produced one order per shop and is paid with one payment."""

    __tablename__ = "checkouts"
    __table_args__ = (CheckConstraint("total_fen >= 0", name="total_nonneg"),)

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    status: Mapped[CheckoutStatus] = mapped_column(str_enum(CheckoutStatus, "checkout_status"), index=True)
    total_fen: Mapped[int]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    paid_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]

    orders: Mapped[list[Order]] = relationship(back_populates="checkout", order_by="Order.id")


class Order(IdMixin, TimestampMixin, Base):
    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint(
            "item_total_fen >= 0 AND shop_discount_fen >= 0 AND platform_discount_fen >= 0",
            name="money_nonneg",
        ),
        CheckConstraint(
            "campaign_subsidy_fen >= 0 AND shipping_fen >= 0 AND paid_fen >= 0", name="money_nonneg2"
        ),
        CheckConstraint("refunded_fen >= 0 AND refunded_fen <= paid_fen", name="refund_within_paid"),
        CheckConstraint(
            "item_total_fen - shop_discount_fen - platform_discount_fen - campaign_subsidy_fen + shipping_fen = paid_fen",
            name="paid_reconciles",
        ),
        CheckConstraint(
            "paid_fen + platform_discount_fen + campaign_subsidy_fen = shop_settlement_fen + platform_fee_fen + commission_fen",
            name="settlement_reconciles",
        ),
        Index("ix_orders_shop_status", "shop_id", "status"),
    )

    checkout_id: Mapped[int] = mapped_column(BigId, ForeignKey("checkouts.id"), index=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("shops.id"), index=True)
    status: Mapped[OrderStatus] = mapped_column(str_enum(OrderStatus, "order_status"), index=True)

    item_total_fen: Mapped[int]
    shop_discount_fen: Mapped[int] = mapped_column(default=0)  # shop-funded coupon
    platform_discount_fen: Mapped[int] = mapped_column(default=0)  # platform-funded coupon
    campaign_subsidy_fen: Mapped[int] = mapped_column(default=0)  # platform-funded campaign subsidy
    shipping_fen: Mapped[int] = mapped_column(default=0)
    paid_fen: Mapped[int]  # what the buyer pays for this order
    platform_fee_fen: Mapped[int] = mapped_column(default=0)
    commission_fen: Mapped[int] = mapped_column(default=0)  # affiliate commission owed to creators
    shop_settlement_fen: Mapped[int]  # what the shop receives
    refunded_fen: Mapped[int] = mapped_column(default=0)

    # Snapshot of where the parcel goes: {"name", "phone", "province", "city", "district", "line"}.
    shipping_address: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)
    shop_coupon_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("user_coupons.id"))
    platform_coupon_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("user_coupons.id"))

    paid_at: Mapped[datetime | None]
    shipped_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(String(40))

    checkout: Mapped[Checkout] = relationship(back_populates="orders")
    items: Mapped[list[OrderItem]] = relationship(back_populates="order", order_by="OrderItem.id")

    @property
    def platform_subsidy_fen(self) -> int:
        return self.platform_discount_fen + self.campaign_subsidy_fen


class OrderItem(IdMixin, AttributionColumns, Base):
    __tablename__ = "order_items"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(
            "refunded_quantity >= 0 AND refunded_quantity <= quantity", name="refunded_qty_range"
        ),
        CheckConstraint("refunded_fen >= 0 AND refunded_fen <= paid_fen", name="refund_within_paid"),
        CheckConstraint(
            "line_total_fen - shop_discount_fen - platform_discount_fen - campaign_subsidy_fen = paid_fen",
            name="paid_reconciles",
        ),
    )

    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("shops.id"), index=True)
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("products.id"), index=True)
    sku_id: Mapped[int] = mapped_column(BigId, ForeignKey("skus.id"), index=True)
    title_zh: Mapped[str] = mapped_column(String(120))  # snapshot at purchase
    title_en: Mapped[str] = mapped_column(String(200))
    sku_attributes: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)
    unit_price_fen: Mapped[int]
    quantity: Mapped[int]
    line_total_fen: Mapped[int]
    shop_discount_fen: Mapped[int] = mapped_column(default=0)
    platform_discount_fen: Mapped[int] = mapped_column(default=0)
    campaign_subsidy_fen: Mapped[int] = mapped_column(default=0)
    paid_fen: Mapped[int]  # goods only; shipping stays on the order
    platform_fee_bps: Mapped[int] = mapped_column(default=0)
    platform_fee_fen: Mapped[int] = mapped_column(default=0)
    affiliate_plan_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("affiliate_plans.id"))
    commission_bps: Mapped[int] = mapped_column(default=0)
    commission_fen: Mapped[int] = mapped_column(default=0)
    carrier: Mapped[Carrier] = mapped_column(str_enum(Carrier, "carrier"), default=Carrier.field)
    attribution_frozen_at: Mapped[datetime | None]
    refunded_fen: Mapped[int] = mapped_column(default=0)
    refunded_quantity: Mapped[int] = mapped_column(default=0)

    order: Mapped[Order] = relationship(back_populates="items")


class Payment(IdMixin, TimestampMixin, Base):
    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount_fen >= 0", name="amount_nonneg"),
        CheckConstraint("refunded_fen >= 0 AND refunded_fen <= amount_fen", name="refund_within_amount"),
    )

    checkout_id: Mapped[int] = mapped_column(BigId, ForeignKey("checkouts.id"), index=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    amount_fen: Mapped[int]
    status: Mapped[PaymentStatus] = mapped_column(str_enum(PaymentStatus, "payment_status"))
    provider: Mapped[str] = mapped_column(String(32), default="simulated")
    provider_ref: Mapped[str | None] = mapped_column(String(64), index=True)
    failure_code: Mapped[str | None] = mapped_column(String(40))
    refunded_fen: Mapped[int] = mapped_column(default=0)
    captured_at: Mapped[datetime | None]
    # The hash of the device it was paid from (zhongcao.devices), for integrity's order detectors;
    # None when the client named none.
    device_key: Mapped[int | None] = mapped_column(BigInteger)


class Refund(IdMixin, TimestampMixin, Base):
    __tablename__ = "refunds"
    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount_positive"),)

    payment_id: Mapped[int] = mapped_column(BigId, ForeignKey("payments.id"), index=True)
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id"), index=True)
    order_item_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("order_items.id"), index=True)
    after_sale_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("after_sales.id"), index=True)
    amount_fen: Mapped[int]
    provider_ref: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(40))  # cancel / after_sale


class SimulatedCharge(IdMixin, TimestampMixin, Base):
    """The built-in payment provider's own ledger (it stands in for an external PSP's records)."""

    __tablename__ = "sim_provider_charges"
    __table_args__ = (
        CheckConstraint("captured_fen >= 0 AND captured_fen <= amount_fen", name="capture_within_amount"),
        CheckConstraint("refunded_fen >= 0 AND refunded_fen <= captured_fen", name="refund_within_capture"),
    )

    ref: Mapped[str] = mapped_column(String(64), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    payment_method: Mapped[str] = mapped_column(String(64))
    amount_fen: Mapped[int]
    captured_fen: Mapped[int] = mapped_column(default=0)
    refunded_fen: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(20))  # authorized / captured / declined / voided
    decline_code: Mapped[str | None] = mapped_column(String(40))


class SimulatedRefund(IdMixin, TimestampMixin, Base):
    __tablename__ = "sim_provider_refunds"

    ref: Mapped[str] = mapped_column(String(64), unique=True)
    charge_ref: Mapped[str] = mapped_column(String(64), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    amount_fen: Mapped[int]


class IdempotencyRecord(IdMixin, TimestampMixin, Base):
    """A replayable response for (user, scope, key). A replay with a different body is refused."""

    __tablename__ = "idempotency_records"
    __table_args__ = (
        UniqueConstraint("user_id", "scope", "key", name="uq_idempotency_records_user_scope_key"),
    )

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(128))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None]
    response: Mapped[Any | None] = mapped_column(json_type())
    # The process running the request while it is in flight ("host:pid:start"): a retry takes over
    # at once when that process is gone (commerce/idempotency.py).
    holder: Mapped[str | None] = mapped_column(String(120))


class Shipment(IdMixin, TimestampMixin, Base):
    __tablename__ = "shipments"
    __table_args__ = (
        # A carrier's webhook names the parcel by carrier and tracking number; the carrier job reads
        # the undelivered ones.
        Index("ix_shipments_carrier_tracking", "carrier_name", "tracking_number"),
        Index("ix_shipments_delivered_at", "delivered_at"),
    )

    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id"), unique=True)
    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("shops.id"), index=True)
    # The carrier's code (zhongcao.logistics.carriers: sf, zto ...); free text in shipments from
    # before the registry.
    carrier_name: Mapped[str] = mapped_column(String(40))
    tracking_number: Mapped[str] = mapped_column(String(64))
    # Shipped from the platform's warehouse: logistics faults then don't count against the shop.
    platform_warehouse: Mapped[bool] = mapped_column(default=False)
    shipped_at: Mapped[datetime]  # handed over by the merchant (order marked shipped)
    picked_up_at: Mapped[datetime | None]  # scanned by the carrier
    delivered_at: Mapped[datetime | None]
