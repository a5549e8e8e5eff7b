"""Product pictures drawn here as PNG, so the demo downloads nothing and needs no files.

A square in the product's colour with a paler disc: cheap, tells items apart, and is a
real raster picture (the cart takes PNG, JPEG, WebP and GIF, never SVG). Its alt text
says what it is, a stand-in, rather than pretending to be a photograph.
"""

from __future__ import annotations

import colorsys
from functools import cache

from actor.icon import disc, encode_png

SIZE = 160
MEDIA_TYPE = "image/png"


def _rgb(colour: str) -> tuple[int, int, int]:
    value = int(colour.lstrip("#"), 16)
    return (value >> 16) & 0xFF, (value >> 8) & 0xFF, value & 0xFF


def colour_word(colour: str) -> str:
    """A plain name for a #rrggbb colour, for alt text."""
    hue, saturation, value = colorsys.rgb_to_hsv(*(c / 255 for c in _rgb(colour)))
    degrees = hue * 360
    if saturation < 0.2:
        return "grey"
    if 15 <= degrees < 45 and value < 0.75:
        return "brown"
    for limit, word in ((15, "red"), (45, "orange"), (70, "yellow"), (170, "green")):
        if degrees < limit:
            return word
    return "blue" if degrees < 260 else "purple" if degrees < 340 else "red"


@cache
def product_png(colour: str) -> bytes:
    base = _rgb(colour)
    pale = tuple(round(c + (255 - c) * 0.35) for c in base)
    return encode_png(SIZE, SIZE, disc(SIZE, pale, base))  # type: ignore[arg-type]


def alt_text(name: str, colour: str) -> str:
    return f"A {colour_word(colour)} square with a paler disc, standing in for a photo of {name}"
