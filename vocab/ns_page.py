"""The human side of /ns: an HTML page documenting every rose: term, and the NodeInfo
metadata that advertises the extension. Starlette-free: the service mounts the route.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from vocab.contexts import ROSE_CONTEXT, ROSE_NS, rose_terms
from vocab.glossary import TERMS, Term


@dataclass(frozen=True)
class _Row:
    name: str
    iri: str
    kind: str
    range: str
    meaning: str
    nearest: tuple[tuple[str, str], ...]
    example: str


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("vocab", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )


def _iri(term: Term, definitions: dict[str, Any]) -> str:
    definition = definitions[term.name]
    compact = definition if isinstance(definition, str) else definition["@id"]
    return ROSE_NS + compact.removeprefix("rose:")


def render_ns_page(context_url: str = ROSE_CONTEXT) -> str:
    """``context_url`` is where this instance serves the JSON-LD (its own /ns)."""
    definitions = rose_terms()
    rows = [
        _Row(t.name, _iri(t, definitions), t.kind, t.range, t.meaning, t.nearest, t.example)
        for t in TERMS
    ]
    template = _environment().get_template("ns.html")
    return template.render(terms=rows, namespace=ROSE_NS, context_url=context_url)


def nodeinfo_metadata() -> dict[str, Any]:
    """To merge into NodeInfo ``metadata``: FEP-6481's shape,
    ``{"activitypub": {"extensions": [IRI, ...]}}``
    (https://codeberg.org/fediverse/fep/src/branch/main/fep/6481/fep-6481.md; the FEP is
    withdrawn in favour of FEP-9fde, but this is the shape peers that read it expect)."""
    return {"activitypub": {"extensions": [ROSE_CONTEXT]}}
