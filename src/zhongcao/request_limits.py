"""Rate limits on the buying endpoints (flash-sale joins, checkouts): per account and per client
address, a sliding budget a minute each (issue #18, item 2).

A person taps "buy" a few times; a script fires hundreds of requests a second. Past either budget the
request is refused with 429 ``too_many_requests`` and ``Retry-After`` before any work is done. The
counters live in the ``limits`` library's storage like the login throttle's: Redis when
``ZHONGCAO_REDIS_URL`` is set (one budget across every API worker), else this process's memory. If
Redis cannot be reached the request goes on unmetered (an error is logged): the sale's own
admission still holds every per-buyer limit.

Core infrastructure: imports no domain.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from limits import RateLimitItemPerMinute
from limits.errors import StorageError
from limits.storage import Storage
from limits.strategies import MovingWindowRateLimiter

from zhongcao.config import Settings
from zhongcao.counters import counter_storage
from zhongcao.errors import TooManyRequests

log = logging.getLogger("zhongcao.request_limits")


class BuyLimits:
    def __init__(self, storage: Storage, per_account: int, per_address: int) -> None:
        self.limiter = MovingWindowRateLimiter(storage)
        self.account = RateLimitItemPerMinute(per_account)
        self.address = RateLimitItemPerMinute(per_address)

    @classmethod
    def from_settings(cls, settings: Settings) -> BuyLimits:
        return cls(
            counter_storage(settings, "buy"),
            settings.buy_requests_per_account_per_minute,
            settings.buy_requests_per_address_per_minute,
        )

    def spend(self, scope: str, user_id: int, address: str | None) -> None:
        """Count one request of ``scope`` (``flash``, ``checkout``), or raise 429."""
        checks = [(self.account, "acct", str(user_id)), (self.address, "addr", address or "unknown")]
        try:
            for item, kind, ident in checks:
                if not self.limiter.hit(item, scope, kind, ident):
                    reset = self.limiter.get_window_stats(item, scope, kind, ident).reset_time
                    wait = max(1, math.ceil(reset - time.time()))
                    raise TooManyRequests(
                        f"too many requests: at most {item.amount} a minute per "
                        f"{'account' if kind == 'acct' else 'client address'}; try again in {wait} s",
                        retry_after=wait,
                        details={"limit": "account" if kind == "acct" else "address"},
                    )
        except StorageError:
            log.exception("buy rate-limit storage unreachable: request not metered")


def buy_limits_for(app: Any) -> BuyLimits:
    """The app's buy-endpoint rate limits (flash-sale joins and checkouts, API and pages), made on
    first use from the app's settings and shared by every request of the process."""
    limits: BuyLimits | None = getattr(app.state, "buy_limits", None)
    if limits is None:
        limits = app.state.buy_limits = BuyLimits.from_settings(app.state.settings)
    return limits
