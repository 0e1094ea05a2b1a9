"""The merchant console (desk first): the shop's to-dos, products and stock, orders and shipping,
after-sales, the customer-service inbox, coupons and campaign registration, creator partners (affiliate plans, applications, sample
requests, the creators selling the shop's goods), the shop's own videos and
live sessions (content), Compass (trends, funnels, content, audience, search), the experience score
explained, finance, and staff with their invitations (owners only). One module per page group.

Every page is scoped to the caller's own shop (:data:`~zhongcao.web.console.MerchantConsole`): lists
come from ``list_shop_*`` / ``*_for_shop`` service calls and single records from ``get_*_for_shop``,
which report another shop's record as not found (the 404 page). Compass reads the analytics snapshot
through ``compass.service``; there is no shop id in any URL to change.
"""

from __future__ import annotations

from fastapi import APIRouter

from zhongcao.web.merchant import (
    after_sales,
    alliance,
    alliance_samples,
    campaigns,
    compass,
    content,
    coupons,
    creator_match,
    finance,
    flash_sales,
    home,
    inbox,
    members,
    moderation,
    orders,
    product_csv,
    product_editor,
    products,
    quick_replies,
    score,
    staff,
    warehouse,
)

router = APIRouter()
# Fixed paths before the ids they would otherwise be taken for: the editor's and the CSV page's
# (/products/new, /products/save, /products/csv) before /products/{id}; quick replies
# (/inbox/quick-replies) before a conversation's /inbox/{id}.
for module in (
    home,
    product_csv,
    product_editor,
    products,
    orders,
    warehouse,
    flash_sales,
    after_sales,
    quick_replies,
    inbox,
    content,
    coupons,
    campaigns,
    compass,
    score,
    finance,
    members,
    staff,
    alliance,
    alliance_samples,
    moderation,
    creator_match,
):
    router.include_router(module.router)
