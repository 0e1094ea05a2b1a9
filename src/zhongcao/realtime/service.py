"""One :class:`Realtime` per process: the bus and the presence counts, made from the settings.

Channels are named ``<kind>:<id>`` (docs/realtime.md lists them and their message shapes):

* ``live:<content id>``: one live room (sales for the ticker, on-air status, viewer changes; live
  comments next);
* ``chat:<conversation id>``: one customer-service conversation's messages, reads and assignment;
* ``user:<user id>``: one person's notifications (chat unread badge);
* ``shop:<shop id>``: one shop's inbox (a conversation of the shop changed).

Each message is a JSON object with a ``type``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from zhongcao.config import Settings
from zhongcao.realtime.bus import Bus, MemoryBus, RedisBus
from zhongcao.realtime.presence import MemoryPresence, Presence, RedisPresence


class ChannelKind(enum.StrEnum):
    live = "live"
    chat = "chat"
    user = "user"
    shop = "shop"


def channel(kind: ChannelKind, ident: int) -> str:
    return f"{kind.value}:{int(ident)}"


def live_channel(content_id: int) -> str:
    return channel(ChannelKind.live, content_id)


def chat_channel(conversation_id: int) -> str:
    return channel(ChannelKind.chat, conversation_id)


def user_channel(user_id: int) -> str:
    return channel(ChannelKind.user, user_id)


def shop_channel(shop_id: int) -> str:
    return channel(ChannelKind.shop, shop_id)


@dataclass
class Realtime:
    bus: Bus
    presence: Presence

    @property
    def kind(self) -> str:
        return self.bus.kind

    async def aclose(self) -> None:
        await self.bus.aclose()

    def close(self) -> None:
        self.bus.close()


def connect(settings: Settings) -> Realtime:
    """Redis when ``redis_url`` is set, else in-process. Opens nothing yet: connections come on first use."""
    if settings.redis_url:
        bus = RedisBus(settings.redis_url, settings.redis_prefix)
        return Realtime(bus, RedisPresence(bus))
    return Realtime(MemoryBus(), MemoryPresence())


def redis_health(settings: Settings) -> tuple[bool, str]:
    """(ok, plain words) for ``zhongcao check`` and readiness: can this process reach its Redis?"""
    if not settings.redis_url:
        return True, "in-process (embedded default; set ZHONGCAO_REDIS_URL for several API workers)"
    bus = RedisBus(settings.redis_url, settings.redis_prefix)
    try:
        client = bus.sync_client()
        client.ping()
        version = client.info("server").get("redis_version", "?")
        return True, f"Redis {version} reachable"
    except Exception as exc:  # any client error, in plain words
        return False, f"cannot reach Redis: {type(exc).__name__}: {exc}".splitlines()[0]
    finally:
        bus.close()
