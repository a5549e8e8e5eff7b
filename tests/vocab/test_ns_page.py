"""The /ns page for people and the NodeInfo advertisement."""

from __future__ import annotations

from html.parser import HTMLParser

from vocab.glossary import TERMS
from vocab.ns_page import nodeinfo_metadata, render_ns_page


class _Rows(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "tr" and values.get("id"):
            self.ids.append(values["id"] or "")
        if tag == "a" and values.get("href"):
            self.links.append(values["href"] or "")


def test_the_page_documents_every_term_with_its_iri_and_nearest_standard_term() -> None:
    html = render_ns_page("https://cart.example/ns")
    rows = _Rows()
    rows.feed(html)
    assert rows.ids == [t.name for t in TERMS]
    assert "https://rose-ash.com/ns#orderedItem" in html
    assert "https://schema.org/Order" in rows.links
    assert any("fep-0837" in link for link in rows.links)
    assert 'href="https://cart.example/ns"' in html


def test_examples_are_escaped_not_injected() -> None:
    html = render_ns_page('https://cart.example/ns"><script>alert(1)</script>')
    assert "<script>" not in html
    assert "&#34;orderNumber&#34;" in html or "&quot;orderNumber&quot;" in html


def test_nodeinfo_metadata_advertises_the_extension_as_fep_6481_says() -> None:
    assert nodeinfo_metadata() == {"activitypub": {"extensions": ["https://rose-ash.com/ns"]}}
