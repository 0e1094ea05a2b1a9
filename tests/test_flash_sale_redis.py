"""The flash-sale path with Redis admission (the Lua script), on SQLite and PostgreSQL: join, write,
sold out, a Redis restart (the sale's keys flushed) answered 503 until the job rebuilds the counters
from PostgreSQL, and the rebuilt counters keep every limit."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.factories import auth, make_user
from tests.flashsale_helpers import address, make_sale, write_all
from tests.realtime_helpers import REDIS_URL, redis_prefix  # noqa: F401 (fixture)
from zhongcao.api import create_app
from zhongcao.config import Settings
from zhongcao.flashsales import admission as adm
from zhongcao.flashsales import service


@pytest.fixture
def redis_settings(settings: Settings, redis_prefix: str) -> Settings:  # noqa: F811
    return settings.model_copy(update={"redis_url": REDIS_URL, "redis_prefix": redis_prefix})


def test_the_redis_path_survives_a_restart(db, database, redis_settings) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import SessionAwareClient

    app = create_app(settings=redis_settings, database=database)
    world = make_sale(db, redis_settings, quantity=2, stock=5)
    counters = adm.for_settings(redis_settings)
    assert counters.kind == "redis"
    buyers = [make_user(db) for _ in range(3)]
    with SessionAwareClient(app, db) as client:

        def join(i: int, key: str = ""):  # type: ignore[no-untyped-def]
            return client.post(
                f"/api/flash-sales/{world.sale.id}/join",
                json={"shipping_address": address(i)},
                headers={**auth(db, buyers[i]), **({"Idempotency-Key": key} if key else {})},
            )

        first = join(0, "key-0")
        assert first.status_code == 201
        write_all(db, redis_settings)
        counters.forget(service.sale_key(world.sale))  # Redis restarted: it kept nothing
        waiting = join(1)
        assert waiting.status_code == 503 and waiting.json()["error"]["code"] == "sale_rebuilding"
        assert service.sync(db, redis_settings)["rebuilt"] == 1
        # A retry of the first request (its answer was lost with the worker) still gets its ticket:
        # the rebuild gave the counters the tickets' request keys back.
        again = join(0, "key-0")
        assert again.status_code == 201 and again.json()["duplicate"] is True
        assert again.json()["ticket"]["ticket"] == first.json()["ticket"]["ticket"]
        assert join(0).json()["error"]["code"] == "limit_reached"
        # Counters of another generation than PostgreSQL's (a rebuild came in between): a request they
        # admitted is not recorded, and the next sync loads PostgreSQL's generation.
        db.execute(
            text("UPDATE flash_sales SET counters_generation = counters_generation + 1 WHERE id = :s"),
            {"s": world.sale.id},
        )
        db.commit()
        stale = join(1)
        assert stale.status_code == 503 and stale.json()["error"]["code"] == "sale_rebuilding"
        assert (
            db.scalar(text("SELECT count(*) FROM flash_admissions WHERE user_id = :u"), {"u": buyers[1].id})
            == 0
        )
        assert service.sync(db, redis_settings)["rebuilt"] == 1
        assert join(1).status_code == 201
        assert join(2).json()["error"]["code"] == "sold_out"
        assert write_all(db, redis_settings)["written"] == 1
        state = client.get(f"/api/flash-sales/{world.sale.id}").json()["sale"]
        assert state["phase"] == "sold_out" and state["units_taken"] == 2
