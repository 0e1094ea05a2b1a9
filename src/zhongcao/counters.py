"""Where rate-limit counters live (the ``limits`` library's storage), for every limiter of the platform:
Redis when ``ZHONGCAO_REDIS_URL`` is set, so every API worker counts against the same budget, else the
process's memory (right for one server process). Each limiter has its own key prefix."""

from __future__ import annotations

from limits.storage import MemoryStorage, RedisStorage, Storage

from zhongcao.config import Settings


def counter_storage(settings: Settings, name: str) -> Storage:
    """Storage for the limiter ``name`` (``login``, ``events``). Redis errors surface as
    ``limits.errors.StorageError`` (``wrap_exceptions``), which each limiter decides how to survive."""
    if settings.redis_url:
        return RedisStorage(
            settings.redis_url,
            key_prefix=f"{settings.redis_prefix}:{name}",
            wrap_exceptions=True,
            socket_timeout=2,
            socket_connect_timeout=2,
        )
    return MemoryStorage()
