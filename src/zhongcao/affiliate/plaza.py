"""The selection plaza (选品广场): the affiliate plans a creator may browse, searched, filtered and sorted.

What a creator sees is what :func:`zhongcao.affiliate.service.plaza_page` has always shown: active
open and targeted plans on products on sale, and the exclusive plans that name this creator; shops
scored below ``plaza_min_shop_score_centi`` leave it. On top of that:

* **search** with the product search's own analysis: the text is matched against the product search
  index (:func:`zhongcao.search.service.matching_product_ids`: Chinese words and sub-words, pinyin and
  initials such as ``lianyiqun`` / ``lyq`` for 连衣裙, typos, synonyms), and the plans of the matching
  products are kept, best match first. No second tokenizer;
* **filters**: plan kind, product, category (a top category takes its leaves), commission rate range
  (basis points), price range (fen, the lowest active SKU price), the shop's current experience score
  (a minimum: unscored shops are left out when one is asked for) and units sold (a minimum);
* **sorts**: relevance (with a search), newest plan, commission rate, estimated commission per sale
  (price × rate), sales, price (either way), shop score; ties go to the newer plan.

Pages are offset cursors (``{"o": offset}``), as in product search: a sort on a changing value has no
stable key to page from.

Product facts (category, price, sales) and shop scores are read through their owners' services, as
sub-queries (:func:`zhongcao.catalog.service.on_sale_product_facts_query`,
:func:`zhongcao.experience.scores.current_scores_query`), so a page is a few queries at any scale.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from zhongcao.affiliate import service as affiliate_service
from zhongcao.affiliate import showcase
from zhongcao.affiliate.models import AffiliatePlan, AffiliatePlanCreator, PlanKind, PlanStatus
from zhongcao.affiliate.service import PlazaEntry
from zhongcao.catalog import service as catalog_service
from zhongcao.config import get_settings
from zhongcao.errors import InvalidInput
from zhongcao.experience import scores as experience_scores
from zhongcao.pagination import PageParams, decode_cursor, encode_cursor
from zhongcao.search import service as search_service
from zhongcao.shops import service as shops_service

SORTS = (
    "relevance",
    "newest",
    "commission_rate",
    "commission_per_sale",
    "sales",
    "price_asc",
    "price_desc",
    "shop_score",
)
# How many of the best text matches a search keeps (the plans of these products are then filtered).
MAX_MATCHES = 2000
MAX_OFFSET = 10_000


@dataclass(frozen=True)
class PlazaQuery:
    q: str = ""
    kind: PlanKind | None = None
    product_id: int | None = None
    category_id: int | None = None
    min_commission_bps: int | None = None
    max_commission_bps: int | None = None
    min_price_fen: int | None = None
    max_price_fen: int | None = None
    min_shop_score_centi: int | None = None
    min_sales: int | None = None
    # None: relevance with a search, newest without.
    sort: str | None = None

    @property
    def effective_sort(self) -> str:
        if self.sort is None or (self.sort == "relevance" and not self.q.strip()):
            return "relevance" if self.q.strip() else "newest"
        return self.sort


@dataclass(frozen=True)
class PlazaRow(PlazaEntry):
    category_id: int
    sales: int
    shop_score_centi: int | None
    in_showcase: bool


@dataclass(frozen=True)
class PlazaResult:
    rows: list[PlazaRow]
    next_cursor: str | None
    sort: str
    # Whether the text matched more products than a search keeps (the rest are not in any page).
    truncated: bool = False


def _check(query: PlazaQuery) -> None:
    if query.sort is not None and query.sort not in SORTS:
        raise InvalidInput(
            f"unknown sort; expected one of {', '.join(SORTS)}", code="invalid_sort", field="sort"
        )
    for low, high, field in (
        (query.min_commission_bps, query.max_commission_bps, "min_commission_bps"),
        (query.min_price_fen, query.max_price_fen, "min_price_fen"),
    ):
        if low is not None and high is not None and low > high:
            raise InvalidInput(f"{field} is above its maximum", code="invalid_range", field=field)


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    value = decode_cursor(cursor)
    if not isinstance(value, dict) or type(value.get("o")) is not int or not 0 <= value["o"] <= MAX_OFFSET:
        raise InvalidInput("cursor is not valid", code="invalid_cursor", field="cursor")
    return int(value["o"])


def search(
    db: Session,
    state: search_service.SearchState | None,
    account_id: int,
    query: PlazaQuery,
    params: PageParams,
) -> PlazaResult:
    """A page of the plaza for a creator account. ``state`` is the worker's product search (needed
    only when ``query.q`` has text)."""
    _check(query)
    offset = _offset(params.cursor)
    sort = query.effective_sort
    facts = catalog_service.on_sale_product_facts_query().subquery()
    scores = experience_scores.current_scores_query().subquery()
    mine = select(AffiliatePlanCreator.plan_id).where(AffiliatePlanCreator.account_id == account_id)
    stmt: Any = (
        select(AffiliatePlan.id, AffiliatePlan.product_id)
        .join(facts, facts.c.product_id == AffiliatePlan.product_id)
        .outerjoin(scores, scores.c.shop_id == AffiliatePlan.shop_id)
        .where(
            AffiliatePlan.status == PlanStatus.active,
            or_(
                AffiliatePlan.kind.in_([PlanKind.open, PlanKind.targeted]),
                and_(AffiliatePlan.kind == PlanKind.exclusive, AffiliatePlan.id.in_(mine)),
            ),
        )
    )
    gate = get_settings().plaza_min_shop_score_centi
    if gate is not None:  # the north star: shops scored below the gate leave the plaza
        stmt = stmt.where(AffiliatePlan.shop_id.not_in(experience_scores.shop_ids_scored_below(db, gate)))
    if query.kind is not None:
        stmt = stmt.where(AffiliatePlan.kind == query.kind)
    if query.product_id is not None:
        stmt = stmt.where(AffiliatePlan.product_id == query.product_id)
    if query.category_id is not None:
        stmt = stmt.where(facts.c.category_id.in_(catalog_service.category_ids_under(db, query.category_id)))
    if query.min_commission_bps is not None:
        stmt = stmt.where(AffiliatePlan.commission_bps >= query.min_commission_bps)
    if query.max_commission_bps is not None:
        stmt = stmt.where(AffiliatePlan.commission_bps <= query.max_commission_bps)
    if query.min_price_fen is not None:
        stmt = stmt.where(facts.c.price_fen >= query.min_price_fen)
    if query.max_price_fen is not None:
        stmt = stmt.where(facts.c.price_fen <= query.max_price_fen)
    if query.min_shop_score_centi is not None:
        stmt = stmt.where(scores.c.score_centi >= query.min_shop_score_centi)
    if query.min_sales is not None:
        stmt = stmt.where(facts.c.sales >= query.min_sales)
    truncated = False
    rank: dict[int, int] = {}
    if query.q.strip():
        if state is None:
            raise InvalidInput(
                "searching the plaza needs the product search", code="invalid_search", field="q"
            )
        matched = search_service.matching_product_ids(state, query.q, limit=MAX_MATCHES + 1)
        truncated = len(matched) > MAX_MATCHES
        matched = matched[:MAX_MATCHES]
        if not matched:
            return PlazaResult(rows=[], next_cursor=None, sort=sort)
        rank = {pid: i for i, pid in enumerate(matched)}
        stmt = stmt.where(AffiliatePlan.product_id.in_(matched))
    if sort == "relevance":
        # At most MAX_MATCHES products' plans: ordered here by the match's rank, then the better rate.
        found = list(db.execute(stmt.add_columns(AffiliatePlan.commission_bps)).all())
        found.sort(key=lambda r: (rank[r.product_id], -r.commission_bps, -r.id))
        window = [r.id for r in found[offset : offset + params.limit + 1]]
    else:
        order = {
            "newest": [],
            "commission_rate": [AffiliatePlan.commission_bps.desc()],
            "commission_per_sale": [(facts.c.price_fen * AffiliatePlan.commission_bps).desc()],
            "sales": [facts.c.sales.desc()],
            "price_asc": [facts.c.price_fen.asc()],
            "price_desc": [facts.c.price_fen.desc()],
            "shop_score": [scores.c.score_centi.desc().nulls_last()],
        }[sort]
        window = list(
            db.scalars(
                stmt.with_only_columns(AffiliatePlan.id)
                .order_by(*order, AffiliatePlan.id.desc())
                .offset(offset)
                .limit(params.limit + 1)
            )
        )
    more = len(window) > params.limit
    window = window[: params.limit]
    rows = _rows(db, account_id, window)
    end = offset + len(rows)
    next_cursor = encode_cursor({"o": end}) if more and end <= MAX_OFFSET else None
    return PlazaResult(rows=rows, next_cursor=next_cursor, sort=sort, truncated=truncated)


def _rows(db: Session, account_id: int, plan_ids: Sequence[int]) -> list[PlazaRow]:
    plans = affiliate_service.plans_by_ids(db, plan_ids)
    product_ids = [p.product_id for p in plans.values()]
    products = catalog_service.product_briefs(db, product_ids)
    facts = _facts(db, product_ids)
    shops = shops_service.shops_by_ids(db, [p.shop_id for p in plans.values()])
    scores = experience_scores.current_scores(db, [p.shop_id for p in plans.values()])
    listed = affiliate_service.listed_plan_ids(db, account_id, list(plans))
    latest = affiliate_service.latest_application_status(db, account_id, list(plans))
    shown = showcase.in_showcase(db, account_id, product_ids)
    out = []
    for plan_id in plan_ids:
        plan = plans[plan_id]
        fact = facts.get(plan.product_id)
        out.append(
            PlazaRow(
                plan=plan,
                product=products[plan.product_id],
                shop_name_zh=shops[plan.shop_id].name_zh,
                shop_name_en=shops[plan.shop_id].name_en,
                can_promote=plan.kind == PlanKind.open or plan.id in listed,
                application_status=latest.get(plan.id),
                category_id=int(fact.category_id) if fact is not None else 0,
                sales=int(fact.sales or 0) if fact is not None else 0,
                shop_score_centi=scores.get(plan.shop_id),
                in_showcase=plan.product_id in shown,
            )
        )
    return out


def _facts(db: Session, product_ids: Sequence[int]) -> dict[int, Any]:
    ids = sorted(set(product_ids))
    if not ids:
        return {}
    facts = catalog_service.on_sale_product_facts_query().subquery()
    return {r.product_id: r for r in db.execute(select(facts).where(facts.c.product_id.in_(ids))).all()}
