"""The integrity domain's tables: cases (one per detected block), their members with evidence, the
flags a case raises, and the sanctions that repeat offenders escalate through.

Nothing here deletes or edits a behaviour event: a flag names a subject (the acting user, a video, a
followed account, a product, a shop, an order) and the case that raised it; every counter that must
not be bought (like and follower counts, the feed's and search's features, Compass, the experience
score) leaves flagged subjects out when it is computed. Dismissing a case lifts its flags
(``lifted_at``), which restores everything they discounted at the next computation.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from zhongcao.db import Base, BigId, IdMixin, TimestampMixin, json_type, str_enum
from zhongcao.integrity.blocks import BlockKind, TargetKind


class CaseStatus(enum.StrEnum):
    open = "open"  # detected; its flags discount already; waiting for an operator's review
    confirmed = "confirmed"  # an operator agreed: flags stay, and it counts as an offence
    dismissed = "dismissed"  # an operator disagreed: flags lifted, everything restored


class FlagKind(enum.StrEnum):
    """What a flag's (and a case member's) ``subject_id`` is the id of."""

    user = "user"  # an acting account (users.id): its likes, follows, views, comments, orders
    content = "content"  # a video or live room that received the bought engagement
    account = "account"  # a creator or shop account (accounts.id) that received bought follows
    product = "product"
    shop = "shop"  # a shop whose orders were brushed
    order = "order"  # a brushed order


class Detector(enum.StrEnum):
    batch = "batch"  # the integrity_scan job
    streaming = "streaming"  # the ingestion path's velocity check


class SanctionSubject(enum.StrEnum):
    shop = "shop"  # shops.id
    creator = "creator"  # accounts.id of a creator account


class SanctionLevel(enum.StrEnum):
    warning = "warning"
    eligibility = "eligibility"  # no campaign registration (shops) / no product plaza (creators)
    suspension = "suspension"


class AppealStatus(enum.StrEnum):
    none = "none"
    pending = "pending"
    granted = "granted"  # the sanction and its case were lifted
    upheld = "upheld"


class IntegrityCase(IdMixin, TimestampMixin, Base):
    __tablename__ = "integrity_cases"
    __table_args__ = (
        Index("ix_integrity_cases_status", "status", "score"),
        Index("ix_integrity_cases_kind", "kind", "status"),
    )

    kind: Mapped[BlockKind] = mapped_column(str_enum(BlockKind, "integrity_block_kind"))
    target_kind: Mapped[TargetKind] = mapped_column(str_enum(TargetKind, "integrity_target_kind"))
    detector: Mapped[Detector] = mapped_column(str_enum(Detector, "integrity_detector"))
    status: Mapped[CaseStatus] = mapped_column(
        str_enum(CaseStatus, "integrity_case_status"), default=CaseStatus.open
    )
    score: Mapped[float] = mapped_column(Float)
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    events: Mapped[int] = mapped_column(Integer, default=0)
    density: Mapped[float] = mapped_column(Float, default=0.0)
    # The block's own evidence (JSON), as the detector wrote it; the explanation cites it.
    evidence: Mapped[dict[str, Any]] = mapped_column(json_type())
    # How many detection runs found (part of) this block again.
    detections: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime]
    reviewer_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None]


class IntegrityCaseMember(IdMixin, Base):
    """One account, target or order of a case, with what the block says about it."""

    __tablename__ = "integrity_case_members"
    __table_args__ = (
        UniqueConstraint("case_id", "kind", "subject_id", name="uq_integrity_case_members_subject"),
        Index("ix_integrity_case_members_subject", "kind", "subject_id"),
    )

    case_id: Mapped[int] = mapped_column(BigId, ForeignKey("integrity_cases.id", ondelete="CASCADE"))
    kind: Mapped[FlagKind] = mapped_column(str_enum(FlagKind, "integrity_flag_kind"))
    subject_id: Mapped[int] = mapped_column(BigId)
    evidence: Mapped[dict[str, Any]] = mapped_column(json_type())


class IntegrityFlag(IdMixin, TimestampMixin, Base):
    """A subject discounted because of one case; active while ``lifted_at`` is NULL."""

    __tablename__ = "integrity_flags"
    __table_args__ = (
        UniqueConstraint("kind", "subject_id", "case_id", name="uq_integrity_flags_subject_case"),
        Index("ix_integrity_flags_active", "lifted_at", "kind", "subject_id"),
    )

    kind: Mapped[FlagKind] = mapped_column(str_enum(FlagKind, "integrity_flag_kind"))
    subject_id: Mapped[int] = mapped_column(BigId)
    case_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("integrity_cases.id", ondelete="CASCADE"), index=True
    )
    lifted_at: Mapped[datetime | None]


class IntegrityFlaggedSales(Base):
    """Units of brushed (order-flagged) paid orders per SKU, and of orders held until their evidence
    is in (``integrity.brushing.held_orders``), rewritten with every publication of the flag set
    (``integrity_flows.publish_flags``). A SKU's sales as shown and ranked are its exact
    ``sold_count`` (stock bookkeeping, never edited) less these units.

    Kept as a table, not a query over the flags at read time, because the readers are hot (the product
    page, search's index, the plaza's sort by sales) and in the catalog domain, which cannot read
    commerce's order lines (commerce depends on the catalog): they subtract it in their own SQL with
    one outer join on a table that holds a row only per SKU a ring bought. Absent rows: nothing
    brushed."""

    __tablename__ = "integrity_flagged_sales"

    sku_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    product_id: Mapped[int] = mapped_column(BigId, index=True)
    units: Mapped[int] = mapped_column(Integer)


class IntegrityHeldOrder(Base):
    """An order held until its evidence is in (``integrity.brushing.held_orders``): its units, its
    review's rating and its part in the shop's experience score wait until the hold ends, as a brushed
    order's never count. Rewritten with every publication of the flag set
    (``integrity_flows.publish_flags``); read through :mod:`zhongcao.integrity.holds`."""

    __tablename__ = "integrity_held_orders"

    order_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)


class IntegritySanction(IdMixin, TimestampMixin, Base):
    """One step of a repeat offender's escalation, the case that triggered it, and its appeal."""

    __tablename__ = "integrity_sanctions"
    __table_args__ = (
        UniqueConstraint("subject", "subject_id", "case_id", name="uq_integrity_sanctions_case"),
        Index("ix_integrity_sanctions_subject", "subject", "subject_id", "id"),
        Index("ix_integrity_sanctions_appeal", "appeal_status", "appealed_at"),
    )

    subject: Mapped[SanctionSubject] = mapped_column(str_enum(SanctionSubject, "integrity_sanction_subject"))
    subject_id: Mapped[int] = mapped_column(BigId)
    level: Mapped[SanctionLevel] = mapped_column(str_enum(SanctionLevel, "integrity_sanction_level"))
    case_id: Mapped[int] = mapped_column(BigId, ForeignKey("integrity_cases.id", ondelete="CASCADE"))
    offences: Mapped[int] = mapped_column(Integer)  # confirmed cases counted when it was imposed
    reason: Mapped[str] = mapped_column(Text)
    actor_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    lifted_at: Mapped[datetime | None]
    appeal_status: Mapped[AppealStatus] = mapped_column(
        str_enum(AppealStatus, "integrity_appeal_status"), default=AppealStatus.none
    )
    appeal_statement: Mapped[str | None] = mapped_column(Text)
    appealed_by_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    appealed_at: Mapped[datetime | None]
    decided_by_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None]
    # Free-form label for the kind of subject name shown on the desk (never used for logic).
    subject_name: Mapped[str] = mapped_column(String(120), default="")
