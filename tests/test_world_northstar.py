"""Issue #20: calibrated reactions, merchants that adapt, and the experiment (on small worlds)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from zhongcao import migrate
from zhongcao.catalog import service as catalog_service
from zhongcao.content import reads as content_reads
from zhongcao.db import Database
from zhongcao.events.store import SegmentEventStore
from zhongcao.feed.policy import PopularFollowedFeed
from zhongcao.world import merchants as merchant_rules
from zhongcao.world.experiment import interval, parse_seeds
from zhongcao.world.generate import Scale, WorldSpec
from zhongcao.world.merchants import MerchantRules
from zhongcao.world.reactions import RANGES, Reactions, with_value
from zhongcao.world.service import build_world, load_latent
from zhongcao.world.simulate import BASELINE_SATISFACTION, DAY_US, Market, _Order


@dataclasses.dataclass
class Built:
    database: Database
    latent: dict[str, np.ndarray]
    start: datetime
    store: SegmentEventStore


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    root = tmp_path_factory.mktemp("northstar")
    database = Database(f"sqlite:///{root}/world.db")
    migrate.upgrade(database.engine)
    store = SegmentEventStore(root / "events")
    summary = build_world(
        database,
        WorldSpec(scale=Scale.tiny, seed=11, days=5),
        fresh=True,
        progress=False,
        world_dir=root / "world",
        store=store,
        simulate_days=False,
    )
    start = datetime.fromisoformat(summary.started_at) if summary.started_at else datetime(2026, 1, 1)
    yield Built(
        database, load_latent(summary.path), start if start.tzinfo else start.replace(tzinfo=UTC), store
    )
    store.close()
    database.dispose()


def _market(built: Built, **kwargs: object) -> Market:
    market = Market(
        built.database,
        built.latent,
        seed=11,
        start=built.start,
        store=built.store,
        feed_policy="gmv",
        search_policy="substring",
        **kwargs,  # type: ignore[arg-type]
    )
    market._catalogue()
    market._shop_signals(market.start_us)
    return market


def _order(market: Market, user: int = 3, shop: int = 1) -> _Order:
    product = int(np.flatnonzero(market.product_shop == shop)[0])
    return _Order(
        user,
        shop,
        product,
        1,
        1,
        10_000,
        market.start_us,
        rng=market._order_rng(user, product, market.start_us),
    )


# --- reactions ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["late", "defect", "refusal", "slow_reply", "very_slow_reply"])
def test_each_bad_experience_lowers_satisfaction_and_can_end_buying_from_that_shop(
    tiny: Built, kind: str
) -> None:
    market = _market(tiny, reactions=Reactions(**{f"avoid_after_{kind.removeprefix('very_')}": 1.0}))
    state = _order(market)
    before = float(market.satisfaction[state.user])
    try:
        market._hurt(state, kind, late_days=2.0)
        assert market.satisfaction[state.user] < before
        users = np.asarray([state.user, state.user, state.user + 1])
        shops = np.asarray([state.shop, state.shop + 1, state.shop])
        # That buyer gave up on that shop only; nobody else did.
        assert market._avoids(users, shops).tolist() == [True, False, False]
    finally:
        market.close()


def test_without_avoidance_the_buyer_keeps_buying_there(tiny: Built) -> None:
    market = _market(tiny, reactions=dataclasses.replace(Reactions(), avoid_after_late=0.0))
    try:
        state = _order(market)
        market._hurt(state, "late", late_days=3.0)
        assert not market._avoids(np.asarray([state.user]), np.asarray([state.shop])).any()
    finally:
        market.close()


def test_a_shop_given_up_on_sells_that_buyer_nothing(tiny: Built) -> None:
    market = _market(tiny, reactions=Reactions(avoid_after_defect=1.0), intensity=50.0)
    try:
        shop = 1
        product = int(np.flatnonzero((market.product_shop == shop) & (market.p_sku >= 0))[0])
        top = market.leaf_top[market.product_leaf[product]]
        keen = int(np.argmax(market.category_interest[:, top]))  # the buyer who likes its category most
        state = _Order(
            keen,
            shop,
            product,
            1,
            1,
            10_000,
            market.start_us,
            rng=market._order_rng(keen, product, market.start_us),
        )
        views = 400
        users = np.full(views, state.user)
        products = np.full(views, state.product)
        ts = np.full(views, market.start_us + 3_600_000_000)

        def placed() -> int:
            market.heap.clear()
            market._consider(
                users, products, ts, channels=np.full(views, "search"), content=np.full(views, -1)
            )
            return sum(1 for entry in market.heap if entry[2] == "place")

        assert placed() > 0  # a keen buyer of a sellable product buys
        market._hurt(state, "defect")
        assert placed() == 0
    finally:
        market.close()


def test_late_deliveries_hurt_more_the_later_they_are_up_to_a_cap() -> None:
    r = Reactions()
    hits = [r.satisfaction_hit("late", d) for d in (0.5, 1.0, 2.0, 10.0, 30.0)]
    assert hits == sorted(hits) and hits[0] > 0
    assert hits[-1] == hits[-2] == r.late_hit_max


def test_the_recovery_paradox_holds_after_a_first_failure_only(tiny: Built) -> None:
    market = _market(tiny)
    try:
        state = _order(market)
        before = float(market.satisfaction[state.user])
        market._hurt(state, "defect")
        market._recover(state)
        assert market.satisfaction[state.user] > before  # first failure, refunded: above where it was
        again = float(market.satisfaction[state.user])
        market._hurt(state, "defect")
        market._recover(state)
        assert market.satisfaction[state.user] < again  # second failure: recovery gives back only part
    finally:
        market.close()


def test_lower_satisfaction_means_less_activity_less_conversion_more_churn() -> None:
    r = Reactions()
    sat = np.asarray([0.2, 0.4, 0.6, 0.75, 0.9])
    for values in (
        r.activity_factor(sat, BASELINE_SATISFACTION),
        r.conversion_factor(sat, BASELINE_SATISFACTION),
    ):
        assert (np.diff(values) > 0).all()
    churn = r.churn_probability(sat)
    assert (np.diff(churn) <= 0).all() and churn[0] > 0 and churn[-1] == 0
    # The calibration: a promoter (0.82) spends about 46% more than a detractor (0.40).
    spend = r.activity_factor(sat, 0.75) * r.conversion_factor(sat, 0.75)
    ratio = (r.activity_factor(np.asarray([0.82]), 0.75) * r.conversion_factor(np.asarray([0.82]), 0.75))[
        0
    ] / (r.activity_factor(np.asarray([0.40]), 0.75) * r.conversion_factor(np.asarray([0.40]), 0.75))[0]
    assert 1.35 < ratio < 1.6 and (np.diff(spend) > 0).all()


def test_every_ranged_reaction_is_a_parameter_and_its_default_lies_in_its_range() -> None:
    base = Reactions()
    for name, (low, high) in RANGES.items():
        assert low < high
        assert low <= getattr(base, name) <= high, name
        assert getattr(with_value(base, name, low), name) == low
    with pytest.raises(ValueError):
        with_value(base, "no_such_thing", 1.0)


# --- merchants ----------------------------------------------------------------------------------


def _decide(rules: MerchantRules, **overrides: np.ndarray) -> merchant_rules.Decisions:
    n = 4
    values = {
        "exposure": np.full(n, 100),
        "previous": np.full(n, 100),
        "score_centi": np.full(n, 450.0),
        "margin": np.full(n, 0.2),
        "open_": np.ones(n, dtype=bool),
        "draws": np.zeros((n, 3)),  # every chance taken
    }
    values.update(overrides)
    return merchant_rules.decide(rules, **values)


def test_a_low_score_shop_losing_traffic_invests_or_exits() -> None:
    falling = {
        "exposure": np.asarray([40, 40, 100, 40]),
        "score_centi": np.asarray([350.0, 350.0, 350.0, 470.0]),
    }
    d = _decide(MerchantRules(), **falling)
    assert d.invest.tolist() == [0, 1] and d.exit.tolist() == [] and d.scale.tolist() == []
    # It cannot afford to invest: it leaves.
    d = _decide(MerchantRules(), margin=np.asarray([0.06, 0.2, 0.2, 0.2]), **falling)
    assert d.invest.tolist() == [1] and d.exit.tolist() == [0]
    # It chooses not to invest (its draw above p_invest): it leaves with p_exit.
    draws = np.zeros((4, 3))
    draws[:, 0] = 0.99
    d = _decide(MerchantRules(), draws=draws, **falling)
    assert d.invest.tolist() == [] and d.exit.tolist() == [0, 1]


def test_a_shop_earning_traffic_scales_and_a_flat_one_does_nothing() -> None:
    d = _decide(
        MerchantRules(),
        exposure=np.asarray([200, 100, 200, 200]),
        score_centi=np.asarray([450.0, 450.0, np.nan, 300.0]),
    )
    assert d.scale.tolist() == [0, 2]  # not the flat one, nor the low-score one
    assert d.invest.tolist() == [] and d.exit.tolist() == []
    # Too little traffic to read a trend: nothing.
    d = _decide(MerchantRules(), exposure=np.full(4, 10), previous=np.full(4, 2))
    assert not (len(d.scale) or len(d.invest) or len(d.exit))


def test_investing_moves_a_shop_toward_a_good_one_and_strain_slows_pickup() -> None:
    hidden = {k: np.asarray([1.0, 10.0, 0.1]) for k in merchant_rules.IMPROVABLE}
    hidden["shop_quality"] = np.asarray([0.9, 0.1, 0.95])
    good = {k: 0.1 for k in merchant_rules.IMPROVABLE}
    merchant_rules.improve(hidden, np.asarray([1]), MerchantRules(improve_step=0.5), good)
    for key in merchant_rules.IMPROVABLE:
        assert hidden[key].tolist() == [1.0, pytest.approx(5.05), 0.1]
    assert hidden["shop_quality"][1] == pytest.approx(0.55)
    merchant_rules.strain(hidden, np.asarray([0]), MerchantRules(scale_strain=0.2))
    assert hidden["shop_pickup_delay_hours"][0] == pytest.approx(1.2)


def test_the_platform_sees_a_shop_exit_and_a_shop_scale(tiny: Built) -> None:
    market = _market(tiny, merchants=MerchantRules(p_invest=0.0, p_exit=1.0, p_scale=1.0, scale_videos=2))
    try:

        def shop_id(s: int) -> int:
            return int(market.shop_ids[s])

        on_sale = len(catalog_service.product_ids_of_shop(market.db, shop_id(0), active_only=True))
        assert on_sale > 0
        market.shop_previous[:] = 100
        market.shop_exposure[:] = 100
        market.shop_exposure[0] = 30  # shop 0 loses traffic with a low score ...
        scores: dict[int, int | None] = {int(s): 450 for s in market.shop_ids}
        market.shop_scores = scores | {shop_id(0): 320}
        market.shop_exposure[1] = 300  # ... shop 1 earns it
        before = len(market.content_ids)
        market._merchants_review(market.start_us + DAY_US)
        assert catalog_service.product_ids_of_shop(market.db, shop_id(0), active_only=True) == []
        assert not market.shop_open[0] and market.counts["merchant_exits"] == 1
        assert len(market.content_ids) == before + 2
        new = content_reads.content_snapshot(market.db)
        by_id = dict(zip(new.content_ids, new.account_ids, strict=True))
        assert {by_id[int(c)] for c in market.content_ids[-2:]} == {int(market.shop_account_ids[1])}
    finally:
        market.db.rollback()
        market.close()


# --- the experiment -----------------------------------------------------------------------------


class _NoisyTwin(PopularFollowedFeed):
    """Ranks exactly as popular_followed does but draws many more random numbers doing it."""

    name = "noisy_twin"

    def recommend(self, user_ids: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
        state = rng.bit_generator.state
        rng.random(10_000)  # burnt
        rng.bit_generator.state = state
        page = super().recommend(user_ids, k, rng)
        rng.random(12_345)  # and more after: another policy's appetite for randomness
        return page


@pytest.mark.slow
def test_policies_differ_only_in_ranking(tmp_path: Path) -> None:
    """Same world, same people, same random streams for everything but the ranking: a policy that
    ranks identically while consuming the feed stream differently gives the same run, and gmv and
    experience (which rank identically before any shop has GMV or a score) give the same first day."""
    from zhongcao.world.compare import run_policy

    spec = WorldSpec(scale=Scale.tiny, seed=5, days=3)
    base = run_policy("popular_followed", spec, tmp_path / "a", merchants=MerchantRules())
    twin = run_policy(_NoisyTwin(), spec, tmp_path / "b", merchants=MerchantRules())
    assert base.world_digest == twin.world_digest
    assert (base.digest, base.orders, base.gmv_fen) == (twin.digest, twin.orders, twin.gmv_fen)
    one_day = WorldSpec(scale=Scale.tiny, seed=5, days=1)
    gmv = run_policy("gmv", one_day, tmp_path / "c")
    experience = run_policy("experience", one_day, tmp_path / "d")
    assert gmv.world_digest == experience.world_digest and gmv.digest == experience.digest


def test_intervals_and_seeds() -> None:
    i = interval([10.0, 11.0, 12.0])
    assert i.mean == 11.0 and 0 < i.low < 11.0 < i.high and i.sign == 1
    assert interval([-1.0, 1.0]).sign == 0 and interval([5.0]).text("{:.0f}") == "5"
    assert parse_seeds("1,2, 4-6,2") == [1, 2, 4, 5, 6]
    for bad in ("a,b", "", "-3"):
        with pytest.raises(ValueError):
            parse_seeds(bad)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--seeds", "one,two"], "seeds must be integers"),
        (["--seeds", "1", "--policy", "gmv,nope"], "unknown policy nope"),
        (["--seeds", "1", "--sensitivity", "--policy", "gmv,trained"], "include both"),
        (["--seeds", "1", "--sensitivity", "--vary", "bogus"], "cannot vary bogus"),
        (["--seeds", "1", "--scale", "huge"], "huge"),
    ],
)
def test_the_experiment_command_answers_bad_input_with_a_sentence(args: list[str], words: str) -> None:
    from zhongcao.cli import app

    result = CliRunner().invoke(app, ["simulate", *args])
    assert result.exit_code == 2, result.output
    assert words in result.output and "Traceback" not in result.output
