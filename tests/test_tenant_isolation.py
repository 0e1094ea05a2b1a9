"""Tenant isolation, table-driven: every merchant and creator endpoint, called by a member of another
shop or by another creator, must neither show nor change the victim's records.

``CASES`` must name every ``/api/merchant/...``, ``/api/creator/...`` and ``/api/media/...`` operation in
the OpenAPI schema: adding an endpoint without an entry here fails ``test_every_endpoint_has_a_case``.

Kinds of case:
* ``foreign_id``  the path names a victim's record: expect 404 (or 403), nothing changed;
* ``foreign_body`` the body names a victim's record: expect a 4xx, nothing changed;
* ``listing``     a list or own-record read: 200, and none of the victim's ids (nor the marker text
                  that all the victim's records carry) appear in the answer;
* ``own_write``   a write that names no foreign id: whatever it answers, the victim's rows are unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from sqlalchemy import or_, select, text

from tests.commerce_helpers import (
    completed_order,
    delivered_order,
    first_sku,
    make_plan,
    paid_order,
)
from tests.compass_helpers import refresh_compass
from tests.factories import add_staff, auth, make_category, make_creator, make_product, make_shop, make_user
from zhongcao import clock, flows
from zhongcao.affiliate import samples as affiliate_samples
from zhongcao.affiliate import service as affiliate_service
from zhongcao.affiliate import showcase as showcase_service
from zhongcao.affiliate.models import CommissionEntry, PlanKind
from zhongcao.aftersales import service as aftersales_service
from zhongcao.aftersales.models import AfterSaleKind, AfterSaleReason
from zhongcao.campaigns import coupons as coupons_service
from zhongcao.campaigns import service as campaigns_service
from zhongcao.campaigns.models import CouponFunder
from zhongcao.catalog.models import Product
from zhongcao.config import Settings
from zhongcao.content import moderation
from zhongcao.content.models import ContentKind
from zhongcao.db import Base
from zhongcao.experience import scores as experience_scores
from zhongcao.finance import service as finance_service
from zhongcao.finance.models import Settlement
from zhongcao.flashsales import service as flashsales_service
from zhongcao.integrity import service as integrity_service
from zhongcao.integrity.blocks import Block, BlockKind, TargetKind
from zhongcao.integrity.models import IntegrityCase, IntegritySanction, SanctionSubject
from zhongcao.media.models import Media, MediaKind, MediaObject
from zhongcao.reviews import service as reviews_service
from zhongcao.shops import invitations
from zhongcao.shops.models import StaffRole
from zhongcao.support import chat as support_chat
from zhongcao.support import service as support_service
from zhongcao.support.models import ComplaintReason
from zhongcao.users.models import Role
from zhongcao.warehouse import fulfilment as warehouse_fulfilment
from zhongcao.warehouse import service as warehouse_service

MARKER = "VICTIM受害者"


@dataclass
class World:
    ids: dict[str, Any] = field(default_factory=dict)
    merchant_headers: dict[str, str] = field(default_factory=dict)
    creator_headers: dict[str, str] = field(default_factory=dict)
    victim_shop_ids: set[int] = field(default_factory=set)
    victim_account_ids: set[int] = field(default_factory=set)
    victim_user_ids: set[int] = field(default_factory=set)

    def __getitem__(self, key: str) -> Any:
        return self.ids[key]


def _titled(db, product: Product, title: str) -> Product:
    product.title_zh = f"{MARKER}{title}"
    product.title_en = f"{MARKER} {title}"
    db.commit()
    return product


def build_world(db) -> World:
    w = World()
    now = clock.now()
    victim = make_shop(db, MARKER + "店")
    staff = add_staff(db, victim.shop, StaffRole.operator)
    category = make_category(db)
    p1 = _titled(db, make_product(db, victim.shop, category=category, skus=2, stock=50), "连衣裙")
    p2 = _titled(db, make_product(db, victim.shop, category=category, stock=50), "口红")
    p3 = _titled(db, make_product(db, victim.shop, category=category, stock=50), "耳机")
    victim_creator_user, victim_creator = make_creator(db)
    victim_creator.name = MARKER
    db.commit()
    experience_scores.record_score(db, victim.shop.id, 420, details={"note": MARKER})
    invitation, _ = invitations.invite(
        db,
        victim.shop.id,
        email="victim-invitee@example.com",
        role=StaffRole.operator,
        invited_by=victim.owner.id,
    )

    shop_video = flows.publish_content(
        db, victim.account.id, kind=ContentKind.short_video, title_zh=MARKER, title_en=MARKER, anchors=[p1.id]
    )
    shop_live = flows.publish_content(
        db,
        victim.account.id,
        kind=ContentKind.live,
        title_zh=MARKER,
        title_en=MARKER,
        anchors=[p1.id],
        scheduled_at=now + timedelta(hours=2),
    )
    open_plan = affiliate_service.create_plan(
        db, victim.shop.id, product_id=p1.id, kind=PlanKind.open, commission_bps=1000
    )
    targeted = affiliate_service.create_plan(
        db, victim.shop.id, product_id=p1.id, kind=PlanKind.targeted, commission_bps=2000
    )
    exclusive = affiliate_service.create_plan(
        db,
        victim.shop.id,
        product_id=p3.id,
        kind=PlanKind.exclusive,
        commission_bps=1500,
        creator_account_ids=[victim_creator.id],
    )
    application = affiliate_service.apply_to_plan(db, victim_creator.id, targeted.id, message=MARKER)
    # The victim creator's showcase: an open plan's product and the exclusive plan's (theirs alone).
    showcase_service.add(db, victim_creator.id, p1.id)
    showcase_service.add(db, victim_creator.id, p3.id)
    sample = affiliate_samples.request_sample(
        db, victim_creator.id, p1.id, recipient=MARKER, phone="13800138000", address=MARKER, message=MARKER
    )
    creator_live = flows.publish_content(
        db,
        victim_creator.id,
        kind=ContentKind.live,
        title_zh=MARKER,
        title_en=MARKER,
        anchors=[p1.id],
        scheduled_at=now + timedelta(hours=3),
    )

    # Content an operator took down: its take-down and its one appeal are its owner's alone.
    moderator = make_user(db, Role.operator)
    shop_removed = flows.publish_content(
        db, victim.account.id, kind=ContentKind.short_video, title_zh=MARKER, title_en=MARKER
    )
    creator_removed = flows.publish_content(
        db, victim_creator.id, kind=ContentKind.short_video, title_zh=MARKER, title_en=MARKER
    )
    for removed in (shop_removed, creator_removed):
        moderation.take_down(db, removed.id, operator_user_id=moderator.id, reason=MARKER)

    # Orders: one paid (to ship or cancel), one delivered (after-sales, review), one completed through
    # the victim creator's video (a commission entry).
    buyer = make_user(db, Role.shopper)
    paid = paid_order(db, buyer=buyer, shop=victim, product=p1)
    delivered = delivered_order(db, buyer=buyer, shop=victim, product=p1)
    make_plan(db, p2, commission_bps=800)
    completed = completed_order(db, buyer=buyer, shop=victim, product=p2, creator=victim_creator)
    creator_video = completed.content
    case = aftersales_service.open_case(
        db,
        buyer.id,
        delivered.order.id,
        order_item_id=delivered.item.id,
        kind=AfterSaleKind.return_and_refund,
        reason=AfterSaleReason.quality,
        description=MARKER,
    )
    review = reviews_service.create_review(
        db, buyer.id, delivered.order.id, delivered.item.id, rating=2, text=MARKER
    )
    coupon = coupons_service.create_coupon(
        db,
        funded_by=CouponFunder.shop,
        shop_id=victim.shop.id,
        name=MARKER,
        threshold_fen=0,
        discount_fen=100,
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=10),
    )
    campaign = campaigns_service.create_campaign(
        db,
        slug="isolation-sale",
        name_zh="大促",
        name_en="Sale",
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=10),
        category_ids=[category.id],
        budget_fen=10_000,
        subsidy_per_item_fen=100,
    )
    registration = campaigns_service.register_product(db, victim.shop.id, campaign.id, p2.id)
    conversation, _ = support_service.start_conversation(
        db, user_id=buyer.id, shop_id=victim.shop.id, message=MARKER
    )
    complaint = support_service.file_complaint(
        db, user_id=buyer.id, shop_id=victim.shop.id, reason=ComplaintReason.service, text=MARKER
    )
    quick_reply = support_chat.create_quick_reply(db, victim.shop.id, title=MARKER, body=MARKER)
    # Uploads: one by the victim shop's staff (the shop's), one by the victim creator (theirs alone).
    shop_media = _media(db, owner_id=staff.id, shop_id=victim.shop.id, folder="victimshop")
    creator_media = _media(db, owner_id=victim_creator_user.id, shop_id=None, folder="victimcreator")
    db.commit()
    commission_ids = list(
        db.scalars(select(CommissionEntry.id).where(CommissionEntry.account_id == victim_creator.id))
    )
    assert commission_ids, "the world needs a commission entry to protect"
    # The completed order's settlement (pending: completed just now).
    finance_service.run_settlements(db)
    settlement_ids = list(db.scalars(select(Settlement.id).where(Settlement.shop_id == victim.shop.id)))
    assert settlement_ids, "the world needs a settlement to protect"

    # The platform warehouse: a SKU received into it, a paid order of it the warehouse is working
    # on, and a draft inbound (to dispatch or cancel).
    p4 = _titled(db, make_product(db, victim.shop, category=category, stock=5), "云仓")
    wh_sku = first_sku(db, p4)
    received = warehouse_service.create_inbound(
        db,
        victim.shop.id,
        victim.owner.id,
        warehouse_code="east",
        lines=[warehouse_service.NewLine(wh_sku.id, 10)],
        note=MARKER,
        carrier_name="顺丰",
        tracking_number="SF0001",
        dispatch=True,
    )
    warehouse_service.receive_inbound(db, received.id)
    draft_inbound = warehouse_service.create_inbound(
        db,
        victim.shop.id,
        victim.owner.id,
        warehouse_code="east",
        lines=[warehouse_service.NewLine(wh_sku.id, 3)],
        note=MARKER,
    )
    wh_order = paid_order(db, buyer=buyer, shop=victim, product=p4)
    warehouse_fulfilment.queue_orders(db, clock.now(), Settings())
    wh_task = warehouse_service.fulfilment_for_order(db, wh_order.order.id)
    assert wh_task is not None, "the world needs a warehouse fulfilment task to protect"
    # A flash sale of the victim's (its units set aside from p1's SKU).
    flash_sale = flashsales_service.create_sale(
        db,
        shop_id=victim.shop.id,
        created_by=victim.owner.id,
        new=flashsales_service.NewSale(
            sku_id=first_sku(db, p1).id,
            title=MARKER[:80],
            price_fen=1,
            quantity=1,
            starts_at=now + timedelta(hours=1),
        ),
        settings=Settings(),
    )

    # Integrity warnings for the victim shop and the victim creator (what an appeal is made against).
    shop_sanction = _integrity_sanction(db, SanctionSubject.shop, victim.shop.id)
    creator_sanction = _integrity_sanction(db, SanctionSubject.creator, victim_creator.id)

    # The attacker: the owner of another shop (every shop role) and another creator.
    attacker = make_shop(db, "攻击者店")
    attacker_product = make_product(db, attacker.shop, category=category)
    _, attacker_creator = make_creator(db)
    w.merchant_headers = auth(db, attacker.owner)
    w.creator_headers = auth(db, db.get(type(victim.owner), attacker_creator.user_id))

    w.victim_shop_ids = {victim.shop.id}
    w.victim_account_ids = {victim.account.id, victim_creator.id}
    w.victim_user_ids = {victim.owner.id, staff.id, victim_creator_user.id}
    w.ids.update(
        shop=victim.shop.id,
        staff=db.scalar(text("SELECT id FROM shop_staff WHERE user_id = :u"), {"u": staff.id}),
        staff_email=staff.email,
        invitation=invitation.id,
        category=category.id,
        category_slug=category.slug,
        p1=p1.id,
        p2=p2.id,
        p3=p3.id,
        sku=first_sku(db, p1).id,
        shop_account=victim.account.id,
        shop_video=shop_video.id,
        shop_removed=shop_removed.id,
        creator_removed=creator_removed.id,
        shop_live=shop_live.id,
        creator_account=victim_creator.id,
        creator_video=creator_video.id,
        creator_live=creator_live.id,
        open_plan=open_plan.id,
        targeted_plan=targeted.id,
        exclusive_plan=exclusive.id,
        application=application.id,
        sample=sample.id,
        paid_order=paid.order.id,
        delivered_order=delivered.order.id,
        completed_order=completed.order.id,
        after_sale=case.id,
        review=review.id,
        coupon=coupon.id,
        campaign=campaign.id,
        registration=registration.id,
        conversation=conversation.id,
        complaint=complaint.id,
        quick_reply=quick_reply.id,
        commission_entries=commission_ids,
        settlements=settlement_ids,
        attacker_product=attacker_product.id,
        attacker_creator=attacker_creator.id,
        flash_sale=flash_sale.id,
        shop_media=shop_media.id,
        creator_media=creator_media.id,
        wh_sku=wh_sku.id,
        inbound=received.id,
        draft_inbound=draft_inbound.id,
        wh_task=wh_task.id,
        shop_sanction=shop_sanction.id,
        creator_sanction=creator_sanction.id,
    )
    return w


def _integrity_sanction(db, subject: SanctionSubject, subject_id: int) -> IntegritySanction:
    """A warning from a confirmed case against the subject (a shop's brushing, a creator's bought follows)."""
    now = clock.now()
    members = np.asarray([990_001, 990_002], dtype=np.int64)
    target = TargetKind.shop if subject is SanctionSubject.shop else TargetKind.account
    kind = BlockKind.brushing if subject is SanctionSubject.shop else BlockKind.engagement
    block = Block(kind, target, members, np.asarray([subject_id]), now, now, 2, 1.0, 0.9)
    integrity_service.record_blocks(db, [block])
    case = db.scalars(select(IntegrityCase).order_by(IntegrityCase.id.desc())).first()
    assert case is not None
    integrity_service.decide(db, case.id, "confirm", reason=MARKER, actor_user_id=None)
    sanction = integrity_service.add_sanction(
        db, subject, subject_id, case, reason=MARKER, actor_user_id=None, name=MARKER
    )
    assert sanction is not None
    db.commit()
    return sanction


def _media(db, *, owner_id: int, shop_id: int | None, folder: str) -> Media:
    media = Media(
        owner_id=owner_id, shop_id=shop_id, kind=MediaKind.image, source_type="image/png", width=8, height=8
    )
    media.duration_ms, media.size_bytes = None, 10
    media.objects.append(
        MediaObject(
            key=f"image/{folder}/w8-0.webp",
            variant="w8",
            content_type="image/webp",
            width=8,
            height=8,
            size_bytes=10,
        )
    )
    db.add(media)
    db.flush()
    return media


def _tiny_png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 4)).save(out, format="PNG")
    return out.getvalue()


# ----------------------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Case:
    kind: str  # foreign_id | foreign_body | listing | csv | own_write
    path: Callable[[World], dict[str, Any]] = lambda w: {}
    body: Callable[[World], Any] | None = None
    files: Callable[[World], Any] | None = None  # a multipart upload instead of a JSON body
    victim_ids: Callable[[World], set[int]] = lambda w: set()
    id_keys: tuple[str, ...] = ("id",)
    expect: frozenset[int] = frozenset()
    # The plaza is a market: it rightly shows other shops' products (by title), just not their
    # exclusive plans; every other listing must not show a word of the victim's.
    marker_may_appear: bool = False


def foreign_id(path: Callable[[World], dict[str, Any]], body: Callable[[World], Any] | None = None) -> Case:
    return Case("foreign_id", path=path, body=body, expect=frozenset({403, 404}))


def foreign_body(
    body: Callable[[World], Any], path: Callable[[World], dict[str, Any]] = lambda w: {}
) -> Case:
    return Case("foreign_body", path=path, body=body, expect=frozenset({403, 404, 409, 422}))


def listing(
    victim_ids: Callable[[World], set[int]],
    id_keys: tuple[str, ...] = ("id",),
    *,
    marker_may_appear: bool = False,
) -> Case:
    return Case(
        "listing",
        victim_ids=victim_ids,
        id_keys=id_keys,
        expect=frozenset({200}),
        marker_may_appear=marker_may_appear,
    )


def own_write(body: Callable[[World], Any]) -> Case:
    return Case("own_write", body=body)


def own_upload(files: Callable[[World], Any]) -> Case:
    return Case("own_write", files=files)


LIVE_AT = (clock.now() + timedelta(days=1)).isoformat()

CASES: dict[tuple[str, str], Case] = {
    # integrity sanctions: each reads its own; another's sanction cannot be appealed (nor is disclosed)
    ("GET", "/api/merchant/integrity/sanctions"): listing(lambda w: {w["shop_sanction"]}),
    ("POST", "/api/merchant/integrity/sanctions/{sanction_id}/appeal"): foreign_id(
        lambda w: {"sanction_id": w["shop_sanction"]}, lambda w: {"statement": "not us"}
    ),
    ("GET", "/api/creator/integrity/sanctions"): listing(lambda w: {w["creator_sanction"]}),
    ("POST", "/api/creator/integrity/sanctions/{sanction_id}/appeal"): foreign_id(
        lambda w: {"sanction_id": w["creator_sanction"]}, lambda w: {"statement": "not me"}
    ),
    # shops and staff
    ("GET", "/api/merchant/shop"): listing(lambda w: {w["shop"]}),
    ("GET", "/api/merchant/membership"): listing(lambda w: set(), id_keys=("shop_id",)),
    ("PUT", "/api/merchant/membership"): own_write(
        lambda w: {"enabled": True, "tiers": [{"name_zh": "会员", "name_en": "Member", "threshold_fen": 0}]}
    ),
    ("GET", "/api/merchant/members"): listing(lambda w: set(), id_keys=("user_id",)),
    ("GET", "/api/merchant/members/analytics"): listing(lambda w: set()),
    ("PATCH", "/api/merchant/shop"): own_write(lambda w: {"name_en": "Mine"}),
    ("GET", "/api/merchant/staff"): listing(lambda w: {w["staff"]}),
    ("POST", "/api/merchant/staff"): foreign_body(lambda w: {"email": w["staff_email"], "role": "operator"}),
    ("PATCH", "/api/merchant/staff/{staff_id}"): foreign_id(
        lambda w: {"staff_id": w["staff"]}, lambda w: {"role": "service_agent"}
    ),
    ("DELETE", "/api/merchant/staff/{staff_id}"): foreign_id(lambda w: {"staff_id": w["staff"]}),
    ("GET", "/api/merchant/staff/invitations"): listing(lambda w: {w["invitation"]}),
    # Inviting the victim's staff member only writes the attacker's own invitation.
    ("POST", "/api/merchant/staff/invitations"): own_write(
        lambda w: {"email": w["staff_email"], "role": "operator"}
    ),
    ("POST", "/api/merchant/staff/invitations/{invitation_id}/renew"): foreign_id(
        lambda w: {"invitation_id": w["invitation"]}
    ),
    ("DELETE", "/api/merchant/staff/invitations/{invitation_id}"): foreign_id(
        lambda w: {"invitation_id": w["invitation"]}
    ),
    # catalog
    ("GET", "/api/merchant/products"): listing(lambda w: {w["p1"], w["p2"], w["p3"]}),
    ("POST", "/api/merchant/products"): own_write(
        lambda w: {
            "category_id": w["category"],
            "title_zh": "我的",
            "title_en": "Mine",
            "skus": [{"code": "A", "price_fen": 100, "stock": 1}],
        }
    ),
    ("GET", "/api/merchant/products/{product_id}"): foreign_id(lambda w: {"product_id": w["p1"]}),
    ("PATCH", "/api/merchant/products/{product_id}"): foreign_id(
        lambda w: {"product_id": w["p1"]}, lambda w: {"title_en": "Stolen"}
    ),
    ("PUT", "/api/merchant/products/{product_id}"): foreign_id(
        lambda w: {"product_id": w["p1"]},
        lambda w: {
            "category_id": w["category"],
            "title_zh": "偷",
            "title_en": "Stolen",
            "skus": [{"price_fen": 1, "stock": 1}],
        },
    ),
    # the body names the victim's product, or the victim shop's picture, on a product of one's own
    ("POST", "/api/merchant/products/bulk"): foreign_body(lambda w: {"product_ids": [w["p1"]], "stock": 0}),
    ("POST", "/api/merchant/products/import"): Case(
        "foreign_body",
        files=lambda w: {
            "file": (
                "p.csv",
                f"product,title_zh,title_en,category,price,stock\n{w['p1']},偷,Stolen,{w['category_slug']},1,1\n".encode(),
                "text/csv",
            )
        },
        expect=frozenset({404, 422}),
    ),
    ("GET", "/api/merchant/products/export"): Case(
        "csv", victim_ids=lambda w: {w["p1"], w["p2"], w["p3"]}, expect=frozenset({200})
    ),
    ("POST", "/api/merchant/products/{product_id}/skus"): foreign_id(
        lambda w: {"product_id": w["p1"]}, lambda w: {"code": "X", "price_fen": 100, "stock": 1}
    ),
    ("PATCH", "/api/merchant/skus/{sku_id}"): foreign_id(
        lambda w: {"sku_id": w["sku"]}, lambda w: {"price_fen": 1}
    ),
    ("POST", "/api/merchant/skus/{sku_id}/stock"): foreign_id(
        lambda w: {"sku_id": w["sku"]}, lambda w: {"delta": -1}
    ),
    # accounts and content
    ("POST", "/api/merchant/accounts"): own_write(lambda w: {"handle": "attacker_shop_2", "name": "mine"}),
    ("GET", "/api/merchant/accounts"): listing(lambda w: {w["shop_account"]}),
    ("POST", "/api/merchant/content"): foreign_body(
        lambda w: {
            "kind": "short_video",
            "title_zh": "x",
            "title_en": "x",
            "account_id": w["shop_account"],
            "anchors": [w["p1"]],
        }
    ),
    ("GET", "/api/merchant/content"): listing(lambda w: {w["shop_video"], w["shop_live"]}),
    ("GET", "/api/merchant/content/{content_id}"): foreign_id(lambda w: {"content_id": w["shop_video"]}),
    ("POST", "/api/merchant/content/{content_id}/start"): foreign_id(
        lambda w: {"content_id": w["shop_live"]}
    ),
    ("POST", "/api/merchant/content/{content_id}/end"): foreign_id(lambda w: {"content_id": w["shop_live"]}),
    ("POST", "/api/merchant/content/{content_id}/pin"): foreign_id(
        lambda w: {"content_id": w["shop_live"]}, lambda w: {"product_id": w["p1"]}
    ),
    ("DELETE", "/api/merchant/content/{content_id}/pin"): foreign_id(
        lambda w: {"content_id": w["shop_live"]}
    ),
    ("GET", "/api/merchant/content/{content_id}/live-stats"): foreign_id(
        lambda w: {"content_id": w["shop_live"]}
    ),
    ("POST", "/api/merchant/content/{content_id}/remove"): foreign_id(
        lambda w: {"content_id": w["shop_video"]}
    ),
    ("GET", "/api/creator/account"): listing(lambda w: {w["creator_account"]}),
    ("POST", "/api/creator/account"): own_write(lambda w: {"handle": "attacker_creator_2", "name": "me"}),
    ("POST", "/api/creator/content"): foreign_body(
        lambda w: {"kind": "short_video", "title_zh": "x", "title_en": "x", "anchors": [w["p3"]]}
    ),
    ("GET", "/api/creator/content"): listing(lambda w: {w["creator_video"], w["creator_live"]}),
    ("GET", "/api/creator/content/{content_id}"): foreign_id(lambda w: {"content_id": w["creator_video"]}),
    ("POST", "/api/creator/content/{content_id}/start"): foreign_id(
        lambda w: {"content_id": w["creator_live"]}
    ),
    ("POST", "/api/creator/content/{content_id}/end"): foreign_id(
        lambda w: {"content_id": w["creator_live"]}
    ),
    ("POST", "/api/creator/content/{content_id}/pin"): foreign_id(
        lambda w: {"content_id": w["creator_live"]}, lambda w: {"product_id": w["p1"]}
    ),
    ("DELETE", "/api/creator/content/{content_id}/pin"): foreign_id(
        lambda w: {"content_id": w["creator_live"]}
    ),
    ("POST", "/api/creator/content/{content_id}/remove"): foreign_id(
        lambda w: {"content_id": w["creator_video"]}
    ),
    ("GET", "/api/creator/content/{content_id}/live-stats"): foreign_id(
        lambda w: {"content_id": w["creator_live"]}
    ),
    # the creator's data and commission statement: the attacker's own (none of the victim's sales)
    ("GET", "/api/creator/data"): listing(lambda w: {w["creator_video"], w["creator_live"], w["p2"]}),
    ("GET", "/api/creator/statement"): listing(
        lambda w: set(w["commission_entries"]) | {w["completed_order"], w["creator_video"]},
        ("entry_id", "order_id", "content_id"),
    ),
    ("GET", "/api/creator/statement.csv"): Case(
        "csv", victim_ids=lambda w: {w["completed_order"]}, expect=frozenset({200})
    ),
    # compass
    ("GET", "/api/merchant/compass/core"): listing(lambda w: set(), ("shop_id",)),
    ("GET", "/api/merchant/compass/sources"): listing(lambda w: set(), ("shop_id",)),
    ("GET", "/api/merchant/compass/creators"): listing(lambda w: {w["creator_account"]}, ("account_id",)),
    ("GET", "/api/merchant/compass/content"): listing(
        lambda w: {w["shop_video"], w["creator_video"]}, ("content_id",)
    ),
    ("GET", "/api/merchant/compass/audience"): listing(lambda w: set(), ("user_id",)),
    ("GET", "/api/merchant/compass/service"): listing(lambda w: set(), ("shop_id",)),
    ("GET", "/api/merchant/compass/products"): listing(
        lambda w: {w["p1"], w["p2"], w["p3"]}, ("product_id",)
    ),
    ("GET", "/api/merchant/compass/search"): listing(lambda w: set(), ("shop_id", "product_id")),
    # experience score
    ("GET", "/api/merchant/experience/score"): listing(lambda w: {w["shop"]}, ("shop_id",)),
    # orders
    ("GET", "/api/merchant/orders"): listing(
        lambda w: {w["paid_order"], w["delivered_order"], w["completed_order"]}
    ),
    ("GET", "/api/merchant/orders/{order_id}"): foreign_id(lambda w: {"order_id": w["paid_order"]}),
    ("POST", "/api/merchant/orders/{order_id}/ship"): foreign_id(
        lambda w: {"order_id": w["paid_order"]},
        lambda w: {"carrier_name": "SF", "tracking_number": "SF123456"},
    ),
    # a shipped (then delivered) order's parcel: the victim's carrier, number and scans
    ("GET", "/api/merchant/orders/{order_id}/tracking"): foreign_id(
        lambda w: {"order_id": w["delivered_order"]}
    ),
    ("POST", "/api/merchant/orders/{order_id}/cancel"): foreign_id(
        lambda w: {"order_id": w["paid_order"]}, lambda w: {"reason": "out_of_stock"}
    ),
    # affiliate
    ("POST", "/api/merchant/affiliate/plans"): foreign_body(
        lambda w: {"product_id": w["p1"], "kind": "open", "commission_bps": 100}
    ),
    ("GET", "/api/merchant/affiliate/plans"): listing(
        lambda w: {w["open_plan"], w["targeted_plan"], w["exclusive_plan"]}
    ),
    ("GET", "/api/merchant/affiliate/plans/{plan_id}"): foreign_id(lambda w: {"plan_id": w["targeted_plan"]}),
    ("POST", "/api/merchant/affiliate/plans/{plan_id}/end"): foreign_id(
        lambda w: {"plan_id": w["open_plan"]}
    ),
    ("POST", "/api/merchant/affiliate/plans/{plan_id}/creators"): foreign_id(
        lambda w: {"plan_id": w["exclusive_plan"]}, lambda w: {"account_id": w["attacker_creator"]}
    ),
    ("DELETE", "/api/merchant/affiliate/plans/{plan_id}/creators/{account_id}"): foreign_id(
        lambda w: {"plan_id": w["exclusive_plan"], "account_id": w["creator_account"]}
    ),
    ("GET", "/api/merchant/affiliate/applications"): listing(lambda w: {w["application"]}),
    ("POST", "/api/merchant/affiliate/applications/{application_id}/approve"): foreign_id(
        lambda w: {"application_id": w["application"]}
    ),
    ("POST", "/api/merchant/affiliate/applications/{application_id}/reject"): foreign_id(
        lambda w: {"application_id": w["application"]}
    ),
    ("GET", "/api/creator/plaza"): listing(
        lambda w: {w["exclusive_plan"]}, id_keys=("id", "plan_id"), marker_may_appear=True
    ),
    ("POST", "/api/creator/applications"): foreign_body(
        lambda w: {"plan_id": w["exclusive_plan"], "message": "me too"}
    ),
    ("GET", "/api/creator/applications"): listing(lambda w: {w["application"]}),
    ("POST", "/api/creator/applications/{application_id}/withdraw"): foreign_id(
        lambda w: {"application_id": w["application"]}
    ),
    ("GET", "/api/creator/commissions"): listing(lambda w: set(w["commission_entries"])),
    # the showcase: the attacker's own; the victim's exclusive product is neither movable nor removable
    ("GET", "/api/creator/showcase"): listing(lambda w: {w["p1"], w["p3"]}, id_keys=("product_id",)),
    ("POST", "/api/creator/showcase"): own_write(lambda w: {"product_id": w["p1"]}),
    ("DELETE", "/api/creator/showcase/{product_id}"): foreign_id(lambda w: {"product_id": w["p3"]}),
    ("POST", "/api/creator/showcase/{product_id}/move"): foreign_id(
        lambda w: {"product_id": w["p3"]}, lambda w: {"position": 1}
    ),
    # sample requests and creator partners
    ("POST", "/api/creator/samples"): foreign_body(  # the victim's exclusive product: not in the Alliance
        lambda w: {"product_id": w["p3"], "recipient": "me", "phone": "13800138000", "address": "here"}
    ),
    ("GET", "/api/creator/samples"): listing(lambda w: {w["sample"]}),
    ("POST", "/api/creator/samples/{sample_id}/cancel"): foreign_id(lambda w: {"sample_id": w["sample"]}),
    ("POST", "/api/creator/samples/{sample_id}/received"): foreign_id(lambda w: {"sample_id": w["sample"]}),
    ("GET", "/api/merchant/affiliate/samples"): listing(lambda w: {w["sample"]}),
    ("GET", "/api/merchant/affiliate/samples/counts"): listing(lambda w: set()),
    ("POST", "/api/merchant/affiliate/samples/{sample_id}/approve"): foreign_id(
        lambda w: {"sample_id": w["sample"]}
    ),
    ("POST", "/api/merchant/affiliate/samples/{sample_id}/reject"): foreign_id(
        lambda w: {"sample_id": w["sample"]}, lambda w: {"reason": "taken over"}
    ),
    ("POST", "/api/merchant/affiliate/samples/{sample_id}/ship"): foreign_id(
        lambda w: {"sample_id": w["sample"]}, lambda w: {"carrier_name": "SF", "tracking_number": "SF123456"}
    ),
    ("GET", "/api/merchant/affiliate/creators"): listing(lambda w: {w["creator_account"]}),
    ("GET", "/api/merchant/affiliate/creator-accounts"): listing(lambda w: set()),
    # after-sales and reviews
    # finance: settlements by id and by order; the statement's totals and the CSV's lines are the
    # attacker's own (test_finance checks that another shop's totals stay empty)
    ("GET", "/api/merchant/finance/settlements"): listing(
        lambda w: set(w["settlements"]) | {w["completed_order"]}, ("id", "order_id")
    ),
    ("GET", "/api/merchant/finance/statement"): listing(lambda w: set()),
    ("GET", "/api/merchant/finance/statement.csv"): Case(
        "csv", victim_ids=lambda w: {w["completed_order"]}, expect=frozenset({200})
    ),
    ("GET", "/api/merchant/after-sales"): listing(lambda w: {w["after_sale"]}),
    ("GET", "/api/merchant/after-sales/{case_id}"): foreign_id(lambda w: {"case_id": w["after_sale"]}),
    ("POST", "/api/merchant/after-sales/{case_id}/approve"): foreign_id(
        lambda w: {"case_id": w["after_sale"]}
    ),
    ("POST", "/api/merchant/after-sales/{case_id}/reject"): foreign_id(
        lambda w: {"case_id": w["after_sale"]}, lambda w: {"note": "no"}
    ),
    ("POST", "/api/merchant/after-sales/{case_id}/receive-return"): foreign_id(
        lambda w: {"case_id": w["after_sale"]}
    ),
    ("POST", "/api/merchant/after-sales/{case_id}/evidence"): foreign_id(
        lambda w: {"case_id": w["after_sale"]}, lambda w: {"media_id": 1}
    ),
    # The platform's warnings and suspensions: of the caller's shop only (no ids; the victim's
    # reasons carry its marker).
    ("GET", "/api/merchant/shop/notices"): listing(lambda w: set()),
    ("GET", "/api/merchant/reviews"): listing(lambda w: {w["review"]}),
    # campaigns and coupons
    ("POST", "/api/merchant/campaigns/{campaign_id}/registrations"): foreign_body(
        lambda w: {"product_id": w["p1"]}, path=lambda w: {"campaign_id": w["campaign"]}
    ),
    ("GET", "/api/merchant/campaigns/registrations"): listing(lambda w: {w["registration"]}),
    ("DELETE", "/api/merchant/campaigns/{campaign_id}/registrations/{product_id}"): foreign_id(
        lambda w: {"campaign_id": w["campaign"], "product_id": w["p2"]}
    ),
    ("POST", "/api/merchant/coupons"): own_write(
        lambda w: {
            "name": "mine",
            "threshold_fen": 0,
            "discount_fen": 100,
            "starts_at": clock.now().isoformat(),
            "ends_at": LIVE_AT,
        }
    ),
    ("GET", "/api/merchant/coupons"): listing(lambda w: {w["coupon"]}),
    ("GET", "/api/merchant/coupons/{coupon_id}"): foreign_id(lambda w: {"coupon_id": w["coupon"]}),
    ("PUT", "/api/merchant/coupons/{coupon_id}"): foreign_id(
        lambda w: {"coupon_id": w["coupon"]},
        lambda w: {
            "name": "taken over",
            "threshold_fen": 0,
            "discount_fen": 100,
            "starts_at": clock.now().isoformat(),
            "ends_at": LIVE_AT,
        },
    ),
    ("POST", "/api/merchant/coupons/{coupon_id}/end"): foreign_id(lambda w: {"coupon_id": w["coupon"]}),
    # customer service and complaints
    ("GET", "/api/merchant/support/conversations"): listing(lambda w: {w["conversation"]}),
    ("GET", "/api/merchant/support/conversations/{conversation_id}"): foreign_id(
        lambda w: {"conversation_id": w["conversation"]}
    ),
    ("POST", "/api/merchant/support/conversations/{conversation_id}/messages"): foreign_id(
        lambda w: {"conversation_id": w["conversation"]}, lambda w: {"body": "hello"}
    ),
    ("POST", "/api/merchant/support/conversations/{conversation_id}/close"): foreign_id(
        lambda w: {"conversation_id": w["conversation"]}
    ),
    ("POST", "/api/merchant/support/conversations/{conversation_id}/read"): foreign_id(
        lambda w: {"conversation_id": w["conversation"]}
    ),
    ("POST", "/api/merchant/support/conversations/{conversation_id}/assign"): foreign_id(
        lambda w: {"conversation_id": w["conversation"]}, lambda w: {"assignee_user_id": None}
    ),
    ("GET", "/api/merchant/support/unread"): listing(lambda w: set()),
    ("GET", "/api/merchant/support/quick-replies"): listing(lambda w: {w["quick_reply"]}),
    ("POST", "/api/merchant/support/quick-replies"): own_write(lambda w: {"title": "mine", "body": "hello"}),
    ("PUT", "/api/merchant/support/quick-replies/{quick_reply_id}"): foreign_id(
        lambda w: {"quick_reply_id": w["quick_reply"]}, lambda w: {"title": "x", "body": "y"}
    ),
    ("DELETE", "/api/merchant/support/quick-replies/{quick_reply_id}"): foreign_id(
        lambda w: {"quick_reply_id": w["quick_reply"]}
    ),
    ("GET", "/api/merchant/complaints"): listing(lambda w: {w["complaint"]}),
    ("GET", "/api/merchant/complaints/{complaint_id}"): foreign_id(
        lambda w: {"complaint_id": w["complaint"]}
    ),
    # media uploads (the shop's, and a creator's own)
    ("POST", "/api/media/images"): own_upload(lambda w: {"file": ("mine.png", _tiny_png(), "image/png")}),
    ("POST", "/api/media/videos"): own_upload(lambda w: {"file": ("mine.mp4", b"not a video", "video/mp4")}),
    ("GET", "/api/media/{media_id}"): foreign_id(lambda w: {"media_id": w["shop_media"]}),
    ("DELETE", "/api/media/{media_id}"): foreign_id(lambda w: {"media_id": w["creator_media"]}),
    # content moderation: the owner's take-down page and appeal
    ("GET", "/api/merchant/content/{content_id}/takedown"): foreign_id(
        lambda w: {"content_id": w["shop_removed"]}
    ),
    ("POST", "/api/merchant/content/{content_id}/appeal"): foreign_id(
        lambda w: {"content_id": w["shop_removed"]}, body=lambda w: {"statement": "mine"}
    ),
    ("GET", "/api/creator/content/{content_id}/takedown"): foreign_id(
        lambda w: {"content_id": w["creator_removed"]}
    ),
    ("POST", "/api/creator/content/{content_id}/appeal"): foreign_id(
        lambda w: {"content_id": w["creator_removed"]}, body=lambda w: {"statement": "mine"}
    ),
    # matching: the victim's open-plan products are public (plaza), its exclusive plan is not; another
    # shop's product has no recommended creators for the attacker
    ("GET", "/api/creator/recommendations"): listing(
        lambda w: {w["exclusive_plan"]}, id_keys=("plan_id",), marker_may_appear=True
    ),
    ("GET", "/api/merchant/affiliate/products/{product_id}/recommended-creators"): foreign_id(
        lambda w: {"product_id": w["p1"]}
    ),
    # the platform warehouse
    ("GET", "/api/merchant/warehouse/stock"): listing(lambda w: {w["wh_sku"]}, id_keys=("sku_id",)),
    ("GET", "/api/merchant/warehouse/inbounds"): listing(lambda w: {w["inbound"], w["draft_inbound"]}),
    ("POST", "/api/merchant/warehouse/inbounds"): foreign_body(
        lambda w: {"warehouse": "east", "lines": [{"sku_id": w["wh_sku"], "quantity": 1}]}
    ),
    ("GET", "/api/merchant/warehouse/inbounds/{inbound_id}"): foreign_id(
        lambda w: {"inbound_id": w["inbound"]}
    ),
    ("POST", "/api/merchant/warehouse/inbounds/{inbound_id}/dispatch"): foreign_id(
        lambda w: {"inbound_id": w["draft_inbound"]},
        lambda w: {"carrier_name": "顺丰", "tracking_number": "SF123456"},
    ),
    ("POST", "/api/merchant/warehouse/inbounds/{inbound_id}/cancel"): foreign_id(
        lambda w: {"inbound_id": w["draft_inbound"]}
    ),
    ("GET", "/api/merchant/warehouse/fulfilments"): listing(lambda w: {w["wh_task"]}),
    # flash sales
    ("GET", "/api/merchant/flash-sales"): listing(lambda w: {w["flash_sale"]}),
    ("POST", "/api/merchant/flash-sales"): foreign_body(
        lambda w: {
            "sku_id": w["sku"],
            "title": "x",
            "price_fen": 1,
            "quantity": 1,
            "starts_at": "2030-01-01T00:00:00+00:00",
        }
    ),
    ("GET", "/api/merchant/flash-sales/{sale_id}"): foreign_id(lambda w: {"sale_id": w["flash_sale"]}),
    ("POST", "/api/merchant/flash-sales/{sale_id}/start"): foreign_id(lambda w: {"sale_id": w["flash_sale"]}),
    ("POST", "/api/merchant/flash-sales/{sale_id}/end"): foreign_id(lambda w: {"sale_id": w["flash_sale"]}),
}

# ----------------------------------------------------------------------------------------- checks

# Tables whose rows change on any authenticated call, or that record the caller's own attempt.
_NOISE_TABLES = {"auth_tokens", "idempotency_records", "alembic_version"}


def victim_snapshot(db, w: World) -> dict[str, list[tuple]]:
    """Every row that belongs to the victim shop, its accounts or its users, table by table."""
    db.expire_all()
    shop_ids, account_ids, user_ids = w.victim_shop_ids, w.victim_account_ids, w.victim_user_ids
    out: dict[str, list[tuple]] = {}
    conn = db.connection()
    for table in Base.metadata.sorted_tables:
        if table.name in _NOISE_TABLES:
            continue
        cols = table.c
        conditions = []
        if table.name == "shops":
            conditions.append(cols.id.in_(shop_ids))
        if "shop_id" in cols:
            conditions.append(cols.shop_id.in_(shop_ids))
        if "account_id" in cols:
            conditions.append(cols.account_id.in_(account_ids))
        if table.name == "accounts":
            conditions.append(cols.id.in_(account_ids))
        if "user_id" in cols and table.name in {"users", "shop_staff", "accounts"}:
            conditions.append(cols.user_id.in_(user_ids))
        if table.name == "users":
            conditions.append(cols.id.in_(user_ids))
        if table.name in {"skus", "product_images"}:
            conditions.append(
                cols.product_id.in_(
                    select(Base.metadata.tables["products"].c.id).where(
                        Base.metadata.tables["products"].c.shop_id.in_(shop_ids)
                    )
                )
            )
        if table.name in {"content_anchors", "live_product_sets"}:
            content = Base.metadata.tables["content"]
            conditions.append(
                cols.content_id.in_(select(content.c.id).where(content.c.account_id.in_(account_ids)))
            )
        if table.name == "cs_messages":
            conv = Base.metadata.tables["cs_conversations"]
            conditions.append(cols.conversation_id.in_(select(conv.c.id).where(conv.c.shop_id.in_(shop_ids))))
        if table.name == "warehouse_inbound_lines":
            inbounds = Base.metadata.tables["warehouse_inbounds"]
            conditions.append(
                cols.inbound_id.in_(select(inbounds.c.id).where(inbounds.c.shop_id.in_(shop_ids)))
            )
        if table.name == "affiliate_plan_creators":
            plans = Base.metadata.tables["affiliate_plans"]
            conditions.append(cols.plan_id.in_(select(plans.c.id).where(plans.c.shop_id.in_(shop_ids))))
        if table.name == "media":
            conditions.append(cols.owner_id.in_(user_ids))
        if table.name == "media_objects":
            media = Base.metadata.tables["media"]
            conditions.append(
                cols.media_id.in_(
                    select(media.c.id).where(
                        or_(media.c.shop_id.in_(shop_ids), media.c.owner_id.in_(user_ids))
                    )
                )
            )
        if table.name == "integrity_sanctions":
            conditions.append(
                or_(
                    (cols.subject == SanctionSubject.shop) & cols.subject_id.in_(shop_ids),
                    (cols.subject == SanctionSubject.creator) & cols.subject_id.in_(account_ids),
                )
            )
        if table.name == "campaigns":
            conditions.append(cols.id.in_(select(Base.metadata.tables["campaign_products"].c.campaign_id)))
        if not conditions:
            continue

        rows = conn.execute(select(table).where(or_(*conditions)).order_by(*table.primary_key.columns)).all()
        out[table.name] = [tuple(r) for r in rows]
    db.commit()
    return out


def _ids_in(obj: Any, keys: tuple[str, ...]) -> set[int]:
    found: set[int] = set()
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key in keys and isinstance(value, int):
                found.add(value)
            found |= _ids_in(value, keys)
    elif isinstance(obj, list):
        for value in obj:
            found |= _ids_in(value, keys)
    return found


def _operations(app) -> set[tuple[str, str]]:
    ops = set()
    for path, methods in app.openapi()["paths"].items():
        if path.startswith(("/api/merchant", "/api/creator", "/api/media")):
            ops |= {(method.upper(), path) for method in methods}
    return ops


def test_every_endpoint_has_a_case(app):
    operations = _operations(app)
    missing = sorted(operations - CASES.keys())
    stale = sorted(CASES.keys() - operations)
    assert not missing, f"merchant/creator endpoints without a tenant-isolation case: {missing}"
    assert not stale, f"cases for endpoints that no longer exist: {stale}"


def test_no_endpoint_reaches_another_tenant(client, db):
    world = build_world(db)
    refresh_compass(client, db)  # Compass reads a snapshot: one that holds the victim's sales
    before = victim_snapshot(db, world)
    assert sum(len(rows) for rows in before.values()) > 40, "the victim world is too small to prove anything"
    failures: list[str] = []
    for (method, template), case in sorted(CASES.items()):
        headers = world.creator_headers if template.startswith("/api/creator") else world.merchant_headers
        path = template.format(**case.path(world))
        kwargs: dict[str, Any] = {"headers": headers}
        if case.body is not None:
            kwargs["json"] = case.body(world)
        if case.files is not None:
            kwargs["files"] = case.files(world)
        response = client.request(method, path, **kwargs)
        label = f"{method} {template} -> {response.status_code}"
        if case.expect and response.status_code not in case.expect:
            failures.append(f"{label}: expected one of {sorted(case.expect)}: {response.text[:200]}")
        if response.status_code >= 500:
            failures.append(f"{label}: server error")
        if case.kind == "listing" and response.status_code == 200:
            leaked = _ids_in(response.json(), case.id_keys) & case.victim_ids(world)
            if leaked:
                failures.append(f"{label}: shows the victim's ids {sorted(leaked)}")
            if MARKER in response.text and not case.marker_may_appear:
                failures.append(f"{label}: shows the victim's text")
        if case.kind == "csv" and response.status_code == 200:
            first_column = {line.split(",")[0] for line in response.text.splitlines()[1:]}
            leaked = {i for i in case.victim_ids(world) if str(i) in first_column}
            if leaked or MARKER in response.text:
                failures.append(f"{label}: shows the victim's orders {sorted(leaked)}")
        if case.kind == "foreign_id" and MARKER in response.text:
            failures.append(f"{label}: error mentions the victim's data")
        after = victim_snapshot(db, world)
        if after != before:
            changed = [name for name in before if before[name] != after.get(name)]
            failures.append(f"{label}: changed the victim's rows in {changed}")
            before = after
    assert not failures, "tenant isolation broken:\n" + "\n".join(failures)


@pytest.mark.parametrize("role", [StaffRole.operator, StaffRole.service_agent])
def test_other_shop_roles_are_isolated_too(client, db, role):
    world = build_world(db)
    attacker = make_shop(db, "另一家")
    member = add_staff(db, attacker.shop, role)
    headers = auth(db, member)
    for template, params in [
        ("/api/merchant/orders/{order_id}", {"order_id": world["paid_order"]}),
        ("/api/merchant/products/{product_id}", {"product_id": world["p1"]}),
        ("/api/merchant/after-sales/{case_id}", {"case_id": world["after_sale"]}),
        ("/api/merchant/support/conversations/{conversation_id}", {"conversation_id": world["conversation"]}),
    ]:
        response = client.get(template.format(**params), headers=headers)
        assert response.status_code == 404, (template, response.text)
