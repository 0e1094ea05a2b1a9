"""Parcels on their way and what their carriers said about them.

A :class:`Parcel` is one shipment as the carrier sees it: the carrier's code and tracking number,
where it goes, and, for a parcel the simulated carrier drives, its plan (every event with its time)
and the next step due. A :class:`TrackingEvent` is one scan or report, from the simulated carrier or
a real carrier's webhook; ``(carrier_code, external_id)`` is unique, which makes every event
idempotent (a webhook sent twice, a job run twice, record it once).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from zhongcao.db import Base, BigId, IdMixin, TimestampMixin, json_type, str_enum
from zhongcao.logistics.carriers import Kind


class ParcelStatus(enum.StrEnum):
    awaiting_pickup = "awaiting_pickup"
    in_transit = "in_transit"
    out_for_delivery = "out_for_delivery"
    delivered = "delivered"
    lost = "lost"
    returned = "returned"  # sent back to the shop


class TrackingSource(enum.StrEnum):
    simulated = "simulated"  # the platform's simulated carrier (the job, or the demo world)
    webhook = "webhook"  # a real carrier's signed report


class Parcel(IdMixin, TimestampMixin, Base):
    __tablename__ = "parcels"
    __table_args__ = (Index("ix_parcels_carrier_tracking", "carrier_code", "tracking_number"),)

    shipment_id: Mapped[int] = mapped_column(BigId, ForeignKey("shipments.id"), unique=True)
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id"), unique=True)
    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("shops.id"), index=True)
    carrier_code: Mapped[str] = mapped_column(String(16))
    tracking_number: Mapped[str] = mapped_column(String(64))
    # The carrier_updates job writes its plan's events. False: a real carrier's webhook reports it, or
    # (with a plan) the demo world writes the events itself until it releases the parcel.
    simulated: Mapped[bool]
    status: Mapped[ParcelStatus] = mapped_column(str_enum(ParcelStatus, "parcel_status"))
    origin_province: Mapped[str | None] = mapped_column(String(12))
    destination_province: Mapped[str | None] = mapped_column(String(12))
    distance_km: Mapped[int | None]
    # The simulated carrier's plan: [{"kind", "at", "zh", "en"}, ...]; events before next_step are written.
    plan: Mapped[list[Any]] = mapped_column(json_type(), default=list)
    next_step: Mapped[int] = mapped_column(default=0)
    next_due_at: Mapped[datetime | None] = mapped_column(index=True)
    expected_delivery_at: Mapped[datetime | None]
    delayed_at: Mapped[datetime | None]  # the carrier reported a delay
    lost_at: Mapped[datetime | None]  # lost, or returned to the shop
    # When the buyer's refund claim (after-sales cases) was opened for a lost or returned parcel.
    claim_opened_at: Mapped[datetime | None]
    last_event_at: Mapped[datetime | None]


class TrackingEvent(IdMixin, TimestampMixin, Base):
    __tablename__ = "tracking_events"
    __table_args__ = (
        UniqueConstraint("carrier_code", "external_id", name="uq_tracking_events_carrier_external_id"),
    )

    parcel_id: Mapped[int] = mapped_column(BigId, ForeignKey("parcels.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id"), index=True)
    carrier_code: Mapped[str] = mapped_column(String(16))
    kind: Mapped[Kind] = mapped_column(str_enum(Kind, "tracking_kind"))
    location_zh: Mapped[str] = mapped_column(String(120), default="")  # as the carrier wrote it
    location_en: Mapped[str | None] = mapped_column(String(160))
    description: Mapped[str] = mapped_column(String(200), default="")
    at: Mapped[datetime]
    source: Mapped[TrackingSource] = mapped_column(str_enum(TrackingSource, "tracking_source"))
    external_id: Mapped[str] = mapped_column(String(80))
