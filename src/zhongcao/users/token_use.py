"""When each token was last used, recorded off the request path where Redis is there.

A token's ``last_used_at`` (shown on the API tokens page) changes at most once a minute. Written by the
request, it costs a write transaction of its own (an UPDATE and a commit) on a token's first write
request of the minute: at a flash sale's peak, where every buyer presses once, that is one more commit
per buyer than the sale itself needs. With Redis configured the request records the time in one hash
(``<prefix>:token_used``, token id -> epoch seconds; one HSET, no database write) and the
``token_last_used`` job moves the hash into ``auth_tokens`` every minute in one statement. Without
Redis (the embedded default: one API process) the request writes it as before.

Nothing depends on the time being exact: a recorded use that Redis loses (it keeps nothing on disk)
only leaves the token's last use a minute older.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

import redis
from sqlalchemy import bindparam, or_, update
from sqlalchemy.orm import Session

from zhongcao.config import Settings
from zhongcao.users.models import AuthToken

log = logging.getLogger("zhongcao.users")

_clients: dict[str, redis.Redis] = {}
_lock = threading.Lock()


def _key(settings: Settings) -> str:
    return f"{settings.redis_prefix}:token_used"


def _client(url: str) -> redis.Redis:
    with _lock:
        client = _clients.get(url)
        if client is None:
            client = _clients[url] = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        return client


def recorder(settings: Settings) -> TokenUseRecorder | None:
    """The process's recorder when Redis is configured, else None (the request writes the time)."""
    return TokenUseRecorder(settings) if settings.redis_url else None


class TokenUseRecorder:
    def __init__(self, settings: Settings) -> None:
        assert settings.redis_url
        self.client = _client(settings.redis_url)
        self.key = _key(settings)

    def __call__(self, token_id: int, at: datetime) -> bool:
        """Record the use; False when Redis cannot be reached (the caller then writes it itself)."""
        try:
            self.client.hset(self.key, str(token_id), int(at.timestamp()))
        except redis.RedisError:
            log.warning("token use not recorded in Redis: written to the database instead")
            return False
        return True


# Move the recorded uses into auth_tokens: one UPDATE per batch, never moving a time backwards.
_SET_LAST_USED = (
    update(AuthToken)
    .where(AuthToken.id == bindparam("b_id"))
    .where(or_(AuthToken.last_used_at.is_(None), AuthToken.last_used_at < bindparam("b_at")))
    .values(last_used_at=bindparam("b_at"))
)


def flush(db: Session, settings: Settings) -> int:
    """Write the uses recorded since the last flush into ``auth_tokens``; returns how many tokens.
    The hash is renamed away first (atomic), so uses recorded meanwhile wait for the next flush."""
    if not settings.redis_url:
        return 0
    client = _client(settings.redis_url)
    key = _key(settings)
    moving = f"{key}:flushing"
    # A flush that died after the rename left its batch under ``moving``: merge it in first.
    if not client.exists(moving):
        try:
            client.rename(key, moving)
        except redis.ResponseError:  # no such key: nothing was used since the last flush
            return 0
    raw = client.hgetall(moving)
    rows = [
        {"b_id": int(token_id), "b_at": datetime.fromtimestamp(int(at), tz=UTC)}
        for token_id, at in raw.items()
        if token_id.isdigit() and at.isdigit()
    ]
    if rows:
        db.connection().execute(_SET_LAST_USED, rows)
        db.commit()
    client.delete(moving)
    return len(rows)
