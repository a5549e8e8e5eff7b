"""HTTP content negotiation (RFC 9110 section 12.5.1), just as much as discovery needs."""

from __future__ import annotations

from dataclasses import dataclass

AS2 = "application/activity+json"
LD_JSON = "application/ld+json"
AS2_PROFILE = "https://www.w3.org/ns/activitystreams"
HTML = "text/html"
JRD = "application/jrd+json"
JSON = "application/json"


@dataclass(frozen=True)
class MediaRange:
    type: str
    subtype: str
    params: dict[str, str]
    q: float

    def matches(self, media_type: str) -> bool:
        main, _, sub = media_type.partition("/")
        return self.type in ("*", main) and self.subtype in ("*", sub)

    @property
    def specificity(self) -> int:
        return (self.type != "*") + (self.subtype != "*") + bool(self.params)


def parse_accept(header: str | None) -> list[MediaRange]:
    """Media ranges in the header; a missing or empty header accepts everything."""
    if not header or not header.strip():
        return [MediaRange("*", "*", {}, 1.0)]
    ranges = []
    for part in header.split(","):
        pieces = [p.strip() for p in part.split(";")]
        media = pieces[0].lower()
        if "/" not in media:
            continue
        main, _, sub = media.partition("/")
        params: dict[str, str] = {}
        q = 1.0
        for piece in pieces[1:]:
            name, _, value = piece.partition("=")
            name, value = name.strip().lower(), value.strip().strip('"')
            if name == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 0.0
            elif name:
                params[name] = value
        ranges.append(MediaRange(main, sub, params, q))
    return ranges


def _quality(ranges: list[MediaRange], media_type: str, profile: str | None) -> tuple[float, int]:
    best: MediaRange | None = None
    for media_range in ranges:
        if not media_range.matches(media_type):
            continue
        wanted = media_range.params.get("profile")
        if wanted is not None and profile is not None and profile not in wanted.split():
            continue
        if best is None or media_range.specificity > best.specificity:
            best = media_range
    return (best.q, best.specificity) if best else (0.0, 0)


def choose(header: str | None, offers: list[tuple[str, str | None]]) -> str | None:
    """The offered media type the client prefers, or None when it accepts none of them.

    Offers are (media type, profile). A higher q wins; at equal q, the offer named more
    specifically (``application/activity+json`` over ``*/*``); then our order.
    """
    ranges = parse_accept(header)
    best, best_rank = None, (0.0, 0)
    for media_type, profile in offers:
        rank = _quality(ranges, media_type, profile)
        if rank[0] > 0 and rank > best_rank:
            best, best_rank = media_type, rank
    return best


def wants_activity_json(header: str | None) -> str | None:
    """AS2 JSON or an HTML page for an actor or object IRI: 'as2', 'html' or None.

    Plain application/json gets the AS2 document too (it is JSON; clients and servers
    that know no AS2 media type ask that way)."""
    chosen = choose(header, [(HTML, None), (AS2, None), (LD_JSON, AS2_PROFILE), (JSON, None)])
    if chosen is None:
        return None
    return "html" if chosen == HTML else "as2"
