"""Creator–product matching on the platform's records: reads what :mod:`zhongcao.affiliate.matching`
needs through the domains' services, ranks, and resolves the plan a creator would promote under.

Read, as the platform has them now: products on sale (catalog), active plans (affiliate), shops'
current experience scores (experience), follows, creator accounts and product anchors (content), and
every paid order line with the account it was attributed to (commerce). Nothing is precomputed: one
:func:`match_data` reads them in a few bulk queries (under a second at the small demo world, a few
seconds at medium); the simulated creators call it once per simulated day for all creators at once.

Candidates for a creator are products on sale with an active open plan (anyone may promote them);
the plan returned is the best one the creator may use (a targeted plan that lists it pays more), and
a targeted plan it is not listed on is returned too, so that it can apply. Candidates for a product are
every creator account that has not already anchored it or sold it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sqlalchemy.orm import Session

from zhongcao.affiliate import matching
from zhongcao.affiliate import service as affiliate_service
from zhongcao.affiliate.matching import MatchData, Reason
from zhongcao.affiliate.models import AffiliatePlan, PlanKind
from zhongcao.catalog import service as catalog_service
from zhongcao.catalog.service import ProductBrief
from zhongcao.commerce import service as commerce_service
from zhongcao.content import reads as content_reads
from zhongcao.content import service as content_service
from zhongcao.errors import InvalidInput, NotFound
from zhongcao.experience import scores as experience_scores

MAX_LIMIT = 50


@dataclass
class Platform:
    """A :class:`MatchData` with the ids behind its indexes."""

    data: MatchData
    category_ids: list[int]  # category index -> category id
    product_shop_ids: np.ndarray
    product_index: dict[int, int]
    creator_index: dict[int, int]
    open_plans: dict[int, AffiliatePlan]  # product id -> its active open plan


def _index(ids: Sequence[int]) -> dict[int, int]:
    return {int(v): i for i, v in enumerate(ids)}


def match_data(db: Session) -> Platform:
    """Everything the engine needs, read now through the domains' services."""
    tree = catalog_service.category_tree(db)
    category_ids: list[int] = []
    parent_of: list[int] = []
    for top, leaves in tree:
        top_index = len(category_ids)
        category_ids.append(top.id)
        parent_of.append(top_index)
        for leaf in leaves:
            category_ids.append(leaf.id)
            parent_of.append(top_index)
    cat_index = _index(category_ids)
    n_cat = max(len(category_ids), 1)
    if not category_ids:
        parent_of = [0]

    snap = catalog_service.catalogue_snapshot(db)
    product_ids = np.asarray(snap.product_ids, dtype=np.int64)
    product_index = _index(snap.product_ids)
    n_products = len(product_ids)
    product_category = np.asarray([cat_index.get(c, 0) for c in snap.category_ids], dtype=np.int64)
    price = np.asarray(snap.sku_prices_fen, dtype=np.int64)
    if n_products:
        known_price = price[price > 0]
        price = np.where(price > 0, price, int(np.median(known_price)) if len(known_price) else 1)
    shop_ids = np.asarray(snap.shop_ids, dtype=np.int64)
    plans = affiliate_service.active_plans_for_products(db, snap.product_ids)
    open_plans = {pid: plan for pid, rows in plans.items() for plan in rows if plan.kind == PlanKind.open}
    commission = np.asarray(
        [open_plans[p].commission_bps if p in open_plans else 0 for p in snap.product_ids]
    )
    scores = experience_scores.current_scores(db, sorted(set(snap.shop_ids)))
    shop_score = np.asarray(
        [np.nan if scores.get(s) is None else float(scores[s] or 0) / 100.0 for s in snap.shop_ids],
        dtype=np.float64,
    )

    creators = content_reads.creator_account_rows(db)
    creator_ids = np.asarray([a for a, _ in creators], dtype=np.int64)
    creator_index = _index(creator_ids.tolist())
    n_creators = len(creator_ids)
    followers = np.asarray([n for _, n in creators], dtype=np.int64)

    # Anchors: which products each creator has promoted (content -> account).
    content = content_reads.content_snapshot(db)
    content_account = dict(zip(content.content_ids, content.account_ids, strict=True))
    content_count = np.zeros(n_creators)
    for account_id in content.account_ids:
        ci = creator_index.get(account_id)
        if ci is not None:
            content_count[ci] += 1
    anchor_rows, anchor_cols = [], []
    for content_id, product_id in content_reads.anchor_pairs(db):
        ci = creator_index.get(content_account.get(content_id, -1))
        pi = product_index.get(product_id)
        if ci is not None and pi is not None:
            anchor_rows.append(ci)
            anchor_cols.append(pi)
    anchored = sp.csr_matrix(
        (np.ones(len(anchor_rows)), (anchor_rows, anchor_cols)), shape=(n_creators, n_products)
    )
    content_category = np.zeros((n_creators, n_cat))
    if anchored.nnz:
        binary = anchored.copy()
        binary.data[:] = 1.0
        coo = binary.tocoo()
        np.add.at(content_category, (coo.row, product_category[coo.col]), 1.0)

    # Orders: by buyer (their category and price interests) and by the account they came through.
    users: dict[int, int] = {}
    buy_user: list[int] = []
    buy_product: list[int] = []
    sold_rows: list[int] = []
    sold_cols: list[int] = []
    category_gmv = np.zeros((n_creators, n_cat))
    creator_orders = np.zeros(n_creators)
    seen_orders: set[tuple[int, int]] = set()
    for row in commerce_service.sales_rows(db):
        order_id, _item, _shop, user_id, product_id = row[0], row[1], row[2], row[3], row[4]
        account_id, paid_fen = row[8], int(row[11] or 0)
        pi = product_index.get(product_id)
        if pi is None:
            continue
        ui = users.setdefault(user_id, len(users))
        buy_user.append(ui)
        buy_product.append(pi)
        ci = creator_index.get(account_id) if account_id is not None else None
        if ci is not None:
            sold_rows.append(ci)
            sold_cols.append(pi)
            category_gmv[ci, product_category[pi]] += paid_fen
            if (ci, order_id) not in seen_orders:
                seen_orders.add((ci, order_id))
                creator_orders[ci] += 1
    n_users = len(users)
    purchases = sp.csr_matrix((np.ones(len(buy_user)), (buy_user, buy_product)), shape=(n_users, n_products))
    through = sp.csr_matrix((np.ones(len(sold_rows)), (sold_rows, sold_cols)), shape=(n_creators, n_products))
    # Followers (of creators) among the buyers, as a creators × users matrix.
    fu, fa = content_reads.follow_pairs(db)
    f_rows, f_cols = [], []
    for user_id, account_id in zip(fu, fa, strict=True):
        fi = creator_index.get(account_id)
        fu_index = users.get(user_id)
        if fi is not None and fu_index is not None:
            f_rows.append(fi)
            f_cols.append(fu_index)
    follows = sp.csr_matrix((np.ones(len(f_rows)), (f_rows, f_cols)), shape=(n_creators, n_users))
    buyers_following = (follows @ purchases).tocsr()
    # The audience's purchases per category: followers' purchases plus purchases through the creator.
    audience_products = buyers_following + through
    audience_category = np.zeros((n_creators, n_cat))
    coo = audience_products.tocoo()
    np.add.at(audience_category, (coo.row, product_category[coo.col]), coo.data)
    log_price = np.zeros(n_products)
    if n_products:
        log_price = np.log(np.maximum(price, 1).astype(np.float64))
    weight = np.asarray(audience_products.sum(axis=1)).ravel()
    price_sum = np.asarray(audience_products @ log_price).ravel()
    audience_log_price = np.where(weight > 0, price_sum / np.maximum(weight, 1e-12), np.nan)
    known = (anchored + through).tocsr()
    known.data[:] = 1.0
    data = MatchData(
        n_categories=n_cat,
        category_parent=np.asarray(parent_of, dtype=np.int64),
        product_ids=product_ids,
        product_category=product_category,
        product_price_fen=price,
        product_commission_bps=commission.astype(np.int64),
        product_shop_score=shop_score,
        product_sales=np.asarray(snap.sold, dtype=np.float64),
        creator_ids=creator_ids,
        audience_category=audience_category,
        content_category=content_category,
        audience_log_price=audience_log_price,
        creator_followers=followers,
        creator_content=content_count,
        creator_orders=creator_orders,
        creator_category_gmv_fen=category_gmv,
        creator_product_orders=through.tocsr(),
        buyers_following=buyers_following,
        known=known,
    )
    return Platform(
        data=data,
        category_ids=category_ids,
        product_shop_ids=shop_ids,
        product_index=product_index,
        creator_index=creator_index,
        open_plans=open_plans,
    )


# --- products for a creator --------------------------------------------------------------------------


@dataclass(frozen=True)
class ReasonOut:
    code: str
    value: float
    category_id: int | None


@dataclass(frozen=True)
class ProductMatch:
    product: ProductBrief
    score: float
    reasons: list[ReasonOut]
    plan: AffiliatePlan  # the best plan the creator may promote under now
    targeted_plan: AffiliatePlan | None  # a better-paying plan the creator may apply to


def _reasons(platform: Platform, reasons: list[Reason]) -> list[ReasonOut]:
    return [
        ReasonOut(r.code, r.value, platform.category_ids[r.category] if r.category is not None else None)
        for r in reasons
    ]


def recommended_products(
    db: Session, account_id: int, limit: int = 20, *, platform: Platform | None = None
) -> list[ProductMatch]:
    """The products a creator account should promote next, best first, each with its reasons."""
    _check_limit(limit)
    platform = platform or match_data(db)
    ci = platform.creator_index.get(account_id)
    if ci is None:
        raise NotFound("creator account not found", code="account_not_found")
    ranked = matching.recommend_products(platform.data, np.asarray([ci]), limit)[0]
    product_ids = [int(platform.data.product_ids[p]) for p in ranked.indexes]
    usable = affiliate_service.usable_plans(db, account_id, product_ids)
    active = affiliate_service.active_plans_for_products(db, product_ids)
    briefs = catalog_service.product_briefs(db, product_ids)
    out = []
    for pid, score, reasons in zip(product_ids, ranked.scores.tolist(), ranked.reasons, strict=True):
        plans = usable.get(pid)
        if not plans or pid not in briefs:
            continue
        best = max(plans, key=lambda p: (p.commission_bps, p.id))
        targeted = [
            p
            for p in active.get(pid, [])
            if p.kind == PlanKind.targeted and p.commission_bps > best.commission_bps
        ]
        out.append(
            ProductMatch(
                product=briefs[pid],
                score=round(float(score), 4),
                reasons=_reasons(platform, reasons),
                plan=best,
                targeted_plan=max(targeted, key=lambda p: p.commission_bps) if targeted else None,
            )
        )
    return out


def recommended_product_ids(db: Session, account_ids: Sequence[int], limit: int) -> dict[int, list[int]]:
    """The same ranking for many creator accounts at once, ids only (the simulated creators)."""
    platform = match_data(db)
    rows = [platform.creator_index[a] for a in account_ids if a in platform.creator_index]
    ranked = matching.recommend_products(
        platform.data, np.asarray(rows, dtype=np.int64), limit, explain=False
    )
    ids = platform.data.product_ids
    return {
        int(platform.data.creator_ids[c]): [int(ids[p]) for p in r.indexes]
        for c, r in zip(rows, ranked, strict=True)
    }


def plaza_product_ids(db: Session, account_ids: Sequence[int], limit: int) -> dict[int, list[int]]:
    """The plain plaza list as the baseline: on-sale products with an open plan, highest commission
    first, newest plan first among equals; a creator's already anchored or sold products left out."""
    platform = match_data(db)
    data = platform.data
    plans = sorted(platform.open_plans.values(), key=lambda p: (-p.commission_bps, -p.id))
    order = np.asarray([platform.product_index[p.product_id] for p in plans], dtype=np.int64)
    out: dict[int, list[int]] = {}
    for account_id in account_ids:
        ci = platform.creator_index.get(account_id)
        if ci is None:
            continue
        known = set(data.known[ci].indices.tolist())
        out[account_id] = [int(data.product_ids[p]) for p in order.tolist() if p not in known][:limit]
    return out


# --- creators for a product --------------------------------------------------------------------------


@dataclass(frozen=True)
class CreatorMatch:
    account_id: int
    handle: str
    name: str
    niche: str | None
    is_top_kol: bool
    follower_count: int
    score: float
    reasons: list[ReasonOut]
    on_plan_ids: list[int]  # the product's targeted/exclusive plans that already list this creator


def recommended_creators(
    db: Session, shop_id: int, product_id: int, limit: int = 20, *, platform: Platform | None = None
) -> list[CreatorMatch]:
    """The creators a shop should invite to promote its product, best first, with reasons. Another
    shop's product (or one not on sale) is not found."""
    _check_limit(limit)
    brief = catalog_service.product_briefs(db, [product_id]).get(product_id)
    if brief is None or brief.shop_id != shop_id:
        raise NotFound("product not found", code="product_not_found", field="product_id")
    platform = platform or match_data(db)
    pi = platform.product_index.get(product_id)
    if pi is None:
        raise InvalidInput(
            "the product is not on sale, so no creator can promote it",
            code="product_not_on_sale",
            field="product_id",
        )
    ranked = matching.recommend_creators(platform.data, np.asarray([pi]), limit)[0]
    account_ids = [int(platform.data.creator_ids[c]) for c in ranked.indexes]
    accounts = content_service.accounts_by_ids(db, account_ids)
    followers = content_reads.shown_follower_counts(db, account_ids)
    plans = [p for p in affiliate_service.active_plans_for_product(db, product_id) if p.kind != PlanKind.open]
    listed = affiliate_service.plan_creator_ids_by_plan(db, [p.id for p in plans])
    out = []
    for account_id, score, reasons in zip(account_ids, ranked.scores.tolist(), ranked.reasons, strict=True):
        account = accounts.get(account_id)
        if account is None:
            continue
        out.append(
            CreatorMatch(
                account_id=account_id,
                handle=account.handle,
                name=account.name,
                niche=account.niche,
                is_top_kol=account.is_top_kol,
                follower_count=followers.get(account_id, 0),
                score=round(float(score), 4),
                reasons=_reasons(platform, reasons),
                on_plan_ids=[p.id for p in plans if account_id in listed.get(p.id, [])],
            )
        )
    return out


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit is 1 to {MAX_LIMIT}", code="invalid_limit", field="limit")
