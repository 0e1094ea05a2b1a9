"""Console consistency (issue #15, item 9), walked over every console page of every kind of account:

* every GET page without an id in its path renders for its console (a new page is walked without
  being listed here), in zh and en, with no raw error code or untranslated message key in its text;
* on an empty shop / account / platform, every list says what to do instead of showing an empty table
  (``LISTS`` names each list page: a page whose path is not in ``LISTS`` or ``NOT_LISTS`` fails);
* the navigation shows every section of the console (each nav link opens without an error).
"""

from __future__ import annotations

import html as html_lib
import re
from datetime import timedelta

import pytest

from tests.factories import make_category, make_creator, make_shop, make_user
from tests.web_helpers import web_login
from zhongcao import clock
from zhongcao.api_contract import api_routes
from zhongcao.campaigns import service as campaigns_service
from zhongcao.users.models import Role

# List pages: on an empty shop/account/platform each shows its empty state.
LISTS = {
    "/merchant/products",
    "/merchant/orders",
    "/merchant/after-sales",
    "/merchant/inbox",
    "/merchant/finance",
    "/merchant/coupons",
    "/merchant/campaigns",
    "/merchant/content",
    "/merchant/inbox/quick-replies",
    "/merchant/notifications",
    "/merchant/members",
    "/creator",
    "/creator/notifications",
    "/creator/commissions",
    "/creator/plans",
    "/operator/campaigns",
    "/operator/shop-applications",
    "/operator/jobs",
    "/operator/scores",
    "/operator/notifications",
    "/creator/plaza",
    "/creator/showcase",
    "/merchant/alliance",
    "/merchant/alliance/applications",
    "/merchant/alliance/samples",
    "/creator/samples",
    "/creator/statement",
    "/operator/after-sales",
    "/operator/complaints",
    "/operator/audit",
    "/operator/moderation",
    "/operator/moderation/appeals",
    "/operator/moderation/reports",
    "/creator/recommended",
    "/merchant/creator-match",
    "/merchant/flash-sales",
    "/merchant/warehouse",
    "/operator/warehouse",
    "/operator/integrity",
    "/operator/integrity/appeals",
    "/merchant/integrity",
    "/creator/integrity",
}
# Lists of a fixed, small set (every job; five score bands; the top 20 recommendations): nothing to
# filter or page through.
FIXED_LISTS = {
    "/operator/jobs",
    "/operator/scores",
    "/creator/recommended",
    "/merchant/creator-match",
    # Integrity: the appeals waiting (oldest first, a handful), and a shop's or creator's own steps of
    # escalation (at most a few).
    "/operator/integrity/appeals",
    "/merchant/integrity",
    "/creator/integrity",
}
# Dashboards and reports: KPIs and charts with zeros, not lists of records.
NOT_LISTS = {
    "/merchant",
    "/merchant/compass",
    "/merchant/compass/funnels",
    "/merchant/compass/content",
    "/merchant/compass/audience",
    "/merchant/compass/search",
    "/merchant/score",
    "/merchant/staff",  # never empty: the owner is a member (its invitations list has its own empty state)
    "/merchant/products/new",  # forms
    "/merchant/products/csv",
    "/merchant/coupons/new",
    "/merchant/warehouse/inbounds/new",
    "/merchant/content/videos/new",
    "/merchant/content/live/new",
    "/operator",
    "/operator/gmv",
    "/merchant/alliance/creators",  # a report over a window, like Compass
    "/creator/samples/new",  # a form (or, without a product, the plaza's products to pick from)
    "/creator/data",  # a report over a window: by content and by product
    "/creator/content/videos/new",  # the creator's studio forms
    "/creator/content/live/new",
    "/operator/workbench",
    "/operator/users",  # never empty: the operator looking is a user (its filtered empty state is tested)
    "/operator/shops",  # never empty here: the merchant's shop (its filtered empty state is tested)
}
# Files to download, not pages to read: checked for their type only.
DOWNLOADS = {"/merchant/products/csv/export": "text/csv", "/creator/statement.csv": "text/csv"}
# Pages reached from a section's page (a "New" button, a tool) rather than from the navigation: the
# page that links to each. tests/test_shop_roles.py checks that the link is there for each role that
# may open the page, and only for those.
SUB_PAGES = {
    "/merchant/products/new": "/merchant/products",
    "/merchant/products/csv": "/merchant/products",
    "/merchant/products/csv/export": "/merchant/products/csv",
    "/merchant/coupons/new": "/merchant/coupons",
    "/merchant/warehouse/inbounds/new": "/merchant/warehouse",
    "/merchant/content/videos/new": "/merchant/content",
    "/merchant/content/live/new": "/merchant/content",
    "/merchant/inbox/quick-replies": "/merchant/inbox",
    "/creator/samples/new": "/creator/samples",
    "/creator/content/videos/new": "/creator",
    "/creator/content/live/new": "/creator",
    "/creator/statement.csv": "/creator/statement",
}

# A service's error code (``wrong_shop_role``) or a message key (``merchant.staff.title``) in what a
# person reads means a string was not translated or an error was shown raw.
RAW_CODE = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")
MESSAGE_KEY = re.compile(
    r"\b(?:console|merchant|creator|operator|compass|err|form|common|onboarding|staff|invitation)\.[a-z_]+"
)


def visible_text(page_html: str) -> str:
    """The words a person reads: no scripts, styles, tags or attribute values; emails removed."""
    # <code> holds identifiers shown on purpose (a job's name for the CLI), not messages.
    text = re.sub(r"<(script|style|svg|code)\b.*?</\1>", " ", page_html, flags=re.S | re.I)
    text = re.sub(r"<[^>]+>", " ", text)
    text = html_lib.unescape(text)
    return re.sub(r"\S+@\S+", " ", text)


def console_pages(app, prefix: str) -> list[str]:
    paths = {
        route.path
        for route in api_routes(app.routes)
        if "GET" in route.methods
        and (route.path == prefix or route.path.startswith(prefix + "/"))
        and "{" not in route.path
        and not route.path.endswith("/events")  # Server-Sent Event streams the pages open, not pages
    }
    return sorted(paths)


def _accounts(db):
    shop = make_shop(db, "空空小店")
    creator_user, _ = make_creator(db)
    operator = make_user(db, Role.operator)
    return {"/merchant": shop.owner.email, "/creator": creator_user.email, "/operator": operator.email}


def test_every_console_page_is_classified(app):
    pages = {p for prefix in ("/merchant", "/creator", "/operator") for p in console_pages(app, prefix)}
    unclassified = pages - LISTS - NOT_LISTS - DOWNLOADS.keys()
    assert not unclassified, (
        f"say whether these console pages are lists (LISTS) or not (NOT_LISTS): {unclassified}"
    )
    assert not (LISTS | NOT_LISTS | DOWNLOADS.keys()) - pages, (
        f"gone: {(LISTS | NOT_LISTS | DOWNLOADS.keys()) - pages}"
    )
    assert not SUB_PAGES.keys() - pages, f"gone: {SUB_PAGES.keys() - pages}"


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_every_console_page_of_an_empty_world_reads_clean(client, db, app, locale):
    accounts = _accounts(db)
    problems = []
    for prefix, email in accounts.items():
        client.cookies.clear()
        web_login(client, email)
        client.get(f"/locale?to={locale}&next=/")
        for path in console_pages(app, prefix):
            response = client.get(path)
            if response.status_code != 200:
                problems.append(f"{path}: {response.status_code}")
                continue
            if path in DOWNLOADS:
                if not response.headers["content-type"].startswith(DOWNLOADS[path]):
                    problems.append(f"{path}: {response.headers['content-type']}")
                continue
            text = visible_text(response.text)
            raw = sorted(set(RAW_CODE.findall(text)) | set(MESSAGE_KEY.findall(text)))
            if raw:
                problems.append(f"{path}: shows {raw}")
            if path in LISTS and 'class="empty"' not in response.text:
                problems.append(f"{path}: an empty list without an empty state")
            filtered = "filter-chips" in response.text or re.search(r'<form method="get"', response.text)
            if path in LISTS - FIXED_LISTS and not filtered:
                problems.append(f"{path}: a list without search or filters")
            nav = response.text.split('class="console-nav"', 1)[-1].split("</nav>", 1)[0]
            for href in re.findall(r'href="([^"]+)"', nav):
                if href.split("?")[0] not in console_pages(app, prefix):
                    problems.append(f"{path}: navigation links to {href}, not a page of this console")
    assert not problems, "\n".join(problems)


def test_the_navigation_shows_every_section_of_each_console(client, db, app):
    """Every console page without an id is reachable from its console's navigation (for the account
    that may open it: the shop owner here), directly or through the pages in ``SUB_PAGES``."""
    for prefix, email in _accounts(db).items():
        client.cookies.clear()
        web_login(client, email)
        html = client.get(prefix).text
        nav = html.split('class="console-nav"', 1)[1].split("</nav>", 1)[0]
        linked = {href.split("?")[0] for href in re.findall(r'href="([^"]+)"', nav)}
        for _ in SUB_PAGES:  # a sub-page of a sub-page is reached too
            linked |= {page for page, parent in SUB_PAGES.items() if parent in linked}
        missing = set(console_pages(app, prefix)) - linked
        assert not missing, f"{prefix}: pages missing from the navigation: {sorted(missing)}"


def test_filtered_lists_say_when_the_filter_left_nothing(client, db):
    creator_user, _ = make_creator(db)
    web_login(client, creator_user.email)
    page = client.get("/creator/commissions?kind=reversal")
    assert page.status_code == 200 and "没有这一类的佣金记录" in page.text
    assert 'aria-current="true"' in page.text.split("filter-chips", 1)[1].split("</nav>", 1)[0]
    assert (
        "还没有" in client.get("/creator/commissions").text
        or 'class="empty"' in client.get("/creator/commissions").text
    )


def test_operator_campaigns_filter_by_status(client, db):
    operator = make_user(db, Role.operator)
    web_login(client, operator.email)
    page = client.get("/operator/campaigns?status=cancelled")
    assert page.status_code == 200 and "没有这个状态的活动" in page.text
    assert "没有这个状态的活动" not in client.get("/operator/campaigns").text


def test_merchant_campaigns_filter_by_state(client, db):
    shop = make_shop(db, "活动小店")
    category = make_category(db)
    now = clock.now()
    for slug, name, starts in (("now-on", "正在进行的大促", -1), ("soon", "下周的大促", 7)):
        campaigns_service.create_campaign(
            db,
            slug=slug,
            name_zh=name,
            name_en=slug,
            starts_at=now + timedelta(days=starts),
            ends_at=now + timedelta(days=starts + 10),
            category_ids=[category.id],
        )
    web_login(client, shop.owner.email)
    every = client.get("/merchant/campaigns").text
    assert "正在进行的大促" in every and "下周的大促" in every
    running = client.get("/merchant/campaigns?state=running").text
    assert "正在进行的大促" in running and "下周的大促" not in running
    upcoming = client.get("/merchant/campaigns?state=upcoming").text
    assert "下周的大促" in upcoming and "正在进行的大促" not in upcoming
    assert 'aria-current="true"' in upcoming.split("filter-chips", 1)[1].split("</nav>", 1)[0]
    assert 400 <= client.get("/merchant/campaigns?state=ended").status_code < 500  # a page, never a 500
