"""The origin of a URL, one way everywhere: `scheme://netloc`, lower-cased, nothing else.

Three security checks rest on it (a signing key must live on its actor's origin, an
activity's and its objects' ids on the sender's, a fetched catalogue page on its
peer's), and the delivery queue, the signature-scheme memory and the admin pages group
by it. It is deliberately strict and literal, so every check means the same thing:

- scheme and host are compared case-insensitively (`HTTPS://A.Example` is
  `https://a.example`);
- the port is compared as written: `https://a.example:443` is not `https://a.example`
  (no default-port folding: a peer that spells its ids one way spells them that way);
- userinfo stays part of the origin, so `https://evil@a.example` is not
  `https://a.example`;
- an internationalised host is not converted: `https://bücher.example` and its IDNA
  form `https://xn--bcher-kva.example` are different origins.

When in doubt two URLs are different origins: a check then refuses instead of trusting.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit


# Every delivery asks for its actor's, its key's and its id's origin: the first two
# repeat from one sender to the next. Bounded, since the URLs come from outside.
@lru_cache(maxsize=4096)
def origin_of(url: str) -> str:
    """`scheme://netloc`, lower-cased (see the module docstring for what is kept)."""
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def same_origin(a: str, b: str) -> bool:
    """Whether `a` and `b` share an origin, by `origin_of`.

    `b` is the one that repeats (an actor, a sender): its origin comes from the cache. An
    `a` that starts with that origin, already in its lower-cased form, and a "/" splits
    to exactly that scheme and netloc, so it needs no parse of its own; most ids a peer
    sends are such, each new, and parsing each (and pushing it through the cache) was
    a few per cent of a delivery's CPU. Anything else takes the full comparison.
    """
    origin = origin_of(b)
    if (
        not origin.startswith("://")  # b has a scheme: a's prefix then splits the same way
        and a.startswith(origin)
        and a[len(origin) : len(origin) + 1] == "/"
    ):
        return True
    return origin_of(a) == origin


def web_origin_of(url: str) -> str | None:
    """The origin of an http(s) URL with a host; None for anything else."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return origin_of(url)
