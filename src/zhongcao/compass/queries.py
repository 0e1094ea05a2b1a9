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


def first_day(shop_id: int) -> str:
    """The first day the shop has any record of (a sale or a visitor): NULL when none."""
    return f"""
SELECT MIN(day) AS first_day FROM (
    SELECT MIN(paid_day) AS day FROM sales WHERE shop_id = {_shop(shop_id)}
    UNION ALL
    SELECT MIN(day) AS day FROM visitors WHERE shop_id = {_shop(shop_id)}
) AS firsts
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
            WHEN channel IN ('search', 'mall', 'shop_page', 'product_page', 'showcase') THEN 'center'
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


def products(shop_id: int, first: date, last: date) -> str:
    """Per product of the shop with anything in the period: exposures (slots on search result pages;
    impressions of content anchoring it), product views (clicks), add-to-carts; the period's paid
    orders, units, buyers, GMV, and of those orders the ones refunded (any amount) and the fen refunded;
    the first reviews written in the period, their ratings' sum and how many had 1 or 2 stars."""
    shop, days = _shop(shop_id), f"BETWEEN {_day(first)} AND {_day(last)}"
    return f"""
WITH funnel AS (
    SELECT product_id, SUM(search_exposures) AS search_exposures,
           SUM(content_exposures) AS content_exposures, SUM(views) AS clicks,
           SUM(add_to_carts) AS add_to_carts
    FROM product_daily
    WHERE shop_id = {shop} AND day {days}
    GROUP BY product_id
), sold AS (
    SELECT product_id, COUNT(DISTINCT order_id) AS orders, SUM(quantity) AS units,
           COUNT(DISTINCT user_id) AS buyers, SUM(paid_fen) AS gmv_fen,
           COUNT(DISTINCT CASE WHEN refunded_fen > 0 THEN order_id END) AS refunds,
           SUM(refunded_fen) AS refunded_fen
    FROM sales
    WHERE shop_id = {shop} AND paid_day {days}
    GROUP BY product_id
), rated AS (
    SELECT product_id, COUNT(*) AS reviews, SUM(rating) AS rating_sum,
           SUM(CASE WHEN rating <= 2 THEN 1 ELSE 0 END) AS bad_reviews
    FROM reviews
    WHERE shop_id = {shop} AND day {days}
    GROUP BY product_id
), ids AS (
    SELECT product_id FROM funnel UNION SELECT product_id FROM sold UNION SELECT product_id FROM rated
)
SELECT i.product_id,
       COALESCE(f.search_exposures, 0) AS search_exposures,
       COALESCE(f.content_exposures, 0) AS content_exposures,
       COALESCE(f.clicks, 0) AS clicks, COALESCE(f.add_to_carts, 0) AS add_to_carts,
       COALESCE(s.orders, 0) AS orders, COALESCE(s.units, 0) AS units, COALESCE(s.buyers, 0) AS buyers,
       COALESCE(s.gmv_fen, 0) AS gmv_fen, COALESCE(s.refunds, 0) AS refunds,
       COALESCE(s.refunded_fen, 0) AS refunded_fen, COALESCE(r.reviews, 0) AS reviews,
       COALESCE(r.rating_sum, 0) AS rating_sum, COALESCE(r.bad_reviews, 0) AS bad_reviews
FROM ids i
LEFT JOIN funnel f ON f.product_id = i.product_id
LEFT JOIN sold s ON s.product_id = i.product_id
LEFT JOIN rated r ON r.product_id = i.product_id
ORDER BY i.product_id
"""


def shop_queries(shop_id: int, first: date, last: date, limit: int | None = None) -> str:
    """Per normalised query that showed, brought a click to, or sold the shop's products in the period:
    the query's searches (everyone's), the shop's slots on its result pages, the clicks and paid orders
    it brought the shop, and the slots and clicks of all shops for it (the shop's shares)."""
    shop, days = _shop(shop_id), f"BETWEEN {_day(first)} AND {_day(last)}"
    return f"""
WITH mine AS (
    SELECT query, SUM(exposures) AS exposures, SUM(clicks) AS clicks, SUM(orders) AS orders,
           SUM(gmv_fen) AS gmv_fen
    FROM search_daily
    WHERE shop_id = {shop} AND day {days}
    GROUP BY query
), everyone AS (
    SELECT d.query, SUM(d.exposures) AS exposures, SUM(d.clicks) AS clicks
    FROM search_demand d JOIN mine m ON m.query = d.query
    WHERE d.day {days}
    GROUP BY d.query
), volume AS (
    SELECT q.query, SUM(q.searches) AS searches
    FROM search_queries q JOIN mine m ON m.query = q.query
    WHERE q.day {days}
    GROUP BY q.query
)
SELECT m.query, COALESCE(v.searches, 0) AS searches, m.exposures, m.clicks, m.orders, m.gmv_fen,
       e.exposures AS query_exposures, e.clicks AS query_clicks
FROM mine m JOIN everyone e ON e.query = m.query LEFT JOIN volume v ON v.query = m.query
ORDER BY m.orders DESC, m.clicks DESC, m.exposures DESC, m.query
{"" if limit is None else f"LIMIT {int(limit)}"}
"""


def missed_queries(shop_id: int, first: date, last: date, below_percent: int, limit: int) -> str:
    """Demand the shop could serve but does not win, busiest first: normalised queries of the period
    whose category — the leaf category whose products got most of the query's clicks (then most of its
    slots; then the lower id) — is one the shop has a product on sale in, and of whose clicks the
    shop got less than ``below_percent`` per cent (or nobody clicked). With everyone's searches, slots,
    clicks and orders for the query and the shop's own."""
    shop, days = _shop(shop_id), f"BETWEEN {_day(first)} AND {_day(last)}"
    return f"""
WITH per_category AS (
    SELECT query, category_id, SUM(clicks) AS clicks, SUM(exposures) AS exposures, SUM(orders) AS orders
    FROM search_demand
    WHERE day {days}
    GROUP BY query, category_id
), ranked AS (
    SELECT query, category_id,
           ROW_NUMBER() OVER (PARTITION BY query ORDER BY clicks DESC, exposures DESC, category_id) AS rn
    FROM per_category
), sold_here AS (
    SELECT DISTINCT category_id FROM products WHERE shop_id = {shop} AND on_sale = 1
), servable AS (
    SELECT r.query, r.category_id FROM ranked r JOIN sold_here c ON c.category_id = r.category_id
    WHERE r.rn = 1
), everyone AS (
    SELECT p.query, SUM(p.exposures) AS exposures, SUM(p.clicks) AS clicks, SUM(p.orders) AS orders
    FROM per_category p JOIN servable s ON s.query = p.query
    GROUP BY p.query
), mine AS (
    SELECT query, SUM(exposures) AS exposures, SUM(clicks) AS clicks, SUM(orders) AS orders
    FROM search_daily
    WHERE shop_id = {shop} AND day {days}
    GROUP BY query
), volume AS (
    SELECT q.query, SUM(q.searches) AS searches
    FROM search_queries q JOIN servable s ON s.query = q.query
    WHERE q.day {days}
    GROUP BY q.query
)
SELECT s.query, s.category_id, COALESCE(v.searches, 0) AS searches, e.exposures, e.clicks, e.orders,
       COALESCE(m.exposures, 0) AS shop_exposures, COALESCE(m.clicks, 0) AS shop_clicks,
       COALESCE(m.orders, 0) AS shop_orders
FROM servable s JOIN everyone e ON e.query = s.query
LEFT JOIN mine m ON m.query = s.query LEFT JOIN volume v ON v.query = s.query
WHERE COALESCE(m.clicks, 0) * 100 < {int(below_percent)} * e.clicks OR e.clicks = 0
ORDER BY COALESCE(v.searches, 0) DESC, e.clicks DESC, s.query
LIMIT {int(limit)}
"""


def account_sales(account_id: int, first: date, last: date) -> str:
    """Per day of [first, last]: GMV, orders and commission of the sales attributed to one account (a
    creator's own view of what their content carried, across every shop it sold for)."""
    return f"""
SELECT paid_day AS day, SUM(paid_fen) AS gmv_fen, COUNT(DISTINCT order_id) AS orders,
       SUM(commission_fen) AS commission_fen
FROM sales
WHERE account_id = {int(account_id)} AND paid_day BETWEEN {_day(first)} AND {_day(last)}
GROUP BY paid_day
ORDER BY paid_day
"""


def account_content(account_id: int, content_ids: list[int], first: date, last: date) -> str:
    """For each of the account's content items: impressions, plays and anchor clicks, and the orders,
    GMV and commission it carried in [first, last]. ``content_daily`` has a row per shop a video sells
    for, each with the video's own impressions and plays and that shop's anchor clicks: the first two
    are taken once a day."""
    ids = ", ".join(str(int(i)) for i in content_ids) or "NULL"
    days = f"BETWEEN {_day(first)} AND {_day(last)}"
    return f"""
WITH per_day AS (
    SELECT day, content_id, MAX(impressions) AS impressions, MAX(plays) AS plays,
           SUM(anchor_clicks) AS anchor_clicks
    FROM content_daily
    WHERE content_id IN ({ids}) AND day {days}
    GROUP BY day, content_id
), shown AS (
    SELECT content_id, SUM(impressions) AS impressions, SUM(plays) AS plays,
           SUM(anchor_clicks) AS anchor_clicks
    FROM per_day GROUP BY content_id
), sold AS (
    SELECT content_id, COUNT(DISTINCT order_id) AS orders, SUM(paid_fen) AS gmv_fen,
           SUM(commission_fen) AS commission_fen
    FROM sales
    WHERE account_id = {int(account_id)} AND content_id IN ({ids}) AND paid_day {days}
    GROUP BY content_id
)
SELECT COALESCE(s.content_id, o.content_id) AS content_id,
       COALESCE(s.impressions, 0) AS impressions, COALESCE(s.plays, 0) AS plays,
       COALESCE(s.anchor_clicks, 0) AS anchor_clicks, COALESCE(o.orders, 0) AS orders,
       COALESCE(o.gmv_fen, 0) AS gmv_fen, COALESCE(o.commission_fen, 0) AS commission_fen
FROM shown s FULL OUTER JOIN sold o ON s.content_id = o.content_id
"""


def account_products(account_id: int, first: date, last: date) -> str:
    """Per product an account sold in [first, last]: orders, units, GMV (paid) and commission of the
    sales attributed to it (a creator's own view of each product it promoted)."""
    return f"""
SELECT product_id, COUNT(DISTINCT order_id) AS orders, SUM(quantity) AS units,
       SUM(paid_fen) AS gmv_fen, SUM(commission_fen) AS commission_fen
FROM sales
WHERE account_id = {int(account_id)} AND paid_day BETWEEN {_day(first)} AND {_day(last)}
GROUP BY product_id
"""
