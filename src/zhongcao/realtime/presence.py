"""Who is present in a place (a live room's viewers), counted across every API worker.

A place holds members, each with a wall-clock time (``time.time()``) until which it counts. A worker
keeps its own members' times pushed forward while their streams are open (a heartbeat); a member who
leaves gets a short grace; a worker that crashes stops pushing, so its members age out by themselves.

* :class:`MemoryPresence`: this process's members only (the embedded default, one server process).
* :class:`RedisPresence`: one sorted set per place (member -> until), shared by every worker.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable

from zhongcao.realtime.bus import RedisBus

# A place nobody has touched for this long is dropped from Redis whole.
IDLE_PLACE_SECONDS = 3600


class Presence(ABC):
    kind: str

    @abstractmethod
    async def arrive(self, place: str, member: str, now: float, until: float) -> bool:
        """Count ``member`` until ``until``; True when it was not counted at ``now`` (a new arrival)."""

    @abstractmethod
    async def keep(self, place: str, members: Iterable[str], until: float) -> None:
        """Push the members' times to ``until`` (never back)."""

    @abstractmethod
    async def depart(self, place: str, member: str, until: float) -> None:
        """The member left: it counts until ``until`` (its grace), then expires."""

    @abstractmethod
    async def expire(self, place: str, now: float) -> list[str]:
        """Remove the members whose time is up and return them: each one to exactly one caller."""

    @abstractmethod
    async def count(self, place: str, now: float) -> int:
        """How many members count at ``now``."""


class MemoryPresence(Presence):
    kind = "in-process"

    def __init__(self) -> None:
        self._places: dict[str, dict[str, float]] = {}

    async def arrive(self, place: str, member: str, now: float, until: float) -> bool:
        members = self._places.setdefault(place, {})
        previous = members.get(member)
        members[member] = until
        return previous is None or previous <= now

    async def keep(self, place: str, members: Iterable[str], until: float) -> None:
        held = self._places.setdefault(place, {})
        for member in members:
            held[member] = max(held.get(member, until), until)

    async def depart(self, place: str, member: str, until: float) -> None:
        self._places.setdefault(place, {})[member] = until

    async def expire(self, place: str, now: float) -> list[str]:
        members = self._places.get(place, {})
        gone = [m for m, until in members.items() if until <= now]
        for member in gone:
            del members[member]
        if not members:
            self._places.pop(place, None)
        return gone

    async def count(self, place: str, now: float) -> int:
        return sum(1 for until in self._places.get(place, {}).values() if until > now)


_EXPIRE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if #due > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1]) end
return due
"""


class RedisPresence(Presence):
    """Key ``<prefix>:presence:<place>``: a sorted set, member -> until (the score)."""

    kind = "redis"

    def __init__(self, bus: RedisBus) -> None:
        self.bus = bus  # shares the bus's connections and prefix

    def _key(self, place: str) -> str:
        return self.bus.key(f"presence:{place}")

    async def arrive(self, place: str, member: str, now: float, until: float) -> bool:
        key = self._key(place)
        async with self.bus.client().pipeline(transaction=True) as pipe:
            pipe.zscore(key, member)
            pipe.zadd(key, {member: until})
            pipe.expire(key, IDLE_PLACE_SECONDS)
            previous, _, _ = await pipe.execute()
        return previous is None or float(previous) <= now

    async def keep(self, place: str, members: Iterable[str], until: float) -> None:
        mapping = dict.fromkeys(members, until)
        if not mapping:
            return
        key = self._key(place)
        async with self.bus.client().pipeline(transaction=True) as pipe:
            pipe.zadd(key, mapping, gt=True)  # GT: never pulls back a time another worker pushed further
            pipe.expire(key, IDLE_PLACE_SECONDS)
            await pipe.execute()

    async def depart(self, place: str, member: str, until: float) -> None:
        await self.bus.client().zadd(self._key(place), {member: until})

    async def expire(self, place: str, now: float) -> list[str]:
        # One script, so reading the members that are due and removing them is atomic: each departure
        # goes to exactly one worker, and a member pushed forward meanwhile is never removed.
        due = await self.bus.client().eval(_EXPIRE, 1, self._key(place), now)
        return [m.decode() if isinstance(m, bytes) else str(m) for m in due]

    async def count(self, place: str, now: float) -> int:
        return int(await self.bus.client().zcount(self._key(place), f"({now}", "+inf"))
