"""How often a stranger's signature may make us fetch: the budget for unknown key ids.

Any `Signature` header names a keyId, and a keyId we do not hold makes us fetch it,
signed, as us: a made-up one per request turned 300 requests into 300 outgoing GETs.
Before such a fetch (an actor we hold no row for), this decides, in process memory
(a cache of decisions, like the inbox's rate buckets: N processes allow N times it):

- a per-host token bucket (the host name: its ports share it): at most `burst`
  unknown-key fetches to one host, then one every `1 / rate` seconds;
- a negative cache: a key id whose fetch gave no key is not fetched again for
  `negative_for`, and a host with `host_failures` such failures is not asked about any
  unknown key for that long.

Keys of our peers (PEERS) are not counted here (actor/remote.py asks for them as it
must). Refusals raise `FetchRefused` (an ActorError), which the verification policy turns into
a 401 naming the reason. The shape checks that come before all of this (length, an
absolute http(s) URL) are in actor/verification.py.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlsplit

from actor.exceptions import ActorError

MAX_TRACKED = 10_000
V = TypeVar("V")


class FetchRefused(ActorError):
    """We will not fetch this key now; the message says why and for how long."""


def _host(key_id: str) -> str:
    """The host name, without the port: a stranger's machine answers on every port it
    likes, and each port must not come with a fresh budget (bench/hostile)."""
    return urlsplit(key_id).hostname or ""


class KeyFetchBudget:
    def __init__(
        self,
        *,
        rate: float = 0.1,
        burst: int = 10,
        negative_for: float = 600.0,
        host_failures: int = 5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate, self.burst, self.negative_for = rate, burst, negative_for
        self.host_failures, self.clock = host_failures, clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._failed_keys: OrderedDict[str, float] = OrderedDict()  # key id -> until
        self._failed_hosts: OrderedDict[str, tuple[int, float]] = OrderedDict()

    def take(self, key_id: str) -> None:
        """Spend one fetch of an unknown key on its host, or raise FetchRefused."""
        now, host = self.clock(), _host(key_id)
        until = self._failed_keys.get(key_id)
        if until is not None and until > now:
            raise FetchRefused(
                f"fetching {key_id} failed recently; not tried again for {int(until - now) + 1} s"
            )
        count, host_until = self._failed_hosts.get(host, (0, 0.0))
        if count >= self.host_failures and host_until > now:
            raise FetchRefused(
                f"{count} unknown keys on {host} could not be fetched recently; "
                f"none is tried for {int(host_until - now) + 1} s"
            )
        if self.rate <= 0:
            return
        tokens, last = self._buckets.pop(host, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if tokens < 1:
            _remember(self._buckets, host, (tokens, now))
            raise FetchRefused(
                f"too many unknown keys on {host} to fetch; "
                f"retry in {int((1 - tokens) / self.rate) + 1} s"
            )
        _remember(self._buckets, host, (tokens - 1, now))

    def failed(self, key_id: str) -> None:
        """The fetch gave no key: remember the key id, and count it against its host."""
        now, host = self.clock(), _host(key_id)
        until = now + self.negative_for
        _remember(self._failed_keys, key_id, until)
        count, host_until = self._failed_hosts.pop(host, (0, 0.0))
        count = count + 1 if host_until > now else 1
        _remember(self._failed_hosts, host, (count, until))

    def succeeded(self, key_id: str) -> None:
        self._failed_keys.pop(key_id, None)
        self._failed_hosts.pop(_host(key_id), None)


def _remember(table: OrderedDict[str, V], key: str, value: V) -> None:
    """Set `key` as the newest entry; the oldest go beyond MAX_TRACKED."""
    table[key] = value
    table.move_to_end(key)
    while len(table) > MAX_TRACKED:
        table.popitem(last=False)
