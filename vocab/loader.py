"""An offline pyld document loader.

Known context IRIs resolve to the bundled copies, tagged ``static`` so pyld caches
the processed context across calls (PERFORMANCE.md: without the tag `expand` costs
twice as much). Anything else resolves to an EMPTY context and is logged, once per
IRI per process (real servers name the same few, such as did/v1 or gotosocial.org/ns, in
every actor, and a sender making up IRIs must not flood the log): remote context loading
is an abuse vector and a latency trap, so nothing is ever fetched.
Pass it per call (``{"documentLoader": offline_loader}``); we never install it as
pyld's global default, so importing vocab changes nothing for anyone else.
"""

from __future__ import annotations

import logging
from typing import Any

from vocab.contexts import bundled_document, canonical_context_iri

log = logging.getLogger(__name__)
# Unknown context IRIs already reported at WARNING; past the cap, reports go to DEBUG.
_REPORTED: set[str] = set()
MAX_REPORTED = 256


def _report_unknown(url: Any) -> None:
    key = str(url)[:200]
    if key in _REPORTED or len(_REPORTED) >= MAX_REPORTED:
        log.debug("unknown JSON-LD context %.200r treated as empty (never fetched)", url)
        return
    _REPORTED.add(key)
    log.warning(
        "unknown JSON-LD context %.200r treated as empty (never fetched; not logged again)", url
    )


def offline_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    canonical = canonical_context_iri(url) if isinstance(url, str) else None
    if canonical is None:
        _report_unknown(url)
        # No 'static' tag: an attacker's made-up IRIs must not fill pyld's shared cache.
        return {
            "contentType": "application/ld+json",
            "contextUrl": None,
            "documentUrl": url,
            "document": {"@context": {}},
        }
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        "document": bundled_document(canonical),
        "tag": "static",
    }
