"""Signing outgoing requests: an `httpx.Auth` with double-knocking.

Each request is signed in the scheme remembered for its origin, or draft-cavage by
default (what most of the fediverse verifies). On a 401 or 403 it is signed again
in the other scheme and sent once more; the scheme that got through is recorded in
a `SchemeMemory`, which the caller persists with `actor.schemes.save_learned`. Like
httpx's own auth classes this does no I/O itself: `auth_flow` is a generator.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator

import httpx

from actor.origin import origin_of
from actor.schemes import SchemeMemory
from actor.signatures import Message, Scheme, SigningKey, sign_request

_REFUSED = frozenset({401, 403})


class SignatureAuth(httpx.Auth):
    # The body is needed for its digest, and again if the request is sent twice.
    requires_request_body = True

    def __init__(
        self,
        key: SigningKey,
        *,
        memory: SchemeMemory | None = None,
        default: Scheme = Scheme.CAVAGE,
        double_knock: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.key = key
        self.memory = memory if memory is not None else SchemeMemory()
        self.default = default
        self.double_knock = double_knock
        self.clock = clock

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        origin = origin_of(str(request.url))
        first = self.memory.scheme_for(origin) or self.default
        added = self._sign(request, first)
        response = yield request
        if response.status_code not in _REFUSED or not self.double_knock:
            self._learn(origin, first, response)
            return
        for name in added:
            del request.headers[name]
        second = first.other
        self._sign(request, second)
        response = yield request
        self._learn(origin, second, response)

    def _learn(self, origin: str, scheme: Scheme, response: httpx.Response) -> None:
        # A 5xx says nothing about the signature; a 4xx other than 401/403 means it passed.
        if response.status_code not in _REFUSED and response.status_code < 500:
            self.memory.learn(origin, scheme)

    def _sign(self, request: httpx.Request, scheme: Scheme) -> list[str]:
        message = Message.of(
            request.method, str(request.url), request.headers.multi_items(), request.content
        )
        added = sign_request(message, self.key, scheme=scheme, now=self.clock())
        for name, value in added.items():
            request.headers[name.title()] = value
        return [name.title() for name in added]
