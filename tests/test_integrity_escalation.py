"""Escalation of repeat offenders (issue #19, part B): confirmed cases warn a shop, then take its
campaign registration, then suspend it (the operator's shop actions, each with a reason the merchant
is notified of); a creator loses the product plaza; an appeal granted reverses the case."""

from __future__ import annotations

from sqlalchemy import select

from tests.api_helpers import assert_error
from tests.factories import auth, make_creator, make_shop, make_user
from tests.integrity_helpers import T0, block
from zhongcao.integrity import service as integrity_service
from zhongcao.integrity.blocks import BlockKind, TargetKind
from zhongcao.integrity.models import CaseStatus, IntegrityCase
from zhongcao.notifications.models import Notification, NotificationKind
from zhongcao.shops.models import ShopStatus
from zhongcao.users.models import Role


def _confirm_brushing(client, db, operator, shop_id: int, n: int) -> dict:
    integrity_service.record_blocks(
        db,
        [
            block(
                [1000 + n, 2000 + n],
                [shop_id],
                kind=BlockKind.brushing,
                target_kind=TargetKind.shop,
                orders=[5000 + n],
                start=T0.replace(day=n + 1),
            )
        ],
    )
    case_id = db.scalars(select(IntegrityCase.id).order_by(IntegrityCase.id.desc())).first()
    response = client.post(
        f"/api/ops/integrity/cases/{case_id}/decision",
        json={"decision": "confirm", "reason": f"brushing ring {n}: shared address"},
        headers=auth(db, operator),
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_a_shop_is_warned_then_loses_campaigns_then_is_suspended(client, db) -> None:
    operator = make_user(db, Role.operator)
    bundle = make_shop(db)
    shop_id = bundle.shop.id
    levels = []
    for n in range(1, 4):
        detail = _confirm_brushing(client, db, operator, shop_id, n)
        (sanction,) = detail["sanctions"]
        levels.append((sanction["level"], sanction["offences"]))
    assert levels == [("warning", 1), ("eligibility", 2), ("suspension", 3)]
    db.expire_all()
    shop = bundle.shop
    db.refresh(shop)
    assert shop.status is ShopStatus.suspended and shop.campaign_registration_suspended
    notes = list(db.scalars(select(Notification).where(Notification.user_id == bundle.owner.id)))
    assert [n.kind for n in notes] == [NotificationKind.integrity_sanction] * 3
    assert notes[0].params["reason"] == "brushing ring 1: shared address"
    # The merchant sees the sanctions and appeals the suspension, once.
    owner = auth(db, bundle.owner)
    mine = client.get("/api/merchant/integrity/sanctions", headers=owner).json()
    assert [s["level"] for s in mine] == ["suspension", "eligibility", "warning"]
    url = f"/api/merchant/integrity/sanctions/{mine[0]['id']}/appeal"
    assert_error(client.post(url, json={"statement": ""}, headers=owner), 422, "validation_error")
    appealed = client.post(url, json={"statement": "those were real customers"}, headers=owner)
    assert appealed.status_code == 200 and appealed.json()["appeal_status"] == "pending"
    assert_error(client.post(url, json={"statement": "again"}, headers=owner), 409, "appeal_already_made")
    # Another shop cannot see or appeal it.
    other = make_shop(db)
    assert client.get("/api/merchant/integrity/sanctions", headers=auth(db, other.owner)).json() == []
    assert_error(
        client.post(url, json={"statement": "x"}, headers=auth(db, other.owner)), 404, "sanction_not_found"
    )
    # The operator grants it: the third case is reversed, its flags lifted; the shop is restored.
    queue = client.get("/api/ops/integrity/appeals", headers=auth(db, operator)).json()
    assert [a["id"] for a in queue] == [mine[0]["id"]]
    decided = client.post(
        f"/api/ops/integrity/sanctions/{mine[0]['id']}/appeal-decision",
        json={"decision": "grant", "reason": "orders verified with the carrier"},
        headers=auth(db, operator),
    )
    assert decided.status_code == 200, decided.text and decided.json()["appeal_status"] == "granted"
    db.expire_all()
    case = db.get(IntegrityCase, mine[0]["case_id"])
    assert case.status is CaseStatus.dismissed
    assert not integrity_service.active_flags(db).has(integrity_service.FlagKind.order, 5003)
    db.refresh(shop)
    assert shop.status is ShopStatus.active and shop.campaign_registration_suspended  # one step back
    assert_error(
        client.post(
            f"/api/ops/integrity/sanctions/{mine[0]['id']}/appeal-decision",
            json={"decision": "uphold", "reason": "x"},
            headers=auth(db, operator),
        ),
        409,
        "appeal_not_pending",
    )
    kinds = [n.kind for n in db.scalars(select(Notification).where(Notification.user_id == bundle.owner.id))]
    assert NotificationKind.integrity_appeal_decided in kinds


def test_a_creator_who_bought_follows_loses_the_plaza(client, db) -> None:
    operator = make_user(db, Role.operator)
    user, account = make_creator(db)
    for n in range(1, 3):
        integrity_service.record_blocks(
            db,
            [
                block(
                    [3000 + n, 3100 + n],
                    [account.id],
                    target_kind=TargetKind.account,
                    start=T0.replace(day=n),
                )
            ],
        )
        case_id = db.scalars(select(IntegrityCase.id).order_by(IntegrityCase.id.desc())).first()
        client.post(
            f"/api/ops/integrity/cases/{case_id}/decision",
            json={"decision": "confirm", "reason": "bought followers"},
            headers=auth(db, operator),
        )
    mine = client.get("/api/creator/integrity/sanctions", headers=auth(db, user)).json()
    assert [s["level"] for s in mine] == ["eligibility", "warning"]
    refusal = integrity_service.plaza_refusal(db, account.id)
    assert refusal is not None and refusal.code == "plaza_eligibility_suspended"
