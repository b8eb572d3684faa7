"""Limits that every replica counts together, kept in Redis (``REDIS_URL``).

Telegram's limits belong to the token, not to a process: three replicas each sending 25 notices
a second would send 75. So the flood buckets of people and the pace of notices are counted here,
each in one Lua script (atomic in Redis, one round trip), on Redis's own clock so that replicas
whose clocks differ still agree.
"""

from __future__ import annotations

import logging
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.storage.errors import SharedStoreUnavailable

log = logging.getLogger(__name__)

# A token bucket: (allowed, first refusal of this burst), as bot/middlewares/throttling.py's.
_TAKE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local capacity, rate = tonumber(ARGV[1]), tonumber(ARGV[2])
local saved = redis.call('HMGET', KEYS[1], 'tokens', 'updated', 'warned')
local tokens = tonumber(saved[1]) or capacity
local updated = tonumber(saved[2]) or now
local warned = saved[3] == '1'
tokens = math.min(capacity, tokens + math.max(0, now - updated) * rate)
if tokens >= capacity then warned = false end
local allowed, first = 0, 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
elseif not warned then
  first = 1
  warned = true
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(now),
           'warned', warned and '1' or '0')
redis.call('EXPIRE', KEYS[1], math.ceil(capacity / rate) + 1)
return {allowed, first}
"""

# Evenly spaced starts (a virtual scheduling time): the seconds to wait before this one.
_SLOT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local spacing = tonumber(ARGV[1])
local next_start = tonumber(redis.call('GET', KEYS[1])) or now
local start = math.max(next_start, now)
redis.call('SET', KEYS[1], tostring(start + spacing), 'PX',
           math.ceil((start + spacing - now) * 1000) + 1000)
return tostring(start - now)
"""


class SharedLimits:
    def __init__(self, url: str, namespace: str) -> None:
        self._redis: Redis = Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.namespace = namespace
        self._take: Any = self._redis.register_script(_TAKE)
        self._slot: Any = self._redis.register_script(_SLOT)

    async def connect(self) -> None:
        try:
            await self._redis.ping()
        except (RedisError, OSError) as exc:
            reason = f"Redis does not answer ({type(exc).__name__})"
            raise SharedStoreUnavailable(reason) from None

    async def close(self) -> None:
        await self._redis.aclose()

    async def ping(self) -> bool:
        try:
            return bool(await self._redis.ping())
        except (RedisError, OSError):
            return False

    async def take(self, bucket: str, capacity: float, rate: float) -> tuple[bool, bool]:
        """One token from a bucket every replica shares: (allowed, first refusal)."""
        try:
            allowed, first = await self._take(
                keys=[f"{self.namespace}:flood:{bucket}"], args=[capacity, rate]
            )
        except (RedisError, OSError) as exc:
            raise SharedStoreUnavailable(f"Redis: {type(exc).__name__}") from None
        return bool(allowed), bool(first)

    async def slot(self, pace: str, spacing: float) -> float:
        """Seconds to wait before the next start of ``pace``, counted across replicas."""
        try:
            wait = await self._slot(keys=[f"{self.namespace}:pace:{pace}"], args=[spacing])
        except (RedisError, OSError) as exc:
            raise SharedStoreUnavailable(f"Redis: {type(exc).__name__}") from None
        return max(0.0, float(wait))
