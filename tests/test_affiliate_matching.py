"""Creator–product matching: the engine's ordering and reasons, the two API endpoints on both databases,
and the benchmark on a tiny world."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from tests.api_helpers import assert_error
from tests.content_helpers import make_plan
from tests.factories import auth, make_category, make_creator, make_product, make_shop, make_user
from zhongcao import flows
from zhongcao.affiliate import matching
from zhongcao.affiliate.matching import MatchData
from zhongcao.affiliate.models import PlanKind
from zhongcao.content import reads as content_reads
from zhongcao.content.models import ContentKind
from zhongcao.users.models import Role

# --- the engine, on arrays ------------------------------------------------------------------------
# Categories: 0 母婴 (top) with leaves 1 diapers, 2 toys; 3 运动 (top) with leaf 4 fitness gear.
PARENT = np.asarray([0, 0, 0, 3, 3])
# Products: 0 diapers, 1 toy, 2 dumbbell (the best commission), 3 another diapers, 4 yoga mat.
CATEGORY = np.asarray([1, 2, 4, 1, 4])


def _world(**over: object) -> MatchData:
    n_creators, n_products = 3, 5
    # Creator 0 is a parenting creator: its audience buys baby goods, it anchored diapers (product 0).
    # Creator 1 is a fitness creator: its audience buys sports goods, it anchored a yoga mat (4).
    # Creator 2 is a parenting creator like 0 who sold the toy (1).
    audience = np.zeros((n_creators, 5))
    audience[0, 1], audience[0, 2] = 12, 3
    audience[1, 4] = 10
    audience[2, 1], audience[2, 2] = 8, 5
    content = np.zeros((n_creators, 5))
    content[0, 1] = 3
    content[1, 4] = 2
    content[2, 2] = 2
    orders = sp.csr_matrix(([4.0], ([2], [1])), shape=(n_creators, n_products))
    known = sp.csr_matrix(([1.0, 1.0, 1.0], ([0, 1, 2], [0, 4, 1])), shape=(n_creators, n_products))
    values: dict[str, object] = {
        "n_categories": 5,
        "category_parent": PARENT,
        "product_ids": np.asarray([101, 102, 103, 104, 105]),
        "product_category": CATEGORY,
        "product_price_fen": np.asarray([9900, 5900, 19900, 8900, 12900]),
        "product_commission_bps": np.asarray([1000, 1000, 3000, 1000, 1500]),
        "product_shop_score": np.asarray([90.0, np.nan, 95.0, 85.0, 80.0]),
        "product_sales": np.asarray([5.0, 4.0, 50.0, 1.0, 2.0]),
        "creator_ids": np.asarray([11, 12, 13]),
        "audience_category": audience,
        "content_category": content,
        "audience_log_price": np.log(np.asarray([8000.0, 15000.0, 6000.0])),
        "creator_followers": np.asarray([1000, 5000, 800]),
        "creator_content": np.asarray([3.0, 2.0, 2.0]),
        "creator_orders": np.asarray([0.0, 0.0, 4.0]),
        "creator_category_gmv_fen": np.zeros((n_creators, 5)),
        "creator_product_orders": orders,
        "buyers_following": sp.csr_matrix((n_creators, n_products)),
        "known": known,
    }
    values.update(over)
    return MatchData(**values)  # type: ignore[arg-type]


def test_a_parenting_creator_sees_baby_goods_before_dumbbells():
    data = _world()
    ranked = matching.recommend_products(data, np.asarray([0, 1]), 5)
    parenting = [int(data.product_ids[p]) for p in ranked[0].indexes]
    fitness = [int(data.product_ids[p]) for p in ranked[1].indexes]
    # Diapers (104) and the toy (102) before the dumbbell (103), though the dumbbell pays 30% and
    # sells best; the diapers it already anchored (101) are not recommended again.
    assert parenting.index(104) < parenting.index(103) and parenting.index(102) < parenting.index(103)
    assert 101 not in parenting
    # The fitness creator: the dumbbell first, its own yoga mat (105) left out.
    assert fitness[0] == 103 and 105 not in fitness
    assert list(ranked[0].scores) == sorted(ranked[0].scores, reverse=True)


def test_reasons_name_the_audience_the_content_and_similar_creators():
    data = _world()
    ranked = matching.recommend_products(data, np.asarray([0]), 5)[0]
    by_product = {
        int(data.product_ids[p]): reasons for p, reasons in zip(ranked.indexes, ranked.reasons, strict=True)
    }
    codes = {r.code: r for r in by_product[104]}
    # Diapers: the parenting creator promoted 3 diapers products (leaf 1), and 15 of its audience's
    # purchases (all of them) are under 母婴 (top 0).
    assert codes["content_topic"].value == 3 and codes["content_topic"].category == 1
    assert codes["audience_category"].value == 1.0 and codes["audience_category"].category == 0
    # The toy sold through creator 2, whose audience and content look like creator 0's.
    toy = {r.code: r for r in by_product[102]}
    assert toy["similar_creators"].value == 1
    assert all(len(r) <= matching.MAX_REASONS and all(x.value > 0 for x in r) for r in ranked.reasons)


def test_creators_for_a_product_put_the_fitting_audience_first():
    data = _world()
    # Another diapers product (104): both parenting creators before the fitness one.
    ranked = matching.recommend_creators(data, np.asarray([3]), 3)[0]
    assert set(ranked.indexes[:2].tolist()) == {0, 2} and ranked.indexes[2] == 1
    # The toy (1): creator 2 already sold it, so it is left out.
    toy = matching.recommend_creators(data, np.asarray([1]), 3)[0]
    assert 2 not in toy.indexes.tolist() and toy.indexes[0] == 0
    gmv = np.zeros((3, 5))
    gmv[1, 1] = 5_000_000  # the fitness creator once sold a lot of diapers: category GMV counts
    richer = matching.recommend_creators(_world(creator_category_gmv_fen=gmv), np.asarray([3]), 3)[0]
    assert any(r.code == "category_gmv" for r in richer.reasons[list(richer.indexes).index(1)])


def test_creators_for_a_product_who_fit_alike_rank_by_what_they_have_sold():
    content = np.zeros((3, 5))
    content[0, 1] = content[2, 1] = 3  # creators 0 and 2 both promoted three diapers products
    content[1, 4] = 2
    sold = sp.csr_matrix(([1.0, 2.0, 1.0], ([2, 2, 2], [0, 1, 4])), shape=(3, 5))  # 2 sold three products
    known = sp.csr_matrix(([1.0, 1.0, 1.0], ([2, 2, 2], [0, 1, 4])), shape=(3, 5))
    data = _world(content_category=content, creator_product_orders=sold, known=known)
    ranked = matching.recommend_creators(data, np.asarray([3]), 3)[0]
    assert ranked.indexes.tolist() == [2, 0, 1]
    scores = matching.creator_scores(data, np.asarray([3]))[:, 0]
    assert scores[2] > scores[0] > scores[1]
    # Nothing sold yet: the same fit gives the same score, and the fitness creator stays last.
    none_sold = sp.csr_matrix((3, 5))
    even = matching.creator_scores(
        _world(content_category=content, creator_product_orders=none_sold), np.asarray([3])
    )[:, 0]
    assert even[0] == pytest.approx(even[2]) and even[1] < even[0]


def test_products_without_an_open_plan_are_not_recommended_to_creators():
    data = _world(product_commission_bps=np.asarray([1000, 1000, 0, 1000, 1500]))
    ranked = matching.recommend_products(data, np.asarray([1]), 5)[0]
    assert 2 not in ranked.indexes.tolist()


# --- the API --------------------------------------------------------------------------------------


def _publish(db, account_id: int, product_ids: list[int]) -> None:
    flows.publish_content(
        db,
        account_id,
        kind=ContentKind.short_video,
        title_zh="育儿好物分享",
        title_en="Parenting finds",
        duration_seconds=30,
        anchors=product_ids,
    )


def _market(db):
    baby, sports = make_category(db), make_category(db)
    bundle = make_shop(db)
    diapers = make_product(db, bundle.shop, category=baby, price_fen=9900)
    diapers2 = make_product(db, bundle.shop, category=baby, price_fen=8900)
    dumbbell = make_product(db, bundle.shop, category=sports, price_fen=19900)
    for product, bps in ((diapers, 1000), (diapers2, 1000), (dumbbell, 3000)):
        make_plan(db, product, commission_bps=bps)
    parent_user, parent = make_creator(db)
    fit_user, fit = make_creator(db)
    _publish(db, parent.id, [diapers.id])
    yoga = make_product(db, bundle.shop, category=sports)
    make_plan(db, yoga, commission_bps=1500)
    _publish(db, fit.id, [yoga.id])
    return bundle, parent_user, parent, fit, diapers, diapers2, dumbbell


def test_creator_recommendations_api(client, db):
    bundle, parent_user, parent, _fit, diapers, diapers2, dumbbell = _market(db)
    targeted = make_plan(db, diapers2, PlanKind.targeted, 2000, creators=[])
    r = client.get("/api/creator/recommendations", headers=auth(db, parent_user))
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    ids = [i["product_id"] for i in items]
    assert diapers.id not in ids  # already anchored
    assert ids.index(diapers2.id) < ids.index(dumbbell.id)
    first = items[0]
    assert first["product_id"] == diapers2.id
    assert first["plan"]["kind"] == "open" and first["plan"]["commission_bps"] == 1000
    assert first["plan"]["estimated_commission_fen"] == 890
    assert first["targeted_plan"]["plan_id"] == targeted.id  # pays more: the creator may apply
    assert {"code": "content_topic", "value": 1.0, "category_id": diapers2.category_id} in first["reasons"]
    assert first["product_title_zh"] and first["shop_id"] == bundle.shop.id
    # Bad input: a machine-readable code and the field.
    assert_error(
        client.get("/api/creator/recommendations?limit=0", headers=auth(db, parent_user)),
        422,
        "validation_error",
    )
    # A shopper has no creator account.
    shopper = make_user(db, Role.shopper)
    assert client.get("/api/creator/recommendations", headers=auth(db, shopper)).status_code == 403


def test_recommended_creators_api(client, db):
    bundle, _parent_user, parent, fit, diapers, diapers2, _dumbbell = _market(db)
    url = f"/api/merchant/affiliate/products/{diapers2.id}/recommended-creators"
    r = client.get(url, headers=auth(db, bundle.owner))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["product_id"] == diapers2.id
    ids = [i["account_id"] for i in body["items"]]
    assert ids[:2] == [parent.id, fit.id]
    top = body["items"][0]
    assert top["handle"] == parent.handle and top["on_plan_ids"] == []
    assert any(reason["code"] == "content_topic" for reason in top["reasons"])
    # The creator already promoting a product is not recommended for it.
    anchored = client.get(
        f"/api/merchant/affiliate/products/{diapers.id}/recommended-creators", headers=auth(db, bundle.owner)
    ).json()
    assert parent.id not in [i["account_id"] for i in anchored["items"]]
    # Another shop's product: not found, as if it did not exist.
    other = make_shop(db)
    assert_error(client.get(url, headers=auth(db, other.owner)), 404, "product_not_found", "product_id")
    assert_error(client.get(url + "?limit=51", headers=auth(db, bundle.owner)), 422, "validation_error")


def test_a_creator_listed_on_the_products_targeted_plan_says_so(client, db):
    bundle, _parent_user, parent, _fit, _diapers, diapers2, _dumbbell = _market(db)
    plan = make_plan(db, diapers2, PlanKind.targeted, 2000)
    r = client.post(
        f"/api/merchant/affiliate/plans/{plan.id}/creators",
        json={"account_id": parent.id},
        headers=auth(db, bundle.owner),
    )
    assert r.status_code == 200, r.text
    items = client.get(
        f"/api/merchant/affiliate/products/{diapers2.id}/recommended-creators", headers=auth(db, bundle.owner)
    ).json()["items"]
    assert next(i for i in items if i["account_id"] == parent.id)["on_plan_ids"] == [plan.id]
    assert content_reads.creator_account_rows(db)[0][0] <= parent.id


# --- the benchmark, tiny ----------------------------------------------------------------------------


@pytest.mark.slow
def test_the_alliance_benchmark_runs_on_a_tiny_world():
    from benchmarks.alliance.bench_alliance import run_alliance

    report = run_alliance(scale="tiny", seed=3, days=6, split_day=3)
    methods = {(s.direction, s.method) for s in report.scores}
    assert methods == {
        (d, m)
        for d in ("products for a creator", "creators for a product")
        for m in ("matching", "popularity", "same category")
    }
    assert report.counts.get("creator_videos", 0) > 0
    for s in report.scores:
        assert 0.0 <= s.recall <= 1.0 and 0.0 <= s.ndcg <= 1.0
        assert s.evaluated == (
            report.creators_evaluated if s.direction.startswith("products") else report.products_evaluated
        )
