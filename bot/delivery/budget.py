"""Telegram's sending limits shared by every instance, kept in Redis.

Each sender paces itself (bot/delivery/pacing.py ``Pacer``), but Telegram counts per bot, not
per process: two instances sending to one group could each use its 20 messages a minute. With
``REDIS_URL`` set, a sender also asks this budget before each call. One Lua script decides
atomically, on Redis's own clock (so the instances' clocks need not agree): the chat's last
call at least ``per_chat_interval`` ago, fewer than ``group_per_minute`` calls to the group in
the last 60 s, fewer than ``global_per_second`` calls in the last second, and no 429 pause of
the chat still running. A 429 pauses the chat for every instance.

Redis unreachable: the budget lets the call through (and says so in the log, once a minute);
each instance still paces itself and every 429 is still honoured.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from bot.delivery.pacing import Limits

log = logging.getLogger(__name__)

_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval, group_limit, global_limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local wait = 0
local paused = tonumber(redis.call('GET', KEYS[4]) or '0')
if paused > now then wait = paused - now end
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
if last > 0 and now - last < interval then wait = math.max(wait, last + interval - now) end
if ARGV[4] == '1' then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - 60000)
  local used = redis.call('ZCARD', KEYS[2])
  if used >= group_limit then
    local oldest = redis.call('ZRANGE', KEYS[2], used - group_limit, used - group_limit, 'WITHSCORES')
    wait = math.max(wait, tonumber(oldest[2]) + 60000 - now)
  end
end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - 1000)
local used = redis.call('ZCARD', KEYS[3])
if used >= global_limit then
  local oldest = redis.call('ZRANGE', KEYS[3], used - global_limit, used - global_limit, 'WITHSCORES')
  wait = math.max(wait, tonumber(oldest[2]) + 1000 - now)
end
if wait > 0 then return wait end
redis.call('SET', KEYS[1], now, 'PX', interval + 1000)
if ARGV[4] == '1' then
  redis.call('ZADD', KEYS[2], now, ARGV[5])
  redis.call('PEXPIRE', KEYS[2], 61000)
end
redis.call('ZADD', KEYS[3], now, ARGV[5])
redis.call('PEXPIRE', KEYS[3], 2000)
return 0
"""

_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local until_ms = now + tonumber(ARGV[1])
if until_ms > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], until_ms, 'PX', tonumber(ARGV[1]) + 1000)
end
return until_ms
"""


class SharedSendBudget:
    """The sending limits of one bot, counted across all its instances (see the module text)."""

    WARN_EVERY = 60.0

    def __init__(self, redis: Any, prefix: str, limits: Limits) -> None:
        self.redis = redis
        self.prefix = f"{prefix}:send"
        self.limits = limits
        self._take = redis.register_script(_TAKE)
        self._pause = redis.register_script(_PAUSE)
        self._warned_at = -self.WARN_EVERY

    def _keys(self, chat_id: int) -> list[str]:
        return [
            f"{self.prefix}:last:{chat_id}",
            f"{self.prefix}:group:{chat_id}",
            f"{self.prefix}:global",
            f"{self.prefix}:pause:{chat_id}",
        ]

    async def take(self, chat_id: int, counts_for_group: bool = True) -> float:
        """Count a call to ``chat_id`` now and return 0, or return the seconds to wait first
        (nothing counted)."""
        arguments = [
            round(self.limits.per_chat_interval * 1000),
            self.limits.group_per_minute,
            self.limits.global_per_second,
            "1" if counts_for_group and chat_id < 0 else "0",
            uuid.uuid4().hex,
        ]
        try:
            wait_ms = await self._take(keys=self._keys(chat_id), args=arguments)
        except Exception as error:
            self._warn(error)
            return 0.0
        return max(0.0, int(wait_ms) / 1000)

    async def pause(self, chat_id: int, seconds: float) -> None:
        """Telegram asked this chat to wait (429): every instance waits."""
        try:
            await self._pause(keys=[self._keys(chat_id)[3]], args=[max(1, round(seconds * 1000))])
        except Exception as error:
            self._warn(error)

    def _warn(self, error: Exception) -> None:
        now = time.monotonic()
        if now - self._warned_at >= self.WARN_EVERY:
            self._warned_at = now
            log.warning("shared send budget unavailable (%s): each instance paces itself", error)
