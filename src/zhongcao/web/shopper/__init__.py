"""Shopper pages (mobile first): the feed, live rooms and videos, search, the mall, shops, products,
the cart, checkout and payment, coupons, orders, after-sales, reviews, the NPS survey and messages
with shops.

One module per page group. Each view reads through the domain services (never the JSON API, never
another domain's tables), turns what it read into small view models (``common.ProductTile``,
``common.FeedCard``), and renders a template. Lists are read in batches (``*_by_ids``) so a page costs
a handful of queries whatever its length. Forms post back to the same URL; a refusal re-renders the
form with what was typed and the error next to its field; success redirects (303) with a one-shot
notice.
"""

from __future__ import annotations

from fastapi import APIRouter

from zhongcao.web.shopper import (
    accounts,
    addresses,
    after_sales,
    browse,
    checkout,
    coupons,
    feed,
    flash_sale,
    live_room,
    membership,
    messages,
    orders,
    products,
    reports,
)

router = APIRouter()
for module in (
    feed,
    flash_sale,
    live_room,
    browse,
    products,
    coupons,
    checkout,
    orders,
    messages,
    membership,
    accounts,
    after_sales,
    addresses,
    reports,
):
    router.include_router(module.router)
