"""Login throttling: per account and per client address, with exponential backoff.

Every wrong password counts against two keys, the account (its normalised email, hashed) and the
client address (an IPv6 client by its /64, which one client usually holds whole). The first few
failures of a key are free; each further one locks that key for a backoff that doubles from
``login_backoff_base_seconds`` up to ``login_backoff_cap_seconds``. While either key is locked a
login is refused with 429 and ``Retry-After`` *before* any password hash is computed, so a flood of
guesses costs the server a counter lookup, not an argon2 hash each. Refused attempts do not extend the
lock: an attacker cannot push the real user's wait past the cap. A successful login clears the
account's count (not the address's: one good account must not launder guesses at others).

Counts live in the ``limits`` library's storage: Redis when ``ZHONGCAO_REDIS_URL`` is set (shared by
every API worker), else the process's memory (right for one server process). A failure's count is
kept for a day after the key's first failure.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time

from limits.errors import StorageError
from limits.storage import Storage

from zhongcao.config import Settings
from zhongcao.counters import counter_storage
from zhongcao.errors import TooManyRequests

log = logging.getLogger("zhongcao.users.throttle")

# How long a key's failures are remembered after its first one (limits' counters keep the expiry set
# by their first increment: a fixed window).
FAILURE_WINDOW_SECONDS = 24 * 3600
# A shift this large already exceeds any cap the settings allow (86,400 s < 2**17).
_MAX_DOUBLINGS = 30


def account_key(email: str) -> str:
    # Hashed so that Redis holds no email addresses.
    return "acct:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


def address_key(address: str | None) -> str:
    if not address:
        return "addr:unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "addr:" + address[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return "addr:" + str(ip.ipv4_mapped)
        return "addr:" + str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return "addr:" + str(ip)


class LoginThrottle:
    def __init__(
        self,
        storage: Storage,
        *,
        free_account: int = 5,
        free_address: int = 20,
        base_seconds: int = 1,
        cap_seconds: int = 900,
    ) -> None:
        self.storage = storage
        self.free = {"acct": free_account, "addr": free_address}
        self.base_seconds = base_seconds
        self.cap_seconds = cap_seconds

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginThrottle:
        return cls(
            counter_storage(settings, "login"),
            free_account=settings.login_free_failures_account,
            free_address=settings.login_free_failures_address,
            base_seconds=settings.login_backoff_base_seconds,
            cap_seconds=settings.login_backoff_cap_seconds,
        )

    def backoff(self, failures: int, free: int) -> int:
        """Seconds a key is locked after its ``failures``-th failure (0 while still free)."""
        if failures <= free:
            return 0
        return min(self.cap_seconds, self.base_seconds << min(failures - free - 1, _MAX_DOUBLINGS))

    def check(self, email: str, address: str | None) -> None:
        """Refuse with 429 while the account or the address is locked."""
        wait = 0.0
        try:
            for key in (account_key(email), address_key(address)):
                if self.storage.get("lock:" + key) > 0:
                    wait = max(wait, self.storage.get_expiry("lock:" + key) - time.time())
        except StorageError:
            # Fail open: a Redis outage must not lock every user out; it is logged loudly instead.
            log.error("login throttle storage unavailable; login attempts are not being throttled")
            return
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            when = f"{seconds} seconds" if seconds < 120 else f"{-(-seconds // 60)} minutes"
            raise TooManyRequests(
                f"too many failed sign-in attempts for this account or from this address: try again in {when}",
                code="too_many_login_attempts",
                retry_after=seconds,
            )

    def failed(self, email: str, address: str | None) -> None:
        try:
            for key in (account_key(email), address_key(address)):
                failures = self.storage.incr("fail:" + key, FAILURE_WINDOW_SECONDS)
                lock = self.backoff(failures, self.free[key.partition(":")[0]])
                if lock:
                    self.storage.clear("lock:" + key)
                    self.storage.incr("lock:" + key, lock)
        except StorageError:
            log.error("login throttle storage unavailable; a failed login was not counted")

    def succeeded(self, email: str) -> None:
        key = account_key(email)
        try:
            self.storage.clear("fail:" + key)
            self.storage.clear("lock:" + key)
        except StorageError:
            log.error("login throttle storage unavailable; an account's failure count was not reset")
