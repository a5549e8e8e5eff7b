"""Fetching one remote ActivityStreams document, the way docs/protocol.md says we may trust it.

The answer must be AS2 (`application/activity+json`, or `application/ld+json` with the
AS profile); its `id` must be the URL it finally came from, so a server cannot hand out
a document about someone else's actor; redirects are followed by hand (at most three,
each hop signed again and checked by the SSRF guard); the body is read in pieces and
abandoned past 1 MiB; and the whole fetch has a deadline. 404 and 410 are not errors
but an answer: the thing is gone.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from typing import Any

import httpcore
import httpx
import orjson

from actor.exceptions import (
    DocumentTooLarge,
    FetchError,
    FetchFailed,
    IdMismatch,
    NotActivityStreams,
    RedirectLoop,
    TooManyRedirects,
)
from actor.guard import Resolver, guarded_transport, system_resolve
from actor.identity import user_agent as product_user_agent
from actor.negotiation import AS2, AS2_PROFILE, LD_JSON
from store.held import outside_units
from vocab.numbers import parse_natural

ACCEPT = f'{AS2}, {LD_JSON}; profile="{AS2_PROFILE}"'
# JSON can only spell a NUL inside a string as \u0000, and only when the backslash
# before it is not itself escaped (an even run of backslashes before it).
_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
MAX_BYTES = 1024 * 1024
MAX_REDIRECTS = 3
TIMEOUT = httpx.Timeout(connect=5.0, read=10.0, write=10.0, pool=5.0)
TOTAL_SECONDS = 30.0
_REDIRECTS = {301, 302, 303, 307, 308}
_GONE = {404, 410}


@dataclass(frozen=True)
class Fetched:
    url: str
    document: dict[str, Any]


@dataclass(frozen=True)
class Gone:
    """The server says the document does not exist (404) or no longer does (410)."""

    url: str
    status: int


FetchResult = Fetched | Gone


def is_activity_streams(content_type: str | None) -> bool:
    if not content_type:
        return False
    media, *params = (part.strip() for part in content_type.split(";"))
    media = media.lower()
    if media == AS2:
        return True
    if media != LD_JSON:
        return False
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "profile":
            # The profile parameter is a space-separated list of IRIs (RFC 6906).
            if AS2_PROFILE in value.strip().strip('"').split():
                return True
    return False


def _same_url(document_id: object, url: httpx.URL) -> bool:
    if not isinstance(document_id, str):
        return False
    try:
        return httpx.URL(document_id) == url
    except httpx.InvalidURL:
        return False


@dataclass(frozen=True)
class FetchSettings:
    """How the fetcher fetches, built once from the service's settings: whether private
    addresses may be dialled (loopback tests, the demo), the User-Agent, and how much one
    fetch may cost us: bytes, redirects, per-phase and total time."""

    allow_private: bool = False
    user_agent: str | None = None
    max_bytes: int = MAX_BYTES
    max_redirects: int = MAX_REDIRECTS
    timeout: httpx.Timeout = field(default_factory=lambda: TIMEOUT)
    total_seconds: float = TOTAL_SECONDS


class Fetcher:
    """Fetches AS2 documents through one pooled, guarded client; built once at start-up."""

    def __init__(
        self,
        settings: FetchSettings = FetchSettings(),  # noqa: B008 (frozen, shared safely)
        *,
        auth: httpx.Auth | None = None,
        resolve: Resolver = system_resolve,
        network_backend: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        """`auth` signs every fetch (our key; None for unsigned); `resolve` and
        `network_backend` replace the system's name lookup and sockets in tests."""
        self.auth = auth
        self.max_bytes = settings.max_bytes
        self.max_redirects = settings.max_redirects
        self.total_seconds = settings.total_seconds
        guarded = guarded_transport(
            allow_private=settings.allow_private, resolve=resolve, network_backend=network_backend
        )
        # trust_env off: a proxy from the environment would bypass the guard's checks.
        user_agent = settings.user_agent or product_user_agent()
        self._client = httpx.AsyncClient(
            transport=guarded,
            timeout=settings.timeout,
            trust_env=False,
            follow_redirects=False,
            headers={"Accept": ACCEPT, "User-Agent": user_agent},
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def fetch(
        self, url: str, *, auth: httpx.Auth | None = None, require_id: bool = True
    ) -> FetchResult:
        """Fetch `url` (without its fragment). Raises a FetchError subclass on failure.

        `require_id=False` lets a document whose id is elsewhere through, for callers
        that only follow it as a pointer to a document they then fetch strictly.
        """
        try:
            async with asyncio.timeout(self.total_seconds):
                return await self._follow(url.split("#", 1)[0], auth or self.auth, require_id)
        except TimeoutError as error:
            message = f"fetching {url} took longer than {self.total_seconds:g} s"
            raise FetchFailed(url, message) from error

    async def _follow(self, start: str, auth: httpx.Auth | None, require_id: bool) -> FetchResult:
        try:
            current = httpx.URL(start)
        except httpx.InvalidURL as error:
            raise FetchFailed(start, f"not a URL: {start!r}") from error
        visited = {current}
        for hop in range(self.max_redirects + 1):
            outcome = await self._get(current, auth, require_id)
            if isinstance(outcome, httpx.URL):
                if outcome in visited:
                    raise RedirectLoop(start, f"{current} redirects back to {outcome}")
                if hop == self.max_redirects:
                    raise TooManyRedirects(
                        start, f"{start} redirects more than {self.max_redirects} times"
                    )
                visited.add(outcome)
                current = outcome
                continue
            return outcome
        raise AssertionError("unreachable: the loop returns or raises")

    async def _get(
        self, url: httpx.URL, auth: httpx.Auth | None, require_id: bool
    ) -> FetchResult | httpx.URL:
        outside_units(f"GET {url}")
        request = self._client.build_request("GET", url)
        try:
            response = await self._client.send(
                request, auth=auth or httpx.USE_CLIENT_DEFAULT, stream=True
            )
        except FetchError:
            raise
        except httpx.HTTPError as error:
            raise FetchFailed(str(url), f"GET {url} failed: {error!r}") from error
        try:
            return await self._read(url, response, require_id)
        finally:
            await response.aclose()

    async def _read(
        self, url: httpx.URL, response: httpx.Response, require_id: bool
    ) -> FetchResult | httpx.URL:
        status = response.status_code
        if status in _REDIRECTS:
            location = response.headers.get("Location")
            if not location:
                raise FetchFailed(str(url), f"{url} answered {status} without a Location", status)
            try:
                return url.join(location).copy_with(fragment=None)
            except httpx.InvalidURL as error:
                raise FetchFailed(str(url), f"{url} redirects to a bad URL {location!r}") from error
        if status in _GONE:
            return Gone(str(url), status)
        if not 200 <= status < 300:
            raise FetchFailed(str(url), f"{url} answered {status}", status)
        content_type = response.headers.get("Content-Type")
        if not is_activity_streams(content_type):
            raise NotActivityStreams(
                str(url), f"{url} answered {content_type or 'no content type'}, not AS2"
            )
        body = await self._body(url, response)
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError as error:
            raise FetchFailed(str(url), f"{url} did not answer valid JSON", status) from error
        if not isinstance(document, dict):
            raise FetchFailed(str(url), f"{url} did not answer a JSON object", status)
        if _NUL.search(body):  # a string holding U+0000: PostgreSQL cannot keep the document
            raise FetchFailed(str(url), f"{url} answered a document with a NUL character", status)
        if require_id and not _same_url(document.get("id"), url):
            raise IdMismatch(
                str(url), f"the document at {url} says its id is {document.get('id')!r}"
            )
        return Fetched(str(url), document)

    async def _body(self, url: httpx.URL, response: httpx.Response) -> bytes:
        too_large = DocumentTooLarge(str(url), f"{url} is larger than {self.max_bytes} bytes")
        declared = parse_natural(response.headers.get("Content-Length"))
        if declared is not None and declared > self.max_bytes:
            raise too_large
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > self.max_bytes:
                    raise too_large
                chunks.append(chunk)
        except httpx.HTTPError as error:
            raise FetchFailed(str(url), f"reading {url} failed: {error!r}") from error
        return b"".join(chunks)
