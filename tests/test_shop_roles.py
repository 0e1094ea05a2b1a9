"""Each shop role sees and does only what it may (docs/security.md, "Shop roles").

Two explicit tables, one per surface, name every merchant console route and every JSON API write of a
merchant: a console page or an endpoint added without an entry fails these tests. Each is called as
an operator and as a service agent of the shop whose records it names, and the outcome must match the
table: 403 where the role may not, anything but 403 (and never a 5xx) where it may.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from tests.factories import auth, make_user
from tests.test_web_console_consistency import SUB_PAGES
from tests.web_console_helpers import seed_consoles
from tests.web_helpers import web_login
from zhongcao import clock
from zhongcao.affiliate import samples as affiliate_samples
from zhongcao.affiliate import service as affiliate_service
from zhongcao.api_contract import api_routes
from zhongcao.campaigns import coupons
from zhongcao.campaigns.models import CouponFunder
from zhongcao.config import get_settings
from zhongcao.content.models import Account
from zhongcao.flashsales import service as flashsales_service
from zhongcao.shops import invitations
from zhongcao.shops.models import ShopStaff, StaffRole
from zhongcao.support import chat as support_chat
from zhongcao.users.models import Role
from zhongcao.warehouse import service as warehouse_service
from zhongcao.web.live import live_hub

OWNER = frozenset({StaffRole.owner})
MANAGERS = frozenset({StaffRole.owner, StaffRole.operator})
EVERYONE = frozenset(StaffRole)

# Every merchant console route: who may use it. Service agents read orders, products, coupons,
# campaigns, the shop's content and lives, Compass and the score, and answer customers in the inbox;
# owners and operators run the shop; only owners manage staff. A page an agent may read shows no form
# or button it may not use (read-only fields, "read only" note).
PAGES: dict[tuple[str, str], frozenset[StaffRole]] = {
    ("GET", "/merchant"): EVERYONE,
    ("GET", "/merchant/products"): EVERYONE,  # no bulk bar, no "new product" for agents
    ("POST", "/merchant/products/bulk"): MANAGERS,
    ("GET", "/merchant/products/new"): MANAGERS,  # a form only
    ("POST", "/merchant/products/save"): MANAGERS,  # the editor's save (new and existing products)
    (
        "GET",
        "/merchant/products/{product_id}",
    ): EVERYONE,  # the editor, read-only for agents (fields disabled)
    ("GET", "/merchant/products/{product_id}/skus"): EVERYONE,  # prices and stock, read-only for agents
    ("POST", "/merchant/products/{product_id}"): MANAGERS,  # prices, stock, SKUs on/off
    ("POST", "/merchant/products/{product_id}/status"): MANAGERS,  # list / delist
    ("GET", "/merchant/products/csv"): EVERYONE,  # export for everyone; the import form for managers
    ("GET", "/merchant/products/csv/export"): EVERYONE,
    ("POST", "/merchant/products/csv"): MANAGERS,  # import
    ("GET", "/merchant/orders"): EVERYONE,
    ("GET", "/merchant/orders/{order_id}"): EVERYONE,
    ("POST", "/merchant/orders/{order_id}/ship"): MANAGERS,
    ("GET", "/merchant/warehouse"): EVERYONE,  # no "new inbound" for agents
    ("GET", "/merchant/warehouse/inbounds/new"): MANAGERS,
    ("POST", "/merchant/warehouse/inbounds"): MANAGERS,
    ("GET", "/merchant/warehouse/inbounds/{inbound_id}"): EVERYONE,  # no dispatch or cancel for agents
    ("POST", "/merchant/warehouse/inbounds/{inbound_id}/dispatch"): MANAGERS,
    ("POST", "/merchant/warehouse/inbounds/{inbound_id}/cancel"): MANAGERS,
    ("GET", "/merchant/after-sales"): EVERYONE,
    ("GET", "/merchant/after-sales/{case_id}"): EVERYONE,
    ("POST", "/merchant/after-sales/{case_id}/{action}"): MANAGERS,  # approve, reject, receive
    ("POST", "/merchant/after-sales/evidence"): MANAGERS,  # the shop's evidence image (multipart)
    ("GET", "/merchant/inbox"): EVERYONE,
    ("GET", "/merchant/inbox/{conversation_id}"): EVERYONE,
    ("POST", "/merchant/inbox/{conversation_id}"): EVERYONE,  # a reply
    ("POST", "/merchant/inbox/{conversation_id}/close"): EVERYONE,
    ("GET", "/merchant/compass"): EVERYONE,
    ("GET", "/merchant/compass/funnels"): EVERYONE,
    ("GET", "/merchant/compass/content"): EVERYONE,
    ("GET", "/merchant/compass/audience"): EVERYONE,
    ("GET", "/merchant/compass/search"): EVERYONE,
    ("GET", "/merchant/score"): EVERYONE,
    # Customer service: agents answer, assign to themselves and keep the shop's quick replies.
    ("GET", "/merchant/inbox/events"): EVERYONE,
    ("GET", "/merchant/inbox/{conversation_id}/events"): EVERYONE,
    ("GET", "/merchant/inbox/{conversation_id}/thread"): EVERYONE,
    ("POST", "/merchant/inbox/{conversation_id}/assign"): EVERYONE,
    ("GET", "/merchant/inbox/quick-replies"): EVERYONE,
    ("POST", "/merchant/inbox/quick-replies"): EVERYONE,
    ("POST", "/merchant/inbox/quick-replies/{quick_reply_id}"): EVERYONE,
    ("POST", "/merchant/inbox/quick-replies/{quick_reply_id}/delete"): EVERYONE,
    ("GET", "/merchant/notifications"): EVERYONE,
    ("GET", "/merchant/members"): EVERYONE,  # read-only for agents
    ("POST", "/merchant/members"): MANAGERS,  # the programme: tiers and the member price
    ("GET", "/merchant/finance"): MANAGERS,
    ("GET", "/merchant/flash-sales"): EVERYONE,  # agents tell customers when a sale opens
    ("POST", "/merchant/flash-sales"): MANAGERS,
    ("POST", "/merchant/flash-sales/{sale_id}/end"): MANAGERS,
    ("POST", "/merchant/flash-sales/{sale_id}/start"): MANAGERS,
    ("GET", "/merchant/coupons"): EVERYONE,  # agents tell customers which coupons there are
    ("GET", "/merchant/coupons/{coupon_id}"): EVERYONE,  # read-only for agents
    ("GET", "/merchant/coupons/new"): MANAGERS,
    ("POST", "/merchant/coupons/new"): MANAGERS,
    ("POST", "/merchant/coupons/{coupon_id}"): MANAGERS,
    ("POST", "/merchant/coupons/{coupon_id}/end"): MANAGERS,
    ("GET", "/merchant/campaigns"): EVERYONE,
    ("GET", "/merchant/campaigns/{campaign_id}"): EVERYONE,  # without the register buttons for agents
    ("POST", "/merchant/campaigns/{campaign_id}/registrations"): MANAGERS,
    ("GET", "/merchant/content"): EVERYONE,  # the studio's list of videos and lives
    ("POST", "/merchant/content/account"): MANAGERS,
    ("GET", "/merchant/content/videos/new"): MANAGERS,  # a form only
    ("POST", "/merchant/content/videos"): MANAGERS,
    ("GET", "/merchant/content/live/new"): MANAGERS,  # a form only
    ("POST", "/merchant/content/live"): MANAGERS,
    ("GET", "/merchant/live/{content_id}"): EVERYONE,  # agents watch the room's comments; no controls
    ("GET", "/merchant/live/{content_id}/stats"): EVERYONE,
    ("GET", "/merchant/live/{content_id}/events"): EVERYONE,
    ("POST", "/merchant/live/{content_id}/start"): MANAGERS,
    ("POST", "/merchant/live/{content_id}/end"): MANAGERS,
    ("POST", "/merchant/live/{content_id}/pin"): MANAGERS,
    ("POST", "/merchant/live/{content_id}/unpin"): MANAGERS,
    # why an operator took content down: everyone reads it; the one appeal is the managers'
    ("GET", "/merchant/content/{content_id}/takedown"): EVERYONE,
    ("POST", "/merchant/content/{content_id}/appeal"): MANAGERS,
    ("GET", "/merchant/staff"): OWNER,
    ("POST", "/merchant/staff/invite"): OWNER,
    ("POST", "/merchant/staff/invitations/{invitation_id}/renew"): OWNER,
    ("POST", "/merchant/staff/invitations/{invitation_id}/revoke"): OWNER,
    ("POST", "/merchant/staff/{staff_id}/role"): OWNER,
    ("POST", "/merchant/staff/{staff_id}/remove"): OWNER,
    # Creator partners: every role sees plans, applications, samples and the creators selling;
    # owners and operators create and end plans, invite, decide and ship samples.
    ("GET", "/merchant/alliance"): EVERYONE,  # without the new-plan form for agents
    ("POST", "/merchant/alliance/plans"): MANAGERS,
    ("GET", "/merchant/alliance/plans/{plan_id}"): EVERYONE,  # without end / invite for agents
    ("POST", "/merchant/alliance/plans/{plan_id}/end"): MANAGERS,
    ("POST", "/merchant/alliance/plans/{plan_id}/invite"): MANAGERS,
    ("GET", "/merchant/alliance/applications"): EVERYONE,
    ("POST", "/merchant/alliance/applications/{application_id}/decide"): MANAGERS,
    ("GET", "/merchant/alliance/samples"): EVERYONE,
    ("POST", "/merchant/alliance/samples/{sample_id}/{action}"): MANAGERS,  # approve, reject, ship
    ("GET", "/merchant/alliance/creators"): EVERYONE,
    # Creator matching: commission terms are the shop's commercial decisions (as on the API).
    ("GET", "/merchant/creator-match"): MANAGERS,
    ("POST", "/merchant/creator-match/invite"): MANAGERS,
    # Integrity sanctions (bought engagement, brushing): everyone reads why; the one appeal is the
    # managers', as for a take-down.
    ("GET", "/merchant/integrity"): EVERYONE,
    ("POST", "/merchant/integrity/{sanction_id}/appeal"): MANAGERS,
}

# Every JSON API write of a merchant (and of shop media): who may call it.
API_WRITES: dict[tuple[str, str], frozenset[StaffRole]] = {
    ("PATCH", "/api/merchant/shop"): OWNER,
    ("POST", "/api/merchant/staff"): OWNER,
    ("PATCH", "/api/merchant/staff/{staff_id}"): OWNER,
    ("DELETE", "/api/merchant/staff/{staff_id}"): OWNER,
    ("POST", "/api/merchant/staff/invitations"): OWNER,
    ("POST", "/api/merchant/staff/invitations/{invitation_id}/renew"): OWNER,
    ("DELETE", "/api/merchant/staff/invitations/{invitation_id}"): OWNER,
    ("POST", "/api/merchant/products"): MANAGERS,
    ("PATCH", "/api/merchant/products/{product_id}"): MANAGERS,  # list / delist, titles
    ("PUT", "/api/merchant/products/{product_id}"): MANAGERS,  # the whole product (the editor)
    ("POST", "/api/merchant/products/bulk"): MANAGERS,
    ("POST", "/api/merchant/products/import"): MANAGERS,  # CSV
    ("POST", "/api/merchant/products/{product_id}/skus"): MANAGERS,
    ("PATCH", "/api/merchant/skus/{sku_id}"): MANAGERS,  # prices
    ("POST", "/api/merchant/skus/{sku_id}/stock"): MANAGERS,  # stock
    ("POST", "/api/merchant/accounts"): MANAGERS,
    ("POST", "/api/merchant/content"): MANAGERS,
    ("POST", "/api/merchant/content/{content_id}/start"): MANAGERS,
    ("POST", "/api/merchant/content/{content_id}/end"): MANAGERS,
    ("POST", "/api/merchant/content/{content_id}/pin"): MANAGERS,
    ("DELETE", "/api/merchant/content/{content_id}/pin"): MANAGERS,
    ("POST", "/api/merchant/content/{content_id}/remove"): MANAGERS,
    ("POST", "/api/merchant/content/{content_id}/appeal"): MANAGERS,
    ("POST", "/api/merchant/orders/{order_id}/ship"): MANAGERS,
    ("POST", "/api/merchant/warehouse/inbounds"): MANAGERS,
    ("POST", "/api/merchant/warehouse/inbounds/{inbound_id}/dispatch"): MANAGERS,
    ("POST", "/api/merchant/warehouse/inbounds/{inbound_id}/cancel"): MANAGERS,
    ("POST", "/api/merchant/orders/{order_id}/cancel"): MANAGERS,
    ("POST", "/api/merchant/affiliate/plans"): MANAGERS,
    ("POST", "/api/merchant/affiliate/plans/{plan_id}/end"): MANAGERS,
    ("POST", "/api/merchant/affiliate/plans/{plan_id}/creators"): MANAGERS,
    ("DELETE", "/api/merchant/affiliate/plans/{plan_id}/creators/{account_id}"): MANAGERS,
    ("POST", "/api/merchant/affiliate/applications/{application_id}/approve"): MANAGERS,
    ("POST", "/api/merchant/affiliate/applications/{application_id}/reject"): MANAGERS,
    ("POST", "/api/merchant/after-sales/{case_id}/approve"): MANAGERS,
    ("POST", "/api/merchant/after-sales/{case_id}/reject"): MANAGERS,
    ("POST", "/api/merchant/after-sales/{case_id}/receive-return"): MANAGERS,
    ("POST", "/api/merchant/after-sales/{case_id}/evidence"): MANAGERS,
    ("POST", "/api/merchant/campaigns/{campaign_id}/registrations"): MANAGERS,
    ("DELETE", "/api/merchant/campaigns/{campaign_id}/registrations/{product_id}"): MANAGERS,
    ("POST", "/api/merchant/flash-sales"): MANAGERS,
    ("POST", "/api/merchant/flash-sales/{sale_id}/start"): MANAGERS,
    ("POST", "/api/merchant/flash-sales/{sale_id}/end"): MANAGERS,
    ("POST", "/api/merchant/coupons"): MANAGERS,
    ("PUT", "/api/merchant/coupons/{coupon_id}"): MANAGERS,
    ("POST", "/api/merchant/coupons/{coupon_id}/end"): MANAGERS,
    ("POST", "/api/merchant/support/conversations/{conversation_id}/messages"): EVERYONE,
    ("POST", "/api/merchant/support/conversations/{conversation_id}/close"): EVERYONE,
    ("POST", "/api/merchant/support/conversations/{conversation_id}/assign"): EVERYONE,
    ("POST", "/api/merchant/support/conversations/{conversation_id}/read"): EVERYONE,
    ("POST", "/api/merchant/support/quick-replies"): EVERYONE,
    ("PUT", "/api/merchant/support/quick-replies/{quick_reply_id}"): EVERYONE,
    ("DELETE", "/api/merchant/support/quick-replies/{quick_reply_id}"): EVERYONE,
    ("PUT", "/api/merchant/membership"): MANAGERS,
    ("POST", "/api/merchant/affiliate/samples/{sample_id}/approve"): MANAGERS,
    ("POST", "/api/merchant/affiliate/samples/{sample_id}/reject"): MANAGERS,
    ("POST", "/api/merchant/affiliate/samples/{sample_id}/ship"): MANAGERS,
    ("POST", "/api/merchant/integrity/sanctions/{sanction_id}/appeal"): MANAGERS,
}

READS = {"GET", "HEAD", "OPTIONS"}


def _page_routes(app) -> set[tuple[str, str]]:
    found = set()
    for route in api_routes(app.routes):
        if route.path == "/merchant" or route.path.startswith("/merchant/"):
            found |= {(method, route.path) for method in route.methods if method in {"GET", "POST"}}
    return found


def _api_writes(app) -> set[tuple[str, str]]:
    found = set()
    for path, methods in app.openapi()["paths"].items():
        if path.startswith("/api/merchant"):
            found |= {(m.upper(), path) for m in methods if m.upper() not in READS}
    return found


def test_every_console_route_and_api_write_has_a_permission_entry(app):
    pages = _page_routes(app)
    assert not sorted(pages - PAGES.keys()), (
        f"console routes without a permission entry: {sorted(pages - PAGES.keys())}"
    )
    assert not sorted(PAGES.keys() - pages), (
        f"entries for routes that are gone: {sorted(PAGES.keys() - pages)}"
    )
    writes = _api_writes(app)
    assert not sorted(writes - API_WRITES.keys()), (
        f"API writes without an entry: {sorted(writes - API_WRITES.keys())}"
    )
    assert not sorted(API_WRITES.keys() - writes), (
        f"entries for gone endpoints: {sorted(API_WRITES.keys() - writes)}"
    )


@pytest.fixture
def world(db, app):
    return seed_consoles(db, app)


def _member(db, shop_id: int, role: StaffRole):
    user = make_user(db, Role.merchant)
    db.add(ShopStaff(shop_id=shop_id, user_id=user.id, role=role))
    db.commit()
    return user


def _values(db, world) -> dict[str, Any]:
    """A record of the member's own shop for every path parameter, so that only the role decides."""
    shop_id = world.web.shop_id
    owner_staff = db.query(ShopStaff).filter_by(shop_id=shop_id, role=StaffRole.owner).first()
    invitation, _ = invitations.invite(
        db,
        shop_id,
        email="new-colleague@example.com",
        role=StaffRole.operator,
        invited_by=owner_staff.user_id,
    )
    now = clock.now()
    coupon = coupons.create_coupon(
        db,
        funded_by=CouponFunder.shop,
        shop_id=shop_id,
        name="新客立减",
        threshold_fen=0,
        discount_fen=100,
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=10),
    )
    quick_reply = support_chat.create_quick_reply(db, shop_id, title="发货时间", body="48 小时内发货")
    creator = db.get(Account, world.web.creator_account_id)
    application = affiliate_service.apply_to_plan(db, creator.id, world.targeted_plan_id, "想合作")
    sample = affiliate_samples.request_sample(
        db,
        creator.id,
        world.web.product_ids[0],
        recipient="小鹿",
        phone="13800138000",
        address="上海市徐汇区",
    )
    inbound = warehouse_service.create_inbound(
        db,
        shop_id,
        owner_staff.user_id,
        warehouse_code="east",
        lines=[warehouse_service.NewLine(world.web.sku_ids[0], 5)],
    )
    sale = flashsales_service.create_sale(
        db,
        shop_id=shop_id,
        created_by=owner_staff.user_id,
        new=flashsales_service.NewSale(
            sku_id=world.web.sku_ids[1],
            title="整点秒杀",
            price_fen=100,
            quantity=1,
            starts_at=now + timedelta(hours=1),
        ),
        settings=get_settings(),
    )
    sanction = _integrity_sanction(db, shop_id)
    return {
        "sanction_id": sanction.id,
        "sale_id": sale.id,
        "inbound_id": inbound.id,
        "application_id": application.id,
        "sample_id": sample.id,
        "quick_reply_id": quick_reply.id,
        "product_id": world.web.product_ids[0],
        "order_id": world.to_ship_order_id,
        "case_id": world.case_id,
        "conversation_id": world.conversation_id,
        "staff_id": owner_staff.id,  # were a refusal to fail, the last owner still could not go
        "invitation_id": invitation.id,
        "action": "approve",
        "campaign_id": world.campaign_id,
        "plan_id": world.targeted_plan_id,
        "coupon_id": coupon.id,
        "content_id": world.web.live_id,  # the shop's live room, on air
    }


def _integrity_sanction(db, shop_id: int):
    """A warning for the shop from a confirmed brushing case (what an appeal is made against)."""
    import numpy as np

    from zhongcao.integrity import service as integrity_service
    from zhongcao.integrity.blocks import Block, BlockKind, TargetKind
    from zhongcao.integrity.models import IntegrityCase, SanctionSubject

    now = clock.now()
    ids = np.asarray([990_001, 990_002], dtype=np.int64)
    block = Block(BlockKind.brushing, TargetKind.shop, ids, np.asarray([shop_id]), now, now, 2, 1.0, 0.9)
    integrity_service.record_blocks(db, [block])
    case = db.query(IntegrityCase).order_by(IntegrityCase.id.desc()).first()
    integrity_service.decide(db, case.id, "confirm", reason="shared address", actor_user_id=None)
    sanction = integrity_service.add_sanction(
        db, SanctionSubject.shop, shop_id, case, reason="shared address", actor_user_id=None, name="shop"
    )
    db.commit()
    return sanction


def _fill(template: str, values: dict[str, Any]) -> str:
    names = re.findall(r"{(\w+)}", template)
    missing = [n for n in names if n not in values]
    assert not missing, f"{template}: give the test a value for {missing}"
    return template.format(**{n: values[n] for n in names})


@pytest.mark.parametrize("role", [StaffRole.operator, StaffRole.service_agent])
def test_console_routes_follow_the_permission_table(client, db, world, role):
    member = _member(db, world.web.shop_id, role)
    values = _values(db, world)
    live_hub(client.app).stream_seconds = 0  # the host's event stream answers, then ends
    client.app.state.chat_stream_seconds = 0  # so do the inbox's
    web_login(client, member.email)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/merchant/inbox").text).group(1)
    wrong = []
    for (method, template), allowed in sorted(PAGES.items(), key=lambda item: item[0][0]):  # GETs first
        url = _fill(template, values)
        if method == "GET":
            response = client.get(url, follow_redirects=False)
        else:
            response = client.post(url, data={"csrf_token": token}, follow_redirects=False)
        may = role in allowed
        if response.status_code >= 500 or (response.status_code == 403) == may:
            wrong.append(f"{method} {template}: {response.status_code} (may: {may})")
        if response.status_code == 403:
            assert "无权访问" in response.text and "wrong_shop_role" not in response.text
        elif method == "GET" and response.headers["content-type"].startswith("text/html"):
            wrong += [f"GET {template}: {form}" for form in _forms_it_may_not_send(response.text, role)]
    assert not wrong, "\n".join(wrong)


POST_FORM = re.compile(r'<form\b[^>]*method="post"[^>]*action="([^"]+)"[^>]*>(.*?)</form>', re.S)
SUBMIT = re.compile(r'<button\b(?![^>]*type="button")|<input\b[^>]*type="submit"')


def _forms_it_may_not_send(page_html: str, role: StaffRole) -> list[str]:
    """A page shows a role no form with a submit button that it may not send."""
    refused = []
    for action, body in POST_FORM.findall(page_html):
        if not action.startswith("/merchant") or not SUBMIT.search(body):
            continue
        entries = [
            allowed
            for (method, template), allowed in PAGES.items()
            if method == "POST" and re.fullmatch(re.sub(r"{\w+}", "[^/]+", template), action)
        ]
        assert entries, f"a form sends {action}, a route without a permission entry"
        if not any(role in allowed for allowed in entries):
            refused.append(f"a form for {action}")
    return refused


@pytest.mark.parametrize("role", [StaffRole.operator, StaffRole.service_agent])
def test_api_writes_follow_the_permission_table(client, db, world, role):
    headers = auth(db, _member(db, world.web.shop_id, role))
    values = _values(db, world)
    values |= {"sku_id": 1, "content_id": 1, "account_id": 1, "application_id": 1}
    wrong = []
    for (method, template), allowed in sorted(API_WRITES.items()):
        response = client.request(method, _fill(template, values), json={}, headers=headers)
        may = role in allowed
        if response.status_code >= 500 or (response.status_code == 403) == may:
            wrong.append(f"{method} {template}: {response.status_code} (may: {may})")
        if response.status_code == 403 and not may:
            assert response.json()["error"]["code"] == "wrong_shop_role", template
    assert not wrong, "\n".join(wrong)


def _nav(html: str) -> set[str]:
    nav = html.split('class="console-nav"', 1)[1].split("</nav>", 1)[0]
    return set(re.findall(r'href="(/merchant[^"]*)"', nav))


def test_navigation_shows_each_role_what_it_may_open(client, db, world):
    shop_id = world.web.shop_id
    seen = {}
    for role in StaffRole:
        member = _member(db, shop_id, role)
        client.cookies.clear()
        web_login(client, member.email)
        seen[role] = _nav(client.get("/merchant").text)
        for href in seen[role]:
            path = href.split("?")[0]
            assert role in PAGES[("GET", path)], f"{role}: nav links to {path} it may not open"
    assert {"/merchant/finance", "/merchant/staff"} <= seen[StaffRole.owner]
    assert (
        "/merchant/finance" in seen[StaffRole.operator] and "/merchant/staff" not in seen[StaffRole.operator]
    )
    assert not {"/merchant/finance", "/merchant/staff"} & seen[StaffRole.service_agent]
    assert (
        "/merchant/inbox" in seen[StaffRole.service_agent]
        and "/merchant/orders" in seen[StaffRole.service_agent]
    )
    # Every GET page a role may open is in its navigation, reached from a list (ids in the path) or
    # linked from its section's page (SUB_PAGES); event streams are opened by the pages themselves.
    plain = {
        path
        for (method, path) in PAGES
        if method == "GET" and "{" not in path and not path.endswith("/events")
    } - SUB_PAGES.keys()
    for role in StaffRole:
        assert {p for p in plain if role in PAGES[("GET", p)]} <= seen[role], role


@pytest.mark.parametrize("role", list(StaffRole))
def test_section_pages_link_a_sub_page_only_for_the_roles_that_may_open_it(client, db, world, role):
    web_login(client, _member(db, world.web.shop_id, role).email)
    wrong = []
    for page, parent in sorted(SUB_PAGES.items()):
        if not parent.startswith("/merchant"):  # the other consoles' sub-pages have no shop roles
            continue
        if role not in PAGES[("GET", parent)]:
            continue
        links = set(re.findall(r'href="([^"?]+)', client.get(parent).text))
        if (page in links) != (role in PAGES[("GET", page)]):
            wrong.append(
                f"{parent} -> {page}: linked {page in links}, may open {role in PAGES[('GET', page)]}"
            )
    assert not wrong, "\n".join(wrong)


def test_a_service_agent_reads_after_sales_without_decide_buttons(client, db, world):
    web_login(client, _member(db, world.web.shop_id, StaffRole.service_agent).email)
    listed = client.get("/merchant/after-sales").text
    assert f'href="/merchant/after-sales/{world.case_id}"' in listed and ">处理<span" not in listed
    case = client.get(f"/merchant/after-sales/{world.case_id}").text
    assert "售后由店主或运营处理" in case and f'action="/merchant/after-sales/{world.case_id}/' not in case
    assert 'action="/merchant/after-sales/evidence"' not in case  # no upload form for agents
    client.cookies.clear()
    web_login(client, world.merchant_email)  # the owner decides
    assert ">处理<span" in client.get("/merchant/after-sales").text
    case = client.get(f"/merchant/after-sales/{world.case_id}").text
    assert f'action="/merchant/after-sales/{world.case_id}/approve"' in case
