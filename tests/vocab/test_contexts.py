"""Bundled contexts, the offline loader and the contexts we send."""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from importlib import resources

import pytest

from vocab.contexts import (
    AS2_CONTEXT,
    BUNDLED_FILES,
    DATA_INTEGRITY_V1,
    MULTIKEY_V1,
    ROSE_CONTEXT,
    SECURITY_V1,
    canonical_context_iri,
    outgoing_context,
    rose_context_document,
)
from vocab.glossary import TERMS
from vocab.loader import offline_loader

# docs/protocol.md's vocabulary table, term by term: the contract our context must carry.
PROTOCOL_TERMS = {
    "Order",
    "OrderItem",
    "OrderPaid",
    "OrderCancelled",
    "OrderRefunded",
    "Product",
    "CalendarEntry",
    "Page",
    "MonetaryAmount",
    "amount",
    "currency",
    "orderNumber",
    "orderStatus",
    "items",
    "orderedItem",
    "quantity",
    "price",
    "total",
    "page",
    "available",
    "stock",
    "capacity",
    "entryState",
    "timeZone",
    "paymentReference",
    "catalog",
    "fulfilment",
    "Pickup",
    "Delivery",
    "area",
    "fee",
}


def _sources_table() -> dict[str, str]:
    text = resources.files("vocab").joinpath("contexts", "SOURCES.md").read_text()
    return dict(re.findall(r"^\| `([\w.-]+\.jsonld)` \|.*\| ([0-9a-f]{64}) \|$", text, re.M))


def test_bundled_third_party_contexts_are_the_recorded_published_texts() -> None:
    recorded = _sources_table()
    third_party = [name for name in BUNDLED_FILES.values() if name != "rose.jsonld"]
    assert sorted(recorded) == sorted(third_party)
    for name in third_party:
        data = resources.files("vocab").joinpath("contexts", name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == recorded[name], name


def test_our_context_defines_every_protocol_term_under_the_rose_namespace() -> None:
    terms = rose_context_document()["@context"]
    assert terms["rose"] == "https://rose-ash.com/ns#"
    defined = {t for t in terms if t not in ("rose", "xsd")}
    assert defined == PROTOCOL_TERMS
    for term in defined:
        definition = terms[term]
        iri = definition if isinstance(definition, str) else definition["@id"]
        assert iri == f"rose:{term}"


@pytest.mark.parametrize(
    ("term", "coercion"),
    [
        ("orderedItem", {"@type": "@id"}),
        ("catalog", {"@type": "@id"}),
        ("page", {"@type": "@id"}),
        ("quantity", {"@type": "xsd:integer"}),
        ("stock", {"@type": "xsd:integer"}),
        ("available", {"@type": "xsd:boolean"}),
        ("items", {"@container": "@list"}),
        ("fulfilment", {"@container": "@list"}),
    ],
)
def test_references_numbers_and_lists_are_typed(term: str, coercion: dict[str, str]) -> None:
    definition = rose_context_document()["@context"][term]
    assert coercion.items() <= definition.items()


def test_every_term_is_documented_for_people() -> None:
    assert {t.name for t in TERMS} == PROTOCOL_TERMS


def test_we_send_as2_security_and_our_terms_inline() -> None:
    context = outgoing_context()
    assert context[:2] == [AS2_CONTEXT, SECURITY_V1]
    assert context[2] == rose_context_document()["@context"]
    context[2]["Order"] = "tampered"
    assert outgoing_context()[2]["Order"] == "rose:Order"


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("https://www.w3.org/ns/activitystreams", AS2_CONTEXT),
        ("http://www.w3.org/ns/activitystreams", AS2_CONTEXT),
        ("https://www.w3.org/ns/activitystreams/", AS2_CONTEXT),
        ("https://www.w3.org/ns/activitystreams.jsonld", AS2_CONTEXT),
        ("http://w3id.org/security/v1/", SECURITY_V1),
        ("https://w3id.org/security/data-integrity/v1", DATA_INTEGRITY_V1),
        ("https://w3id.org/security/multikey/v1", MULTIKEY_V1),
        ("https://rose-ash.com/ns", ROSE_CONTEXT),
        ("https://evil.example/ns", None),
        ("https://www.w3.org/ns/activitystreams?x=1", None),
        ("ftp://www.w3.org/ns/activitystreams", None),
    ],
)
def test_known_context_spellings(spelling: str, canonical: str | None) -> None:
    assert canonical_context_iri(spelling) == canonical


def test_loader_serves_bundled_contexts_tagged_static_for_pyld_caching() -> None:
    answer = offline_loader("http://www.w3.org/ns/activitystreams", {})
    assert answer["tag"] == "static"
    assert answer["document"]["@context"]["Create"] == "as:Create"
    answer["document"]["@context"]["Create"] = "tampered"
    assert offline_loader(AS2_CONTEXT, {})["document"]["@context"]["Create"] == "as:Create"


def test_loader_answers_unknown_contexts_with_an_empty_one_and_logs_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    made_up = f"https://evil.example/{uuid.uuid4()}/context.jsonld"  # new to this process
    with caplog.at_level(logging.WARNING, logger="vocab.loader"):
        answer = offline_loader(made_up, {})
    assert answer["document"] == {"@context": {}}
    assert "tag" not in answer
    assert made_up in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="vocab.loader"):
        again = offline_loader(made_up, {})
    assert again["document"] == {"@context": {}}
    assert caplog.text == ""  # once per IRI: every actor naming it does not flood the log


def test_pyld_keeps_bundled_contexts_cached_but_not_unknown_ones() -> None:
    from pyld import jsonld

    from vocab.parse import parse

    document = {
        # @vocab keeps it off the fast path: pyld reads this one
        "@context": [AS2_CONTEXT, "https://unknown.example/ctx", {"@vocab": "https://e.example/"}],
        "id": "https://coop.example/f/1",
        "type": "Follow",
        "actor": "https://coop.example/a",
        "object": "https://cart.example/actor",
    }
    parse(document)
    cache = jsonld._resolved_context_cache
    assert "static" in cache.get(AS2_CONTEXT, {})
    assert cache.get("https://unknown.example/ctx") is None
