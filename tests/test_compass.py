"""Compass core data and sales sources: by hand, isolated per shop, and DuckDB == Spark (every query)."""

from __future__ import annotations

from datetime import UTC, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from tests.commerce_helpers import paid_order
from tests.compass_helpers import refresh_compass
from tests.factories import auth, make_product, make_shop, make_user
from zhongcao import clock
from zhongcao.compass import queries
from zhongcao.compass.engine import DuckDBEngine
from zhongcao.compass.snapshot import write_snapshot
from zhongcao.events import service as events_service
from zhongcao.users.models import Role


def test_core_data_and_sources_by_hand_for_the_callers_shop_only(client, db) -> None:
    mine, theirs = make_shop(db), make_shop(db)
    p1 = make_product(db, mine.shop, price_fen=9_900, stock=50)
    p2 = make_product(db, mine.shop, price_fen=5_000, stock=50)
    p3 = make_product(db, theirs.shop, price_fen=77_700, stock=50)
    buyers = [make_user(db) for _ in range(3)]
    paid_order(db, buyer=buyers[0], shop=mine, product=p1)
    via_creator = paid_order(
        db, buyer=buyers[1], shop=mine, product=p2, creator=True
    )  # carried by a creator: A
    video = via_creator.content.id
    paid_order(db, buyer=buyers[2], shop=theirs, product=p3)
    now_us = int(clock.now().timestamp() * 1_000_000)
    # The app's own event store (PostgreSQL's table on that backend), emptied of earlier tests' events.
    store = events_service.get_store(client.app.state.settings, client.app.state.database)
    store.clear()
    # Three people viewed my products (one of them twice), one viewed theirs.
    events_service.ingest(
        {
            "ts": np.full(5, now_us, dtype=np.int64),
            "type": np.full(5, "product_view", dtype=object),
            "user_id": np.asarray([buyers[0].id, buyers[1].id, buyers[2].id, buyers[0].id, buyers[2].id]),
            "product_id": np.asarray([p1.id, p2.id, p1.id, p2.id, p3.id]),
        },
        store,
    )
    # The creator's video: shown twice, played once for 30 s, its anchor clicked once.
    events_service.ingest(
        {
            "ts": np.full(4, now_us, dtype=np.int64),
            "type": np.asarray(["impression", "impression", "play", "anchor_click"], dtype=object),
            "user_id": np.asarray([buyers[1].id, buyers[2].id, buyers[1].id, buyers[1].id]),
            "content_id": np.asarray([video] * 4),
            "product_id": pa.array([0, 0, 0, p2.id], mask=np.asarray([True, True, True, False])),
            "watch_ms": pa.array([0, 0, 30_000, 0], mask=np.asarray([True, True, False, True])),
        },
        store,
    )
    refresh_compass(client, db)
    core = client.get("/api/merchant/compass/core?days=7", headers=auth(db, mine.owner))
    assert core.status_code == 200, core.text
    body = core.json()
    current = body["current"]
    assert (current["gmv_fen"], current["orders"], current["buyers"], current["visitors"]) == (
        14_900,
        2,
        2,
        3,
    )
    assert current["aov_fen"] == 7_450 and current["conversion"] == pytest.approx(0.6667)
    assert body["previous"]["gmv_fen"] == 0 and body["change"]["gmv_fen"] is None
    assert len(body["daily"]) == 7 and body["daily"][-1]["gmv_fen"] == 14_900
    assert body["daily"][-1]["day"] == clock.now().astimezone(UTC).date().isoformat()
    sources = client.get("/api/merchant/compass/sources?days=7", headers=auth(db, mine.owner)).json()
    assert {r["key"]: r["gmv_fen"] for r in sources["by_carrier"]} == {"field": 9_900, "alliance": 5_000}
    assert {r["key"] for r in sources["by_channel"]} == {"other", "short_video"}
    shown = client.get("/api/merchant/compass/content?days=7", headers=auth(db, mine.owner)).json()["content"]
    assert shown == [
        {
            "content_id": video,
            "impressions": 2,
            "plays": 1,
            "anchor_clicks": 1,
            "orders": 1,
            "gmv_fen": 5_000,
            "gpm_fen": 2_500_000,  # 5,000 fen over 2 impressions, per 1,000
            "watch_ms": 30_000,
        }
    ]
    made = client.get("/api/merchant/compass/creators?days=7", headers=auth(db, mine.owner)).json()[
        "creators"
    ]
    assert len(made) == 1 and made[0]["gmv_fen"] == 5_000 and made[0]["carrier"] == "alliance"
    assert made[0]["commission_fen"] == 500  # the helper's plan pays 10%
    people = client.get("/api/merchant/compass/audience?days=7", headers=auth(db, mine.owner)).json()
    assert (people["buyers"], people["new_buyers"], people["returning_buyers"]) == (2, 2, 0)
    assert people["repurchase_rate"] == 0.0 and people["segments"]["new"] == 2
    ops = auth(db, make_user(db, Role.operator))
    assert client.post("/api/operator/experience/scores/compute", headers=ops).status_code == 200
    points = client.get("/api/merchant/compass/service", headers=auth(db, mine.owner)).json()["points"]
    assert len(points) == 1 and points[0]["values"] == {}  # too few orders: no indicators yet
    # The other shop's owner sees only theirs; a shopper sees nothing.
    other = client.get("/api/merchant/compass/core?days=7", headers=auth(db, theirs.owner)).json()
    assert other["current"]["gmv_fen"] == 77_700 and other["current"]["visitors"] == 1
    assert client.get("/api/merchant/compass/core", headers=auth(db, buyers[0])).status_code == 403
    bad = client.get("/api/merchant/compass/core?days=0", headers=auth(db, mine.owner))
    assert bad.status_code == 422 and bad.json()["error"]["details"]["field"] == "days"


@pytest.mark.spark
def test_the_same_sql_gives_the_same_answers_on_duckdb_and_spark(tmp_path: Path) -> None:
    """On two weeks of the small simulated world: every Compass query, the two busiest shops, equal rows."""
    # The engines read the snapshot, not the database: one (embedded) database proves it.
    from zhongcao import migrate
    from zhongcao.compass.engine import SparkEngine
    from zhongcao.db import Database
    from zhongcao.events.store import SegmentEventStore
    from zhongcao.world.generate import Scale, WorldSpec
    from zhongcao.world.service import build_world

    database = Database(f"sqlite:///{tmp_path}/world.db")
    migrate.upgrade(database.engine)
    store = SegmentEventStore(tmp_path / "events")
    summary = build_world(
        database,
        WorldSpec(scale=Scale.small, seed=4, days=14),
        progress=False,
        world_dir=tmp_path / "w",
        store=store,
    )
    assert summary.simulation["counts"]["orders_paid"] > 100
    with database.session(read_only=True) as db:
        meta = write_snapshot(db, store, tmp_path / "snapshot")
    assert meta["sales_rows"] > 100 and meta["visitor_rows"] > 100
    duck = DuckDBEngine(tmp_path / "snapshot")
    busiest = duck.rows("SELECT shop_id FROM sales GROUP BY shop_id ORDER BY COUNT(*) DESC, shop_id LIMIT 2")
    days = duck.rows("SELECT MIN(paid_day) AS first, MAX(paid_day) AS last FROM sales")[0]
    from datetime import date

    first, last = date.fromisoformat(days["first"]), date.fromisoformat(days["last"])
    spark = SparkEngine(tmp_path / "snapshot")
    try:
        for row in busiest:
            shop = int(row["shop_id"])
            for sql in (
                queries.daily(shop, first, last),
                queries.totals(shop, first, last),
                queries.by_dimension(shop, first, last, "channel"),
                queries.by_dimension(shop, first, last, "carrier"),
                queries.creators(shop, first, last),
                queries.gmv_by_field(first, last),
                queries.content(shop, first, last),
                queries.buyers(shop, first + timedelta(days=7), last),
                queries.products(shop, first, last),
                queries.shop_queries(shop, first, last),
                queries.shop_queries(shop, first, last, limit=5),
                queries.missed_queries(shop, first, last, 10, 50),
                queries.missed_queries(shop, first, last, 100, 5),
            ):
                a = [{k: (int(v) if isinstance(v, int) else v) for k, v in r.items()} for r in duck.rows(sql)]
                b = [
                    {k: (int(v) if isinstance(v, int) else v) for k, v in r.items()} for r in spark.rows(sql)
                ]
                assert a == b, sql
                assert a  # something to compare
    finally:
        spark.stop()
        database.dispose()
