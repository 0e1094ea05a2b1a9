"""The real-time bus and shared presence counts (docs/realtime.md): Redis when ``ZHONGCAO_REDIS_URL``
is set, in-process otherwise. Infrastructure below the domains: it imports none of them."""
