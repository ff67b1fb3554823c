"""``RedisBackend``: one maintenance switch for a fleet of processes and hosts.

Each process keeps the state in memory, so a request never waits on Redis. A
background task per event loop subscribes to a channel on which every change is
announced, re-reads the state when told, and re-reads it anyway every
``resync_interval`` seconds, so a lost message or a restarted Redis cannot
leave a process wrong for longer than that.

Overrides (``maintenance_mode_on()``/``off()``) are leases: sorted-set members
whose score is their expiry in Redis server time. A holder renews its lease
while it is alive; a holder that dies stops counting when the lease expires,
so a crashed migration cannot leave the fleet in maintenance. Every process
wakes up when the earliest lease expires, without waiting for the next resync.
A lease limited to read-only or to route groups (``maintenance_mode_on(read_only=True,
groups=[...])``) carries its coverage in its member, after its id; every process
serves what the ``on`` leases cover together (:meth:`Coverage.union
<maintenance_core.coverage.Coverage.union>`), and the whole site when one of them
carries no coverage, or one it cannot read.

While Redis is unreachable, processes keep serving the last state they knew
(``fallback`` until they know one), log the outage once, and reconnect with
backoff. A lost connection is tried once more at once, on a new connection,
before it counts: the pool's idle connections to a Redis that restarted can fail
on their first use, and must not read as a second outage or fail a write.

Each process serving requests with the backend is an *instance* of the fleet:
it renews a heartbeat every ``heartbeat_interval`` seconds (an expiry in Redis
server time, ``3 * heartbeat_interval`` ahead, so a killed process drops out),
and acknowledges every change of the state once the requests it admitted
before the change have finished (see :mod:`maintenance_core.drain`).

Keys used, for ``key="maintenance_mode"``: ``maintenance_mode`` (``"1"``/``"0"``),
``maintenance_mode:leases:on`` and ``maintenance_mode:leases:off`` (sorted
sets of lease members: ``<id>`` for the whole site, ``<id>:<JSON coverage>`` for
a partial ``on`` lease), ``maintenance_mode:generation`` (a counter of changes),
``maintenance_mode:instances`` (a sorted set of instance ids, scored by heartbeat
expiry), ``maintenance_mode:instances:acks`` (a hash of each instance's
acknowledgement) and ``maintenance_mode:write:<token>`` (a mark each write leaves
for 60 s), and the channels ``maintenance_mode:changed`` and ``maintenance_mode:acks``.

The reads, writes, leases and heartbeats are Lua scripts, each run atomically by Redis.
They are sent by SHA1 (``EVALSHA``), not as source: a script's source goes to
the server once (``SCRIPT LOAD``), the first time a call finds that the server
does not know it, which is also how a restarted or failed-over Redis, or a
``SCRIPT FLUSH``, is recovered from without an error.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import os
import secrets
import socket
import uuid
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit, urlunsplit

import anyio

try:
    import redis.asyncio as aioredis
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import NoPermissionError, NoScriptError, RedisError, ResponseError
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        "RedisBackend needs the redis package: install the 'redis' extra, e.g. "
        "pip install 'fastapi-maintenance[redis]' or 'litestar-maintenance[redis]'."
    ) from exc

from .._log import get_logger
from ..coverage import WHOLE_SITE, Coverage, normalize_groups
from ..drain import DrainResult, Epoch, InflightRequests, InstanceStatus, inflight_of
from ..errors import (
    ConfigurationError,
    InvalidStateValueError,
    MaintenanceError,
)
from ..events import ChangeSource, announce_change, announce_problem
from ..overrides import overrides_of
from ..state import OFF, ON, MaintenanceState
from .base import StateBackend
from .file import MAX_STATE_BYTES

__all__ = ["RedisBackend", "RedisUnavailableError"]

_MAX_COVERED_LEASES = 64
"""The most ``on`` leases whose coverages a read fetches: with more, the whole site."""

_MAX_COVERAGE_BYTES = 64 * 1024
"""The most bytes of ``on`` lease members a read fetches: with more, the whole site.
Two leases naming the most and longest groups fit (a coverage is under 27 KiB)."""

# Server time in ms, so holders and readers on different hosts agree on expiry.
_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

_READ = (
    _NOW
    + """
-- An expired lease changes what the fleet serves: a new generation (see drain).
local expired = redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
    + redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
if expired > 0 then redis.call('INCR', KEYS[4]) end
local next_expiry = -1
for _, set in ipairs({KEYS[2], KEYS[3]}) do
    local first = redis.call('ZRANGE', set, 0, 0, 'WITHSCORES')
    if first[2] then
        local left = tonumber(first[2]) - now
        if next_expiry < 0 or left < next_expiry then next_expiry = left end
    end
end
-- A key of another type, or a value no state could be, is reported, not fetched.
local kind = redis.call('TYPE', KEYS[1])['ok']
local state = ''
if kind == 'string' then
    if redis.call('STRLEN', KEYS[1]) > tonumber(ARGV[1]) then
        kind = 'oversized'
    else
        state = redis.call('GET', KEYS[1])
    end
end
local generation = tonumber(redis.call('GET', KEYS[4]) or '0') or 0
-- What the on leases cover (see RedisLeases.coverage). A member is the lease's id,
-- followed for a partial lease by its coverage, a JSON object (from the first '{').
-- A member without one covers the whole site, and so then does the union: whole = 1
-- and no coverage is sent. Bounded: more than ARGV[2] leases, or more than ARGV[3]
-- bytes of members, count as the whole site too.
local leases_on = redis.call('ZCARD', KEYS[2])
local whole = 0
local coverages = {}
if leases_on > tonumber(ARGV[2]) then
    whole = 1
elseif leases_on > 0 then
    local size = 0
    for _, member in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
        local brace = string.find(member, '{', 1, true)
        size = size + #member
        if brace == nil or size > tonumber(ARGV[3]) then
            whole = 1
            coverages = {}
            break
        end
        coverages[#coverages + 1] = string.sub(member, brace)
    end
end
return {state, leases_on, redis.call('ZCARD', KEYS[3]), next_expiry, kind, generation, whole,
        coverages}
"""
)

_TAKE_LEASE = (
    _NOW
    + """
-- A new lease (not a renewal) is a change of what the fleet serves.
if redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1]) == 1 then
    redis.call('INCR', KEYS[3])
end
redis.call('PUBLISH', KEYS[2], 'lease')
return 1
"""
)

_DROP_LEASE = """
if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then redis.call('INCR', KEYS[3]) end
redis.call('PUBLISH', KEYS[2], 'lease')
return 1
"""

# A write of the state: KEYS state, generation, change channel, this write's mark;
# ARGV the state's text, the mark's lifetime in ms. Sent again after its reply was
# lost (see _again_on_new_connection), a write finds its mark and is not applied twice.
_WRITE = """
if not redis.call('SET', KEYS[4], '1', 'NX', 'PX', ARGV[2]) then
    return tonumber(redis.call('GET', KEYS[2]) or '0') or 0
end
redis.call('SET', KEYS[1], ARGV[1])
local generation = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', KEYS[3], 'state')
return generation
"""

_WRITE_MARK_MS = 60_000
"""How long a write's mark is kept: far longer than a write can take to be sent again."""

# An instance's heartbeat, with its acknowledgement: KEYS instances, acks, ack channel;
# ARGV id, ttl in ms, acknowledgement (JSON), '1' to announce it.
_HEARTBEAT = (
    _NOW
    + """
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
if ARGV[4] == '1' then redis.call('PUBLISH', KEYS[3], ARGV[1]) end
return 1
"""
)

_DEREGISTER = """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('PUBLISH', KEYS[3], ARGV[1])
return 1
"""

# The live instances (dead ones, whose heartbeat expired, are removed) and the
# current generation: KEYS instances, acks, generation.
_INSTANCES = (
    _NOW
    + """
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
for _, id in ipairs(dead) do redis.call('HDEL', KEYS[2], id) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local live = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local out = {}
for i = 1, #live, 2 do
    out[#out + 1] = live[i]
    out[#out + 1] = math.floor(tonumber(live[i + 1]) - now)
    out[#out + 1] = redis.call('HGET', KEYS[2], live[i]) or ''
end
return {tonumber(redis.call('GET', KEYS[3]) or '0') or 0, out}
"""
)


_T = TypeVar("_T")


async def _again_on_new_connection(client: aioredis.Redis, call: Callable[[], Awaitable[_T]]) -> _T:
    """Await *call*; after it loses its connection, once more on a new one.

    An idle pooled connection opened to a Redis that has restarted since passes
    the pool's check and fails on its first command (redis-py 8, on asyncio and
    uvloop alike), and so may every other idle connection of the pool: they are
    all closed before the second call, so that it opens a new one. A second
    error is a real outage and is raised. Only a lost connection is tried again:
    not a timeout (a Redis that does not answer would make the caller wait
    twice), nor the kinds of connection error a second try now would meet again
    (authentication, a dataset still loading, a full pool). Applied twice, each
    script has the effect of once (a change may be announced twice: readers
    coalesce it); the write carries a mark so that Redis applies it once (``_WRITE``).
    """
    try:
        return await call()
    except RedisConnectionError as exc:
        if type(exc) is not RedisConnectionError:
            raise
        with suppress(RedisError, OSError):
            await client.connection_pool.disconnect(inuse_connections=False)
        return await call()


class _Script:
    """A Lua script run on one client, by SHA where the server allows it.

    A call is an ``EVALSHA``. A server that answers ``NOSCRIPT`` (it never saw the
    script, or lost it to a restart, a failover or a ``SCRIPT FLUSH``) gets the
    source with ``SCRIPT LOAD`` and the call is made again; nothing runs when
    ``NOSCRIPT`` is answered, so calling again cannot apply a write twice. A
    server that does not know ``SCRIPT`` (renamed away with ``rename-command``, or
    a proxy that does not pass it on) gets the script's source with every call
    (``EVAL``) from then on. Any other refusal of ``SCRIPT LOAD`` (an ACL's
    ``NOPERM``, for one) is raised: it may be mended while the process runs.
    """

    __slots__ = ("_by_source", "_client", "_execute", "_load", "_sha", "_source")

    def __init__(self, client: aioredis.Redis, source: str) -> None:
        self._client = client
        # redis-py types its commands for the sync and async clients at once.
        self._execute = cast("Callable[..., Awaitable[Any]]", client.execute_command)
        self._load = cast("Callable[[str], Awaitable[Any]]", client.script_load)
        self._source = source
        self._sha = hashlib.sha1(source.encode()).hexdigest()
        self._by_source = False

    async def __call__(self, keys: list[str], args: list[str | int] | None = None) -> Any:
        return await _again_on_new_connection(self._client, lambda: self._call(keys, args or []))

    async def _call(self, keys: list[str], args: list[str | int]) -> Any:
        if not self._by_source:
            for loads in range(3):
                try:
                    return await self._execute("EVALSHA", self._sha, len(keys), *keys, *args)
                except NoScriptError:
                    if loads == 2:
                        break  # emptied again after each of two loads: the source, this once
                try:
                    self._sha = str(await self._load(self._source))
                except ResponseError as exc:
                    if not _refuses_the_command(exc):
                        raise
                    self._by_source = True
                    get_logger("redis").info(
                        "Redis does not take SCRIPT LOAD (%s): this script's source is sent "
                        "with each call from now on.",
                        exc,
                    )
                    break
        return await self._execute("EVAL", self._source, len(keys), *keys, *args)


def _refuses_the_command(exc: ResponseError) -> bool:
    """Whether *exc* says the command is unknown here, rather than refused this time."""
    if isinstance(exc, NoPermissionError):
        return False
    text = str(exc).lower()
    return "unknown command" in text or "unsupported command" in text


class _Scripts:
    """The backend's scripts, registered with the client of one loop: they run on it."""

    __slots__ = (
        "deregister",
        "drop_lease",
        "heartbeat",
        "instances",
        "read",
        "take_lease",
        "write",
    )

    def __init__(self, client: aioredis.Redis) -> None:
        self.read = _Script(client, _READ)
        self.take_lease = _Script(client, _TAKE_LEASE)
        self.drop_lease = _Script(client, _DROP_LEASE)
        self.heartbeat = _Script(client, _HEARTBEAT)
        self.deregister = _Script(client, _DEREGISTER)
        self.instances = _Script(client, _INSTANCES)
        self.write = _Script(client, _WRITE)


class RedisUnavailableError(MaintenanceError):
    """Redis could not be reached for an operation that must not silently fail."""


@dataclass(frozen=True, slots=True)
class _Snapshot:
    state: MaintenanceState
    leases_on: int
    leases_off: int
    next_expiry: float | None  # seconds until the earliest lease expires
    generation: int = 0  # the counter of changes, for drains (see maintenance_core.drain)
    coverage_on: Coverage = WHOLE_SITE  # what the on leases cover together


@dataclass(slots=True)
class _Acknowledgement:
    """What this instance last acknowledged: a generation, the state it serves, drained."""

    generation: int | None = None
    on: bool = False
    drained: bool = True

    def to_json(self, running: int) -> str:
        fields = {"generation": self.generation, "on": self.on, "drained": self.drained}
        return json.dumps({**fields, "running": running}, separators=(",", ":"))


def _lease_member(lease_id: str, coverage: Coverage) -> str:
    """The sorted-set member of a lease: its id, then a partial lease's coverage.

    A whole-site lease is its id alone, as every version before partial
    maintenance writes and reads it.
    """
    if coverage.whole_site:
        return lease_id
    data: dict[str, Any] = {}
    if coverage.read_only:
        data["read_only"] = True
    if coverage.groups:
        data["groups"] = sorted(coverage.groups)
    return f"{lease_id}:{json.dumps(data, separators=(',', ':'), ensure_ascii=False)}"


def _lease_coverage(raw: bytes | str) -> Coverage | None:
    """The coverage a lease member carries (its JSON part), ``None`` when it cannot
    be read: not JSON, not an object of ``read_only`` and ``groups``, bad group
    names, or more than this version knows of (a later one's)."""
    try:
        data = json.loads(raw)
        if not isinstance(data, dict) or not data.keys() <= {"read_only", "groups"}:
            return None
        read_only = data.get("read_only", False)
        groups = data.get("groups", [])
        if not isinstance(read_only, bool) or not isinstance(groups, list):
            return None
        return Coverage(read_only, normalize_groups(groups))
    except (ValueError, TypeError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None


def _parse_instance(instance: bytes | str, expires_ms: int, raw: bytes | str) -> InstanceStatus:
    name = instance.decode(errors="replace") if isinstance(instance, bytes) else str(instance)
    expires_in = max(int(expires_ms), 0) / 1000
    try:
        data = json.loads(raw)
        generation, on = data["generation"], data["on"]
        drained, running = data["drained"], data["running"]
        if not (
            isinstance(generation, int)
            and isinstance(on, bool)
            and isinstance(drained, bool)
            and isinstance(running, int)
        ):
            raise TypeError
    except (ValueError, TypeError, KeyError):
        # No acknowledgement yet, or not one this version writes: not drained.
        return InstanceStatus(name, -1, False, False, 0, expires_in)
    return InstanceStatus(name, generation, on, drained, running, expires_in)


def _redact(url: str) -> str:
    """The URL with its password masked, in the user-info part and in the query."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        host = parts.hostname or ""
        if parts.port is not None:
            host = f"{host}:{parts.port}"
        netloc = (f"{parts.username}:***@" if parts.username else ":***@") + host
    query = "&".join(
        f"{name}=***" if name.lower() == "password" else pair
        for pair in parts.query.split("&")
        if pair
        for name in [pair.partition("=")[0]]
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _check_seconds(name: str, value: float, *, minimum: float) -> None:
    # A non-finite value fails at the first use; a tiny one spins against Redis.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigurationError(f"RedisBackend {name} must be a number of seconds, got {value!r}.")
    if not math.isfinite(value) or value < minimum:
        raise ConfigurationError(
            f"RedisBackend {name}={value!r} is not usable: give a finite number of seconds, "
            f"at least {minimum:g}."
        )


def _raise_if_cancelled() -> None:
    # redis-py can swallow a cancellation that lands while it connects; the task
    # still reports it, so the sync loop checks after each Redis call and stops.
    task = asyncio.current_task()
    cancelling = getattr(task, "cancelling", None)
    if cancelling is not None and cancelling():
        raise asyncio.CancelledError


_MAX_WAIT = 0.5  # seconds between cancellation checks of an idle sync loop


class _LoopState:
    """What a backend keeps per event loop: its client, its scripts and its sync task."""

    def __init__(self, loop: asyncio.AbstractEventLoop, client: aioredis.Redis) -> None:
        self.loop = loop
        self.client = client
        self.scripts = _Scripts(client)
        self.task: asyncio.Task[None] | None = None
        self.first_read: asyncio.Future[MaintenanceState] | None = None
        self.heartbeat: asyncio.Task[None] | None = None
        self.seen: asyncio.Event | None = None  # set when a read brings a new generation


class RedisBackend(StateBackend):
    """Store the maintenance state in Redis, shared by every process that uses it.

    Args:
        url: a ``redis://`` or ``rediss://`` URL (default ``redis://localhost:6379/0``).
        client: a ready ``redis.asyncio.Redis`` client to use instead of *url*.
        key: the key holding the state; the lease sets and channel are named after it.
        resync_interval: seconds between full re-reads, besides change messages.
        lease_ttl: seconds an override lease lives without renewal (renewed at a
            third of it while its holder runs).
        fallback: the state to assume while Redis is unreachable and no state
            has been read yet.
        socket_timeout: seconds before a Redis operation counts as failed.
        heartbeat_interval: seconds between the heartbeats of a process serving
            requests with this backend; it drops out of the fleet when none came
            for ``3 * heartbeat_interval`` seconds (killed, or its event loop
            blocked that long).

    Raises:
        ValueError: for a URL that is not a Redis URL.
        ConfigurationError: for an interval, TTL or timeout that is not a finite
            number of seconds at least as large as its minimum (resync_interval
            0.05, lease_ttl 0.1, socket_timeout 0.01, heartbeat_interval 0.05).
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        client: aioredis.Redis | None = None,
        key: str = "maintenance_mode",
        resync_interval: float = 2.0,
        lease_ttl: float = 15.0,
        fallback: bool = False,
        socket_timeout: float = 1.0,
        heartbeat_interval: float = 2.0,
    ) -> None:
        if client is not None and url is not None:
            raise ValueError("Give RedisBackend either url or client, not both.")
        if client is None:
            url = url or "redis://localhost:6379/0"
            try:
                aioredis.ConnectionPool.from_url(url)
            except ValueError as exc:
                raise ValueError(
                    f"Invalid Redis URL {_redact(url)!r} ({exc}): use e.g. "
                    "'redis://localhost:6379/0' or 'rediss://user:password@host:6380/0'."
                ) from None
        _check_seconds("resync_interval", resync_interval, minimum=0.05)
        _check_seconds("lease_ttl", lease_ttl, minimum=0.1)
        _check_seconds("socket_timeout", socket_timeout, minimum=0.01)
        _check_seconds("heartbeat_interval", heartbeat_interval, minimum=0.05)
        self.url = url
        self.key = key
        self.resync_interval = resync_interval
        self.lease_ttl = lease_ttl
        self.fallback = fallback
        self.socket_timeout = socket_timeout
        self.heartbeat_interval = heartbeat_interval
        self._given_client = client
        self._keys = [key, f"{key}:leases:on", f"{key}:leases:off"]
        self.channel = f"{key}:changed"
        self._generation_key = f"{key}:generation"
        self._fleet_keys = [f"{key}:instances", f"{key}:instances:acks"]
        self.ack_channel = f"{key}:acks"
        self._instance: tuple[str, int] | None = None  # (id, pid)
        self._loops: dict[int, _LoopState] = {}
        self._current: _LoopState | None = None
        self._snapshot: _Snapshot | None = None
        self._failing: BaseException | None = None
        self._read_at = 0.0
        self._writing: MaintenanceState | None = None  # being stored by this process
        self._unreadable_leases = False  # a lease's coverage could not be read (logged)

    @property
    def problem(self) -> Exception | None:
        """The outage or bad value this backend is serving a stand-in state for."""
        failing = self._failing
        return failing if isinstance(failing, Exception) else None

    def describe(self) -> str:
        where = _redact(self.url) if self.url else "client"
        return f"redis: {where} key {self.key}"

    # -- reading --------------------------------------------------------------------------

    async def get_state(self) -> MaintenanceState:
        """The stored state, from memory; never raises and never waits on an outage.

        Redis is asked directly only until the first state is known; while it
        is unreachable, the last known state (else ``fallback``) is returned.
        """
        snapshot = self._snapshot
        current = self._current
        if (
            snapshot is not None
            and current is not None
            and current.task is not None
            and not current.task.done()
            and current.loop is asyncio.get_running_loop()
        ):
            return snapshot.state  # the path of every request
        self._ensure_sync()
        if snapshot is not None:
            return snapshot.state
        if self._failing is not None:
            return ON if self.fallback else OFF
        # Requests that arrive together before the first state is known share one
        # read: a burst must not open a connection each and exhaust the pool.
        loop_state = self._loop_state()
        if loop_state.first_read is None or loop_state.first_read.done():
            loop_state.first_read = loop_state.loop.create_task(self._read_first(loop_state))
        return await asyncio.shield(loop_state.first_read)

    async def _read_first(self, loop_state: _LoopState) -> MaintenanceState:
        try:
            snapshot = await self._read(loop_state)
        except (RedisError, OSError, ValueError) as exc:  # ValueError: a bad stored value
            self._mark_failing(exc)
            return ON if self.fallback else OFF
        if self._snapshot is None:
            self._snapshot = snapshot
        return snapshot.state

    async def read_state_now(self) -> MaintenanceState:
        """Read the state from Redis now.

        Raises:
            RedisUnavailableError: if Redis does not answer.
        """
        try:
            snapshot = await self._read(self._loop_state())
        except (RedisError, OSError) as exc:
            raise RedisUnavailableError(f"Cannot read {self.describe()}: {exc}") from exc
        self._use(snapshot)
        return snapshot.state

    async def set_state(self, state: MaintenanceState) -> None:
        """Store the state and tell every process.

        Raises:
            RedisUnavailableError: if Redis does not take the write.
        """
        scripts = self._loop_state().scripts
        # The sync task may read the new state before this write returns: it then
        # announces it as this process's change, not the fleet's.
        self._writing = state
        mark = f"{self.key}:write:{secrets.token_hex(8)}"
        try:
            generation = int(
                await scripts.write(
                    [self.key, self._generation_key, self.channel, mark],
                    [state.to_text(), _WRITE_MARK_MS],
                )
            )
        except (RedisError, OSError) as exc:
            raise RedisUnavailableError(f"Cannot write {self.describe()}: {exc}") from exc
        finally:
            self._writing = None
        old = None
        if self._snapshot is not None:
            snapshot = self._snapshot
            old = snapshot.state
            self._snapshot = _Snapshot(
                state,
                snapshot.leases_on,
                snapshot.leases_off,
                snapshot.next_expiry,
                generation,
                snapshot.coverage_on,
            )
            self._saw_generation(generation)
        announce_change(self, old, state, "local")

    async def _read(self, state: _LoopState) -> _Snapshot:
        (
            raw_state,
            on,
            off,
            next_expiry_ms,
            kind,
            generation,
            whole,
            coverages,
        ) = await state.scripts.read(
            [*self._keys, self._generation_key],
            [MAX_STATE_BYTES, _MAX_COVERED_LEASES, _MAX_COVERAGE_BYTES],
        )
        self._saw_generation(int(generation))
        if not int(on):
            self._unreadable_leases = False  # none left: log the next one again
        coverage_on = WHOLE_SITE if int(whole) or not coverages else self._union_of(coverages)
        kind = kind.decode() if isinstance(kind, bytes) else str(kind)
        if kind == "oversized":
            raise InvalidStateValueError.describing(
                f"a value larger than a state can be ({MAX_STATE_BYTES} bytes)"
            )
        if kind not in ("string", "none"):
            raise InvalidStateValueError.describing(f"a Redis {kind}, not a string")
        try:
            text = raw_state.decode() if isinstance(raw_state, bytes) else str(raw_state)
        except UnicodeDecodeError:
            raise InvalidStateValueError.describing("a value that is not UTF-8 text") from None
        return _Snapshot(
            MaintenanceState.from_text(text),
            int(on),
            int(off),
            None if int(next_expiry_ms) < 0 else int(next_expiry_ms) / 1000,
            int(generation),
            coverage_on,
        )

    def _union_of(self, coverages: list[bytes]) -> Coverage:
        """What the partial leases read cover together; one that cannot be read
        counts as the whole site (the safe direction), logged once until none is left."""
        combined: Coverage | None = None
        unreadable = 0
        for raw in coverages:
            coverage = _lease_coverage(raw)
            if coverage is None:
                unreadable += 1
                coverage = WHOLE_SITE
            combined = coverage if combined is None else combined.union(coverage)
        if unreadable and not self._unreadable_leases:
            get_logger("redis").warning(
                "%d maintenance lease(s) in %s carry a coverage this version cannot read; "
                "counting them as maintenance of the whole site.",
                unreadable,
                self._keys[1],
            )
        self._unreadable_leases = bool(unreadable)
        return WHOLE_SITE if combined is None else combined

    # -- the per-loop client and sync task ------------------------------------------------

    def _loop_state(self) -> _LoopState:
        loop = asyncio.get_running_loop()
        state = self._loops.get(id(loop))
        if state is None or state.loop is not loop:
            # A backend can outlive an event loop (tests, CLI runs): each loop gets its own.
            self._loops = {k: v for k, v in self._loops.items() if not v.loop.is_closed()}
            client = self._given_client or aioredis.Redis.from_url(
                self.url or "",
                socket_timeout=self.socket_timeout,
                socket_connect_timeout=self.socket_timeout,
            )
            state = self._loops[id(loop)] = _LoopState(loop, client)
        return state

    def _ensure_sync(self) -> None:
        state = self._loop_state()
        if state.task is None or state.task.done():
            state.task = state.loop.create_task(self._sync_forever(state))
        if state.heartbeat is None or state.heartbeat.done():
            state.seen = asyncio.Event()
            state.heartbeat = state.loop.create_task(self._heartbeat_forever(state))
        self._current = state

    async def _sync_forever(self, state: _LoopState) -> None:
        backoff = 0.05
        tried_again_at = -math.inf  # when a lost connection was last tried again at once
        loop = asyncio.get_running_loop()
        while True:
            pubsub = state.client.pubsub()
            try:
                await pubsub.subscribe(self.channel)
                _raise_if_cancelled()
                await self._refresh(state)
                _raise_if_cancelled()
                backoff = 0.05
                resync_at = loop.time() + self.resync_interval
                while True:
                    wake_at = resync_at
                    snapshot = self._snapshot
                    if snapshot is not None and snapshot.next_expiry is not None:
                        wake_at = min(wake_at, self._read_at + snapshot.next_expiry + 0.005)
                    timeout = min(max(wake_at - loop.time(), 0.0), _MAX_WAIT)
                    message = await pubsub.get_message(
                        ignore_subscribe_messages=True, timeout=timeout
                    )
                    _raise_if_cancelled()
                    if message is not None:
                        # Coalesce a burst of changes into one read.
                        while await pubsub.get_message(ignore_subscribe_messages=True, timeout=0):
                            pass
                    elif loop.time() < wake_at:
                        continue
                    await self._refresh(state)
                    if loop.time() >= resync_at:
                        resync_at = loop.time() + self.resync_interval
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                _raise_if_cancelled()
                if (
                    type(exc) is RedisConnectionError
                    and self._failing is None
                    and loop.time() - tried_again_at >= self.resync_interval
                ):
                    # The subscription may have been on a connection the pool opened
                    # to a Redis that restarted since, and so may every idle one:
                    # subscribe again on a new one before calling it an outage. At
                    # most once per resync_interval, so that a subscription that
                    # keeps breaking is reported and backed off from, not spun on.
                    tried_again_at = loop.time()
                    with suppress(RedisError, OSError):
                        await state.client.connection_pool.disconnect(inuse_connections=False)
                    continue
                self._mark_failing(exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 1.0)
            finally:
                with suppress(Exception):
                    await asyncio.shield(pubsub.aclose())  # type: ignore[no-untyped-call]

    async def _refresh(self, state: _LoopState) -> None:
        try:
            snapshot = await self._read(state)
        except ValueError as exc:
            # Redis answered, with a value that is not a state: keep the connection
            # and the subscription, serve the last known state, wait for a fix.
            self._read_at = asyncio.get_running_loop().time()
            self._mark_failing(exc)
            return
        self._read_at = asyncio.get_running_loop().time()
        failing, self._failing = self._failing, None
        self._use(snapshot)
        if failing is not None:
            get_logger("redis").warning(
                "%s (%s): maintenance is %s.",
                "The maintenance state stored in Redis is valid again"
                if isinstance(failing, ValueError)
                else "Redis is reachable again",
                self.describe(),
                "on" if snapshot.state.is_on_now() else "off",
            )

    def _use(self, snapshot: _Snapshot) -> None:
        """Keep *snapshot* as the state known; announce it if the stored state changed."""
        previous, self._snapshot = self._snapshot, snapshot
        if previous is not None:  # the first state read is learnt, not a change
            source: ChangeSource = "local" if snapshot.state == self._writing else "fleet"
            announce_change(self, previous.state, snapshot.state, source)

    def _mark_failing(self, exc: BaseException) -> None:
        if self._failing is not None:
            return
        self._failing = exc
        snapshot = self._snapshot
        if snapshot is not None:
            word = "on" if snapshot.state.is_on_now() else "off"
            used = f"the last known state: maintenance is {word}"
        else:
            used = f"the fallback: maintenance is {'on' if self.fallback else 'off'}"
        if isinstance(exc, ValueError):
            problem, until = "The maintenance state stored in Redis is invalid", "it is fixed"
        else:
            problem, until = "Redis is unreachable", "it is back"
        get_logger("redis").error(
            "%s (%s: %s: %s); keeping %s until %s (on_state_error decides what requests get).",
            problem,
            self.describe(),
            type(exc).__name__,
            exc,
            used,
            until,
        )
        announce_problem(self, exc)

    async def aclose(self) -> None:
        """Stop the sync task of the running loop and close the client this backend made."""
        state = self._loops.pop(id(asyncio.get_running_loop()), None)
        if state is None:
            return
        if self._current is state:
            self._current = None
        if state.task is not None:
            state.task.cancel()
            with suppress(asyncio.CancelledError, Exception):
                await state.task
        await self._stop_heartbeat(state)
        if self._given_client is None:
            await state.client.aclose()

    # -- leases ---------------------------------------------------------------------------

    def create_override_store(self) -> RedisLeases:
        return RedisLeases(self)

    async def _take_lease(self, value: bool, member: str) -> None:
        # member: the lease's id, and a partial lease's coverage (see _lease_member).
        scripts = self._loop_state().scripts
        lease_set = self._keys[1] if value else self._keys[2]
        ttl_ms = int(self.lease_ttl * 1000)
        await scripts.take_lease([lease_set, self.channel, self._generation_key], [member, ttl_ms])

    async def _drop_lease(self, value: bool, member: str) -> None:
        scripts = self._loop_state().scripts
        lease_set = self._keys[1] if value else self._keys[2]
        await scripts.drop_lease([lease_set, self.channel, self._generation_key], [member])

    # -- the fleet: heartbeats, acknowledgements, drains (see maintenance_core.drain) ------

    @property
    def instance_id(self) -> str:
        """This process's id in the fleet, ``"<hostname>:<pid>:<random>"``."""
        pid = os.getpid()
        if self._instance is None or self._instance[1] != pid:  # new, or a forked process
            self._instance = (f"{socket.gethostname()}:{pid}:{secrets.token_hex(3)}", pid)
        return self._instance[0]

    @property
    def instance_ttl(self) -> float:
        """Seconds an instance stays in the fleet without a heartbeat."""
        return 3 * self.heartbeat_interval

    def _saw_generation(self, generation: int) -> None:
        # Wake this loop's heartbeat task: it acknowledges a new generation.
        state = self._loops.get(id(asyncio.get_running_loop()))
        if state is not None and state.seen is not None:
            state.seen.set()

    def _serves_on(self, snapshot: _Snapshot) -> bool:
        active = overrides_of(self).active
        return snapshot.state.is_on_now() if active is None else active

    async def _heartbeat_forever(self, state: _LoopState) -> None:
        """While a guard serves requests with this backend: a heartbeat every
        heartbeat_interval, and each new generation acknowledged, drained or not."""
        inflight = inflight_of(self)
        seen = state.seen
        assert seen is not None
        ack = _Acknowledgement()
        drainer: asyncio.Task[None] | None = None
        sent: str | None = None
        try:
            while True:
                seen.clear()
                snapshot = self._snapshot
                if inflight.serving and snapshot is not None:
                    if snapshot.generation != ack.generation:
                        # A change: the requests admitted before it must finish first.
                        # Every request that read the earlier state entered the guard
                        # before this rotation, so it is in one of these epochs.
                        epochs = inflight.rotate()
                        if drainer is not None:
                            drainer.cancel()
                            drainer = None
                        ack.generation = snapshot.generation
                        ack.on = self._serves_on(snapshot)
                        ack.drained = not ack.on
                        if ack.on:
                            drainer = state.loop.create_task(
                                self._drain_instance(inflight, epochs, ack, seen)
                            )
                    info = ack.to_json(inflight.running)
                    try:
                        await self._beat(state, info, announce=info != sent)
                    except (RedisError, OSError):
                        sent = None  # Redis is away: the sync task says so; next beat retries
                    else:
                        sent = info
                    _raise_if_cancelled()
                with suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(seen.wait(), self.heartbeat_interval)
        finally:
            if drainer is not None:
                drainer.cancel()
                with suppress(asyncio.CancelledError):
                    await drainer

    async def _drain_instance(
        self,
        inflight: InflightRequests,
        epochs: tuple[Epoch, ...],
        ack: _Acknowledgement,
        seen: asyncio.Event,
    ) -> None:
        await inflight.wait(epochs)
        ack.drained = True
        seen.set()  # the heartbeat task announces it

    async def _beat(self, state: _LoopState, info: str, *, announce: bool) -> None:
        ttl_ms = int(self.instance_ttl * 1000)
        await state.scripts.heartbeat(
            [*self._fleet_keys, self.ack_channel],
            [self.instance_id, ttl_ms, info, "1" if announce else "0"],
        )

    async def _stop_heartbeat(self, state: _LoopState) -> None:
        task = state.heartbeat
        if task is None:
            return
        task.cancel()
        with suppress(asyncio.CancelledError, Exception):
            await task
        if self._instance is None:
            return
        # Leave the fleet now rather than when the heartbeat expires.
        with suppress(RedisError, OSError), anyio.move_on_after(self.socket_timeout):
            await state.scripts.deregister(
                [*self._fleet_keys, self.ack_channel], [self.instance_id]
            )

    async def list_instances(self) -> list[InstanceStatus]:
        """The live instances of the fleet, as they last reported themselves.

        Raises:
            RedisUnavailableError: if Redis does not answer.
        """
        return (await self._instances(self._loop_state()))[1]

    async def _instances(self, state: _LoopState) -> tuple[int, list[InstanceStatus]]:
        try:
            generation, rows = await state.scripts.instances(
                [*self._fleet_keys, self._generation_key]
            )
        except (RedisError, OSError) as exc:
            raise RedisUnavailableError(
                f"Cannot list the instances of {self.describe()}: {exc}"
            ) from exc
        instances = [
            _parse_instance(rows[i], rows[i + 1], rows[i + 2]) for i in range(0, len(rows), 3)
        ]
        return int(generation), sorted(instances, key=lambda status: status.instance)

    async def wait_fleet_drained(self, timeout: float) -> DrainResult:  # noqa: ASYNC109
        """Wait until every live instance has acknowledged the current generation, drained.

        The generation is read when the wait starts; an instance that acknowledges
        a later one counts too. Instances whose heartbeat expires meanwhile (killed)
        drop out; instances that start meanwhile read the current state and count.

        Raises:
            RedisUnavailableError: if Redis does not answer.
        """
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline = started + timeout
        state = self._loop_state()
        pubsub = state.client.pubsub()
        try:
            try:
                await pubsub.subscribe(self.ack_channel)  # before the first look: no ack missed
            except (RedisError, OSError) as exc:
                raise RedisUnavailableError(f"Cannot watch {self.describe()}: {exc}") from exc
            generation, instances = await self._instances(state)
            while True:
                listed_at = loop.time()
                stragglers = [
                    status
                    for status in instances
                    if status.generation < generation or not status.drained
                ]
                if not stragglers or listed_at >= deadline:
                    break
                # Look again at an acknowledgement, when a straggler's heartbeat could
                # have expired (killed), or at the deadline.
                expiry = listed_at + min(s.expires_in for s in stragglers) + 0.01
                wake_at = min(deadline, expiry)
                while (now := loop.time()) < wake_at:
                    try:
                        message = await pubsub.get_message(
                            ignore_subscribe_messages=True, timeout=min(wake_at - now, _MAX_WAIT)
                        )
                    except (RedisError, OSError):
                        # The subscription is lost: look again at the next wake-up anyway.
                        await asyncio.sleep(wake_at - now)
                        break
                    _raise_if_cancelled()
                    if message is not None:
                        break
                _, instances = await self._instances(state)
        finally:
            with suppress(Exception):
                await asyncio.shield(pubsub.aclose())  # type: ignore[no-untyped-call]
        return DrainResult(
            drained=not stragglers,
            still_running=sum(s.running for s in stragglers),
            stragglers=tuple(stragglers),
            instances=tuple(instances),
            generation=generation,
            timeout=timeout,
            waited=loop.time() - started,
        )


class RedisLeases:
    """Overrides on a :class:`RedisBackend`: leases every process sees.

    This process counts its own leases too, so they take effect here at once and
    keep counting here even if Redis loses them.

    An ``on`` lease limited to read-only or to groups carries its coverage in its
    member (see :func:`_lease_member`); :attr:`coverage` is the union of what this
    process holds and what the last read found fleet-wide.
    """

    def __init__(self, backend: RedisBackend) -> None:
        self._backend = backend
        self._on = 0
        self._off = 0
        self._renewals: dict[str, asyncio.Task[None]] = {}
        self._held_coverages: dict[str, Coverage] = {}  # this process's on leases, by member
        self._local: Coverage | None = None  # their union; None while none is held
        # (snapshot, local, coverage): recomputed only when either changes.
        self._coverage_for: tuple[_Snapshot | None, Coverage | None, Coverage] = (
            None,
            None,
            WHOLE_SITE,
        )

    @property
    def active(self) -> bool | None:
        snapshot = self._backend._snapshot
        if self._on or (snapshot is not None and snapshot.leases_on):
            return True
        if self._off or (snapshot is not None and snapshot.leases_off):
            return False
        return None

    @property
    def held(self) -> tuple[int, int]:
        return self._on, self._off

    @property
    def held_everywhere(self) -> tuple[int, int]:
        """The ``on`` and ``off`` leases held fleet-wide, as last read."""
        snapshot = self._backend._snapshot
        return (snapshot.leases_on, snapshot.leases_off) if snapshot else (0, 0)

    @property
    def coverage(self) -> Coverage:
        """What the ``on`` leases cover together, here and fleet-wide as last read
        (the whole site when none is held). Read on every request while one is."""
        snapshot = self._backend._snapshot
        local = self._local
        cached = self._coverage_for
        if cached[0] is snapshot and cached[1] is local:
            return cached[2]
        combined = local
        if snapshot is not None and snapshot.leases_on:
            fleet = snapshot.coverage_on
            combined = fleet if combined is None else combined.union(fleet)
        coverage = WHOLE_SITE if combined is None else combined
        self._coverage_for = (snapshot, local, coverage)
        return coverage

    def _hold_coverage(self, member: str, coverage: Coverage | None) -> None:
        if coverage is None:
            self._held_coverages.pop(member, None)
        else:
            self._held_coverages[member] = coverage
        local: Coverage | None = None
        for held in self._held_coverages.values():
            local = held if local is None else local.union(held)
        self._local = local

    async def enter(
        self, value: bool, backend: StateBackend, coverage: Coverage = WHOLE_SITE
    ) -> object:
        # An off lease has no coverage: maintenance_mode_off() is off for every request.
        member = _lease_member(uuid.uuid4().hex, coverage if value else WHOLE_SITE)
        try:
            await self._backend._take_lease(value, member)
        except BaseException as exc:
            # A timeout or a cancellation may land after the server stored the lease:
            # take it back, or the fleet would stay overridden until it expires.
            with anyio.move_on_after(self._backend.socket_timeout, shield=True):
                with suppress(RedisError, OSError):
                    await self._backend._drop_lease(value, member)
            if isinstance(exc, (RedisError, OSError)):
                raise RedisUnavailableError(
                    f"Cannot take a maintenance lease on {self._backend.describe()}: {exc}"
                ) from exc
            raise
        if value:
            self._on += 1
            self._hold_coverage(member, coverage)
        else:
            self._off += 1
        self._backend._ensure_sync()
        self._renewals[member] = asyncio.get_running_loop().create_task(self._renew(value, member))
        return member

    async def leave(
        self,
        value: bool,
        backend: StateBackend,
        token: object = None,
        coverage: Coverage = WHOLE_SITE,
    ) -> None:
        member = str(token)
        with anyio.CancelScope(shield=True):
            renewal = self._renewals.pop(member, None)
            if renewal is not None:
                renewal.cancel()
                with suppress(asyncio.CancelledError):
                    await renewal
            if value:
                self._on -= 1
                self._hold_coverage(member, None)
            else:
                self._off -= 1
            try:
                await self._backend._drop_lease(value, member)
                # Forget the released lease now rather than at the next change message.
                await self._backend._refresh(self._backend._loop_state())
            except (RedisError, OSError) as exc:
                get_logger("redis").error(
                    "Could not release a maintenance lease on %s (%s); it expires within %ss.",
                    self._backend.describe(),
                    exc,
                    self._backend.lease_ttl,
                )

    async def set_baseline_or_store(self, state: MaintenanceState, backend: StateBackend) -> None:
        # Leases never touch the stored state, so there is nothing to restore later.
        await backend.set_state(state)

    async def _renew(self, value: bool, member: str) -> None:
        period = self._backend.lease_ttl / 3
        failing = False
        while True:
            await asyncio.sleep(period)
            try:
                await self._backend._take_lease(value, member)
            except (RedisError, OSError) as exc:
                if not failing:
                    get_logger("redis").error(
                        "Cannot renew a maintenance lease on %s (%s); retrying.",
                        self._backend.describe(),
                        exc,
                    )
                failing = True
            else:
                failing = False
