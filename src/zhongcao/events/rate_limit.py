"""How many events one signed-in user may post: a per-user budget per minute (issue #14, item 4).

An app batches impressions, plays and clicks; a person scrolling fast produces a few per second. A
client posting far more is a script, and every event it posts is read by the rankers' training, so
it gets 429 with ``Retry-After`` (the end of the current minute) instead of filling the store. The
budget counts events, not requests (a batch of 500 costs 500).

Counters live in the ``limits`` library's storage, as the login throttle's do: Redis when
``ZHONGCAO_REDIS_URL`` is set (one budget across every API worker), else the process's memory. If
Redis cannot be reached, events are accepted and an error is logged: analytics must not fail a page.
"""

from __future__ import annotations

import logging
import math
import time

from limits import RateLimitItemPerMinute
from limits.errors import StorageError
from limits.storage import Storage
from limits.strategies import FixedWindowRateLimiter

from zhongcao.config import Settings
from zhongcao.counters import counter_storage
from zhongcao.errors import TooManyRequests

log = logging.getLogger("zhongcao.events")


class EventBudget:
    def __init__(self, storage: Storage, per_minute: int) -> None:
        self.limiter = FixedWindowRateLimiter(storage)
        self.item = RateLimitItemPerMinute(per_minute)

    @classmethod
    def from_settings(cls, settings: Settings) -> EventBudget:
        return cls(counter_storage(settings, "events"), settings.events_per_user_per_minute)

    def spend(self, user_id: int, count: int) -> None:
        """Take ``count`` events from the user's budget, or raise 429 saying when to send again."""
        try:
            if self.limiter.hit(self.item, "user", str(user_id), cost=count):
                return
            reset = self.limiter.get_window_stats(self.item, "user", str(user_id)).reset_time
        except StorageError:
            log.exception("event budget storage unreachable: accepting events unmetered")
            return
        wait = max(1, math.ceil(reset - time.time()))
        raise TooManyRequests(
            f"too many events: at most {self.item.amount} a minute per user; send again in {wait} s",
            retry_after=wait,
            code="too_many_events",
            field="events",
        )
