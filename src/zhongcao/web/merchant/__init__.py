"""The merchant console (desk first): the shop's to-dos, products and stock, orders and shipping,
after-sales, the customer-service inbox, Compass (trends, funnels, content, audience, search), the
experience score explained, and finance. One module per page group.

Every page is scoped to the caller's own shop (:data:`~zhongcao.web.console.MerchantConsole`): lists
come from ``list_shop_*`` / ``*_for_shop`` service calls and single records from ``get_*_for_shop``,
which report another shop's record as not found (the 404 page). Compass reads the analytics snapshot
through ``compass.service``; there is no shop id in any URL to change.
"""

from __future__ import annotations

from fastapi import APIRouter

from zhongcao.web.merchant import after_sales, compass, finance, home, inbox, members, orders, products, score

router = APIRouter()
for module in (home, products, orders, after_sales, inbox, compass, score, finance, members):
    router.include_router(module.router)
