"""A local actor: its IRIs, derived from one public origin, and its keys."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from actor.keys import LocalKeys


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
    def key_id(self) -> str:
        return f"{self.id}#main-key"

    @property
    def assertion_key_id(self) -> str:
        return f"{self.id}#ed25519-key"
