"""Coupons for shoppers: claiming one (from the product page's coupon strip) and "my coupons"."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from zhongcao import clock, flows
from zhongcao.campaigns import coupons as coupons_service
from zhongcao.campaigns.models import UserCouponStatus
from zhongcao.errors import DomainError
from zhongcao.web import i18n
from zhongcao.web.console import page_of
from zhongcao.web.context import FormData, ShopperPage, safe_next
from zhongcao.web.forms import Form
from zhongcao.web.shopper.common import CursorQuery, IdPath

router = APIRouter()


@router.post("/coupons/{coupon_id}/claim")
def claim(page: ShopperPage, coupon_id: IdPath, data: FormData) -> Response:
    """Claim one copy and go back where the button was, with what happened as the notice."""
    assert page.user is not None
    form = Form(data, page.t)
    back = safe_next(form.text("next", max_length=300), "/me/coupons")
    try:
        flows.claim_coupon(page.db, page.user.id, coupon_id)
    except DomainError as exc:
        page.db.rollback()
        if exc.code == "members_only":  # the way in: the shop's membership page
            return page.redirect(exc.details["join_url"], flash="memcoupons.members_only_join")
        key = f"err.{exc.code}"
        return page.redirect(back, flash=key if i18n.has_message(key) else "coupons.claim_failed")
    return page.redirect(back, flash="coupons.claimed")


@router.get("/me/coupons")
def my_coupons(
    page: ShopperPage,
    status: Annotated[UserCouponStatus | None, Query()] = None,
    cursor: CursorQuery = None,
) -> Response:
    assert page.user is not None
    user_id = page.user.id
    rows, next_cursor = page_of(
        lambda p: coupons_service.list_user_coupons(page.db, user_id, p, status=status), cursor
    )
    now = clock.now()
    return page.render(
        "shopper/coupons.html",
        rows=[(uc, c, c.starts_at <= now < c.ends_at) for uc, c in rows],
        status=status.value if status else "",
        statuses=[s.value for s in UserCouponStatus],
        next_cursor=next_cursor,
    )
