"""Sample requests (寄样) through the API: a creator asks, the merchant approves and ships or rejects,
the creator confirms receipt or cancels; bad input, one open request per product, who sees what;
decision notes on applications; the shop's creator partners."""

from __future__ import annotations

from sqlalchemy import select

from tests.api_helpers import assert_error, walk_items
from tests.commerce_helpers import completed_order, make_plan, paid_order
from tests.factories import add_staff, auth, make_creator, make_product, make_shop, make_user
from zhongcao.affiliate import samples
from zhongcao.affiliate import service as affiliate_service
from zhongcao.affiliate.models import PlanKind, SampleRequest, SampleStatus
from zhongcao.catalog.models import ProductStatus
from zhongcao.notifications.models import Notification, NotificationKind
from zhongcao.shops.models import StaffRole
from zhongcao.users.models import Role

MINE = "/api/creator/samples"
QUEUE = "/api/merchant/affiliate/samples"
ADDRESS = {"recipient": "小鹿", "phone": "138 0013 8000", "address": "上海市徐汇区漕溪北路 88 号 12 楼"}


def _ask(client, headers, product_id, **extra):
    return client.post(MINE, json={"product_id": product_id, **ADDRESS, **extra}, headers=headers)


def _kinds(db, user_id):
    return [n.kind for n in db.scalars(select(Notification).where(Notification.user_id == user_id))]


def test_a_sample_from_request_to_receipt(client, db):
    bundle = make_shop(db, "花西子")
    product = make_product(db, bundle.shop, price_fen=12_900)
    make_plan(db, product, commission_bps=1500)
    creator_user, creator = make_creator(db)
    c, m = auth(db, creator_user), auth(db, bundle.owner)

    asked = _ask(client, c, product.id, message="想做一期测评")
    assert asked.status_code == 201, asked.text
    sample = asked.json()
    assert sample["status"] == "requested" and sample["shop_id"] == bundle.shop.id
    assert sample["product_title_zh"] == product.title_zh and sample["message"] == "想做一期测评"
    assert sample["phone"] == "138 0013 8000" and sample["decision_note"] == ""
    assert _kinds(db, bundle.owner.id) == [NotificationKind.sample_requested]
    # One open request per creator and product.
    assert_error(_ask(client, c, product.id), 409, "sample_pending")

    queue = client.get(QUEUE, headers=m).json()["items"]
    assert [s["id"] for s in queue] == [sample["id"]]
    assert queue[0]["creator"]["id"] == creator.id and queue[0]["recipient"] == "小鹿"
    counts = client.get(f"{QUEUE}/counts", headers=m).json()["counts"]
    assert (
        counts["requested"] == 1 and counts["shipped"] == 0 and set(counts) == {s.value for s in SampleStatus}
    )

    # Shipping before approving, and receiving before shipping, are refused.
    ship = {"carrier_name": "顺丰", "tracking_number": "SF1234567890"}
    assert_error(client.post(f"{QUEUE}/{sample['id']}/ship", json=ship, headers=m), 409, "illegal_transition")
    assert_error(client.post(f"{MINE}/{sample['id']}/received", headers=c), 409, "illegal_transition")

    approved = client.post(f"{QUEUE}/{sample['id']}/approve", json={"note": "三天内发出"}, headers=m)
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert approved.json()["decision_note"] == "三天内发出"
    assert_error(
        client.post(f"{QUEUE}/{sample['id']}/ship", json={**ship, "tracking_number": "SF"}, headers=m),
        422,
        "validation_error",
    )
    assert_error(
        client.post(f"{QUEUE}/{sample['id']}/ship", json={**ship, "tracking_number": "SF#123456"}, headers=m),
        422,
        "invalid_tracking_number",
        "tracking_number",
    )
    shipped = client.post(f"{QUEUE}/{sample['id']}/ship", json=ship, headers=m).json()
    assert shipped["status"] == "shipped" and shipped["tracking_number"] == "SF1234567890"
    assert shipped["carrier_name"] == "顺丰" and shipped["shipped_at"]
    # Shipped: too late to cancel.
    assert_error(client.post(f"{MINE}/{sample['id']}/cancel", headers=c), 409, "illegal_transition")

    mine = walk_items(client, MINE, c)
    assert [(s["id"], s["status"]) for s in mine] == [(sample["id"], "shipped")]
    received = client.post(f"{MINE}/{sample['id']}/received", headers=c).json()
    assert received["status"] == "received" and received["received_at"]
    assert _kinds(db, creator_user.id) == [NotificationKind.sample_approved, NotificationKind.sample_shipped]
    # Received closes the request: another may be asked for.
    assert _ask(client, c, product.id).status_code == 201
    assert walk_items(client, f"{MINE}?status=received", c)[0]["id"] == sample["id"]


def test_reject_with_a_reason_and_cancel(client, db):
    bundle = make_shop(db)
    product = make_product(db, bundle.shop)
    make_plan(db, product)
    creator_user, _ = make_creator(db)
    c, m = auth(db, creator_user), auth(db, bundle.owner)
    first = _ask(client, c, product.id).json()
    assert_error(client.post(f"{QUEUE}/{first['id']}/reject", json={}, headers=m), 422, "validation_error")
    assert_error(
        client.post(f"{QUEUE}/{first['id']}/reject", json={"reason": "   "}, headers=m),
        422,
        "validation_error",
    )
    rejected = client.post(f"{QUEUE}/{first['id']}/reject", json={"reason": "粉丝画像与商品不符"}, headers=m)
    assert (
        rejected.json()["status"] == "rejected" and rejected.json()["decision_note"] == "粉丝画像与商品不符"
    )
    seen = walk_items(client, MINE, c)[0]
    assert seen["status"] == "rejected" and seen["decision_note"] == "粉丝画像与商品不符"
    notes = db.scalars(select(Notification).where(Notification.user_id == creator_user.id)).all()
    assert [n.kind for n in notes] == [NotificationKind.sample_rejected]
    assert notes[0].params["preview"] == "粉丝画像与商品不符"

    second = _ask(client, c, product.id).json()
    assert client.post(f"{MINE}/{second['id']}/cancel", headers=c).json()["status"] == "cancelled"
    assert_error(client.post(f"{QUEUE}/{second['id']}/approve", headers=m), 409, "illegal_transition")
    third = _ask(client, c, product.id).json()
    client.post(f"{QUEUE}/{third['id']}/approve", headers=m)
    # Approved but not shipped: the creator may still cancel.
    assert client.post(f"{MINE}/{third['id']}/cancel", headers=c).json()["status"] == "cancelled"


def test_bad_requests(client, db):
    bundle = make_shop(db)
    product = make_product(db, bundle.shop)
    no_plan = make_product(db, bundle.shop)
    exclusive = make_product(db, bundle.shop)
    delisted = make_product(db, bundle.shop)
    make_plan(db, product)
    creator_user, creator = make_creator(db)
    _, rival = make_creator(db)
    make_plan(db, exclusive, kind=PlanKind.exclusive, creators=[rival])
    make_plan(db, delisted)
    delisted.status = ProductStatus.delisted
    db.commit()
    c = auth(db, creator_user)
    assert_error(_ask(client, c, no_plan.id), 422, "product_not_in_alliance", "product_id")
    assert_error(_ask(client, c, exclusive.id), 422, "product_not_in_alliance", "product_id")
    assert_error(_ask(client, c, delisted.id), 422, "product_not_on_sale", "product_id")
    assert_error(_ask(client, c, 999_999), 422, "product_not_in_alliance", "product_id")
    assert_error(_ask(client, c, product.id, phone="call me"), 422, "invalid_contact_phone", "phone")
    assert_error(_ask(client, c, product.id, phone="123"), 422, "invalid_contact_phone", "phone")
    assert_error(_ask(client, c, product.id, recipient=""), 422, "validation_error")
    assert_error(_ask(client, c, product.id, address="第一行\n第二行"), 422, "validation_error")
    assert_error(_ask(client, c, product.id, address="x" * 201), 422, "validation_error")
    assert_error(_ask(client, c, product.id, extra="?"), 422, "validation_error")
    assert_error(client.get(f"{MINE}?status=lost", headers=c), 422, "validation_error")
    assert_error(_ask(client, auth(db, bundle.owner), product.id), 403, "wrong_role")
    assert_error(_ask(client, auth(db, make_user(db, Role.creator)), product.id), 403, "no_creator_account")
    # The service says the same to the pages.
    try:
        samples.request_sample(
            db, creator.id, product.id, recipient="a", phone="+86 138-0013-8000", address=""
        )
    except Exception as exc:  # noqa: BLE001
        assert getattr(exc, "code", None) == "required" and exc.details["field"] == "address"
    else:
        raise AssertionError("an empty address was accepted")
    assert db.scalar(select(SampleRequest.id)) is None


def test_isolation_and_roles(client, db):
    bundle = make_shop(db)
    other = make_shop(db)
    product = make_product(db, bundle.shop)
    make_plan(db, product)
    creator_user, _ = make_creator(db)
    rival_user, _ = make_creator(db)
    sample = _ask(client, auth(db, creator_user), product.id).json()
    o, r = auth(db, other.owner), auth(db, rival_user)
    assert walk_items(client, QUEUE, o) == []
    assert client.get(f"{QUEUE}/counts", headers=o).json()["counts"]["requested"] == 0
    for action, body in (
        ("approve", {}),
        ("reject", {"reason": "no"}),
        ("ship", {"carrier_name": "SF", "tracking_number": "SF123456"}),
    ):
        assert_error(
            client.post(f"{QUEUE}/{sample['id']}/{action}", json=body, headers=o), 404, "sample_not_found"
        )
    assert walk_items(client, MINE, r) == []
    assert_error(client.post(f"{MINE}/{sample['id']}/cancel", headers=r), 404, "sample_not_found")
    assert_error(client.post(f"{MINE}/{sample['id']}/received", headers=r), 404, "sample_not_found")
    # A service agent sees the queue but decides nothing.
    agent = auth(db, add_staff(db, bundle.shop, StaffRole.service_agent))
    assert [s["id"] for s in walk_items(client, QUEUE, agent)] == [sample["id"]]
    assert_error(client.post(f"{QUEUE}/{sample['id']}/approve", headers=agent), 403, "wrong_shop_role")
    operator = auth(db, add_staff(db, bundle.shop, StaffRole.operator))
    assert client.post(f"{QUEUE}/{sample['id']}/approve", headers=operator).json()["status"] == "approved"
    db.expire_all()
    assert db.get(SampleRequest, sample["id"]).status == SampleStatus.approved


def test_application_decisions_carry_a_note(client, db):
    bundle = make_shop(db)
    product = make_product(db, bundle.shop)
    make_plan(db, product, commission_bps=500)
    targeted = make_plan(db, product, kind=PlanKind.targeted, commission_bps=1500)
    creator_user, creator = make_creator(db)
    _, rival = make_creator(db)
    mine = affiliate_service.apply_to_plan(db, creator.id, targeted.id, "选我")
    theirs = affiliate_service.apply_to_plan(db, rival.id, targeted.id, "")
    m = auth(db, bundle.owner)
    url = "/api/merchant/affiliate/applications"
    approved = client.post(f"{url}/{mine.id}/approve", json={"note": "欢迎合作"}, headers=m).json()
    assert approved["status"] == "approved" and approved["decision_note"] == "欢迎合作"
    assert_error(
        client.post(f"{url}/{theirs.id}/reject", json={"note": "x" * 501}, headers=m), 422, "validation_error"
    )
    rejected = client.post(f"{url}/{theirs.id}/reject", headers=m).json()  # the note is optional
    assert rejected["status"] == "rejected" and rejected["decision_note"] == ""
    seen = walk_items(client, "/api/creator/applications", auth(db, creator_user))
    assert seen[0]["decision_note"] == "欢迎合作"
    # Service agents read plans and applications, and change nothing.
    agent = auth(db, add_staff(db, bundle.shop, StaffRole.service_agent))
    assert client.get("/api/merchant/affiliate/plans", headers=agent).status_code == 200
    assert len(walk_items(client, url, agent)) == 2


def test_creator_partners(client, db):
    bundle = make_shop(db)
    p1 = make_product(db, bundle.shop, price_fen=10_000)
    p2 = make_product(db, bundle.shop, price_fen=5_000)
    make_plan(db, p1, commission_bps=1000)
    make_plan(db, p2, commission_bps=2000)
    big_user, big = make_creator(db)
    small_user, small = make_creator(db)
    buyer = make_user(db)
    completed_order(db, buyer=buyer, shop=bundle, product=p1, creator=big)
    completed_order(db, buyer=buyer, shop=bundle, product=p1, creator=big)
    paid_order(db, buyer=buyer, shop=bundle, product=p2, creator=small)
    paid_order(db, buyer=buyer, shop=bundle, product=p2)  # no creator: not a partner's sale
    report = client.get("/api/merchant/affiliate/creators?days=7", headers=auth(db, bundle.owner)).json()
    rows = {r["creator"]["id"]: r for r in report["items"]}
    assert [r["creator"]["id"] for r in report["items"]] == [big.id, small.id]
    assert rows[big.id]["orders"] == 2 and rows[big.id]["gmv_fen"] == 20_000
    assert rows[big.id]["commission_fen"] == 2_000 and rows[big.id]["booked_fen"] == 2_000
    assert rows[small.id]["orders"] == 1 and rows[small.id]["gmv_fen"] == 5_000
    assert rows[small.id]["commission_fen"] == 1_000 and rows[small.id]["booked_fen"] == 0  # not complete yet
    assert report["last_day"] >= report["first_day"]
    other = make_shop(db)
    assert client.get("/api/merchant/affiliate/creators", headers=auth(db, other.owner)).json()["items"] == []
    assert_error(
        client.get("/api/merchant/affiliate/creators?days=0", headers=auth(db, bundle.owner)),
        422,
        "validation_error",
    )
    found = client.get(
        f"/api/merchant/affiliate/creator-accounts?q={big.handle[:6].upper()}", headers=auth(db, bundle.owner)
    ).json()
    assert big.id in [a["id"] for a in found]
    assert (
        client.get("/api/merchant/affiliate/creator-accounts?q=", headers=auth(db, bundle.owner)).json() == []
    )
    assert small_user and big_user
