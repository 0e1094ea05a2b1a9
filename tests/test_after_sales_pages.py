"""After-sales on both sides through the pages (issue #17, item 2): the shopper's case page (a
photo, the return's carrier and tracking number, withdraw, escalate) and the merchant's (approve,
reject with a reason, confirm the return's receipt, the shop's photos, the timeline and both sides'
evidence), with refusals where the case's state does not allow a move."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.conftest import SessionAwareClient
from tests.media_helpers import png
from tests.web_helpers import form_token, seed_world, web_login
from zhongcao.aftersales.models import AfterSale, AfterSaleEvidence
from zhongcao.commerce.models import OrderItem

MERCHANT = "owner-bloom_beauty@example.com"


@pytest.fixture
def world(client, db):
    built = seed_world(db)
    web_login(client, built.shopper_email)
    return built


@pytest.fixture
def merchant(app, db, world):
    with SessionAwareClient(app, db) as other:
        web_login(other, MERCHANT)
        yield other


def _post(client, url: str, data: dict, page: str, files: dict | None = None):
    token = form_token(client, page)
    return client.post(url, data={**data, "csrf_token": token}, files=files, follow_redirects=False)


def _open(client, world, kind: str = "return_and_refund") -> int:
    url = f"/orders/{world.order_id}/items/{world.order_item_id}/after-sale"
    response = _post(
        client, url, {"kind": kind, "reason": "quality", "quantity": "1", "description": "裂了"}, url
    )
    assert response.status_code == 303
    found = re.fullmatch(r"/after-sales/(\d+)", response.headers["location"])
    assert found, response.headers["location"]
    return int(found.group(1))


def _photo(client, case_id: int, data: bytes, name: str = "crack.png"):
    return _post(
        client,
        "/after-sales/evidence",
        {"case_id": str(case_id)},
        f"/after-sales/{case_id}",
        files={"image": (name, data, "image/png")},
    )


def test_a_return_through_both_sides_pages(client, merchant, db, world):
    case_id = _open(client, world)
    page = client.get(f"/after-sales/{case_id}").text
    assert "等待商家处理" in page and 'action="/after-sales/evidence"' in page
    assert f'action="/after-sales/{case_id}/return-shipped"' not in page  # not approved yet

    # A photo, stored by the media pipeline; a file that is no image is refused at the field.
    assert _photo(client, case_id, png(640, 480)).status_code == 303
    bad = _photo(client, case_id, b"not an image at all", "x.png")
    assert bad.status_code == 422 and 'id="image-error"' in bad.text and "不是能用的图片" in bad.text
    evidence = db.scalars(select(AfterSaleEvidence).where(AfterSaleEvidence.after_sale_id == case_id)).all()
    assert [e.side.value for e in evidence] == ["buyer"]
    page = client.get(f"/after-sales/{case_id}").text
    assert re.search(r'data-evidence="buyer">\s*<li><a href="/media/', page)

    # Tracking before the shop approved: refused with the reason, the case untouched.
    early = _post(
        client,
        f"/after-sales/{case_id}/return-shipped",
        {"carrier_name": "顺丰速运", "tracking_number": "SF1234567"},
        f"/after-sales/{case_id}",
    )
    assert early.status_code == 409 and "不支持这个操作" in early.text

    # The merchant sees the buyer's photo and the timeline, adds the shop's own photo, approves.
    desk = merchant.get(f"/merchant/after-sales/{case_id}").text
    assert 'data-evidence="buyer"' in desk and "售后进度" in desk
    shop_photo = _post(
        merchant,
        "/merchant/after-sales/evidence",
        {"case_id": str(case_id)},
        f"/merchant/after-sales/{case_id}",
        files={"image": ("box.png", png(800, 600), "image/png")},
    )
    assert shop_photo.status_code == 303
    assert (
        _post(
            merchant, f"/merchant/after-sales/{case_id}/approve", {}, f"/merchant/after-sales/{case_id}"
        ).status_code
        == 303
    )

    # The shopper: both sides' photos, then the return's carrier and number (validated first).
    page = client.get(f"/after-sales/{case_id}").text
    assert 'data-evidence="merchant"' in page and "商家已同意退货" in page
    wrong = _post(
        client,
        f"/after-sales/{case_id}/return-shipped",
        {"carrier_name": "", "tracking_number": "SF 12!"},
        f"/after-sales/{case_id}",
    )
    assert wrong.status_code == 422 and 'id="carrier_name-error"' in wrong.text
    assert 'id="tracking_number-error"' in wrong.text and 'value="SF 12!"' in wrong.text
    sent = _post(
        client,
        f"/after-sales/{case_id}/return-shipped",
        {"carrier_name": "顺丰速运", "tracking_number": "SF1234567"},
        f"/after-sales/{case_id}",
    )
    assert sent.status_code == 303
    # Withdrawing is no longer offered once the parcel is on its way, and is refused if posted.
    page = client.get(f"/after-sales/{case_id}").text
    assert "撤销申请" not in page and "顺丰速运 SF1234567" in page
    late = _post(client, f"/after-sales/{case_id}/withdraw", {}, f"/after-sales/{case_id}")
    assert late.status_code == 409

    # The merchant confirms the parcel arrived: the buyer is refunded.
    desk = merchant.get(f"/merchant/after-sales/{case_id}").text
    assert "顺丰速运 SF1234567" in desk
    assert (
        _post(
            merchant, f"/merchant/after-sales/{case_id}/receive", {}, f"/merchant/after-sales/{case_id}"
        ).status_code
        == 303
    )
    db.expire_all()
    case = db.get(AfterSale, case_id)
    assert case is not None and case.status.value == "refunded" and case.return_carrier_name == "顺丰速运"
    item = db.get(OrderItem, world.order_item_id)
    assert item is not None and item.refunded_fen == case.amount_fen
    page = client.get(f"/after-sales/{case_id}").text
    assert "data-refunded" in page and 'action="/after-sales/evidence"' not in page
    # A closed case takes no more photos.
    assert _photo(client, case_id, png(320, 320)).status_code == 409


def test_rejected_then_escalated_and_withdraw(client, merchant, db, world, app):
    case_id = _open(client, world, kind="refund_only")
    # Rejecting needs a reason: the form again with the error.
    empty = _post(
        merchant, f"/merchant/after-sales/{case_id}/reject", {"note": " "}, f"/merchant/after-sales/{case_id}"
    )
    assert empty.status_code == 422 and 'id="note-error"' in empty.text
    done = _post(
        merchant,
        f"/merchant/after-sales/{case_id}/reject",
        {"note": "瓶身完好，签收时无异议"},
        f"/merchant/after-sales/{case_id}",
    )
    assert done.status_code == 303
    page = client.get(f"/after-sales/{case_id}").text
    assert "瓶身完好" in page and f'action="/after-sales/{case_id}/escalate"' in page
    assert "撤销申请" not in page  # a rejected case can be escalated, not withdrawn
    assert _post(client, f"/after-sales/{case_id}/escalate", {}, f"/after-sales/{case_id}").status_code == 303
    db.expire_all()
    assert db.get(AfterSale, case_id).status.value == "arbitrating"
    # Escalating twice is refused with the reason.
    again = client.post(
        f"/after-sales/{case_id}/escalate",
        data={"csrf_token": form_token(client, f"/after-sales/{case_id}")},
        follow_redirects=False,
    )
    assert again.status_code == 409 and "不支持这个操作" in again.text


def test_withdraw_and_other_buyers_cases(client, app, db, world):
    case_id = _open(client, world, kind="refund_only")
    assert _post(client, f"/after-sales/{case_id}/withdraw", {}, f"/after-sales/{case_id}").status_code == 303
    page = client.get(f"/after-sales/{case_id}").text
    assert "你已撤销这个售后申请" in page and "买家撤销申请" in page
    # Another buyer neither sees the case nor adds photos to it.
    with SessionAwareClient(app, db) as other:
        web_login(other, "reviewer@example.com")
        assert other.get(f"/after-sales/{case_id}").status_code == 404
        token = form_token(other, "/orders")
        response = other.post(
            "/after-sales/evidence",
            data={"case_id": str(case_id), "csrf_token": token},
            files={"image": ("a.png", png(100, 100), "image/png")},
            follow_redirects=False,
        )
        assert response.status_code == 404


def test_english_case_page(client, world):
    case_id = _open(client, world)
    client.get(f"/locale?to=en&next=/after-sales/{case_id}")
    page = client.get(f"/after-sales/{case_id}").text
    assert "Waiting for the shop" in page and "Add a photo" in page and "Withdraw the request" in page
