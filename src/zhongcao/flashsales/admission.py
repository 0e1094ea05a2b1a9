"""Who gets a flash-sale unit, decided at once by one atomic step (docs/flash-sales.md).

Two implementations with one contract (tests/test_flash_sale_admission.py runs the same cases on both):

* :class:`RedisAdmission`: one Lua script per request, so every API worker shares the counters and a
  decision is atomic without touching PostgreSQL's hot row (the sale's counter).
* :class:`MemoryAdmission`: the same rules under a lock in this process, for the embedded SQLite
  default (one API process, no Redis).

A sale's counters: ``quantity``, ``sold`` (units held by tickets), per-buyer and per-address ticket
counts, the request keys already answered (a retried request gets its first answer), and a
*generation*. The counters are only a cache of PostgreSQL: when they are missing (Redis restarted; it
keeps nothing on disk) admission answers ``rebuilding`` until :func:`zhongcao.flashsales.service.sync`
has rebuilt them from the admissions table, with a new generation.

A ticket counts towards the buyer's (and the address's) limit for good, even if it expires unpaid:
the limit is how many tickets a buyer can ever hold, so the ticket's number ``seq`` runs from 1 to the
limit and PostgreSQL's UNIQUE (sale, user, seq) holds the limit even if the counters were wrong.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import redis

from zhongcao import clock
from zhongcao.config import Settings

# Outcomes of :meth:`Admission.admit`.
ADMITTED = "admitted"
DUPLICATE = "duplicate"  # this request key was answered already: the same ticket
REBUILDING = "rebuilding"  # the counters are missing: try again in a moment
CLOSED = "closed"  # not open (ended, or waiting for the host's pin)
NOT_STARTED = "not_started"
LIMIT = "limit"  # the buyer holds as many tickets as the sale allows
ADDRESS_LIMIT = "address_limit"
SOLD_OUT = "sold_out"
# Asked without an address (``address_key=""``) and a unit is there to give: ask again with it. A sale's
# peak is refusals (sold out, limit reached), which then cost no read of the buyer's saved addresses.
NEED_ADDRESS = "need_address"

# A ticket whose buyer's request died before PostgreSQL recorded it is given back after this long.
PENDING_GRACE_S = 15.0
REQUEST_KEYS_TTL_S = 24 * 3600


@dataclass(frozen=True)
class Counters:
    """What the counters are rebuilt from (PostgreSQL's admissions)."""

    quantity: int
    sold: int
    limit: int
    starts_at_ms: int
    ends_at_ms: int  # 0: no end
    open: bool
    seq_by_user: dict[int, int] = field(default_factory=dict)  # tickets ever issued per buyer
    by_address: dict[str, int] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)  # request key -> the ticket's seq


@dataclass(frozen=True)
class Decision:
    outcome: str
    seq: int = 0  # the ticket's number for this buyer (admitted / duplicate)
    remaining: int = 0
    generation: int = 0
    starts_at_ms: int = 0


@dataclass(frozen=True)
class Snapshot:
    quantity: int
    sold: int
    generation: int
    open: bool

    @property
    def remaining(self) -> int:
        return max(0, self.quantity - self.sold)


class Admission(ABC):
    kind: str

    @abstractmethod
    def admit(self, sale: str, user_id: int, address_key: str, request_key: str, now_ms: int) -> Decision:
        """Admit the buyer to one unit, or say why not (atomic). ``address_key=""``: not known yet;
        answered ``need_address`` when it would be needed (a unit is there to give)."""

    @abstractmethod
    def recorded(self, sale: str, user_id: int, seq: int) -> None:
        """PostgreSQL has the ticket: it is no longer pending."""

    @abstractmethod
    def give_back(self, sale: str, token: str) -> bool:
        """Return one unit to the sale, once per ``token`` (an admission id, or a pending ticket);
        False when the counters are missing (a rebuild counts from PostgreSQL) or it was given back."""

    @abstractmethod
    def load(self, sale: str, counters: Counters, generation: int | None = None) -> int:
        """Replace the sale's counters, as ``generation`` (None: the next of its own); returns it.
        (``service.rebuild`` gives PostgreSQL's, and loads under its lock: one rebuild at a time.)"""

    @abstractmethod
    def update(self, sale: str, *, open: bool, starts_at_ms: int, ends_at_ms: int) -> bool:
        """Change when the sale is open (started by a pin, ended); False when the counters are missing."""

    @abstractmethod
    def snapshot(self, sale: str) -> Snapshot | None:
        """The counters now, or None when missing."""

    @abstractmethod
    def stale_pending(self, sale: str, older_than_ms: int) -> list[tuple[int, int]]:
        """(user, seq) of tickets issued before ``older_than_ms`` and never recorded in PostgreSQL."""

    @abstractmethod
    def forget(self, sale: str) -> None:
        """Drop the sale's counters (the sale ended; tests emulate a Redis restart with it)."""

    def close(self) -> None:  # noqa: B027 (most implementations hold nothing to release)
        """Release connections."""


# --- Redis ---------------------------------------------------------------------------------------

# KEYS: meta, users, addresses, requests, pending. ARGV: user, address key, request key, now (ms),
# request-key TTL (s). The meta hash holds quantity, sold, limit, starts_at, ends_at, open, gen.
_ADMIT = """
local meta, users, addrs, reqs, pending = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local user, addr, rkey, now = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
if redis.call('EXISTS', meta) == 0 then return {'rebuilding', 0, 0, 0, 0} end
local m = redis.call('HMGET', meta, 'quantity', 'sold', 'limit', 'starts_at', 'ends_at', 'open', 'gen')
local quantity, sold, limit = tonumber(m[1]), tonumber(m[2]), tonumber(m[3])
local starts, ends, gen = tonumber(m[4]), tonumber(m[5]), tonumber(m[7])
if rkey ~= '' then
  local seen = redis.call('HGET', reqs, rkey)
  if seen then return {'duplicate', tonumber(seen), quantity - sold, gen, starts} end
end
if m[6] ~= '1' or (ends > 0 and now >= ends) then return {'closed', 0, quantity - sold, gen, starts} end
if now < starts then return {'not_started', 0, quantity - sold, gen, starts} end
local n = tonumber(redis.call('HGET', users, user) or '0')
if n >= limit then return {'limit', n, quantity - sold, gen, starts} end
if addr == '' then
  if sold >= quantity then return {'sold_out', 0, 0, gen, starts} end
  return {'need_address', 0, quantity - sold, gen, starts}
end
if tonumber(redis.call('HGET', addrs, addr) or '0') >= limit then
  return {'address_limit', 0, quantity - sold, gen, starts}
end
if sold >= quantity then return {'sold_out', 0, 0, gen, starts} end
redis.call('HINCRBY', meta, 'sold', 1)
redis.call('HSET', users, user, n + 1)
redis.call('HINCRBY', addrs, addr, 1)
if rkey ~= '' then
  redis.call('HSET', reqs, rkey, n + 1)
  redis.call('EXPIRE', reqs, tonumber(ARGV[5]))
end
redis.call('ZADD', pending, now, user .. ':' .. (n + 1))
return {'admitted', n + 1, quantity - sold - 1, gen, starts}
"""

# KEYS: meta, given-back set, pending. ARGV: token. A pending ticket's token is "user:seq" (it leaves
# the pending set); an admission's is "a<id>" (remembered in the set so it is given back once).
_GIVE_BACK = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local token = ARGV[1]
if string.sub(token, 1, 1) == 'a' then
  if redis.call('SADD', KEYS[2], token) == 0 then return 0 end
else
  if redis.call('ZREM', KEYS[3], token) == 0 then return 0 end
end
if tonumber(redis.call('HGET', KEYS[1], 'sold')) > 0 then redis.call('HINCRBY', KEYS[1], 'sold', -1) end
return 1
"""

# KEYS: meta. ARGV: open, starts_at, ends_at.
_UPDATE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'open', ARGV[1], 'starts_at', ARGV[2], 'ends_at', ARGV[3])
return 1
"""


class RedisAdmission(Admission):
    kind = "redis"

    def __init__(self, url: str, prefix: str) -> None:
        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.prefix = prefix
        self._admit = self.client.register_script(_ADMIT)
        self._give_back = self.client.register_script(_GIVE_BACK)
        self._update = self.client.register_script(_UPDATE)

    def _keys(self, sale: str) -> dict[str, str]:
        base = f"{self.prefix}:flash:{{{sale}}}"  # one hash slot per sale (Redis Cluster)
        return {
            name: f"{base}:{name}"
            for name in ("meta", "users", "addresses", "requests", "pending", "given_back", "generation")
        }

    def admit(self, sale: str, user_id: int, address_key: str, request_key: str, now_ms: int) -> Decision:
        k = self._keys(sale)
        outcome, seq, remaining, generation, starts = self._admit(
            keys=[k["meta"], k["users"], k["addresses"], k["requests"], k["pending"]],
            args=[user_id, address_key, request_key, now_ms, REQUEST_KEYS_TTL_S],
        )
        return Decision(
            outcome=outcome.decode() if isinstance(outcome, bytes) else str(outcome),
            seq=int(seq or 0),
            remaining=max(0, int(remaining or 0)),
            generation=int(generation or 0),
            starts_at_ms=int(starts or 0),
        )

    def recorded(self, sale: str, user_id: int, seq: int) -> None:
        self.client.zrem(self._keys(sale)["pending"], f"{user_id}:{seq}")

    def give_back(self, sale: str, token: str) -> bool:
        k = self._keys(sale)
        return bool(self._give_back(keys=[k["meta"], k["given_back"], k["pending"]], args=[token]))

    def load(self, sale: str, counters: Counters, generation: int | None = None) -> int:
        k = self._keys(sale)
        if generation is None:
            # The generation outlives the counters' keys (a restart loses it too: then it starts again
            # from the time, which only has to differ from the last one's).
            generation = int(self.client.incr(k["generation"]))
            if generation == 1:
                generation = int(time.time())
                self.client.set(k["generation"], generation)
        pipe = self.client.pipeline(transaction=True)
        pipe.delete(k["meta"], k["users"], k["addresses"], k["requests"], k["pending"], k["given_back"])
        if counters.requests:
            pipe.hset(k["requests"], mapping={r: n for r, n in counters.requests.items()})
            pipe.expire(k["requests"], REQUEST_KEYS_TTL_S)
        if counters.seq_by_user:
            pipe.hset(k["users"], mapping={str(u): n for u, n in counters.seq_by_user.items()})
        if counters.by_address:
            pipe.hset(k["addresses"], mapping={a: n for a, n in counters.by_address.items()})
        # meta last: admission waits ("rebuilding") until the whole state is there.
        pipe.hset(
            k["meta"],
            mapping={
                "quantity": counters.quantity,
                "sold": counters.sold,
                "limit": counters.limit,
                "starts_at": counters.starts_at_ms,
                "ends_at": counters.ends_at_ms,
                "open": "1" if counters.open else "0",
                "gen": generation,
            },
        )
        pipe.execute()
        return generation

    def update(self, sale: str, *, open: bool, starts_at_ms: int, ends_at_ms: int) -> bool:
        k = self._keys(sale)
        return bool(self._update(keys=[k["meta"]], args=["1" if open else "0", starts_at_ms, ends_at_ms]))

    def snapshot(self, sale: str) -> Snapshot | None:
        values = self.client.hmget(self._keys(sale)["meta"], ["quantity", "sold", "gen", "open"])
        if values[0] is None:
            return None
        return Snapshot(int(values[0]), int(values[1] or 0), int(values[2] or 0), values[3] == b"1")

    def stale_pending(self, sale: str, older_than_ms: int) -> list[tuple[int, int]]:
        members = self.client.zrangebyscore(self._keys(sale)["pending"], 0, older_than_ms)
        out = []
        for member in members:
            text = member.decode() if isinstance(member, bytes) else str(member)
            user, _, seq = text.partition(":")
            out.append((int(user), int(seq)))
        return out

    def forget(self, sale: str) -> None:
        k = self._keys(sale)
        self.client.delete(
            k["meta"], k["users"], k["addresses"], k["requests"], k["pending"], k["given_back"]
        )

    def close(self) -> None:
        self.client.close()


# --- in-process ----------------------------------------------------------------------------------


@dataclass
class _Sale:
    quantity: int
    sold: int
    limit: int
    starts_at_ms: int
    ends_at_ms: int
    open: bool
    generation: int
    users: dict[int, int] = field(default_factory=dict)
    addresses: dict[str, int] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)
    pending: dict[str, int] = field(default_factory=dict)
    given_back: set[str] = field(default_factory=set)


class MemoryAdmission(Admission):
    """The same rules as the Lua script, under one lock (the embedded default: one API process)."""

    kind = "memory"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sales: dict[str, _Sale] = {}
        self._generations: dict[str, int] = {}

    def admit(self, sale: str, user_id: int, address_key: str, request_key: str, now_ms: int) -> Decision:
        with self._lock:
            s = self._sales.get(sale)
            if s is None:
                return Decision(REBUILDING)
            left = s.quantity - s.sold
            if request_key and request_key in s.requests:
                return Decision(DUPLICATE, s.requests[request_key], left, s.generation, s.starts_at_ms)
            if not s.open or (s.ends_at_ms > 0 and now_ms >= s.ends_at_ms):
                return Decision(CLOSED, 0, left, s.generation, s.starts_at_ms)
            if now_ms < s.starts_at_ms:
                return Decision(NOT_STARTED, 0, left, s.generation, s.starts_at_ms)
            n = s.users.get(user_id, 0)
            if n >= s.limit:
                return Decision(LIMIT, n, left, s.generation, s.starts_at_ms)
            if not address_key:
                if s.sold >= s.quantity:
                    return Decision(SOLD_OUT, 0, 0, s.generation, s.starts_at_ms)
                return Decision(NEED_ADDRESS, 0, left, s.generation, s.starts_at_ms)
            if s.addresses.get(address_key, 0) >= s.limit:
                return Decision(ADDRESS_LIMIT, 0, left, s.generation, s.starts_at_ms)
            if s.sold >= s.quantity:
                return Decision(SOLD_OUT, 0, 0, s.generation, s.starts_at_ms)
            s.sold += 1
            s.users[user_id] = n + 1
            s.addresses[address_key] = s.addresses.get(address_key, 0) + 1
            if request_key:
                s.requests[request_key] = n + 1
            s.pending[f"{user_id}:{n + 1}"] = now_ms
            return Decision(ADMITTED, n + 1, s.quantity - s.sold, s.generation, s.starts_at_ms)

    def recorded(self, sale: str, user_id: int, seq: int) -> None:
        with self._lock:
            s = self._sales.get(sale)
            if s is not None:
                s.pending.pop(f"{user_id}:{seq}", None)

    def give_back(self, sale: str, token: str) -> bool:
        with self._lock:
            s = self._sales.get(sale)
            if s is None:
                return False
            if token.startswith("a"):
                if token in s.given_back:
                    return False
                s.given_back.add(token)
            elif s.pending.pop(token, None) is None:
                return False
            s.sold = max(0, s.sold - 1)
            return True

    def load(self, sale: str, counters: Counters, generation: int | None = None) -> int:
        with self._lock:
            if generation is None:
                generation = self._generations.get(sale, 0) + 1
            self._generations[sale] = generation
            self._sales[sale] = _Sale(
                quantity=counters.quantity,
                sold=counters.sold,
                limit=counters.limit,
                starts_at_ms=counters.starts_at_ms,
                ends_at_ms=counters.ends_at_ms,
                open=counters.open,
                generation=generation,
                users=dict(counters.seq_by_user),
                addresses=dict(counters.by_address),
                requests=dict(counters.requests),
            )
            return generation

    def update(self, sale: str, *, open: bool, starts_at_ms: int, ends_at_ms: int) -> bool:
        with self._lock:
            s = self._sales.get(sale)
            if s is None:
                return False
            s.open, s.starts_at_ms, s.ends_at_ms = open, starts_at_ms, ends_at_ms
            return True

    def snapshot(self, sale: str) -> Snapshot | None:
        with self._lock:
            s = self._sales.get(sale)
            return None if s is None else Snapshot(s.quantity, s.sold, s.generation, s.open)

    def stale_pending(self, sale: str, older_than_ms: int) -> list[tuple[int, int]]:
        with self._lock:
            s = self._sales.get(sale)
            if s is None:
                return []
            out = []
            for token, at in s.pending.items():
                if at <= older_than_ms:
                    user, _, seq = token.partition(":")
                    out.append((int(user), int(seq)))
            return out

    def forget(self, sale: str) -> None:
        with self._lock:
            self._sales.pop(sale, None)


_memory: list[MemoryAdmission] = []
_redis: dict[tuple[str, str], RedisAdmission] = {}
_lock = threading.Lock()


def for_settings(settings: Settings) -> Admission:
    """The process's admission: Redis when ``redis_url`` is set, else this process's memory."""
    with _lock:
        if settings.redis_url:
            key = (settings.redis_url, settings.redis_prefix)
            if key not in _redis:
                _redis[key] = RedisAdmission(settings.redis_url, settings.redis_prefix)
            return _redis[key]
        if not _memory:
            _memory.append(MemoryAdmission())
        return _memory[0]


def now_ms() -> int:
    return to_ms(clock.now())


def to_ms(value: Any) -> int:
    """A datetime (or None) as epoch milliseconds (0 for None)."""
    return 0 if value is None else int(value.timestamp() * 1000)
