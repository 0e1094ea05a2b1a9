"""The demo world's rules that need no world built (issue #17 items 4 and 5): the login page lists the
demo logins exactly when the database holds the demo world; campaigns come from a festival calendar
named for its dates; a back catalogue is published at its own dates, never in the future."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.web_helpers import form_token
from zhongcao import clock
from zhongcao.content import bulk as content_bulk
from zhongcao.content import service as content_service
from zhongcao.content.models import AccountKind, Content, ContentKind
from zhongcao.errors import InvalidInput
from zhongcao.users import service as users_service
from zhongcao.users.models import Role
from zhongcao.world.calendar import FESTIVALS, sales_for


def _demo_user(db, email: str = "shopper@demo.zhongcao.example.com") -> int:  # type: ignore[no-untyped-def]
    return users_service.create_user(db, email=email, password="zhongcao-demo", display_name="演示买家").id


def test_the_login_page_lists_no_demo_logins_without_the_demo_world(client, db):
    # A user at the demo address is not the demo world (anyone may register an example.com address).
    _demo_user(db)
    db.commit()
    html = client.get("/login").text
    assert "demo-logins" not in html and "zhongcao-demo" not in html
    assert users_service.demo_logins(db) == []


def test_the_login_page_lists_the_demo_logins_and_signs_in_with_one_click(client, db):
    shopper = _demo_user(db)
    operator = users_service.create_user(
        db,
        email="operator@demo.zhongcao.example.com",
        password="zhongcao-demo",
        display_name="运营",
        role=Role.operator,
    ).id
    users_service.record_demo_logins(
        db, [(shopper, "shopper", "zhongcao-demo"), (operator, "operator", "zhongcao-demo")]
    )
    db.commit()
    html = client.get("/login").text
    assert "演示账号" in html and "以买家身份登录" in html and "以平台运营登录" in html
    assert html.index("shopper@demo.zhongcao.example.com") < html.index("operator@demo.zhongcao.example.com")
    client.cookies.set("zc_locale", "en")
    english = client.get("/login").text
    assert "Demo logins" in english and "Sign in as the shopper" in english
    client.cookies.delete("zc_locale")
    # One click: the listed login's form posts its email and password.
    reply = client.post(
        "/login",
        data={
            "email": "shopper@demo.zhongcao.example.com",
            "password": "zhongcao-demo",
            "csrf_token": form_token(client, "/login"),
        },
        follow_redirects=False,
    )
    assert reply.status_code == 303, reply.text[:300]
    with pytest.raises(InvalidInput):
        users_service.record_demo_logins(db, [(shopper, "someone", "x")])


@pytest.mark.parametrize("day", range(0, 366, 5))
def test_every_simulated_month_of_the_year_has_a_festival_sale(day: int) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=day)
    sales = sales_for(start, 30)
    running = [s for s in sales if s.starts_at < start + timedelta(days=30) and s.ends_at > start]
    assert running, start
    assert len(sales) <= 3
    assert [s.starts_at for s in sales] == sorted(s.starts_at for s in sales)
    assert len({s.slug for s in sales}) == len(sales)


def test_campaigns_are_named_for_their_dates() -> None:
    by_slug = {f.slug: f for f in FESTIVALS}
    sale = sales_for(datetime(2026, 6, 1, tzinfo=UTC), 30)
    assert "mid-year-618-2026" in [s.slug for s in sale]
    june = next(s for s in sale if s.festival is by_slug["mid-year-618"])
    assert june.starts_at.month in (5, 6) and june.ends_at == datetime(2026, 6, 19, tzinfo=UTC)
    november = sales_for(datetime(2026, 10, 25, tzinfo=UTC), 30)
    double_11 = next(s for s in november if s.festival is by_slug["double-11"])
    assert double_11.ends_at == datetime(2026, 11, 12, tzinfo=UTC) and "双11" in double_11.festival.name[0]
    # A festival's name says its date: none of them runs in another festival's month.
    for festival in FESTIVALS:
        digits = re.match(r"(\d+)", festival.name[0])
        if digits and digits.group(1) in ("618", "520"):
            assert festival.closes[0] == int(digits.group(1)[0])


def test_a_back_catalogue_keeps_its_dates_and_nothing_is_published_in_the_future(db):
    owner = users_service.create_user(
        db,
        email="maker@example.com",
        password="violet-harbour-lantern-42",
        display_name="Maker",
        role=Role.creator,
    )
    account = content_service.create_creator_account(db, owner.id, handle="maker", name="Maker")
    now = clock.now()
    earlier = now - timedelta(days=12, hours=3)
    ids = content_bulk.publish_content_bulk(
        db,
        [
            content_bulk.NewContent(
                account_id=account.id,
                kind=ContentKind.short_video,
                title_zh="旧视频",
                title_en="An old video",
                duration_seconds=30,
                published_at=earlier,
            )
        ],
    )
    db.commit()
    created = db.get(Content, ids[0]).created_at
    assert abs((created.replace(tzinfo=UTC) if created.tzinfo is None else created) - earlier) < timedelta(
        seconds=1
    )
    with pytest.raises(InvalidInput) as refused:
        content_bulk.publish_content_bulk(
            db,
            [
                content_bulk.NewContent(
                    account_id=account.id,
                    kind=ContentKind.short_video,
                    title_zh="明天的视频",
                    title_en="Tomorrow's video",
                    duration_seconds=30,
                    published_at=now + timedelta(days=1),
                )
            ],
        )
    assert refused.value.details["field"] == "items[0].published_at"
    assert account.kind is AccountKind.creator
