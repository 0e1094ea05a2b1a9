"""The merchant console's home: what needs doing, and the last 30 days."""

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from zhongcao.aftersales import service as aftersales_service
from zhongcao.aftersales.models import AfterSaleStatus
from zhongcao.commerce import service as order_service
from zhongcao.commerce.models import OrderStatus
from zhongcao.compass import service as compass_service
from zhongcao.experience import scores as experience_scores
from zhongcao.shops import sanctions as shop_sanctions
from zhongcao.shops import service as shops_service
from zhongcao.support import service as support_service
from zhongcao.support.service import InboxFilter
from zhongcao.web.console import (
    MerchantConsole,
    compass_engine,
    page_of,
    window,
)
from zhongcao.web.merchant.compass import kpis, trend_chart

router = APIRouter(prefix="/merchant")

# How many to-dos the home page counts before it says "50+".
PENDING_SHOWN = 50
# Funnel totals add up the rows the Compass reports return, busiest first, up to this many.


# --- home: what needs doing, and the last 30 days ------------------------------------------------


def _count(fetch: Any) -> str:
    rows, cursor = page_of(fetch, None, limit=PENDING_SHOWN)
    return f"{len(rows)}+" if cursor else str(len(rows))


@router.get("")
def home(console: MerchantConsole) -> Response:
    db, shop_id = console.db, console.shop_id
    assert shop_id is not None
    todos = {
        "to_ship": _count(lambda p: order_service.list_shop_orders(db, shop_id, p, status=OrderStatus.paid)),
        "after_sales": _count(
            lambda p: aftersales_service.list_for_shop(db, shop_id, p, status=AfterSaleStatus.requested)
        ),
        "returns": _count(
            lambda p: aftersales_service.list_for_shop(db, shop_id, p, status=AfterSaleStatus.return_shipped)
        ),
        "unanswered": _count(
            lambda p: support_service.list_shop_conversations(db, shop_id, p, status=InboxFilter.unanswered)
        ),
    }
    span = window(30)
    engine = compass_engine(console)
    core = compass_service.core_data(engine, shop_id, span.last, span.days)
    before = compass_service.core_data(engine, shop_id, span.previous_last, span.days)
    chart = trend_chart(console, core, before, "gmv_fen")
    return console.render(
        "merchant/home.html",
        "home",
        todos=todos,
        score=experience_scores.latest_score(db, shop_id),
        kpis=kpis(core),
        chart=chart,
        span=span,
        shop=shops_service.get_shop(db, shop_id),
        notices=shop_sanctions.notices_for(db, shop_id, limit=3),
    )


# --- products and stock ----------------------------------------------------------------------------
