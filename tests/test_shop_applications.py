"""Sign-up as a shopper or a creator, and shop applications (issue #15, item 1): a shopper applies to
open a shop with a unified social credit code checked by its check character; an operator approves
(the shop opens, the applicant its owner and a merchant) or rejects with a reason the applicant sees."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest

from tests.api_helpers import assert_error
from tests.factories import auth, make_category, make_user
from zhongcao import flows
from zhongcao.content import service as content_service
from zhongcao.errors import Conflict, InvalidInput
from zhongcao.shops import applications
from zhongcao.shops import service as shops_service
from zhongcao.shops.credit_code import CHARSET, check_character, problem
from zhongcao.shops.models import ApplicationStatus, StaffRole
from zhongcao.users.models import Role

GOOD_CODE = "91440300708461136T"  # a real company's code (Huawei), check character T


def _body(category_id: int, /, **changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "name_zh": "青禾小铺",
        "name_en": "Green Grain",
        "category_id": category_id,
        "credit_code": GOOD_CODE,
        "contact_name": "王芳",
        "contact_phone": "138 0013 8000",
    }
    body.update(changes)
    return body


def test_credit_code_check_character():
    assert len(CHARSET) == 31
    for code in ("91440300708461136T", "91110000600037341L", "91350100M000100Y43"):
        assert problem(code) is None and check_character(code[:17]) == code[17]
    assert problem("91440300708461136A") is not None  # wrong check character
    assert problem("91440300708461136") is not None  # 17 characters
    assert problem("9144030070846113IT") is not None  # I is not in the set
    # Check value 31 is written as 0: find a body whose sum is a multiple of 31.
    body = "0" * 17
    assert check_character(body) == "0"


def test_register_as_creator_gets_a_creator_account(client, db):
    r = client.post(
        "/api/auth/register",
        json={
            "email": "maker@x.com",
            "password": "plum orchard 42",
            "display_name": "Maker",
            "role": "creator",
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["user"]["role"] == "creator"
    account = content_service.creator_account_for_user(db, r.json()["user"]["id"])
    assert account is not None and account.name == "Maker"
    r = client.post(
        "/api/auth/register",
        json={"email": "boss@x.com", "password": "plum orchard 42", "display_name": "B", "role": "operator"},
    )
    assert_error(r, 422, "invalid_role")
    r = client.post(
        "/api/auth/register", json={"email": "weak@x.com", "password": "password1", "display_name": "W"}
    )
    assert_error(r, 422, "weak_password")


def test_apply_approve_and_open_the_console(client, db):
    category = make_category(db)
    shopper = make_user(db, Role.shopper)
    operator = make_user(db, Role.operator)
    headers = auth(db, shopper)
    r = client.post("/api/shop-applications", json=_body(category.id), headers=headers)
    assert r.status_code == 201, r.text
    app_id = r.json()["id"]
    assert r.json()["status"] == "pending" and r.json()["credit_code"] == GOOD_CODE
    assert_error(
        client.post("/api/shop-applications", json=_body(category.id), headers=headers),
        409,
        "application_pending",
    )
    # Operators only.
    assert client.get("/api/ops/shop-applications", headers=headers).status_code == 403
    ops = auth(db, operator)
    r = client.get("/api/ops/shop-applications?status=pending", headers=ops)
    assert [a["id"] for a in r.json()["items"]] == [app_id]
    # Approving says why, like every operator action.
    assert_error(
        client.post(f"/api/ops/shop-applications/{app_id}/approve", json={"reason": " "}, headers=ops),
        422,
        "validation_error",
        "reason",
    )
    assert client.post(f"/api/ops/shop-applications/{app_id}/approve", headers=ops).status_code == 422
    approval = {"reason": "执照与信用代码核验一致"}
    r = client.post(f"/api/ops/shop-applications/{app_id}/approve", json=approval, headers=ops)
    assert r.status_code == 200, r.text
    assert r.json()["reason"] == "执照与信用代码核验一致"
    assert r.json()["status"] == "approved" and r.json()["shop_id"]
    assert_error(
        client.post(f"/api/ops/shop-applications/{app_id}/approve", json=approval, headers=ops),
        409,
        "application_decided",
    )
    db.expire_all()
    membership = shops_service.membership_for_user(db, shopper.id)
    assert membership is not None and membership.role is StaffRole.owner
    assert membership.shop_id == r.json()["shop_id"]
    assert client.get("/api/me", headers=headers).json()["role"] == "merchant"
    assert client.get("/api/merchant/shop", headers=headers).json()["name_en"] == "Green Grain"
    assert client.get(f"/api/shop-applications/{app_id}", headers=headers).json()["status"] == "approved"


def test_reject_needs_a_reason_the_applicant_sees(client, db):
    category = make_category(db)
    shopper, other = make_user(db), make_user(db)
    ops = auth(db, make_user(db, Role.operator))
    r = client.post("/api/shop-applications", json=_body(category.id), headers=auth(db, shopper))
    app_id = r.json()["id"]
    assert (
        client.post(
            f"/api/ops/shop-applications/{app_id}/reject", json={"reason": "  "}, headers=ops
        ).status_code
        == 422
    )
    r = client.post(
        f"/api/ops/shop-applications/{app_id}/reject", json={"reason": "营业执照模糊"}, headers=ops
    )
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    mine = client.get("/api/shop-applications", headers=auth(db, shopper)).json()
    assert mine[0]["reason"] == "营业执照模糊"
    # The decision is in the operators' audit log, with its reason and the change.
    entry = client.get(f"/api/ops/audit?target_kind=shop_application&target_id={app_id}", headers=ops).json()
    assert [(e["action"], e["reason"]) for e in entry["items"]] == [
        ("shop_application.reject", "营业执照模糊")
    ]
    assert entry["items"][0]["after"]["status"] == "rejected"
    # Another person's application is not found.
    assert_error(
        client.get(f"/api/shop-applications/{app_id}", headers=auth(db, other)), 404, "application_not_found"
    )
    # Rejected, the person may apply again.
    assert (
        client.post("/api/shop-applications", json=_body(category.id), headers=auth(db, shopper)).status_code
        == 201
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("credit_code", "91440300708461136A"),
        ("credit_code", "9144030070846113"),
        ("credit_code", "91440300708461136IT"[:18]),
        ("contact_phone", "call me"),
        ("name_zh", ""),
        ("category_id", "1"),
    ],
)
def test_bad_application_is_422_naming_the_field(client, db, field, value):
    category = make_category(db)
    r = client.post(
        "/api/shop-applications", json=_body(category.id, **{field: value}), headers=auth(db, make_user(db))
    )
    assert r.status_code == 422, r.text
    assert field in r.text


def test_only_shoppers_apply_and_category_must_exist(client, db):
    category = make_category(db)
    r = client.post(
        "/api/shop-applications", json=_body(category.id), headers=auth(db, make_user(db, Role.creator))
    )
    assert_error(r, 403, "wrong_role")
    r = client.post("/api/shop-applications", json=_body(category.id + 999), headers=auth(db, make_user(db)))
    assert_error(r, 404, "category_not_found")


def test_service_same_rules(db):
    category = make_category(db)
    shopper = make_user(db)
    operator = make_user(db, Role.operator)
    with pytest.raises(InvalidInput) as bad:
        flows.apply_for_shop(
            db,
            shopper,
            name_zh="店",
            name_en="Shop",
            category_id=category.id,
            credit_code="91440300708461136X",
            contact_name="A",
            contact_phone="13800138000",
        )
    assert bad.value.details.get("field") == "credit_code"
    row = flows.apply_for_shop(
        db,
        shopper,
        name_zh="店",
        name_en="Shop",
        category_id=category.id,
        credit_code=" 91440300708461136t ",
        contact_name="A",
        contact_phone="13800138000",
    )
    assert row.credit_code == GOOD_CODE
    applications.reject(db, row.id, operator.id, reason="no licence")
    with pytest.raises(Conflict):
        applications.approve(db, row.id, operator.id, reason="核验通过")
    assert applications.get_application(db, row.id).status is ApplicationStatus.rejected


def test_two_operators_deciding_at_once_one_wins(db, database):
    category = make_category(db)
    shopper = make_user(db)
    operators = [make_user(db, Role.operator).id for _ in range(2)]
    row = flows.apply_for_shop(
        db,
        shopper,
        name_zh="店",
        name_en="Shop",
        category_id=category.id,
        credit_code=GOOD_CODE,
        contact_name="A",
        contact_phone="13800138000",
    )
    app_id = row.id
    db.rollback()
    barrier = Barrier(2)

    def decide(args: tuple[int, str]) -> str:
        operator_id, action = args
        session = database.session()
        try:
            barrier.wait(timeout=10)
            if action == "approve":
                applications.approve(session, app_id, operator_id, reason="核验通过")
            else:
                applications.reject(session, app_id, operator_id, reason="no")
            return "ok"
        except Conflict as exc:
            return exc.code
        finally:
            session.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = sorted(pool.map(decide, zip(operators, ["approve", "reject"], strict=True)))
    assert outcomes == ["application_decided", "ok"]
    db.expire_all()
    decided = applications.get_application(db, app_id)
    # Approved exactly when a shop opened for the applicant.
    assert (decided.status is ApplicationStatus.approved) == (
        shops_service.membership_for_user(db, shopper.id) is not None
    )
