"""JSON-LD processing is for peers we follow: a stranger's crafted context never reaches pyld.

A 34 KiB Follow whose context carries property- and type-scoped contexts kept the event
loop busy for seconds in pyld before any trust check. Now the signer decides first: a
sender we do not follow must send what the strict fast path reads, or gets a 400 that
says so. A peer we follow still gets JSON-LD, once: the row holds the compacted reading,
which the worker reads on the fast path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest
from pyld import jsonld
from sqlalchemy import select

import vocab.parse
from cart.catalog.models import CatalogItem
from inbox.admission import STRANGER_MAX_BODY
from inbox.models import InboxActivity
from tests.inbox.test_receive import product
from tests.support.inbox_peers import Served
from tests.support.peers import CONTEXT, RemotePeer
from tests.support.state import snapshot
from vocab.contexts import outgoing_context
from vocab.parse import takes_fast_path


@pytest.fixture
def over_the_network() -> bool:
    return True  # issue 14's findings as a stranger sends them: over real HTTP to uvicorn


@pytest.fixture
def pyld_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every call into pyld's processing entry points, by name."""
    calls: list[str] = []
    for name in ("compact", "expand"):
        original: Callable[..., Any] = getattr(jsonld, name)

        def counting(*args: Any, _name: str = name, _f: Any = original, **kw: Any) -> Any:
            calls.append(_name)
            return _f(*args, **kw)

        monkeypatch.setattr(jsonld, name, counting)
    return calls


@pytest.fixture
def walks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every walk of a document's shape (vocab/limits.py) the reader makes."""
    calls: list[int] = []
    original = vocab.parse.inspect

    def counting(document: dict[str, Any], **kw: Any) -> Any:
        calls.append(len(document))
        return original(document, **kw)

    monkeypatch.setattr(vocab.parse, "inspect", counting)
    return calls


def scoped_context_bomb(size: int = 18 * 1024) -> list[Any]:
    """Property- and type-scoped contexts nested in each other, about twice `size` bytes."""
    terms: dict[str, Any] = {}
    number = 0
    while len(orjson.dumps(terms)) < size:
        inner = {f"p{number}_{k}": {"@id": f"as:p{k}", "@context": {"x": "as:x"}} for k in range(8)}
        terms[f"t{number}"] = {"@id": f"as:t{number}", "@context": inner}
        number += 1
    terms["Follow"] = {"@id": "as:Follow", "@context": terms.copy()}
    terms["object"] = {"@id": "as:object", "@type": "@id", "@context": {"Follow": "as:Follow"}}
    return [*CONTEXT, terms]


async def test_a_scoped_context_follow_from_a_stranger_is_refused_before_pyld(
    served: Served, stranger: RemotePeer, pyld_calls: list[str], walks: list[int]
) -> None:
    follow = stranger.activity("Follow", f"{served.base_url}/actor")
    follow["@context"] = scoped_context_bomb()
    # As issue 14 found it: 34 KiB, under a stranger's body cap (inbox/admission.py).
    assert 34 * 1024 < len(orjson.dumps(follow)) < STRANGER_MAX_BODY
    before = await snapshot(served.db)

    answer = await stranger.deliver(served.inbox, follow)

    assert answer.status_code == 400, answer.text
    problem = answer.json()
    assert problem["type"].endswith("needs-json-ld")
    assert "JSON-LD processing" in problem["detail"]
    assert pyld_calls == []
    assert walks == []  # refused from its context alone: the document is not walked
    assert await snapshot(served.db) == before


async def test_a_stranger_following_with_plain_extension_terms_is_accepted_without_pyld(
    served: Served, stranger: RemotePeer, pyld_calls: list[str]
) -> None:
    follow = stranger.activity("Follow", f"{served.base_url}/actor")
    # As Misskey and Pleroma send it: extension terms inline, a context IRI we do not hold.
    follow["@context"] = [
        *CONTEXT,
        "https://pleroma.example/schemas/litepub-0.1.jsonld",
        {"toot": "http://joinmastodon.org/ns#", "Emoji": "toot:Emoji", "@language": "und"},
    ]
    answer = await stranger.deliver(served.inbox, follow)
    assert answer.status_code == 202, answer.text
    assert pyld_calls == []


async def test_a_peer_we_follow_gets_json_ld_once_and_the_worker_reads_the_stored_reading(
    served: Served, market: RemotePeer, pyld_calls: list[str]
) -> None:
    loaf = product(market)
    create = market.activity("Create", loaf)
    # rose:-prefixed keys are fine JSON-LD that only a processor can read
    create["@context"] = outgoing_context()
    create["object"] = {**loaf, "rose:available": True}

    answer = await market.deliver(served.inbox, create)
    assert answer.status_code == 202, answer.text
    assert pyld_calls == ["compact"]
    async with served.db.transaction() as session:
        row = (await session.execute(select(InboxActivity))).scalar_one()
    stored = orjson.loads(row.body)["object"]
    assert "rose:available" not in stored and True in stored.values()  # in our terms
    assert takes_fast_path(row.body)

    assert await served.app.state.federation.inbox_worker.step() == 1
    assert pyld_calls == ["compact"]  # the worker did not process it again
    async with served.db.transaction() as session:
        item = await session.get(CatalogItem, loaf["id"])
    assert item is not None and item.name == "Sourdough loaf"
