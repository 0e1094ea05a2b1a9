"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25 10:23:12.917309
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import zhongcao.db

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "brands",
        sa.Column("name_zh", sa.String(length=80), nullable=False),
        sa.Column("name_en", sa.String(length=120), nullable=False),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_brands")),
        sa.UniqueConstraint("name_zh", name=op.f("uq_brands_name_zh")),
    )
    op.create_table(
        "campaigns",
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name_zh", sa.String(length=80), nullable=False),
        sa.Column("name_en", sa.String(length=120), nullable=False),
        sa.Column("starts_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("min_shop_score_centi", sa.Integer(), nullable=True),
        sa.Column("subsidy_per_item_fen", sa.Integer(), nullable=False),
        sa.Column("budget_fen", sa.Integer(), nullable=False),
        sa.Column("spent_fen", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "cancelled",
                name="campaign_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("created_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_campaigns_window_order")),
        sa.CheckConstraint(
            "spent_fen >= 0 AND spent_fen <= budget_fen", name=op.f("ck_campaigns_budget_not_overspent")
        ),
        sa.CheckConstraint("subsidy_per_item_fen >= 0", name=op.f("ck_campaigns_subsidy_nonneg")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
        sa.UniqueConstraint("slug", name=op.f("uq_campaigns_slug")),
    )
    op.create_table(
        "categories",
        sa.Column("parent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name_zh", sa.String(length=40), nullable=False),
        sa.Column("name_en", sa.String(length=80), nullable=False),
        sa.Column("platform_fee_bps", sa.Integer(), nullable=True),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.CheckConstraint(
            "platform_fee_bps IS NULL OR (platform_fee_bps BETWEEN 0 AND 10000)",
            name=op.f("ck_categories_fee_bps_range"),
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["categories.id"], name=op.f("fk_categories_parent_id_categories")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_categories")),
        sa.UniqueConstraint("slug", name=op.f("uq_categories_slug")),
    )
    with op.batch_alter_table("categories", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_categories_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "shops",
        sa.Column("name_zh", sa.String(length=80), nullable=False),
        sa.Column("name_en", sa.String(length=120), nullable=False),
        sa.Column("description_zh", sa.Text(), nullable=False),
        sa.Column("description_en", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "suspended",
                name="shop_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("shipping_fee_fen", sa.Integer(), nullable=False),
        sa.Column("free_shipping_threshold_fen", sa.Integer(), nullable=False),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("created_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("free_shipping_threshold_fen >= 0", name=op.f("ck_shops_free_shipping_nonneg")),
        sa.CheckConstraint("shipping_fee_fen >= 0", name=op.f("ck_shops_shipping_fee_nonneg")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shops")),
    )
    op.create_table(
        "sim_provider_charges",
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("payment_method", sa.String(length=64), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("captured_fen", sa.Integer(), nullable=False),
        sa.Column("refunded_fen", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("decline_code", sa.String(length=40), nullable=True),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("created_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "captured_fen >= 0 AND captured_fen <= amount_fen",
            name=op.f("ck_sim_provider_charges_capture_within_amount"),
        ),
        sa.CheckConstraint(
            "refunded_fen >= 0 AND refunded_fen <= captured_fen",
            name=op.f("ck_sim_provider_charges_refund_within_capture"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sim_provider_charges")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_sim_provider_charges_idempotency_key")),
        sa.UniqueConstraint("ref", name=op.f("uq_sim_provider_charges_ref")),
    )
    op.create_table(
        "sim_provider_refunds",
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("charge_ref", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("created_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sim_provider_refunds")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_sim_provider_refunds_idempotency_key")),
        sa.UniqueConstraint("ref", name=op.f("uq_sim_provider_refunds_ref")),
    )
    with op.batch_alter_table("sim_provider_refunds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sim_provider_refunds_charge_ref"), ["charge_ref"], unique=False)

    op.create_table(
        "users",
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("display_name", sa.String(length=80), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "shopper",
                "merchant",
                "creator",
                "operator",
                name="user_role",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("created_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_role"), ["role"], unique=False)

    op.create_table(
        "accounts",
        sa.Column(
            "kind",
            sa.Enum(
                "shop", "creator", name="account_kind", native_enum=False, create_constraint=True, length=32
            ),
            nullable=False,
        ),
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("handle", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("niche", sa.String(length=40), nullable=True),
        sa.Column("is_top_kol", sa.Boolean(), nullable=False),
        sa.Column("follower_count", sa.Integer(), nullable=False),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("created_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(kind = 'shop' AND shop_id IS NOT NULL) OR (kind = 'creator' AND user_id IS NOT NULL)",
            name=op.f("ck_accounts_owner_matches_kind"),
        ),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name=op.f("fk_accounts_shop_id_shops")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_accounts_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("handle", name=op.f("uq_accounts_handle")),
        sa.UniqueConstraint("user_id", name=op.f("uq_accounts_user_id")),
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_accounts_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_accounts_shop_id"), ["shop_id"], unique=False)

    op.create_table(
        "auth_tokens",
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "session", "api", name="token_kind", native_enum=False, create_constraint=True, length=32
            ),
            nullable=False,
        ),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=True),
        sa.Column("expires_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("created_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_auth_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_auth_tokens_token_hash")),
    )
    with op.batch_alter_table("auth_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auth_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "campaign_categories",
        sa.Column("campaign_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("category_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_categories_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["category_id"], ["categories.id"], name=op.f("fk_campaign_categories_category_id_categories")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_categories")),
        sa.UniqueConstraint("campaign_id", "category_id", name="uq_campaign_categories_pair"),
    )
    with op.batch_alter_table("campaign_categories", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_campaign_categories_campaign_id"), ["campaign_id"], unique=False)

    op.create_table(
        "carts",
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("created_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_carts_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_carts")),
        sa.UniqueConstraint("user_id", name=op.f("uq_carts_user_id")),
    )
    op.create_table(
        "checkouts",
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending_payment",
                "paid",
                "cancelled",
                name="checkout_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("total_fen", sa.Integer(), nullable=False),
        sa.Column("expires_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("paid_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("created_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("total_fen >= 0", name=op.f("ck_checkouts_total_nonneg")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_checkouts_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkouts")),
    )
    with op.batch_alter_table("checkouts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_checkouts_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_checkouts_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_checkouts_user_id"), ["user_id"], unique=False)

    op.create_table(
        "coupons",
        sa.Column(
            "funded_by",
            sa.Enum(
                "shop", "platform", name="coupon_funder", native_enum=False, create_constraint=True, length=32
            ),
            nullable=False,
        ),
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("threshold_fen", sa.Integer(), nullable=False),
        sa.Column("discount_fen", sa.Integer(), nullable=False),
        sa.Column("per_user_limit", sa.Integer(), nullable=False),
        sa.Column("total_quantity", sa.Integer(), nullable=True),
        sa.Column("claimed_count", sa.Integer(), nullable=False),
        sa.Column("starts_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("created_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(funded_by = 'shop' AND shop_id IS NOT NULL) OR (funded_by = 'platform' AND shop_id IS NULL)",
            name=op.f("ck_coupons_funder_matches_shop"),
        ),
        sa.CheckConstraint("discount_fen > 0", name=op.f("ck_coupons_discount_positive")),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_coupons_window_order")),
        sa.CheckConstraint("per_user_limit >= 1", name=op.f("ck_coupons_per_user_limit_positive")),
        sa.CheckConstraint("threshold_fen >= 0", name=op.f("ck_coupons_threshold_nonneg")),
        sa.CheckConstraint(
            "total_quantity IS NULL OR claimed_count <= total_quantity",
            name=op.f("ck_coupons_not_over_claimed"),
        ),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name=op.f("fk_coupons_shop_id_shops")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupons")),
    )
    with op.batch_alter_table("coupons", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_coupons_shop_id"), ["shop_id"], unique=False)

    op.create_table(
        "idempotency_records",
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column(
            "response",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("created_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_idempotency_records_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_records")),
        sa.UniqueConstraint("user_id", "scope", "key", name="uq_idempotency_records_user_scope_key"),
    )
    op.create_table(
        "products",
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("category_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("brand_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("title_zh", sa.String(length=120), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=False),
        sa.Column("description_zh", sa.Text(), nullable=False),
        sa.Column("description_en", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "active",
                "delisted",
                name="product_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("updated_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("created_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["brand_id"], ["brands.id"], name=op.f("fk_products_brand_id_brands")),
        sa.ForeignKeyConstraint(
            ["category_id"], ["categories.id"], name=op.f("fk_products_category_id_categories")
        ),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name=op.f("fk_products_shop_id_shops")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
    )
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_products_brand_id"), ["brand_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_products_category_id"), ["category_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_products_shop_id"), ["shop_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_products_status"), ["status"], unique=False)

    op.create_table(
        "shop_scores",
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("computed_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("score_centi", sa.Integer(), nullable=True),
        sa.Column("product_centi", sa.Integer(), nullable=True),
        sa.Column("logistics_centi", sa.Integer(), nullable=True),
        sa.Column("service_centi", sa.Integer(), nullable=True),
        sa.Column("order_count", sa.Integer(), nullable=False),
        sa.Column(
            "details",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name=op.f("fk_shop_scores_shop_id_shops")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_scores")),
    )
    with op.batch_alter_table("shop_scores", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shop_scores_computed_at"), ["computed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_shop_scores_shop_id"), ["shop_id"], unique=False)

    op.create_table(
        "shop_staff",
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "owner",
                "operator",
                "service_agent",
                name="staff_role",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("created_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_shop_staff_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_shop_staff_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_staff")),
        sa.UniqueConstraint("user_id", name=op.f("uq_shop_staff_user_id")),
    )
    with op.batch_alter_table("shop_staff", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shop_staff_shop_id"), ["shop_id"], unique=False)

    op.create_table(
        "affiliate_plans",
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "open",
                "targeted",
                "exclusive",
                name="plan_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("commission_bps", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "active", "ended", name="plan_status", native_enum=False, create_constraint=True, length=32
            ),
            nullable=False,
        ),
        sa.Column("ended_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("created_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "commission_bps BETWEEN 1 AND 9000", name=op.f("ck_affiliate_plans_commission_range")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_affiliate_plans_product_id_products")
        ),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name=op.f("fk_affiliate_plans_shop_id_shops")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_affiliate_plans")),
    )
    with op.batch_alter_table("affiliate_plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_affiliate_plans_product_id"), ["product_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_affiliate_plans_shop_id"), ["shop_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_affiliate_plans_status"), ["status"], unique=False)

    op.create_table(
        "campaign_products",
        sa.Column("campaign_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("withdrawn_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("created_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_products_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_campaign_products_product_id_products")
        ),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name=op.f("fk_campaign_products_shop_id_shops")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_products")),
        sa.UniqueConstraint("campaign_id", "product_id", name="uq_campaign_products_pair"),
    )
    with op.batch_alter_table("campaign_products", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_campaign_products_campaign_id"), ["campaign_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_campaign_products_product_id"), ["product_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_campaign_products_shop_id"), ["shop_id"], unique=False)

    op.create_table(
        "content",
        sa.Column("account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "short_video",
                "live",
                name="content_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "published",
                "removed",
                "scheduled",
                "live",
                "ended",
                name="content_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("title_zh", sa.String(length=120), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=False),
        sa.Column("topic", sa.String(length=40), nullable=True),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.Column("scheduled_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("started_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("pinned_product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("created_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_content_account_id_accounts")),
        sa.ForeignKeyConstraint(
            ["pinned_product_id"], ["products.id"], name=op.f("fk_content_pinned_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content")),
    )
    with op.batch_alter_table("content", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_content_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_content_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_content_status"), ["status"], unique=False)

    op.create_table(
        "follows",
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("created_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_follows_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_follows_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follows")),
        sa.UniqueConstraint("user_id", "account_id", name="uq_follows_user_account"),
    )
    with op.batch_alter_table("follows", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_follows_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_follows_user_id"), ["user_id"], unique=False)

    op.create_table(
        "payments",
        sa.Column("checkout_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "authorized",
                "captured",
                "failed",
                "voided",
                "refunded",
                "partially_refunded",
                name="payment_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("provider_ref", sa.String(length=64), nullable=True),
        sa.Column("failure_code", sa.String(length=40), nullable=True),
        sa.Column("refunded_fen", sa.Integer(), nullable=False),
        sa.Column("captured_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("created_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_fen >= 0", name=op.f("ck_payments_amount_nonneg")),
        sa.CheckConstraint(
            "refunded_fen >= 0 AND refunded_fen <= amount_fen", name=op.f("ck_payments_refund_within_amount")
        ),
        sa.ForeignKeyConstraint(
            ["checkout_id"], ["checkouts.id"], name=op.f("fk_payments_checkout_id_checkouts")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_payments_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payments_checkout_id"), ["checkout_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payments_provider_ref"), ["provider_ref"], unique=False)
        batch_op.create_index(batch_op.f("ix_payments_user_id"), ["user_id"], unique=False)

    op.create_table(
        "skus",
        sa.Column("product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column(
            "attributes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("price_fen", sa.Integer(), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=False),
        sa.Column("sold_count", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.CheckConstraint("price_fen > 0", name=op.f("ck_skus_price_positive")),
        sa.CheckConstraint("sold_count >= 0", name=op.f("ck_skus_sold_nonneg")),
        sa.CheckConstraint("stock >= 0", name=op.f("ck_skus_stock_nonneg")),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_skus_product_id_products"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_skus")),
        sa.UniqueConstraint("product_id", "code", name="uq_skus_product_code"),
    )
    with op.batch_alter_table("skus", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_skus_product_id"), ["product_id"], unique=False)

    op.create_table(
        "user_coupons",
        sa.Column("coupon_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "unused",
                "reserved",
                "used",
                name="user_coupon_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("checkout_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("claimed_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["checkout_id"], ["checkouts.id"], name=op.f("fk_user_coupons_checkout_id_checkouts")
        ),
        sa.ForeignKeyConstraint(
            ["coupon_id"], ["coupons.id"], name=op.f("fk_user_coupons_coupon_id_coupons")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_user_coupons_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_coupons")),
    )
    with op.batch_alter_table("user_coupons", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_coupons_coupon_id"), ["coupon_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_user_coupons_user_id"), ["user_id"], unique=False)

    op.create_table(
        "affiliate_plan_creators",
        sa.Column("plan_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("created_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_affiliate_plan_creators_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["affiliate_plans.id"],
            name=op.f("fk_affiliate_plan_creators_plan_id_affiliate_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_affiliate_plan_creators")),
        sa.UniqueConstraint("plan_id", "account_id", name="uq_affiliate_plan_creators_plan_account"),
    )
    with op.batch_alter_table("affiliate_plan_creators", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_affiliate_plan_creators_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_affiliate_plan_creators_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "cart_items",
        sa.Column("cart_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sku_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("created_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "channel",
            sa.Enum(
                "short_video",
                "live",
                "search",
                "mall",
                "shop_page",
                "product_page",
                "other",
                name="channel",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("content_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("campaign_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_cart_items_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_cart_items_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_cart_items_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(
            ["cart_id"], ["carts.id"], name=op.f("fk_cart_items_cart_id_carts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["content_id"], ["content.id"], name=op.f("fk_cart_items_content_id_content")
        ),
        sa.ForeignKeyConstraint(["sku_id"], ["skus.id"], name=op.f("fk_cart_items_sku_id_skus")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cart_items")),
        sa.UniqueConstraint("cart_id", "sku_id", name="uq_cart_items_cart_sku"),
    )
    with op.batch_alter_table("cart_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cart_items_cart_id"), ["cart_id"], unique=False)

    op.create_table(
        "creator_applications",
        sa.Column("plan_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "approved",
                "rejected",
                "withdrawn",
                name="application_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("decided_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by_user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("created_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_creator_applications_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_user_id"],
            ["users.id"],
            name=op.f("fk_creator_applications_decided_by_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["affiliate_plans.id"], name=op.f("fk_creator_applications_plan_id_affiliate_plans")
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_creator_applications_shop_id_shops")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_creator_applications")),
    )
    with op.batch_alter_table("creator_applications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_creator_applications_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_creator_applications_plan_id"), ["plan_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_creator_applications_shop_id"), ["shop_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_creator_applications_status"), ["status"], unique=False)

    op.create_table(
        "live_product_sets",
        sa.Column("content_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["content_id"],
            ["content.id"],
            name=op.f("fk_live_product_sets_content_id_content"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_product_sets")),
        sa.UniqueConstraint("content_id", "position", name="uq_live_product_sets_content_position"),
    )
    with op.batch_alter_table("live_product_sets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_live_product_sets_content_id"), ["content_id"], unique=False)

    op.create_table(
        "orders",
        sa.Column("checkout_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "created",
                "paid",
                "shipped",
                "delivered",
                "completed",
                "cancelled",
                name="order_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("item_total_fen", sa.Integer(), nullable=False),
        sa.Column("shop_discount_fen", sa.Integer(), nullable=False),
        sa.Column("platform_discount_fen", sa.Integer(), nullable=False),
        sa.Column("campaign_subsidy_fen", sa.Integer(), nullable=False),
        sa.Column("shipping_fen", sa.Integer(), nullable=False),
        sa.Column("paid_fen", sa.Integer(), nullable=False),
        sa.Column("platform_fee_fen", sa.Integer(), nullable=False),
        sa.Column("commission_fen", sa.Integer(), nullable=False),
        sa.Column("shop_settlement_fen", sa.Integer(), nullable=False),
        sa.Column("refunded_fen", sa.Integer(), nullable=False),
        sa.Column(
            "shipping_address",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("shop_coupon_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("platform_coupon_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("paid_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("shipped_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("completed_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.String(length=40), nullable=True),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("created_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "campaign_subsidy_fen >= 0 AND shipping_fen >= 0 AND paid_fen >= 0",
            name=op.f("ck_orders_money_nonneg2"),
        ),
        sa.CheckConstraint(
            "item_total_fen - shop_discount_fen - platform_discount_fen - campaign_subsidy_fen + shipping_fen = paid_fen",
            name=op.f("ck_orders_paid_reconciles"),
        ),
        sa.CheckConstraint(
            "item_total_fen >= 0 AND shop_discount_fen >= 0 AND platform_discount_fen >= 0",
            name=op.f("ck_orders_money_nonneg"),
        ),
        sa.CheckConstraint(
            "paid_fen + platform_discount_fen + campaign_subsidy_fen = shop_settlement_fen + platform_fee_fen + commission_fen",
            name=op.f("ck_orders_settlement_reconciles"),
        ),
        sa.CheckConstraint(
            "refunded_fen >= 0 AND refunded_fen <= paid_fen", name=op.f("ck_orders_refund_within_paid")
        ),
        sa.ForeignKeyConstraint(
            ["checkout_id"], ["checkouts.id"], name=op.f("fk_orders_checkout_id_checkouts")
        ),
        sa.ForeignKeyConstraint(
            ["platform_coupon_id"],
            ["user_coupons.id"],
            name=op.f("fk_orders_platform_coupon_id_user_coupons"),
        ),
        sa.ForeignKeyConstraint(
            ["shop_coupon_id"], ["user_coupons.id"], name=op.f("fk_orders_shop_coupon_id_user_coupons")
        ),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name=op.f("fk_orders_shop_id_shops")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_orders_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_orders_checkout_id"), ["checkout_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_shop_id"), ["shop_id"], unique=False)
        batch_op.create_index("ix_orders_shop_status", ["shop_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_user_id"), ["user_id"], unique=False)

    op.create_table(
        "complaints",
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "reason",
            sa.Enum(
                "product",
                "logistics",
                "service",
                "misleading_content",
                "other",
                name="complaint_reason",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "upheld",
                "dismissed",
                name="complaint_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("resolution_note", sa.Text(), nullable=True),
        sa.Column("resolved_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("created_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_complaints_order_id_orders")),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name=op.f("fk_complaints_shop_id_shops")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_complaints_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaints")),
    )
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_complaints_shop_id"), ["shop_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaints_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaints_user_id"), ["user_id"], unique=False)

    op.create_table(
        "content_anchors",
        sa.Column("content_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("product_set_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["content_id"],
            ["content.id"],
            name=op.f("fk_content_anchors_content_id_content"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_content_anchors_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["product_set_id"],
            ["live_product_sets.id"],
            name=op.f("fk_content_anchors_product_set_id_live_product_sets"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_anchors")),
        sa.UniqueConstraint("content_id", "position", name="uq_content_anchors_content_position"),
        sa.UniqueConstraint("content_id", "product_id", name="uq_content_anchors_content_product"),
    )
    with op.batch_alter_table("content_anchors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_content_anchors_content_id"), ["content_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_content_anchors_product_id"), ["product_id"], unique=False)

    op.create_table(
        "cs_conversations",
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("started_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("first_human_response_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_message_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_cs_conversations_order_id_orders")
        ),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name=op.f("fk_cs_conversations_shop_id_shops")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_cs_conversations_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cs_conversations")),
    )
    with op.batch_alter_table("cs_conversations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cs_conversations_shop_id"), ["shop_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cs_conversations_started_at"), ["started_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_cs_conversations_user_id"), ["user_id"], unique=False)

    op.create_table(
        "order_items",
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sku_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("title_zh", sa.String(length=120), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=False),
        sa.Column(
            "sku_attributes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("unit_price_fen", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("line_total_fen", sa.Integer(), nullable=False),
        sa.Column("shop_discount_fen", sa.Integer(), nullable=False),
        sa.Column("platform_discount_fen", sa.Integer(), nullable=False),
        sa.Column("campaign_subsidy_fen", sa.Integer(), nullable=False),
        sa.Column("paid_fen", sa.Integer(), nullable=False),
        sa.Column("platform_fee_bps", sa.Integer(), nullable=False),
        sa.Column("platform_fee_fen", sa.Integer(), nullable=False),
        sa.Column("affiliate_plan_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("commission_bps", sa.Integer(), nullable=False),
        sa.Column("commission_fen", sa.Integer(), nullable=False),
        sa.Column(
            "carrier",
            sa.Enum("F", "A", "C", "T", name="carrier", native_enum=False, create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column("attribution_frozen_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("refunded_fen", sa.Integer(), nullable=False),
        sa.Column("refunded_quantity", sa.Integer(), nullable=False),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column(
            "channel",
            sa.Enum(
                "short_video",
                "live",
                "search",
                "mall",
                "shop_page",
                "product_page",
                "other",
                name="channel",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("content_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("campaign_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.CheckConstraint(
            "line_total_fen - shop_discount_fen - platform_discount_fen - campaign_subsidy_fen = paid_fen",
            name=op.f("ck_order_items_paid_reconciles"),
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_order_items_quantity_positive")),
        sa.CheckConstraint(
            "refunded_fen >= 0 AND refunded_fen <= paid_fen", name=op.f("ck_order_items_refund_within_paid")
        ),
        sa.CheckConstraint(
            "refunded_quantity >= 0 AND refunded_quantity <= quantity",
            name=op.f("ck_order_items_refunded_qty_range"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_order_items_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["affiliate_plan_id"],
            ["affiliate_plans.id"],
            name=op.f("fk_order_items_affiliate_plan_id_affiliate_plans"),
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_order_items_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(
            ["content_id"], ["content.id"], name=op.f("fk_order_items_content_id_content")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_items_order_id_orders"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_order_items_product_id_products")
        ),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name=op.f("fk_order_items_shop_id_shops")),
        sa.ForeignKeyConstraint(["sku_id"], ["skus.id"], name=op.f("fk_order_items_sku_id_skus")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_items")),
    )
    with op.batch_alter_table("order_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_items_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_order_items_product_id"), ["product_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_order_items_shop_id"), ["shop_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_order_items_sku_id"), ["sku_id"], unique=False)

    op.create_table(
        "shipments",
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("carrier_name", sa.String(length=40), nullable=False),
        sa.Column("tracking_number", sa.String(length=64), nullable=False),
        sa.Column("platform_warehouse", sa.Boolean(), nullable=False),
        sa.Column("shipped_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("picked_up_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("created_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_shipments_order_id_orders")),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name=op.f("fk_shipments_shop_id_shops")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipments")),
        sa.UniqueConstraint("order_id", name=op.f("uq_shipments_order_id")),
    )
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shipments_shop_id"), ["shop_id"], unique=False)

    op.create_table(
        "after_sales",
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("order_item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "refund_only",
                "return_and_refund",
                name="after_sale_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "reason",
            sa.Enum(
                "quality",
                "logistics",
                "changed_mind",
                name="after_sale_reason",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "requested",
                "awaiting_return",
                "return_shipped",
                "refunded",
                "rejected",
                "arbitrating",
                "closed",
                "cancelled",
                name="after_sale_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("merchant_at_fault", sa.Boolean(), nullable=True),
        sa.Column("merchant_note", sa.Text(), nullable=True),
        sa.Column("arbitration_note", sa.Text(), nullable=True),
        sa.Column("return_tracking_number", sa.String(length=64), nullable=True),
        sa.Column("requested_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("return_shipped_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("returned_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("escalated_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("arbitrated_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("refunded_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", zhongcao.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.CheckConstraint("amount_fen > 0", name=op.f("ck_after_sales_amount_positive")),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_after_sales_quantity_positive")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_after_sales_order_id_orders")),
        sa.ForeignKeyConstraint(
            ["order_item_id"], ["order_items.id"], name=op.f("fk_after_sales_order_item_id_order_items")
        ),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name=op.f("fk_after_sales_shop_id_shops")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_after_sales_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_after_sales")),
    )
    with op.batch_alter_table("after_sales", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_after_sales_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_after_sales_order_item_id"), ["order_item_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_after_sales_shop_id"), ["shop_id"], unique=False)
        batch_op.create_index("ix_after_sales_shop_status", ["shop_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_after_sales_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_after_sales_user_id"), ["user_id"], unique=False)

    op.create_table(
        "cs_messages",
        sa.Column("conversation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "sender",
            sa.Enum(
                "customer",
                "agent",
                "bot",
                name="cs_sender",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("agent_user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("sent_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["agent_user_id"], ["users.id"], name=op.f("fk_cs_messages_agent_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["cs_conversations.id"],
            name=op.f("fk_cs_messages_conversation_id_cs_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cs_messages")),
    )
    with op.batch_alter_table("cs_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cs_messages_conversation_id"), ["conversation_id"], unique=False)

    op.create_table(
        "reviews",
        sa.Column("order_item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column(
            "tags",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("is_first", sa.Boolean(), nullable=False),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("created_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name=op.f("ck_reviews_rating_range")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_reviews_order_id_orders")),
        sa.ForeignKeyConstraint(
            ["order_item_id"], ["order_items.id"], name=op.f("fk_reviews_order_item_id_order_items")
        ),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], name=op.f("fk_reviews_product_id_products")),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name=op.f("fk_reviews_shop_id_shops")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_reviews_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
    )
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reviews_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_reviews_order_item_id"), ["order_item_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_reviews_product_id"), ["product_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_reviews_shop_id"), ["shop_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_reviews_user_id"), ["user_id"], unique=False)
        batch_op.create_index(
            "uq_reviews_first_per_item",
            ["order_item_id"],
            unique=True,
            postgresql_where=sa.text("is_first"),
            sqlite_where=sa.text("is_first"),
        )

    op.create_table(
        "nps_responses",
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column(
            "reasons",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column(
            "trigger",
            sa.Enum(
                "after_delivery",
                "after_after_sale",
                "general",
                name="nps_trigger",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("after_sale_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("created_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("score BETWEEN 0 AND 10", name=op.f("ck_nps_responses_score_range")),
        sa.ForeignKeyConstraint(
            ["after_sale_id"], ["after_sales.id"], name=op.f("fk_nps_responses_after_sale_id_after_sales")
        ),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_nps_responses_order_id_orders")),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name=op.f("fk_nps_responses_shop_id_shops")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_nps_responses_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nps_responses")),
    )
    with op.batch_alter_table("nps_responses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_nps_responses_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_nps_responses_shop_id"), ["shop_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_nps_responses_user_id"), ["user_id"], unique=False)
        batch_op.create_index(
            "uq_nps_responses_after_delivery_order",
            ["order_id"],
            unique=True,
            postgresql_where=sa.text("trigger = 'after_delivery'"),
            sqlite_where=sa.text("trigger = 'after_delivery'"),
        )
        batch_op.create_index(
            "uq_nps_responses_after_sale",
            ["after_sale_id"],
            unique=True,
            postgresql_where=sa.text("after_sale_id IS NOT NULL"),
            sqlite_where=sa.text("after_sale_id IS NOT NULL"),
        )

    op.create_table(
        "refunds",
        sa.Column("payment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("order_item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("after_sale_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("provider_ref", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("created_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_fen > 0", name=op.f("ck_refunds_amount_positive")),
        sa.ForeignKeyConstraint(
            ["after_sale_id"], ["after_sales.id"], name=op.f("fk_refunds_after_sale_id_after_sales")
        ),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_refunds_order_id_orders")),
        sa.ForeignKeyConstraint(
            ["order_item_id"], ["order_items.id"], name=op.f("fk_refunds_order_item_id_order_items")
        ),
        sa.ForeignKeyConstraint(["payment_id"], ["payments.id"], name=op.f("fk_refunds_payment_id_payments")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
    )
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_refunds_after_sale_id"), ["after_sale_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_refunds_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_refunds_order_item_id"), ["order_item_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_refunds_payment_id"), ["payment_id"], unique=False)

    op.create_table(
        "commission_entries",
        sa.Column("order_item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "accrual",
                "reversal",
                name="commission_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("refund_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("note", sa.String(length=80), nullable=True),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("created_at", zhongcao.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_commission_entries_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_commission_entries_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["order_item_id"],
            ["order_items.id"],
            name=op.f("fk_commission_entries_order_item_id_order_items"),
        ),
        sa.ForeignKeyConstraint(
            ["refund_id"], ["refunds.id"], name=op.f("fk_commission_entries_refund_id_refunds")
        ),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name=op.f("fk_commission_entries_shop_id_shops")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commission_entries")),
    )
    with op.batch_alter_table("commission_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_commission_entries_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_commission_entries_order_id"), ["order_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_commission_entries_order_item_id"), ["order_item_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_commission_entries_shop_id"), ["shop_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("commission_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commission_entries_shop_id"))
        batch_op.drop_index(batch_op.f("ix_commission_entries_order_item_id"))
        batch_op.drop_index(batch_op.f("ix_commission_entries_order_id"))
        batch_op.drop_index(batch_op.f("ix_commission_entries_account_id"))

    op.drop_table("commission_entries")
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refunds_payment_id"))
        batch_op.drop_index(batch_op.f("ix_refunds_order_item_id"))
        batch_op.drop_index(batch_op.f("ix_refunds_order_id"))
        batch_op.drop_index(batch_op.f("ix_refunds_after_sale_id"))

    op.drop_table("refunds")
    with op.batch_alter_table("nps_responses", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_nps_responses_after_sale",
            postgresql_where=sa.text("after_sale_id IS NOT NULL"),
            sqlite_where=sa.text("after_sale_id IS NOT NULL"),
        )
        batch_op.drop_index(
            "uq_nps_responses_after_delivery_order",
            postgresql_where=sa.text("trigger = 'after_delivery'"),
            sqlite_where=sa.text("trigger = 'after_delivery'"),
        )
        batch_op.drop_index(batch_op.f("ix_nps_responses_user_id"))
        batch_op.drop_index(batch_op.f("ix_nps_responses_shop_id"))
        batch_op.drop_index(batch_op.f("ix_nps_responses_order_id"))

    op.drop_table("nps_responses")
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_reviews_first_per_item",
            postgresql_where=sa.text("is_first"),
            sqlite_where=sa.text("is_first"),
        )
        batch_op.drop_index(batch_op.f("ix_reviews_user_id"))
        batch_op.drop_index(batch_op.f("ix_reviews_shop_id"))
        batch_op.drop_index(batch_op.f("ix_reviews_product_id"))
        batch_op.drop_index(batch_op.f("ix_reviews_order_item_id"))
        batch_op.drop_index(batch_op.f("ix_reviews_order_id"))

    op.drop_table("reviews")
    with op.batch_alter_table("cs_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cs_messages_conversation_id"))

    op.drop_table("cs_messages")
    with op.batch_alter_table("after_sales", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_after_sales_user_id"))
        batch_op.drop_index(batch_op.f("ix_after_sales_status"))
        batch_op.drop_index("ix_after_sales_shop_status")
        batch_op.drop_index(batch_op.f("ix_after_sales_shop_id"))
        batch_op.drop_index(batch_op.f("ix_after_sales_order_item_id"))
        batch_op.drop_index(batch_op.f("ix_after_sales_order_id"))

    op.drop_table("after_sales")
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shipments_shop_id"))

    op.drop_table("shipments")
    with op.batch_alter_table("order_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_items_sku_id"))
        batch_op.drop_index(batch_op.f("ix_order_items_shop_id"))
        batch_op.drop_index(batch_op.f("ix_order_items_product_id"))
        batch_op.drop_index(batch_op.f("ix_order_items_order_id"))

    op.drop_table("order_items")
    with op.batch_alter_table("cs_conversations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cs_conversations_user_id"))
        batch_op.drop_index(batch_op.f("ix_cs_conversations_started_at"))
        batch_op.drop_index(batch_op.f("ix_cs_conversations_shop_id"))

    op.drop_table("cs_conversations")
    with op.batch_alter_table("content_anchors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_content_anchors_product_id"))
        batch_op.drop_index(batch_op.f("ix_content_anchors_content_id"))

    op.drop_table("content_anchors")
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_complaints_user_id"))
        batch_op.drop_index(batch_op.f("ix_complaints_status"))
        batch_op.drop_index(batch_op.f("ix_complaints_shop_id"))

    op.drop_table("complaints")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_user_id"))
        batch_op.drop_index(batch_op.f("ix_orders_status"))
        batch_op.drop_index("ix_orders_shop_status")
        batch_op.drop_index(batch_op.f("ix_orders_shop_id"))
        batch_op.drop_index(batch_op.f("ix_orders_checkout_id"))

    op.drop_table("orders")
    with op.batch_alter_table("live_product_sets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_live_product_sets_content_id"))

    op.drop_table("live_product_sets")
    with op.batch_alter_table("creator_applications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_creator_applications_status"))
        batch_op.drop_index(batch_op.f("ix_creator_applications_shop_id"))
        batch_op.drop_index(batch_op.f("ix_creator_applications_plan_id"))
        batch_op.drop_index(batch_op.f("ix_creator_applications_account_id"))

    op.drop_table("creator_applications")
    with op.batch_alter_table("cart_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cart_items_cart_id"))

    op.drop_table("cart_items")
    with op.batch_alter_table("affiliate_plan_creators", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_affiliate_plan_creators_plan_id"))
        batch_op.drop_index(batch_op.f("ix_affiliate_plan_creators_account_id"))

    op.drop_table("affiliate_plan_creators")
    with op.batch_alter_table("user_coupons", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_coupons_user_id"))
        batch_op.drop_index(batch_op.f("ix_user_coupons_coupon_id"))

    op.drop_table("user_coupons")
    with op.batch_alter_table("skus", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_skus_product_id"))

    op.drop_table("skus")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_user_id"))
        batch_op.drop_index(batch_op.f("ix_payments_provider_ref"))
        batch_op.drop_index(batch_op.f("ix_payments_checkout_id"))

    op.drop_table("payments")
    with op.batch_alter_table("follows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_follows_user_id"))
        batch_op.drop_index(batch_op.f("ix_follows_account_id"))

    op.drop_table("follows")
    with op.batch_alter_table("content", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_content_status"))
        batch_op.drop_index(batch_op.f("ix_content_kind"))
        batch_op.drop_index(batch_op.f("ix_content_account_id"))

    op.drop_table("content")
    with op.batch_alter_table("campaign_products", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_products_shop_id"))
        batch_op.drop_index(batch_op.f("ix_campaign_products_product_id"))
        batch_op.drop_index(batch_op.f("ix_campaign_products_campaign_id"))

    op.drop_table("campaign_products")
    with op.batch_alter_table("affiliate_plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_affiliate_plans_status"))
        batch_op.drop_index(batch_op.f("ix_affiliate_plans_shop_id"))
        batch_op.drop_index(batch_op.f("ix_affiliate_plans_product_id"))

    op.drop_table("affiliate_plans")
    with op.batch_alter_table("shop_staff", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shop_staff_shop_id"))

    op.drop_table("shop_staff")
    with op.batch_alter_table("shop_scores", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shop_scores_shop_id"))
        batch_op.drop_index(batch_op.f("ix_shop_scores_computed_at"))

    op.drop_table("shop_scores")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_products_status"))
        batch_op.drop_index(batch_op.f("ix_products_shop_id"))
        batch_op.drop_index(batch_op.f("ix_products_category_id"))
        batch_op.drop_index(batch_op.f("ix_products_brand_id"))

    op.drop_table("products")
    op.drop_table("idempotency_records")
    with op.batch_alter_table("coupons", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coupons_shop_id"))

    op.drop_table("coupons")
    with op.batch_alter_table("checkouts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_checkouts_user_id"))
        batch_op.drop_index(batch_op.f("ix_checkouts_status"))
        batch_op.drop_index(batch_op.f("ix_checkouts_expires_at"))

    op.drop_table("checkouts")
    op.drop_table("carts")
    with op.batch_alter_table("campaign_categories", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_categories_campaign_id"))

    op.drop_table("campaign_categories")
    with op.batch_alter_table("auth_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auth_tokens_user_id"))

    op.drop_table("auth_tokens")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_accounts_shop_id"))
        batch_op.drop_index(batch_op.f("ix_accounts_kind"))

    op.drop_table("accounts")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_role"))

    op.drop_table("users")
    with op.batch_alter_table("sim_provider_refunds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sim_provider_refunds_charge_ref"))

    op.drop_table("sim_provider_refunds")
    op.drop_table("sim_provider_charges")
    op.drop_table("shops")
    with op.batch_alter_table("categories", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_categories_parent_id"))

    op.drop_table("categories")
    op.drop_table("campaigns")
    op.drop_table("brands")
