"""Workflows that span domains (zhongcao.flows): each domain alone refuses what needs the other."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from tests.commerce_helpers import delivered_order
from tests.factories import make_creator, make_product, make_shop
from zhongcao import flows
from zhongcao.affiliate import service as affiliate_service
from zhongcao.affiliate.models import PlanKind
from zhongcao.aftersales import service as aftersales_service
from zhongcao.aftersales.models import AfterSaleKind, AfterSaleReason
from zhongcao.commerce import service as commerce_service
from zhongcao.commerce.models import Order, OrderStatus
from zhongcao.content import bulk as content_bulk
from zhongcao.content import service as content_service
from zhongcao.content.models import ContentKind
from zhongcao.errors import InvalidInput


def test_a_creator_anchors_a_planned_product_only_through_the_flow(db: Session) -> None:
    bundle = make_shop(db)
    planned = make_product(db, bundle.shop)
    affiliate_service.create_plan(
        db, bundle.shop.id, product_id=planned.id, kind=PlanKind.open, commission_bps=1000
    )
    _, creator = make_creator(db)
    video = {"kind": ContentKind.short_video, "title_zh": "视频", "title_en": "Video", "duration_seconds": 30}
    # content alone does not know affiliate: without the flow's answer a creator anchors nothing.
    with pytest.raises(InvalidInput) as refused:
        content_service.publish_content(db, creator.id, anchors=[planned.id], **video)
    assert refused.value.code == "product_not_promotable"
    db.rollback()
    content = flows.publish_content(db, creator.id, anchors=[planned.id], **video)
    assert content_service.anchored_product_ids(db, content.id) == [planned.id]
    unplanned = make_product(db, bundle.shop)
    with pytest.raises(InvalidInput) as refused:
        flows.publish_content(db, creator.id, anchors=[unplanned.id], **video)
    assert refused.value.code == "product_not_promotable"
    db.rollback()
    items = [content_bulk.NewContent(creator.id, ContentKind.short_video, "x", "x", anchors=[planned.id])]
    with pytest.raises(InvalidInput) as refused:
        content_bulk.publish_content_bulk(db, items)
    assert refused.value.code == "product_not_promotable"
    db.rollback()
    assert len(flows.publish_content_bulk(db, items)) == 1


def test_an_open_after_sales_case_holds_completion_only_through_the_flow(db: Session) -> None:
    bundle = delivered_order(db, quantity=1)
    delivered_at = bundle.order.delivered_at
    case = aftersales_service.open_case(
        db,
        bundle.buyer.id,
        bundle.order.id,
        order_item_id=bundle.item.id,
        kind=AfterSaleKind.refund_only,
        reason=AfterSaleReason.quality,
        now=delivered_at + timedelta(hours=1),
    )
    later = delivered_at + timedelta(days=30)
    assert flows.complete_due_orders(db, later) == 0
    # commerce alone completes what it is not told is held.
    assert commerce_service.complete_due_orders(db, later, held=lambda _db, _order_id: False) == 1
    db.expire_all()
    assert db.get(Order, bundle.order.id).status is OrderStatus.completed
    assert aftersales_service.has_open_case(db, case.order_id)
