"""Flash sales (秒杀): a sale of one SKU's units at a flash price from a start time, and the buyers
it admitted (docs/flash-sales.md).

How the sale's units relate to the SKU's stock: the sale's ``quantity`` is taken off the SKU's
sellable stock when the sale is created (``catalog.stock.try_reserve``), so ordinary checkouts can
no longer sell them and the sale can never sell a unit the SKU does not have. An order written for
an admitted buyer holds one of those units (it takes nothing more from the SKU). When such an order
is cancelled unpaid, commerce gives its unit back to the SKU's stock and, in the same transaction,
the sale takes it back again (``service.take_back_cancelled``), so it goes back on flash sale. When
the sale ends, the units nobody holds go back to the SKU's stock.

``units_taken`` counts the units that admitted buyers hold in PostgreSQL (an order written, unpaid
or paid); the job writer locks the sale row and never lets it pass ``quantity`` (the CHECK is the last
line of defence), whatever Redis said.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from zhongcao.db import Base, BigId, IdMixin, TimestampMixin, json_type, str_enum


class FlashSaleStatus(enum.StrEnum):
    waiting_for_pin = "waiting_for_pin"  # starts when the host pins the product in its live room
    scheduled = "scheduled"  # on sale from ``starts_at``
    ended = "ended"  # ended by the merchant or operator, or past ``ends_at``; unsold units returned


class AdmissionState(enum.StrEnum):
    queued = "queued"  # admitted: the writer has not written the order yet
    ordered = "ordered"  # the order is written and waits for payment
    paid = "paid"
    expired = "expired"  # not paid within the payment window: the unit went back to the sale
    rejected = "rejected"  # PostgreSQL had no unit left for it (the sale sold out or ended)
    failed = "failed"  # the order could not be written (the product went off sale)


# States that hold one of the sale's units.
HOLDING = (AdmissionState.queued, AdmissionState.ordered, AdmissionState.paid)
RELEASED = (AdmissionState.expired, AdmissionState.rejected, AdmissionState.failed)


class FlashSale(IdMixin, TimestampMixin, Base):
    __tablename__ = "flash_sales"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("price_fen > 0", name="price_positive"),
        CheckConstraint("per_buyer_limit > 0", name="limit_positive"),
        CheckConstraint("payment_window_minutes > 0", name="window_positive"),
        CheckConstraint("units_taken >= 0 AND units_taken <= quantity", name="units_within_quantity"),
        Index("ix_flash_sales_status", "status", "starts_at"),
    )

    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("shops.id"), index=True)
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("products.id"), index=True)
    sku_id: Mapped[int] = mapped_column(BigId, ForeignKey("skus.id"), index=True)
    title: Mapped[str] = mapped_column(String(80))
    price_fen: Mapped[int]
    quantity: Mapped[int]
    per_buyer_limit: Mapped[int]  # tickets per buyer, and per shipping address, for the whole sale
    payment_window_minutes: Mapped[int]
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]
    status: Mapped[FlashSaleStatus] = mapped_column(str_enum(FlashSaleStatus, "flash_sale_status"))
    # The live room whose host starts the sale by pinning the product (and where it is shown).
    live_content_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("content.id"))
    campaign_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("campaigns.id"))
    created_by: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    units_taken: Mapped[int] = mapped_column(default=0)
    ended_at: Mapped[datetime | None]
    # Units given back to the SKU's stock when the sale ended (quantity - what buyers held then).
    returned_to_stock: Mapped[int] = mapped_column(default=0)
    # The admission counters' generation: bumped by each rebuild from PostgreSQL; a ticket is recorded
    # only while the generation that admitted it is current (joining.join, service.rebuild).
    counters_generation: Mapped[int] = mapped_column(default=0, server_default="0")


class FlashAdmission(IdMixin, Base):
    """One ticket: a buyer admitted to one unit. ``seq`` is the buyer's 1st, 2nd... ticket of the sale,
    so (sale, user, seq) is unique and the writer can run any number of times."""

    __tablename__ = "flash_admissions"
    __table_args__ = (
        UniqueConstraint("sale_id", "user_id", "seq", name="uq_flash_admissions_sale_user_seq"),
        CheckConstraint("seq > 0", name="seq_positive"),
        Index("ix_flash_admissions_state", "state", "sale_id"),
    )

    sale_id: Mapped[int] = mapped_column(BigId, ForeignKey("flash_sales.id"), index=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    seq: Mapped[int]
    state: Mapped[AdmissionState] = mapped_column(str_enum(AdmissionState, "flash_admission_state"))
    admitted_at: Mapped[datetime]
    address_key: Mapped[str] = mapped_column(String(64))  # a digest of the shipping address
    shipping_address: Mapped[dict[str, Any]] = mapped_column(json_type())
    content_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("content.id"))  # the live room
    checkout_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("checkouts.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("orders.id"), unique=True)
    written_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # The Idempotency-Key of the request that got it: a rebuild gives the counters their request keys
    # back, so a retry after a Redis restart still gets this ticket, not "limit reached".
    request_key: Mapped[str | None] = mapped_column(String(64), default=None)
    # A released ticket's unit has been given back to the admission counters (Redis / in-process).
    counters_returned: Mapped[bool] = mapped_column(default=False)

    @property
    def ticket(self) -> str:
        return f"{self.sale_id}:{self.user_id}:{self.seq}"
