"""A local actor: its IRIs, derived from one public origin, its keys, and how we name
ourselves to other servers (the User-Agent of every request we make)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any
from urllib.parse import urlsplit

from actor.keys import LocalKeys


@cache
def software_version() -> str:
    try:
        return version("rose-cart")
    except PackageNotFoundError:
        return "0.0.0+unknown"


def user_agent(base_url: str | None = None) -> str:
    """`rose-cart/1.2.0 (+https://cart.example/)`: product, version and where we live,
    as servers expect of a peer (and log, and block by)."""
    product = f"rose-cart/{software_version()}"
    return f"{product} (+{base_url.rstrip('/')}/)" if base_url else product


@dataclass(frozen=True)
class LocalActor:
    """An actor this process speaks for (the cart; in the demo, a market or calendar)."""

    base_url: str
    username: str
    name: str
    keys: LocalKeys = field(repr=False)
    summary: str = ""
    actor_type: str = "Service"
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))

    @property
    def host(self) -> str:
        """The authority of our origin (host, and port when it is not the default)."""
        return urlsplit(self.base_url).netloc

    @property
    def id(self) -> str:
        return f"{self.base_url}/actor"

    @property
    def acct(self) -> str:
        return f"acct:{self.username}@{self.host}"

    @property
    def inbox(self) -> str:
        return f"{self.id}/inbox"

    @property
    def outbox(self) -> str:
        return f"{self.id}/outbox"

    @property
    def followers(self) -> str:
        return f"{self.base_url}/followers"

    @property
    def following(self) -> str:
        return f"{self.base_url}/following"

    @property
    def shared_inbox(self) -> str:
        return f"{self.base_url}/inbox"

    @property
    def user_agent(self) -> str:
        return user_agent(self.base_url)

    @property
    def published(self) -> datetime | None:
        """When this actor came to be: its first key's creation."""
        return self.keys.since

    @property
    def icon(self) -> str:
        return f"{self.base_url}/actor/icon.png"

    @property
    def key_id(self) -> str:
        return f"{self.id}#main-key"

    @property
    def assertion_key_id(self) -> str:
        return f"{self.id}#ed25519-key"
