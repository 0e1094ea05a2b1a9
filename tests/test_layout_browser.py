"""Every shopper page fits a phone (issue #17, "done when"): at 360 and 390 px, in Chinese and English,
signed out and signed in, no page scrolls sideways (``scrollWidth <= innerWidth``) and no element
sticks out of the screen (except inside a strip that scrolls sideways on purpose).

The world is seed_world's, made harder through the services: a long display name and unread badges
(the header at its widest), long English titles, a big price (thousands separators), a long
unbroken string typed by a shopper (a link in a review and in a chat), a full cart from two shops,
a checkout to pay and a paid one, an after-sales case the shop rejected with a reason, answered and
unanswered reviews and surveys, coupons, a membership, an address book, a rejected shop application
and a staff invitation. Each page loads once per language and sign-in state and is measured at
both widths; every signed-in page is saved as a screenshot at 360 px (``layout-<locale>-<page>``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.commerce_helpers import delivered_order, give_coupon, paid_order, pay, place
from tests.factories import PASSWORD, ShopBundle
from tests.web_helpers import CHROMIUM, LiveServer, WebWorld, screenshot, seed_world, sign_in
from zhongcao import flows
from zhongcao.affiliate import showcase as showcase_service
from zhongcao.aftersales import service as aftersales_service
from zhongcao.aftersales.models import AfterSaleKind, AfterSaleReason
from zhongcao.api_contract import api_routes
from zhongcao.catalog.models import Product, Sku
from zhongcao.commerce import cart as cart_service
from zhongcao.content.models import Account
from zhongcao.experience import surveys
from zhongcao.experience.models import NpsTrigger
from zhongcao.membership import service as membership_service
from zhongcao.reviews import service as reviews_service
from zhongcao.shops import applications as shop_applications
from zhongcao.shops import invitations
from zhongcao.shops.models import Shop, ShopStaff, StaffRole
from zhongcao.support import service as support_service
from zhongcao.users import addresses as address_service
from zhongcao.users import service as users_service
from zhongcao.users.models import Role, User
from zhongcao.users.schemas import AddressIn
from zhongcao.web import views

WIDTHS = (360, 390)
LONG_NAME = "Alexandra Montgomery-Wang"
LONG_LINK = "https://example.com/reviews/bloom-hydrating-serum-50ml-after-three-weeks-of-daily-use"
CREDIT_CODE = "91440300708461136T"


@dataclass(frozen=True)
class LayoutWorld:
    web: WebWorld
    reviewed_order_id: int  # the world's order: reviewed, rated, an after-sales case rejected
    case_id: int
    open_order_id: int  # delivered, nothing answered yet
    open_item_id: int
    paid_order_id: int  # paid, not shipped
    pending_checkout_id: int
    paid_checkout_id: int
    conversation_id: int
    address_id: int
    invitation_secret: str
    big_product_id: int


def _shop_owner(db: Any, shop_id: int) -> int:
    owner = db.scalar(select(ShopStaff.user_id).where(ShopStaff.shop_id == shop_id))
    assert owner is not None
    return int(owner)


def seed_layout(db: Any) -> LayoutWorld:
    web = seed_world(db)
    shopper = db.get(User, web.shopper_id)
    assert shopper is not None
    shopper.display_name = LONG_NAME
    operator = users_service.create_user(
        db, email="ops-layout@example.com", password=PASSWORD, display_name="运营", role=Role.operator
    )
    # Long English names and a big price: the tiles, the cart and the sums at their widest.
    shop = db.get(Shop, web.other_shop_id)
    shop.name_en = "Wild Outdoors Official Flagship Store (Mountains & Camping)"
    tent = db.get(Product, web.product_ids[4])
    tent.title_en = "Wild Ultralight Four-Season Waterproof Backpacking Tent with Vestibule and Footprint"
    big = db.scalars(select(Sku).where(Sku.product_id == tent.id).order_by(Sku.id.desc())).first()
    big.price_fen, big.attributes = 1_299_900, {"规格": "四人家庭款 Four-person family edition"}
    db.commit()
    owner_id, other_owner_id = _shop_owner(db, web.shop_id), _shop_owner(db, web.other_shop_id)

    # Orders: the world's (reviewed, rated, a case the shop rejected), one to review, one paid.
    reviews_service.create_review(
        db, web.shopper_id, web.order_id, web.order_item_id, rating=4,
        text=f"Gentle and fast to absorb; my notes with photos: {LONG_LINK}", tags=["保湿"],
    )  # fmt: skip
    surveys.submit_nps(
        db, web.shopper_id, score=9, trigger=NpsTrigger.after_delivery, reasons=["product"],
        order_id=web.order_id,
    )  # fmt: skip
    case = aftersales_service.open_case(
        db, web.shopper_id, web.order_id, order_item_id=web.order_item_id,
        kind=AfterSaleKind.return_and_refund, reason=AfterSaleReason.quality,
        description="The pump arrived cracked and some of the cleanser leaked into the box. " + LONG_LINK,
    )  # fmt: skip
    aftersales_service.reject(
        db,
        web.shop_id,
        case.id,
        note="Please send a photo of the shipping box; 请提供外箱照片，我们会尽快处理。",
    )
    opened = delivered_order(db, buyer=shopper, shop=_bundle(db, web.other_shop_id), product=tent)
    paid = paid_order(
        db, buyer=shopper, shop=_bundle(db, web.shop_id), product=db.get(Product, web.product_ids[3])
    )
    # A checkout waiting for payment and a paid one (its pay page says so).
    pending = place(db, shopper, [{"sku_id": web.sku_ids[5], "quantity": 2}])
    paid_checkout = pay(db, shopper, place(db, shopper, [{"sku_id": web.sku_ids[6], "quantity": 1}]))
    # A cart from both shops, the big tent included.
    for sku_id, quantity in ((web.sku_ids[0], 2), (web.sku_ids[1], 1), (big.id, 1), (web.sku_ids[7], 3)):
        cart_service.add_to_cart(db, web.shopper_id, sku_id=sku_id, quantity=quantity)
    # Chats: a long unbroken link, and enough replies for the unread badges.
    conversation, _ = support_service.start_conversation(
        db, user_id=web.shopper_id, shop_id=web.shop_id, message=f"这个链接里的色号还有吗？{LONG_LINK}",
        order_id=web.order_id,
    )  # fmt: skip
    for i in range(12):
        support_service.post_agent_message(
            db, conversation.id, shop_id=web.shop_id, agent_user_id=owner_id, body=f"在的，亲 {i}"
        )
    support_service.start_conversation(
        db, user_id=web.shopper_id, shop_id=web.other_shop_id, message="帐篷防水吗？"
    )
    # Coupons (one to use), a membership, the address book, the creator's showcase.
    give_coupon(db, shopper, shop_id=web.shop_id, threshold_fen=19900, discount_fen=3000)
    give_coupon(db, shopper, threshold_fen=100_000, discount_fen=10_000)
    membership_service.configure(
        db, web.shop_id, enabled=True, discount_bps=500,
        tiers=[{"name_zh": "普通会员", "name_en": "Member", "threshold_fen": 0},
               {"name_zh": "黄金会员", "name_en": "Gold member", "threshold_fen": 100_000}],
    )  # fmt: skip
    membership_service.join(db, web.shop_id, web.shopper_id, consent=True)
    address = address_service.create_address(
        db, web.shopper_id,
        AddressIn(recipient="欧阳娜娜", phone="13800138000", province_code="650000", city_code="652800",
                  district_code="652801", detail="人民东路 1888 号 新疆维吾尔自治区巴音郭楞蒙古自治州库尔勒市 7 栋 2 单元 1502 室"),
    )  # fmt: skip
    address_service.create_address(
        db, web.shopper_id,
        AddressIn(recipient="Wang", phone="13700137000", province_code="440000", city_code="440300",
                  district_code="440305", detail="Shenzhen Bay Science and Technology Ecological Park, Building 10"),
    )  # fmt: skip
    showcase_service.add(db, web.creator_account_id, web.product_ids[0])
    db.commit()
    # A shop application, rejected with a reason; an invitation to the other shop.
    application = flows.apply_for_shop(
        db, shopper, name_zh="小王的手作铺子", name_en="Xiao Wang's Handmade Things",
        category_id=tent.category_id, credit_code=CREDIT_CODE, contact_name="小王", contact_phone="13800138000",
    )  # fmt: skip
    shop_applications.reject(
        db, application.id, operator.id,
        reason="The business licence photo is unreadable; please upload a clearer scan. 营业执照照片不清晰。",
    )  # fmt: skip
    _, secret = invitations.invite(
        db,
        web.other_shop_id,
        email=web.shopper_email,
        role=StaffRole.service_agent,
        invited_by=other_owner_id,
    )
    db.commit()
    return LayoutWorld(
        web=web,
        reviewed_order_id=web.order_id,
        case_id=case.id,
        open_order_id=opened.order.id,
        open_item_id=opened.item.id,
        paid_order_id=paid.order.id,
        pending_checkout_id=pending.id,
        paid_checkout_id=paid_checkout.id,
        conversation_id=conversation.id,
        address_id=address.id,
        invitation_secret=secret,
        big_product_id=tent.id,
    )


def _bundle(db: Any, shop_id: int) -> ShopBundle:
    shop = db.get(Shop, shop_id)
    owner = db.get(User, _shop_owner(db, shop_id))
    account = db.scalar(select(Account).where(Account.shop_id == shop_id))
    return ShopBundle(shop=shop, owner=owner, account=account)


@pytest.fixture
def site(app, db, database) -> Iterator[tuple[LiveServer, LayoutWorld]]:
    if database.dialect != "sqlite":
        pytest.skip("the layout is the same HTML on either database: measured once, on SQLite")
    world = seed_layout(db)
    with LiveServer(app) as server:
        yield server, world


def public_pages(w: LayoutWorld) -> dict[str, str]:
    """Pages anyone may open: name -> path."""
    web = w.web
    return {
        "feed": "/",
        "mall": "/mall",
        "search": "/search",
        "search-results": "/search?q=%E7%B2%BE%E5%8D%8E",
        "search-filtered": f"/search?q=Wild&sort=price_desc&in_stock=1&shop_id={web.other_shop_id}",
        "product": f"/products/{web.product_ids[0]}",
        "product-sold-out-size": f"/products/{web.product_ids[2]}",
        "product-big": f"/products/{w.big_product_id}",
        "shop": f"/shops/{web.shop_id}",
        "shop-other": f"/shops/{web.other_shop_id}",
        "membership": f"/shops/{web.shop_id}/membership",
        "video": f"/videos/{web.video_ids[0]}",
        "video-creator": f"/videos/{web.video_ids[1]}",
        "live": f"/live/{web.live_id}",
        "creator": f"/accounts/{web.creator_account_id}",
        "invitation": f"/invitations/{w.invitation_secret}",
        "not-found": "/products/987654321",
    }


def signed_out_pages(w: LayoutWorld) -> dict[str, str]:
    return {**public_pages(w), "login": "/login", "register": "/register"}


def signed_in_pages(w: LayoutWorld) -> dict[str, str]:
    web = w.web
    return {
        **public_pages(w),
        "cart": "/cart",
        "checkout-cart": "/checkout?from_cart=1",
        "checkout-buy-now": f"/checkout?sku={web.sku_ids[4]}&qty=1&from=search",
        "pay": f"/checkouts/{w.pending_checkout_id}/pay",
        "pay-paid": f"/checkouts/{w.paid_checkout_id}/pay",
        "orders": "/orders",
        "order-reviewed": f"/orders/{w.reviewed_order_id}",
        "order-delivered": f"/orders/{w.open_order_id}",
        "order-paid": f"/orders/{w.paid_order_id}",
        "review-answered": f"/orders/{w.reviewed_order_id}/items/{web.order_item_id}/review",
        "review-form": f"/orders/{w.open_order_id}/items/{w.open_item_id}/review",
        "after-sale-form": f"/orders/{w.open_order_id}/items/{w.open_item_id}/after-sale",
        "after-sale-case": f"/after-sales/{w.case_id}",
        "nps": "/nps",
        "nps-answered": f"/nps?order_id={w.reviewed_order_id}",
        "nps-order": f"/nps?order_id={w.open_order_id}",
        "messages": "/messages",
        "conversation": f"/messages/{w.conversation_id}",
        "message-new": f"/messages/new?shop={web.other_shop_id}&product={web.product_ids[4]}",
        "notifications": "/notifications",
        "coupons": "/me/coupons",
        "coupons-used": "/me/coupons?status=used",
        "addresses": "/account/addresses",
        "address-edit": f"/account/addresses/{w.address_id}",
        "security": "/account/security",
        "open-shop": "/open-shop",
        "invitations": "/invitations",
        "report": f"/content/{web.video_ids[0]}/report",
    }


# What sticks out: the page's own scroll width, then each visible element whose box leaves the
# screen, unless an ancestor clips or scrolls it sideways (a chip strip meant to be swiped).
MEASURE = """
() => {
  const width = window.innerWidth;
  const sideways = (el) => {
    for (let p = el.parentElement; p && p !== document.body && p !== document.documentElement; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== "visible") return true;
    }
    return false;
  };
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + (typeof el.className === "string" && el.className.trim() ? "." + el.className.trim().split(/\\s+/).join(".") : "");
  const wide = [];
  for (const el of document.body.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    if (box.left >= -1 && box.right <= width + 1) continue;
    const style = getComputedStyle(el);
    if (style.visibility === "hidden" || style.display === "none") continue;
    if (sideways(el)) continue;
    const text = (el.innerText || el.getAttribute("aria-label") || "").trim().slice(0, 40);
    wide.push(`${name(el)} [${Math.round(box.left)}..${Math.round(box.right)}] "${text}"`);
  }
  return {scroll: document.documentElement.scrollWidth - width, wide: wide.slice(0, 6)};
}
"""


def _measure(page: Any, label: str) -> list[str]:
    problems = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        found = page.evaluate(MEASURE)
        if found["scroll"] > 0 or found["wide"]:
            where = "; ".join(found["wide"]) or "(no single element)"
            problems.append(f"{label} at {width}px: {found['scroll']}px too wide: {where}")
    return problems


def _screenshot(page: Any, name: str) -> None:
    """The whole page on the narrower phone, the window as tall as the page, so the fixed tab bar
    sits at the bottom instead of over the middle of a long page."""
    page.set_viewport_size({"width": WIDTHS[0], "height": 800})
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": WIDTHS[0], "height": max(800, min(int(height), 6000))})
    screenshot(page, name, full_page=False)


def _measure_sees_a_wide_element(page: Any) -> None:
    """The measure itself: a 500 px box put in the page is found, then taken out again."""
    page.evaluate(
        "() => { const d = document.createElement('div'); d.id = 'too-wide'; d.style.width = '500px';"
        " d.style.height = '10px'; document.querySelector('main').append(d); }"
    )
    found = _measure(page, "probe")
    assert len(found) == len(WIDTHS) and all("div#too-wide" in f for f in found), found
    page.evaluate("() => document.getElementById('too-wide').remove()")
    assert not _measure(page, "probe")


def _visit(page: Any, base: str, pages: dict[str, str], label: str, shots: str | None) -> list[str]:
    problems = []
    for name, path in pages.items():
        response = page.goto(base + path)
        page.wait_for_load_state("load")
        status = response.status if response else 0
        expected = 404 if name == "not-found" else 200
        if status != expected or "/login" in page.url and name != "login":
            problems.append(f"{label} {name} ({path}): HTTP {status} at {page.url}")
            continue
        problems += _measure(page, f"{label} {name} ({path})")
        if shots is not None:
            _screenshot(page, f"layout-{shots}-{name}")
    return problems


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason=f"needs Chromium at {CHROMIUM} (apt-get install chromium)"
)
def test_no_shopper_page_is_wider_than_a_phone(site, browser):
    server, world = site
    base = server.url
    problems: list[str] = []
    context = browser.new_context(viewport={"width": WIDTHS[0], "height": 800}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        for locale in ("zh", "en"):
            page.goto(f"{base}/locale?to={locale}&next=/")
            if locale == "zh":
                _measure_sees_a_wide_element(page)
            problems += _visit(page, base, signed_out_pages(world), f"{locale} signed out", None)
            for name in ("feed", "login", "invitation", "product"):
                page.goto(base + signed_out_pages(world)[name])
                _screenshot(page, f"layout-{locale}-signed-out-{name}")
        page.goto(f"{base}/locale?to=zh&next=/")
        sign_in(page, base, world.web.shopper_email)
        for locale in ("zh", "en"):
            page.goto(f"{base}/locale?to={locale}&next=/")
            problems += _visit(page, base, signed_in_pages(world), f"{locale} signed in", locale)
    finally:
        context.close()
    assert not problems, "\n".join(problems)


def test_the_page_lists_name_every_shopper_route():
    """A new shopper page joins the lists above: every page the web app serves is in one of them,
    unless it is a stream, a fragment or a console's page (not a shopper's)."""
    covered = set()
    fake = LayoutWorld(
        web=WebWorld(1, "a@b.c", 1, 1, 2, 3, [1] * 8, [1] * 8, [1, 2, 3], 4, 5, 6),
        reviewed_order_id=1, case_id=1, open_order_id=1, open_item_id=1, paid_order_id=1,
        pending_checkout_id=1, paid_checkout_id=1, conversation_id=1, address_id=1,
        invitation_secret="TOKEN", big_product_id=1,
    )  # fmt: skip
    for path in [*signed_out_pages(fake).values(), *signed_in_pages(fake).values()]:
        covered.add(re.sub(r"/(\d+|TOKEN)", "/{}", path.split("?")[0]))
    not_pages = re.compile(
        r"/events$|/thread$|/pinned$|^/locale$|^/(api|static|docs|redoc|openapi|health|metrics)\b"
        r"|^/(merchant|creator|operator|ops)\b"
    )
    missing = []
    for route in api_routes(views.router.routes):
        path = route.path
        if "GET" not in route.methods or not_pages.search(path):
            continue
        if re.sub(r"\{[^}]+\}", "{}", path) not in covered:
            missing.append(path)
    assert not missing, f"shopper pages the layout test does not visit: {missing}"
