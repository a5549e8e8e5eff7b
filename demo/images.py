"""Product pictures drawn here as SVG, so the demo downloads nothing and needs no files."""

from __future__ import annotations

from xml.sax.saxutils import escape

SIZE = 160


def initials(name: str) -> str:
    words = [w for w in name.replace("(", " ").split() if w[:1].isalpha()]
    return "".join(w[0].upper() for w in words[:2]) or "?"


def product_svg(name: str, colour: str) -> str:
    """A square tile in the product's colour with its initials: cheap, and tells items apart."""
    label = escape(initials(name))
    title = escape(name)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{SIZE}" height="{SIZE}" '
        f'viewBox="0 0 {SIZE} {SIZE}" role="img" aria-label="{title}">'
        f"<title>{title}</title>"
        f'<rect width="{SIZE}" height="{SIZE}" rx="24" fill="{escape(colour)}"/>'
        f'<circle cx="{SIZE // 2}" cy="{SIZE // 2}" r="{SIZE // 3}" '
        'fill="#ffffff" fill-opacity="0.25"/>'
        f'<text x="50%" y="50%" dominant-baseline="central" text-anchor="middle" '
        f'font-family="sans-serif" font-size="56" fill="#ffffff">{label}</text>'
        "</svg>"
    )
