"""The address book (issue #17 item 3): the shipped divisions, ``/api/me/addresses``, the
``/account/addresses`` page with its no-JavaScript picker, checkout with a saved address, and the
simulated buyers' own addresses."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from tests.commerce_helpers import first_sku
from tests.factories import make_product, make_shop, make_user
from tests.web_helpers import form_token, seed_world, web_login
from zhongcao.catalog.models import Sku
from zhongcao.commerce.models import Order
from zhongcao.errors import InvalidInput
from zhongcao.users import addresses as address_service
from zhongcao.users import divisions
from zhongcao.users import service as users_service
from zhongcao.users.models import UserAddress
from zhongcao.users.schemas import AddressIn
from zhongcao.world import buyers

PASSWORD = "Lantern-zebra-4417!"
XIHU = {"province_code": "330000", "city_code": "330100", "district_code": "330106"}  # 浙江 杭州 西湖区
GOOD = {"recipient": "王小明", "phone": "13800138000", **XIHU, "detail": "文三路 100 号"}


def _register(client, email: str) -> dict[str, str]:
    response = client.post(
        "/api/auth/register", json={"email": email, "password": PASSWORD, "display_name": "买家"}
    )
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


# --- the divisions ------------------------------------------------------------------------------


def test_the_divisions_cover_mainland_china() -> None:
    provinces = divisions.provinces()
    assert len(provinces) == 31
    assert {p.name_zh for p in provinces} >= {"北京市", "广东省", "新疆维吾尔自治区", "西藏自治区"}
    assert not {"台湾省", "香港特别行政区"} & {p.name_zh for p in provinces}
    beijing = divisions.children("110000")
    assert [(c.code, c.name_zh, c.name_en) for c in beijing] == [("110100", "北京市", "Beijing")]
    assert "朝阳区" in {d.name_zh for d in divisions.children("110100")}
    assert divisions.get("district", "110105").name_en == "Chaoyang District"
    # A city without districts (东莞) is its own one district.
    assert [d.code for d in divisions.children("441900")] == ["441900"]
    assert sum(len(divisions.children(c.code)) for p in provinces for c in divisions.children(p.code)) > 2800


@pytest.mark.parametrize(
    ("codes", "field", "code"),
    [
        (("990000", "330100", "330106"), "province_code", "unknown_division"),
        (("330000", "440300", "440305"), "city_code", "division_mismatch"),  # 深圳 is not in 浙江
        (("330000", "330100", "440305"), "district_code", "division_mismatch"),  # 南山区 not in 杭州
        (("330000", "330100", "330199"), "district_code", "unknown_division"),
    ],
)
def test_check_names_the_level_at_fault(codes, field, code) -> None:
    with pytest.raises(InvalidInput) as caught:
        divisions.check(*codes)
    assert caught.value.code == code and caught.value.details["field"] == field


def test_an_orders_address_reads_in_the_page_language() -> None:
    """An order stores the Chinese names; its page shows them in English on English pages, and an
    address typed through the API with names that are not divisions as it was typed."""
    xihu = {"province": "浙江省", "city": "杭州市", "district": "西湖区", "line": "文三路 100 号"}
    assert address_service.shipping_line(xihu, "zh_CN") == "浙江省 杭州市 西湖区 文三路 100 号"
    assert address_service.shipping_line(xihu, "en") == "Zhejiang, Hangzhou, Xihu District, 文三路 100 号"
    capital = {"province": "北京市", "city": "北京市", "district": "朝阳区", "line": "建国路 1 号"}
    assert address_service.shipping_line(capital, "en") == "Beijing, Chaoyang District, 建国路 1 号"
    typed = {"province": "广东", "city": "深圳", "district": "南山", "line": "科技园"}
    assert address_service.shipping_line(typed, "en") == "广东 深圳 南山 科技园"


# --- the API ------------------------------------------------------------------------------------


def test_address_book_api(client) -> None:
    me = _register(client, "addr-a@example.com")
    provinces = client.get("/api/divisions").json()
    assert (
        len(provinces) == 31 and {"code": "330000", "name_zh": "浙江省", "name_en": "Zhejiang"} in provinces
    )
    cities = client.get("/api/divisions", params={"parent": "330000"}).json()
    assert {"code": "330100", "name_zh": "杭州市", "name_en": "Hangzhou"} in cities
    assert client.get("/api/divisions", params={"parent": "x"}).status_code == 422

    first = client.post("/api/me/addresses", json=GOOD, headers=me)
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["is_default"] is True  # the first address is the default
    assert body["district"] == {"code": "330106", "name_zh": "西湖区", "name_en": "Xihu District"}

    second = client.post(
        "/api/me/addresses",
        json={**GOOD, "province_code": "440000", "city_code": "440300", "district_code": "440305",
              "is_default": True},
        headers=me,
    ).json()  # fmt: skip
    listed = client.get("/api/me/addresses", headers=me).json()
    assert [a["id"] for a in listed] == [second["id"], body["id"]]
    assert [a["is_default"] for a in listed] == [True, False]

    moved = client.post(f"/api/me/addresses/{body['id']}/default", headers=me).json()
    assert moved["is_default"] is True
    assert client.get(f"/api/me/addresses/{second['id']}", headers=me).json()["is_default"] is False

    edited = client.put(
        f"/api/me/addresses/{second['id']}", json={**GOOD, "detail": "科技园 8 栋"}, headers=me
    )
    assert edited.status_code == 200 and edited.json()["detail"] == "科技园 8 栋"

    # Deleting the default makes the remaining one the default.
    assert client.delete(f"/api/me/addresses/{body['id']}", headers=me).status_code == 204
    assert [a["is_default"] for a in client.get("/api/me/addresses", headers=me).json()] == [True]

    # Another user cannot see or change it.
    other = _register(client, "addr-b@example.com")
    assert client.get(f"/api/me/addresses/{second['id']}", headers=other).status_code == 404
    assert client.delete(f"/api/me/addresses/{second['id']}", headers=other).status_code == 404
    assert client.get("/api/me/addresses", headers=other).json() == []
    client.cookies.clear()
    assert client.get("/api/me/addresses").status_code == 401


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"city_code": "440300"}, "city_code", "division_mismatch"),
        ({"district_code": "440305"}, "district_code", "division_mismatch"),
        ({"province_code": "990000"}, "province_code", "unknown_division"),
        ({"phone": "12345"}, "phone", None),
        ({"phone": "23800138000"}, "phone", None),
        ({"district_code": "33010"}, "district_code", None),
        ({"detail": ""}, "detail", None),
    ],
)
def test_bad_addresses_are_refused_with_the_field(client, change, field, code) -> None:
    me = _register(client, "addr-bad@example.com")
    response = client.post("/api/me/addresses", json={**GOOD, **change}, headers=me)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    if code is not None:
        assert error["code"] == code and error["details"]["field"] == field
    else:
        assert field in response.text
    assert client.get("/api/me/addresses", headers=me).json() == []


def test_at_most_twenty_addresses(db) -> None:
    world = seed_world(db)
    for _ in range(address_service.MAX_ADDRESSES):
        address_service.create_address(db, world.shopper_id, AddressIn(**GOOD))
    with pytest.raises(Exception) as caught:
        address_service.create_address(db, world.shopper_id, AddressIn(**GOOD))
    assert getattr(caught.value, "code", None) == "too_many_addresses"
    defaults = db.scalars(select(UserAddress).where(UserAddress.is_default)).all()
    assert len(defaults) == 1


def _book(db, user_id: int) -> list[tuple[str, str, bool]]:
    return [(a.recipient, a.district_code, a.is_default) for a in address_service.list_addresses(db, user_id)]


def test_save_first_addresses_saves_a_default_for_users_without_one(db) -> None:
    """The batch form of a buyer's first address (the simulation's night): what create_address
    would save for a user with an empty book; a user with a book, or named twice, is left as is."""
    a, b, c = (make_user(db).id for _ in range(3))
    address_service.create_address(db, c, AddressIn(**GOOD))
    other = AddressIn(**{**GOOD, "recipient": "李四", "district_code": "330102"})
    saved = address_service.save_first_addresses(
        db, [(a, AddressIn(**GOOD)), (b, other), (a, other), (c, other)]
    )
    assert saved == 2
    d = make_user(db).id
    address_service.create_address(db, d, AddressIn(**GOOD))
    assert _book(db, a) == _book(db, d) == [("王小明", "330106", True)]
    assert _book(db, b) == [("李四", "330102", True)]
    assert _book(db, c) == [("王小明", "330106", True)]
    assert address_service.save_first_addresses(db, []) == 0


def test_save_first_addresses_saves_nothing_when_one_is_bad(db) -> None:
    a, b = make_user(db).id, make_user(db).id
    bad = AddressIn(**{**GOOD, "district_code": "110101"})  # a Beijing district in Hangzhou
    with pytest.raises(InvalidInput) as caught:
        address_service.save_first_addresses(db, [(a, AddressIn(**GOOD)), (b, bad)])
    assert caught.value.details["field"] == "district_code"
    db.rollback()
    assert _book(db, a) == _book(db, b) == []


# --- the pages ----------------------------------------------------------------------------------


def test_address_book_page_without_javascript(client, db) -> None:
    world = seed_world(db)
    web_login(client, world.shopper_email)
    token = form_token(client, "/account/addresses")
    typed = {"recipient": "李雷", "phone": "13900139000", "detail": "漕溪北路 1 号", "csrf_token": token}
    # Province chosen, lists refreshed: the cities of 上海 are offered, nothing saved.
    refreshed = client.post("/account/addresses", data={**typed, "province_code": "310000", "pick": "1"})
    assert refreshed.status_code == 200
    assert '<option value="310100"' in refreshed.text and 'value="李雷"' in refreshed.text
    assert db.scalar(select(UserAddress)) is None
    # A district of another city: shown again with the error at the district.
    bad = client.post(
        "/account/addresses",
        data={**typed, "province_code": "310000", "city_code": "310100", "district_code": "330106"},
    )
    assert bad.status_code == 422
    assert re.search(r'id="f-district_code"[^>]*aria-invalid="true"', bad.text)
    assert "所选城市或区县不属于上一级" in bad.text
    ok = client.post(
        "/account/addresses",
        data={**typed, "province_code": "310000", "city_code": "310100", "district_code": "310104"},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    page = client.get("/account/addresses").text
    assert "上海市 徐汇区 漕溪北路 1 号" in page and "默认" in page
    row = db.scalar(select(UserAddress))
    assert row is not None and row.district_code == "310104"
    # In English the divisions read in English.
    english = client.get("/locale?to=en&next=/account/addresses").text
    assert "Shanghai, Xuhui District, 漕溪北路 1 号" in english


def test_checkout_with_a_saved_address(client, db) -> None:
    world = seed_world(db)
    address_service.create_address(db, world.shopper_id, AddressIn(**GOOD))
    saved = db.scalar(select(UserAddress))
    assert saved is not None
    web_login(client, world.shopper_email)
    url = f"/checkout?sku={world.sku_ids[0]}&qty=1"
    html = client.get(url).text
    assert re.search(rf'name="address_id" value="{saved.id}" checked', html)
    token = form_token(client, url)
    response = client.post(
        "/checkout",
        data={"address_id": str(saved.id), "sku": world.sku_ids[0], "qty": 1, "csrf_token": token,
              "idempotency_key": "saved-1"},
        follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 303, response.text
    order = db.scalar(select(Order).where(Order.user_id == world.shopper_id).order_by(Order.id.desc()))
    assert order.shipping_address == {
        "name": "王小明", "phone": "13800138000", "province": "浙江省", "city": "杭州市",
        "district": "西湖区", "line": "文三路 100 号",
    }  # fmt: skip


def test_checkout_page_refuses_another_users_address(client, db) -> None:
    """The page sends a saved address as ``address_id`` to the same checkout code as the API: an id
    that is not the shopper's is refused next to the address choice, and nothing is ordered."""
    world = seed_world(db)
    stranger = users_service.create_user(
        db, email="stranger@example.com", password=PASSWORD, display_name="路人"
    )
    theirs = address_service.create_address(db, stranger.id, AddressIn(**GOOD)).id
    address_service.create_address(db, world.shopper_id, AddressIn(**GOOD))
    web_login(client, world.shopper_email)
    url = f"/checkout?sku={world.sku_ids[0]}&qty=1"
    token = form_token(client, url)
    refused = client.post(
        "/checkout",
        data={"address_id": str(theirs), "sku": world.sku_ids[0], "qty": 1, "csrf_token": token,
              "idempotency_key": "theirs-1"},
    )  # fmt: skip
    assert refused.status_code == 404
    assert re.search(r'<p class="field-error" id="address_id-error">[^<]+</p>', refused.text)
    assert (
        db.scalar(select(Order).where(Order.user_id == world.shopper_id, Order.id != world.order_id)) is None
    )


def test_checkout_with_a_new_address_saves_it(client, db) -> None:
    world = seed_world(db)
    web_login(client, world.shopper_email)
    url = f"/checkout?sku={world.sku_ids[0]}&qty=1"
    token = form_token(client, url)
    base = {"address_id": "new", "name": "韩梅梅", "phone": "13700137000", "line": "南山大道 1 号",
            "sku": world.sku_ids[0], "qty": 1, "csrf_token": token, "save_address": "on"}  # fmt: skip
    mismatch = client.post(
        "/checkout",
        data={**base, "province_code": "440000", "city_code": "330100", "district_code": "330106"},
    )
    assert mismatch.status_code == 422
    assert re.search(r'id="f-city_code"[^>]*aria-invalid="true"', mismatch.text)
    placed = client.post(
        "/checkout",
        data={**base, "province_code": "440000", "city_code": "440300", "district_code": "440305",
              "idempotency_key": "new-1"},
        follow_redirects=False,
    )  # fmt: skip
    assert placed.status_code == 303, placed.text
    order = db.scalar(select(Order).where(Order.user_id == world.shopper_id).order_by(Order.id.desc()))
    assert (order.shipping_address["city"], order.shipping_address["district"]) == ("深圳市", "南山区")
    row = db.scalar(select(UserAddress).where(UserAddress.user_id == world.shopper_id))
    assert row is not None and row.is_default and row.district_code == "440305"


def test_api_checkout_takes_a_saved_address(client, db) -> None:
    """``POST /api/checkout`` with ``address_id``: the orders ship to the saved address (its names),
    and keep them when the address is edited later; an inline address and ``address_id`` together,
    or neither, is a 422 naming the field; another user's address is a 404 like a missing one."""
    shop = make_shop(db)
    sku = first_sku(db, make_product(db, shop.shop, price_fen=2500, stock=10))
    sku_id = sku.id
    me, other = _register(client, "addr-api-a@example.com"), _register(client, "addr-api-b@example.com")
    mine = client.post("/api/me/addresses", json=GOOD, headers=me).json()["id"]
    theirs = client.post("/api/me/addresses", json=GOOD, headers=other).json()["id"]
    items = [{"sku_id": sku_id, "quantity": 1}]

    def checkout(**where: object) -> Any:
        headers = {**me, "Idempotency-Key": uuid.uuid4().hex}
        return client.post("/api/checkout", json={"items": items, **where}, headers=headers)

    inline = {"name": "王小明", "phone": "13800138000", "province": "浙江省", "city": "杭州市",
              "district": "西湖区", "line": "文三路 100 号"}  # fmt: skip
    for where, status, code, field in [
        ({"address_id": mine, "shipping_address": inline}, 422, "address_or_saved_address", "address_id"),
        ({}, 422, "address_required", "shipping_address"),
        ({"address_id": theirs}, 404, "address_not_found", "address_id"),
        ({"address_id": theirs + mine + 1000}, 404, "address_not_found", "address_id"),
    ]:
        refused = checkout(**where)
        assert refused.status_code == status, refused.text
        error = refused.json()["error"]
        assert (error["code"], error["details"]["field"]) == (code, field)
    for bad in (0, "1", None):
        refused = checkout(address_id=bad)
        assert refused.status_code == 422, refused.text
    db.expire_all()
    assert db.get(Sku, sku_id).stock == 10  # nothing refused held stock

    placed = checkout(address_id=mine)
    assert placed.status_code == 201, placed.text
    assert placed.json()["orders"][0]["shipping_address"] == inline
    client.put(f"/api/me/addresses/{mine}", json={**GOOD, "detail": "搬家了"}, headers=me)
    order_id = placed.json()["orders"][0]["id"]
    assert client.get(f"/api/orders/{order_id}", headers=me).json()["shipping_address"] == inline
    assert client.post(  # an inline address still works alone
        "/api/checkout", json={"items": items, "shipping_address": inline},
        headers={**me, "Idempotency-Key": uuid.uuid4().hex},
    ).status_code == 201  # fmt: skip


# --- the simulated buyers -----------------------------------------------------------------------


def test_simulated_buyers_have_their_own_addresses() -> None:
    entries = [buyers.buyer(42, user_id) for user_id in range(1, 201)]
    assert buyers.buyer(42, 7) == entries[6]  # the same buyer, the same address
    assert len({(e.recipient, e.phone) for e in entries}) == 200
    assert len({e.district_code for e in entries}) > 150
    assert len({e.province_code for e in entries}) >= 25
    for entry in entries:
        divisions.check(entry.province_code, entry.city_code, entry.district_code)
        assert re.fullmatch(r"1[3-9]\d{9}", entry.phone)
    shipped = buyers.shipping(entries[0])
    assert shipped.name == entries[0].recipient and shipped.line == entries[0].detail
