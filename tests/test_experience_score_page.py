"""The merchant's score page reads the score right: all eight indicators in the chart (one without
data says why), and advice that moves an indicator in its direction, in both languages."""

from __future__ import annotations

import json
import re

from sqlalchemy.orm import Session

from tests.factories import make_shop
from tests.web_helpers import web_login
from zhongcao import clock
from zhongcao.experience import scores as experience_scores
from zhongcao.experience.scoring import INDICATORS, ShopInputs, score_shops

BASE = {
    "bad_review_rate": 0.02,
    "quality_refund_rate": 0.01,
    "pickup_timeliness": 0.9,
    "delivery_hours": 50.0,
    "complaint_rate": 0.0,
    "dispute_rate": 0.0,
    "cs_3min_share": 0.8,
    "aftersales_hours": 20.0,
}


def _record(db: Session, shop_id: int, values: dict) -> None:
    """The shop among nine peers that have no complaints at all, scored and recorded."""
    peers = [ShopInputs(90_000 + i, 1, 80, dict(BASE)) for i in range(9)]
    result = score_shops([ShopInputs(shop_id, 1, 120, {**BASE, **values}), *peers])[0]
    experience_scores.record_score(
        db,
        shop_id,
        result.score_centi,
        product_centi=result.dimensions_centi["product"],
        logistics_centi=result.dimensions_centi["logistics"],
        service_centi=result.dimensions_centi["service"],
        order_count=result.orders,
        details={"category_id": 1, **result.details},
        computed_at=clock.now(),
        source=experience_scores.COMPUTED,
    )


def _bars(html: str) -> tuple[list[str], list[str]]:
    figure = re.search(r'class="plotly-graph-div" data-figure="([^"]+)"', html)
    assert figure, "no chart"
    data = json.loads(figure.group(1).replace("&#34;", '"').replace("&quot;", '"').replace("&amp;", "&"))
    bar = data["data"][0]
    return bar["y"], bar["text"]


def test_the_page_lowers_the_complaint_rate_and_charts_every_indicator(client, db: Session) -> None:
    shop = make_shop(db)
    _record(db, shop.shop.id, {"complaint_rate": 0.012, "cs_3min_share": None})
    web_login(client, shop.owner.email)
    html = client.get("/merchant/score").text
    assert "从 1.20% 降到 0.00%" in html and "提升到" not in html
    names, texts = _bars(html)
    assert len(names) == len(INDICATORS) == 8
    assert "无数据：统计期内 8:00–23:00 没有顾客咨询" in texts
    assert '<span class="muted no-data">无数据：统计期内 8:00–23:00 没有顾客咨询</span>' in html  # the table
    english = client.get("/locale?to=en&next=/merchant/score").text
    assert "Lower it from 1.20% to 0.00%" in english and "Raise it" not in english
    names, texts = _bars(english)
    assert len(names) == 8 and "No data: no customer chats 08:00–23:00 in the period" in texts


def test_a_shop_at_the_best_gets_no_advice_and_a_raise_reads_raise(client, db: Session) -> None:
    best = make_shop(db)
    _record(db, best.shop.id, {})  # tied with every peer at the best everywhere
    web_login(client, best.owner.email)
    html = client.get("/merchant/score").text
    assert "降到" not in html and "提升到" not in html
    assert "每项可衡量的指标都已进入同类目前 25%，继续保持。" in html

    slow = make_shop(db)
    _record(db, slow.shop.id, {"cs_3min_share": 0.2})
    client.cookies.clear()
    web_login(client, slow.owner.email)
    html = client.get("/merchant/score").text
    assert "从 20.00% 提升到 80.00%" in html
