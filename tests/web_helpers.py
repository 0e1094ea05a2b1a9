"""Web test helpers: a small shop world for the pages, the real server in a thread, a browser page
that records console errors, and screenshots.

    world = seed_world(db)               # shops, products, videos, a live room, a shopper, an order
    with LiveServer(app) as server:      # uvicorn on a free port, against the test database
        page.goto(server.url + "/")

Screenshots go to ``test-output/screenshots/`` (git-ignored) and, when ``ZHONGCAO_SCREENSHOTS_DIR`` is set,
there too.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from sqlalchemy.orm import Session

from tests.commerce_helpers import delivered_order, make_plan
from tests.factories import PASSWORD, ShopBundle, make_creator
from zhongcao.catalog.models import Brand, Category, Product, ProductStatus, Sku
from zhongcao.content.models import (
    Account,
    AccountKind,
    Content,
    ContentAnchor,
    ContentKind,
    ContentStatus,
    LiveProductSet,
)
from zhongcao.experience import scores as experience_scores
from zhongcao.reviews import service as reviews_service
from zhongcao.shops.models import Shop, ShopStaff, StaffRole
from zhongcao.users import service as users_service
from zhongcao.users.models import Role, User

CHROMIUM = "/usr/bin/chromium"
PHONE = {"width": 390, "height": 844}
SCREENSHOT_DIR = Path(__file__).parent.parent / "test-output" / "screenshots"


# --- a small world --------------------------------------------------------------------------------


@dataclass(frozen=True)
class WebWorld:
    """Ids only: a browser test must not touch ORM objects once the server runs (on SQLite, a test
    session that lazily reloads an attribute opens a write transaction and blocks the server)."""

    shopper_id: int
    shopper_email: str
    shop_id: int
    shop_account_id: int
    other_shop_id: int
    creator_account_id: int
    product_ids: list[int]
    sku_ids: list[int]  # each product's first SKU
    video_ids: list[int]
    live_id: int
    order_id: int
    order_item_id: int


def _user(db: Session, email: str, name: str, role: Role) -> User:
    return users_service.create_user(db, email=email, password=PASSWORD, display_name=name, role=role)


def _shop(db: Session, name_zh: str, name_en: str, handle: str, **fees: int) -> ShopBundle:
    shop = Shop(
        name_zh=name_zh,
        name_en=name_en,
        description_zh=f"{name_zh}：正品好物",
        description_en=f"{name_en}: genuine goods",
        **fees,
    )
    db.add(shop)
    db.flush()
    owner = _user(db, f"owner-{handle}@example.com", f"{name_zh}店主", Role.merchant)
    db.add(ShopStaff(shop_id=shop.id, user_id=owner.id, role=StaffRole.owner))
    account = Account(
        kind=AccountKind.shop, shop_id=shop.id, handle=handle, name=name_zh, follower_count=1280
    )
    db.add(account)
    db.flush()
    return ShopBundle(shop=shop, owner=owner, account=account)


def _product(
    db: Session,
    shop: Shop,
    leaf: Category,
    brand: Brand | None,
    title: tuple[str, str],
    skus: list[tuple[str, int, int]],
) -> Product:
    product = Product(
        shop_id=shop.id,
        category_id=leaf.id,
        brand_id=brand.id if brand else None,
        title_zh=title[0],
        title_en=title[1],
        description_zh=f"{title[0]}，温和不刺激，日常使用。",
        description_en=f"{title[1]}: gentle, for every day.",
        status=ProductStatus.active,
    )
    db.add(product)
    db.flush()
    for i, (value, price, stock) in enumerate(skus):
        db.add(
            Sku(
                product_id=product.id,
                code=f"P{product.id}-{i}",
                attributes={"规格": value},
                price_fen=price,
                stock=stock,
            )
        )
    db.flush()
    return product


def _content(
    db: Session,
    account: Account,
    kind: ContentKind,
    status: ContentStatus,
    title: tuple[str, str],
    topic: str,
    products: list[Product],
) -> Content:
    content = Content(
        account_id=account.id, kind=kind, status=status, title_zh=title[0], title_en=title[1], topic=topic
    )
    db.add(content)
    db.flush()
    for position, product in enumerate(products):
        db.add(ContentAnchor(content_id=content.id, product_id=product.id, position=position))
    db.flush()
    return content


def seed_world(db: Session) -> WebWorld:
    """Two shops (one scored), eight products, three videos, a live room on air with a product set and
    a pinned product, a creator, a shopper with a delivered order and a review. Committed."""
    beauty = Category(slug="web-beauty", name_zh="美妆个护", name_en="Beauty")
    outdoor = Category(slug="web-outdoor", name_zh="运动户外", name_en="Outdoors")
    db.add_all([beauty, outdoor])
    db.flush()
    skincare = Category(parent_id=beauty.id, slug="web-skincare", name_zh="护肤", name_en="Skincare")
    camping = Category(parent_id=outdoor.id, slug="web-camping", name_zh="露营", name_en="Camping")
    brand = Brand(name_zh="花漾", name_en="Bloom")
    db.add_all([skincare, camping, brand])
    db.flush()
    bloom = _shop(
        db,
        "花漾美妆旗舰店",
        "Bloom Beauty Flagship",
        "bloom_beauty",
        shipping_fee_fen=800,
        free_shipping_threshold_fen=9900,
    )
    wild = _shop(db, "山野户外", "Wild Outdoors", "wild_outdoors", shipping_fee_fen=0)
    shop, shop_account, other, other_account = bloom.shop, bloom.account, wild.shop, wild.account
    products = [
        _product(
            db,
            shop,
            skincare,
            brand,
            ("花漾 保湿精华液", "Bloom Hydrating Serum"),
            [("30ml", 12900, 50), ("50ml", 19900, 20)],
        ),
        _product(
            db, shop, skincare, brand, ("花漾 氨基酸洗面奶", "Bloom Amino Cleanser"), [("100g", 5990, 80)]
        ),
        _product(
            db,
            shop,
            skincare,
            brand,
            ("花漾 修护面霜", "Bloom Repair Cream"),
            [("50g", 15800, 0), ("30g", 9900, 12)],
        ),
        _product(
            db, shop, skincare, brand, ("花漾 防晒乳 SPF50", "Bloom Sunscreen SPF50"), [("40ml", 8900, 30)]
        ),
        _product(
            db,
            other,
            camping,
            None,
            ("山野 轻量露营帐篷", "Wild Light Camping Tent"),
            [("双人", 39900, 10), ("四人", 59900, 5)],
        ),
        _product(
            db, other, camping, None, ("山野 折叠露营椅", "Wild Folding Camp Chair"), [("标准款", 12900, 25)]
        ),
        _product(
            db, other, camping, None, ("山野 户外保温杯", "Wild Insulated Bottle"), [("500ml", 6900, 60)]
        ),
        _product(db, other, camping, None, ("山野 登山双肩包", "Wild Hiking Backpack"), [("30L", 25900, 8)]),
    ]
    shopper = _user(db, "xiaowang@example.com", "小王", Role.shopper)
    _, creator = make_creator(db, top_kol=True)
    creator.name, creator.handle, creator.follower_count = "小鹿爱分享", "xiaolu_share", 56000
    make_plan(db, products[0], commission_bps=1500)
    videos = [
        _content(
            db,
            shop_account,
            ContentKind.short_video,
            ContentStatus.published,
            ("秋冬干皮救星｜这瓶精华真的绝了", "Dry skin saviour: this serum is amazing"),
            "护肤",
            [products[0], products[1]],
        ),
        _content(
            db,
            creator,
            ContentKind.short_video,
            ContentStatus.published,
            ("三分钟教你挑精华", "How to pick a serum in three minutes"),
            "测评",
            [products[0]],
        ),
        _content(
            db,
            other_account,
            ContentKind.short_video,
            ContentStatus.published,
            ("周末露营装备清单", "My weekend camping kit"),
            "露营",
            [products[4], products[5]],
        ),
    ]
    live = _content(
        db,
        shop_account,
        ContentKind.live,
        ContentStatus.live,
        ("花漾美妆直播间｜限时福利", "Bloom Beauty live: limited-time deals"),
        "直播",
        products[:4],
    )
    deals = LiveProductSet(content_id=live.id, name="福利款", position=0)
    db.add(deals)
    db.flush()
    for anchor in db.query(ContentAnchor).filter(
        ContentAnchor.content_id == live.id, ContentAnchor.product_id.in_([products[1].id, products[3].id])
    ):
        anchor.product_set_id = deals.id
    live.pinned_product_id = products[0].id
    db.commit()
    experience_scores.record_score(
        db, shop.id, 468, product_centi=472, logistics_centi=455, service_centi=480, order_count=120
    )
    bundle = delivered_order(db, buyer=shopper, shop=bloom, product=products[1])
    other_buyer = _user(db, "reviewer@example.com", "李女士", Role.shopper)
    reviewed = delivered_order(db, buyer=other_buyer, shop=bloom, product=products[0])
    reviews_service.create_review(
        db,
        other_buyer.id,
        reviewed.order.id,
        reviewed.item.id,
        rating=5,
        text="很保湿，吸收快，回购第三瓶了。",
        tags=["保湿", "回购"],
    )
    world = WebWorld(
        shopper_id=shopper.id,
        shopper_email="xiaowang@example.com",
        shop_id=shop.id,
        shop_account_id=shop_account.id,
        other_shop_id=other.id,
        creator_account_id=creator.id,
        product_ids=[p.id for p in products],
        sku_ids=[min(s.id for s in p.skus) for p in products],
        video_ids=[v.id for v in videos],
        live_id=live.id,
        order_id=bundle.order.id,
        order_item_id=bundle.item.id,
    )
    db.commit()
    return world


# --- the real server ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """The app served by uvicorn in a thread on a free port (what a browser test talks to)."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            timeout_graceful_shutdown=1,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="web-test-server", daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


# --- browser pages --------------------------------------------------------------------------------


# Reports every Content-Security-Policy violation as a console error (which PageProblems records).
# Init scripts are injected by the browser itself, so the policy never blocks this one.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", function (e) {
  console.error("CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline")
    + " at " + e.sourceFile + ":" + e.lineNumber);
});
"""


class PageProblems:
    """Console errors, uncaught exceptions, failed requests, Content-Security-Policy violations and
    documents served without a CSP, seen by one browser page (docs/security.md, "Headers")."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        self.documents = 0  # documents seen, each checked for its CSP
        page.add_init_script(CSP_LISTENER)
        page.on(
            "console",
            lambda m: self.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
        )
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        page.on("requestfailed", self._failed)
        page.on("response", self._response)

    def _response(self, response: Any) -> None:
        if response.status >= 400:
            self.errors.append(f"HTTP {response.status} {response.url}")
        if response.request.resource_type == "document" and response.status < 300:
            self.documents += 1
            policy = response.headers.get("content-security-policy", "")
            if "frame-ancestors 'none'" not in policy or "script-src 'self';" not in policy:
                self.errors.append(f"no strict Content-Security-Policy on {response.url}: {policy!r}")

    def _failed(self, request: Any) -> None:
        # Requests cut short by navigating away (an open EventSource, a favicon still loading) are
        # the browser moving on, not a broken page.
        if request.resource_type != "eventsource" and "ERR_ABORTED" not in (request.failure or ""):
            self.errors.append(f"request failed: {request.url} {request.failure}")

    def take(self) -> list[str]:
        found, self.errors = self.errors, []
        return found


def screenshot(page: Any, name: str, *, full_page: bool = True) -> Path:
    """A PNG (the whole page, or what the viewport shows) under test-output/screenshots/ (and
    $ZHONGCAO_SCREENSHOTS_DIR when set)."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    extra = os.environ.get("ZHONGCAO_SCREENSHOTS_DIR")
    if extra:
        Path(extra).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, Path(extra) / path.name)
    return path


def sign_in(page: Any, base_url: str, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("密码").fill(password)
    page.locator("form[action='/login'] button[type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)


# --- server-side tests (TestClient) ---------------------------------------------------------------

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def form_token(client: Any, url: str) -> str:
    """The CSRF token a page's forms carry (GET ``url`` sets the matching cookie)."""
    response = client.get(url)
    assert response.status_code == 200, response.text
    found = _TOKEN.search(response.text)
    assert found, f"no form on {url}"
    return found.group(1)


def web_login(client: Any, email: str, password: str = PASSWORD) -> None:
    token = form_token(client, "/login")
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 303, response.text


def fill_field(page: Any, label: str, value: str) -> None:
    """Fill a form field by its label: a text box is typed into, a list (the address picker's
    province, city and district) has the option with that text chosen."""
    field = page.get_by_label(label, exact=True)
    if field.evaluate("e => e.tagName") == "SELECT":
        field.select_option(label=value)
    else:
        field.fill(value)
