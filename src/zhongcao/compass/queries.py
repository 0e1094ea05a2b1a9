"""Compass's SQL, written once in the dialect DuckDB and Spark share.

Values are put into the SQL text, not bound, because the two engines bind differently; every value
is an ``int`` or a ``datetime.date`` formatted here, never a caller's string, so nothing can be
injected.
"""

from __future__ import annotations

from datetime import date


def _day(value: date) -> str:
    return f"'{value.isoformat()}'"


def _shop(shop_id: int) -> str:
    return str(int(shop_id))


def daily(shop_id: int, first: date, last: date) -> str:
    """Per day: GMV, orders, buyers, refunds, visitors (only days with any of them)."""
    return f"""
WITH s AS (
    SELECT paid_day AS day, SUM(paid_fen) AS gmv_fen, COUNT(DISTINCT order_id) AS orders,
           COUNT(DISTINCT user_id) AS buyers, SUM(refunded_fen) AS refunded_fen
    FROM sales
    WHERE shop_id = {_shop(shop_id)} AND paid_day BETWEEN {_day(first)} AND {_day(last)}
    GROUP BY paid_day
), v AS (
    SELECT day, COUNT(DISTINCT user_id) AS visitors
    FROM visitors
    WHERE shop_id = {_shop(shop_id)} AND day BETWEEN {_day(first)} AND {_day(last)}
    GROUP BY day
)
SELECT COALESCE(s.day, v.day) AS day,
       COALESCE(s.gmv_fen, 0) AS gmv_fen, COALESCE(s.orders, 0) AS orders,
       COALESCE(s.buyers, 0) AS buyers, COALESCE(s.refunded_fen, 0) AS refunded_fen,
       COALESCE(v.visitors, 0) AS visitors
FROM s FULL OUTER JOIN v ON s.day = v.day
ORDER BY day
"""


def totals(shop_id: int, first: date, last: date) -> str:
    """The period as a whole (buyers and visitors counted once each, not summed over days)."""
    return f"""
SELECT
    (SELECT COALESCE(SUM(paid_fen), 0) FROM sales
      WHERE shop_id = {_shop(shop_id)} AND paid_day BETWEEN {_day(first)} AND {_day(last)}) AS gmv_fen,
    (SELECT COUNT(DISTINCT order_id) FROM sales
      WHERE shop_id = {_shop(shop_id)} AND paid_day BETWEEN {_day(first)} AND {_day(last)}) AS orders,
    (SELECT COUNT(DISTINCT user_id) FROM sales
      WHERE shop_id = {_shop(shop_id)} AND paid_day BETWEEN {_day(first)} AND {_day(last)}) AS buyers,
    (SELECT COALESCE(SUM(refunded_fen), 0) FROM sales
      WHERE shop_id = {_shop(shop_id)} AND paid_day BETWEEN {_day(first)} AND {_day(last)}) AS refunded_fen,
    (SELECT COUNT(DISTINCT user_id) FROM visitors
      WHERE shop_id = {_shop(shop_id)} AND day BETWEEN {_day(first)} AND {_day(last)}) AS visitors
"""


def by_dimension(shop_id: int, first: date, last: date, column: str) -> str:
    """GMV, orders and buyers by ``channel`` or ``carrier`` (FACT)."""
    if column not in ("channel", "carrier"):
        raise ValueError(f"cannot group sales by {column!r}")
    return f"""
SELECT {column} AS key, SUM(paid_fen) AS gmv_fen, COUNT(DISTINCT order_id) AS orders,
       COUNT(DISTINCT user_id) AS buyers
FROM sales
WHERE shop_id = {_shop(shop_id)} AND paid_day BETWEEN {_day(first)} AND {_day(last)}
GROUP BY {column}
ORDER BY {column}
"""


def creators(shop_id: int, first: date, last: date) -> str:
    """GMV, orders and commission per affiliated creator account (FACT alliance and top KOL)."""
    return f"""
SELECT account_id, carrier, SUM(paid_fen) AS gmv_fen, COUNT(DISTINCT order_id) AS orders,
       SUM(commission_fen) AS commission_fen
FROM sales
WHERE shop_id = {_shop(shop_id)} AND paid_day BETWEEN {_day(first)} AND {_day(last)}
  AND carrier IN ('alliance', 'top_kol') AND account_id IS NOT NULL
GROUP BY account_id, carrier
ORDER BY gmv_fen DESC, account_id
"""


def buyers(shop_id: int, first: date, last: date) -> str:
    """Per buyer of the period: orders and spend in it, days since their last order (at ``last``),
    and whether they had bought from the shop before the period (returning)."""
    return f"""
WITH period AS (
    SELECT user_id, COUNT(DISTINCT order_id) AS orders, SUM(paid_fen) AS spend_fen, MAX(paid_day) AS last_day
    FROM sales
    WHERE shop_id = {_shop(shop_id)} AND paid_day BETWEEN {_day(first)} AND {_day(last)}
    GROUP BY user_id
), before AS (
    SELECT DISTINCT user_id FROM sales WHERE shop_id = {_shop(shop_id)} AND paid_day < {_day(first)}
)
SELECT p.user_id, p.orders, p.spend_fen, p.last_day,
       CASE WHEN b.user_id IS NULL THEN 0 ELSE 1 END AS returning
FROM period p LEFT JOIN before b ON b.user_id = p.user_id
ORDER BY p.user_id
"""


FIELD_OF_CHANNEL = """CASE WHEN channel IN ('short_video', 'live') THEN 'content'
            WHEN channel IN ('search', 'mall', 'shop_page', 'product_page') THEN 'center'
            ELSE 'other' END"""


def gmv_by_field(first: date, last: date) -> str:
    """Platform GMV per day split between the content field (videos, live rooms) and the center field
    (search, mall, shop and product pages)."""
    return f"""
SELECT paid_day AS day, {FIELD_OF_CHANNEL} AS field, SUM(paid_fen) AS gmv_fen, COUNT(DISTINCT order_id) AS orders
FROM sales
WHERE paid_day BETWEEN {_day(first)} AND {_day(last)}
GROUP BY paid_day, {FIELD_OF_CHANNEL}
ORDER BY day, field
"""


def content(shop_id: int, first: date, last: date, limit: int = 50) -> str:
    """Per content item that sold or showed the shop's products: impressions → plays → anchor clicks →
    orders, GMV, GPM (GMV per 1,000 impressions, fen) and watch time; busiest first."""
    return f"""
WITH shown AS (
    SELECT content_id, SUM(impressions) AS impressions, SUM(plays) AS plays, SUM(watch_ms) AS watch_ms,
           SUM(anchor_clicks) AS anchor_clicks
    FROM content_daily
    WHERE shop_id = {_shop(shop_id)} AND day BETWEEN {_day(first)} AND {_day(last)}
    GROUP BY content_id
), sold AS (
    SELECT content_id, COUNT(DISTINCT order_id) AS orders, SUM(paid_fen) AS gmv_fen
    FROM sales
    WHERE shop_id = {_shop(shop_id)} AND paid_day BETWEEN {_day(first)} AND {_day(last)} AND content_id IS NOT NULL
    GROUP BY content_id
)
SELECT COALESCE(s.content_id, o.content_id) AS content_id,
       COALESCE(s.impressions, 0) AS impressions, COALESCE(s.plays, 0) AS plays,
       COALESCE(s.anchor_clicks, 0) AS anchor_clicks, COALESCE(o.orders, 0) AS orders,
       COALESCE(o.gmv_fen, 0) AS gmv_fen, COALESCE(s.watch_ms, 0) AS watch_ms
FROM shown s FULL OUTER JOIN sold o ON s.content_id = o.content_id
ORDER BY gmv_fen DESC, impressions DESC, content_id
LIMIT {int(limit)}
"""
