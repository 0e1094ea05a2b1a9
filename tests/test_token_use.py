"""A token's last use: written by the request on the embedded default; with Redis, recorded there by
the request (no write transaction of its own) and moved into ``auth_tokens`` by the
``token_last_used`` job, never moving a time backwards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import redis
from sqlalchemy import select

from tests.factories import auth, make_user
from tests.realtime_helpers import REDIS_URL, redis_prefix  # noqa: F401 (fixture)
from zhongcao import clock
from zhongcao.api import create_app
from zhongcao.config import Settings
from zhongcao.jobs import (
    definitions,  # noqa: F401 (registers the jobs)
    registry,
)
from zhongcao.users import token_use
from zhongcao.users.models import AuthToken

NOTIFICATION_READ = "/api/me/notifications/read-all"


@pytest.fixture
def redis_settings(settings: Settings, redis_prefix: str) -> Settings:  # noqa: F811
    return settings.model_copy(update={"redis_url": REDIS_URL, "redis_prefix": redis_prefix})


def _last_used(db, user_id: int):  # type: ignore[no-untyped-def]
    db.expire_all()
    return db.scalar(select(AuthToken.last_used_at).where(AuthToken.user_id == user_id))


def test_without_redis_a_write_request_writes_the_use_and_a_read_does_not(client, db) -> None:  # type: ignore[no-untyped-def]
    user = make_user(db)
    headers = auth(db, user)
    assert client.get("/api/me", headers=headers).status_code == 200
    assert _last_used(db, user.id) is None  # a read runs in a read-only session
    assert client.post(NOTIFICATION_READ, headers=headers).status_code < 300
    assert _last_used(db, user.id) is not None


def test_with_redis_the_use_waits_in_redis_for_the_job(db, database, redis_settings) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import SessionAwareClient

    app = create_app(settings=redis_settings, database=database)
    user = make_user(db)
    headers = auth(db, user)
    token_id = db.scalar(select(AuthToken.id).where(AuthToken.user_id == user.id))
    with SessionAwareClient(app, db) as client:
        assert client.post(NOTIFICATION_READ, headers=headers).status_code < 300
    assert _last_used(db, user.id) is None  # recorded in Redis, not written by the request
    client_redis = redis.Redis.from_url(REDIS_URL)
    key = f"{redis_settings.redis_prefix}:token_used"
    assert client_redis.hexists(key, str(token_id))

    assert "token_last_used" in registry.registered()
    assert token_use.flush(db, redis_settings) == 1
    moved = _last_used(db, user.id)
    assert moved is not None and abs(moved.replace(tzinfo=moved.tzinfo or UTC) - clock.now()) < timedelta(
        minutes=1
    )
    assert not client_redis.exists(key)
    assert token_use.flush(db, redis_settings) == 0  # nothing new

    # An older use recorded late (a slow worker) does not move the time backwards.
    recorder = token_use.recorder(redis_settings)
    assert recorder is not None and recorder(token_id, datetime(2020, 1, 1, tzinfo=UTC))
    assert token_use.flush(db, redis_settings) == 1
    assert _last_used(db, user.id) == moved
