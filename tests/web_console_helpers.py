"""A world for the console pages, on top of the shopper pages' ``seed_world``: the two shops' owners,
the creator and an operator can sign in, and each console has something to show.

    world = seed_consoles(db, app)   # committed; Compass's snapshot built

Bloom (``world.web.shop_id``) gets an order to ship, an after-sales request, an unanswered chat, a sale
carried by the creator's video, NPS answers, a campaign, and an experience score with its explanation
(computed by ``experience.scoring`` over synthetic peers, so every indicator has a percentile).
Wild Outdoors (``other_shop_id``) gets its own order (¥599.00) and chat, which Bloom must never see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.commerce_helpers import pay, place
from tests.factories import PASSWORD
from tests.web_helpers import WebWorld, seed_world
from zhongcao import clock
from zhongcao.affiliate import service as affiliate_service
from zhongcao.affiliate.models import PlanKind
from zhongcao.aftersales import service as aftersales_service
from zhongcao.aftersales.models import AfterSaleKind, AfterSaleReason
from zhongcao.campaigns import service as campaigns_service
from zhongcao.catalog.models import Product, Sku
from zhongcao.compass import refresher
from zhongcao.content.models import Account
from zhongcao.experience import scores as experience_scores
from zhongcao.experience import surveys as experience_surveys
from zhongcao.experience.models import NpsTrigger
from zhongcao.experience.scoring import ShopInputs, score_shops
from zhongcao.support import service as support_service
from zhongcao.users import service as users_service
from zhongcao.users.models import Role, User

MERCHANT_EMAIL = "owner-bloom_beauty@example.com"
OTHER_MERCHANT_EMAIL = "owner-wild_outdoors@example.com"
OPERATOR_EMAIL = "ops@example.com"
OTHER_SHOP_ORDER_TOTAL = "¥599.00"


@dataclass(frozen=True)
class ConsoleWorld:
    """Ids and logins only (see ``WebWorld``: browser tests must not touch ORM objects)."""

    web: WebWorld
    merchant_email: str
    other_merchant_email: str
    creator_email: str
    operator_email: str
    to_ship_order_id: int
    other_order_id: int
    case_id: int
    conversation_id: int
    other_conversation_id: int
    campaign_id: int
    targeted_plan_id: int
    category_id: int


def _line(sku_id: int, quantity: int = 1, content_id: int | None = None) -> dict[str, Any]:
    line: dict[str, Any] = {"sku_id": sku_id, "quantity": quantity}
    if content_id is not None:
        line["attribution"] = {"channel": "short_video", "content_id": content_id}
    return line


def _explained_score(db: Session, shop_id: int, category_id: int) -> None:
    """Record two nights of a computed score for the shop: the scoring's own explanation over five
    synthetic peers in the same category, so every indicator has a percentile and one is to fix first."""
    base = {
        "bad_review_rate": 0.020,
        "quality_refund_rate": 0.010,
        "pickup_timeliness": 0.90,
        "delivery_hours": 52.0,
        "complaint_rate": 0.004,
        "dispute_rate": 0.001,
        "cs_3min_share": 0.80,
        "aftersales_hours": 20.0,
    }
    peers = [
        ShopInputs(10_000 + i, category_id, 80, {k: v * (1 + 0.15 * (i - 2)) for k, v in base.items()})
        for i in range(5)
    ]
    ours = ShopInputs(
        shop_id,
        category_id,
        120,
        {**base, "pickup_timeliness": 0.55, "bad_review_rate": 0.012, "cs_3min_share": 0.93},
    )
    result = score_shops([ours, *peers])[0]
    now = clock.now()
    for computed_at, shift in ((now - timedelta(days=7), -12), (now, 0)):
        experience_scores.record_score(
            db,
            shop_id,
            (result.score_centi or 0) + shift,
            product_centi=result.dimensions_centi["product"],
            logistics_centi=result.dimensions_centi["logistics"],
            service_centi=result.dimensions_centi["service"],
            order_count=result.orders,
            details={"category_id": category_id, **result.details},
            computed_at=computed_at,
            source=experience_scores.COMPUTED,
        )


def seed_consoles(db: Session, app: Any) -> ConsoleWorld:
    web = seed_world(db)
    shopper = db.get(User, web.shopper_id)
    creator_account = db.get(Account, web.creator_account_id)
    creator = db.get(User, creator_account.user_id)
    operator = users_service.create_user(
        db, email=OPERATOR_EMAIL, password=PASSWORD, display_name="平台小运", role=Role.operator
    )
    serum = db.get(Product, web.product_ids[0])
    # A paid order to ship; a sale carried by the creator's video; the other shop's order.
    to_ship = pay(db, shopper, place(db, shopper, [_line(web.sku_ids[3], 2)])).orders[0]
    pay(db, shopper, place(db, shopper, [_line(web.sku_ids[0], 1, content_id=web.video_ids[1])]))
    big_tent = db.scalars(
        select(Sku).where(Sku.product_id == web.product_ids[4], Sku.price_fen == 59900)
    ).one()
    other = pay(db, shopper, place(db, shopper, [_line(big_tent.id, 1)])).orders[0]
    # An after-sales request and chats with both shops.
    case = aftersales_service.open_case(
        db,
        web.shopper_id,
        web.order_id,
        order_item_id=web.order_item_id,
        kind=AfterSaleKind.refund_only,
        reason=AfterSaleReason.quality,
        description="瓶盖有裂痕，漏了一些。",
    )
    conversation, _ = support_service.start_conversation(
        db, user_id=web.shopper_id, shop_id=web.shop_id, message="请问什么时候发货？", order_id=to_ship.id
    )
    other_conversation, _ = support_service.start_conversation(
        db, user_id=web.shopper_id, shop_id=web.other_shop_id, message="帐篷防水吗？"
    )
    # A targeted plan the creator may apply to, beside the open one seed_world made.
    targeted = affiliate_service.create_plan(
        db, web.shop_id, product_id=serum.id, kind=PlanKind.targeted, commission_bps=2500
    )
    # NPS answers (one tied to a delivered order) and a running campaign.
    experience_surveys.submit_nps(
        db,
        web.shopper_id,
        score=4,
        trigger=NpsTrigger.after_delivery,
        reasons=["logistics"],
        order_id=web.order_id,
    )
    reviewer = users_service.get_by_email(db, "reviewer@example.com")
    assert reviewer is not None
    experience_surveys.submit_nps(db, reviewer.id, score=10, reasons=["product"])
    category_id = serum.category_id
    now = clock.now()
    campaign = campaigns_service.create_campaign(
        db,
        slug="autumn-care",
        name_zh="秋季护肤节",
        name_en="Autumn skincare week",
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=6),
        category_ids=[category_id],
        subsidy_per_item_fen=500,
        budget_fen=1_000_000,
    )
    _explained_score(db, web.shop_id, category_id)
    world = ConsoleWorld(
        web=web,
        merchant_email=MERCHANT_EMAIL,
        other_merchant_email=OTHER_MERCHANT_EMAIL,
        creator_email=creator.email,
        operator_email=operator.email,
        to_ship_order_id=to_ship.id,
        other_order_id=other.id,
        case_id=case.id,
        conversation_id=conversation.id,
        other_conversation_id=other_conversation.id,
        campaign_id=campaign.id,
        targeted_plan_id=targeted.id,
        category_id=category_id,
    )
    db.commit()
    refresher.refresh_snapshot(app.state.database, app.state.settings)
    return world
