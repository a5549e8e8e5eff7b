"""The actor's avatar: a small PNG made here, so every instance has one without a file.

Servers show an `icon` beside the actor's name and some lay out a profile badly without
one; Mastodon and most others take PNG (not SVG). A rose disc on white, 96 pixels,
drawn once per process with the standard library's zlib. `encode_png` is the encoder
(8-bit RGB, no filter), also used by the demo market for its product pictures.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable
from functools import cache

SIZE = 96
ROSE = (0xC2, 0x18, 0x5B)
WHITE = (0xFF, 0xFF, 0xFF)
MEDIA_TYPE = "image/png"


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def encode_png(width: int, height: int, rows: Iterable[bytes]) -> bytes:
    """A PNG of `height` rows of `width` RGB pixels (3 bytes each)."""
    raw = b"".join(b"\x00" + row for row in rows)  # filter type: none, on each row
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw, 9))
        + _chunk(b"IEND", b"")
    )


def disc(size: int, inside: tuple[int, int, int], outside: tuple[int, int, int]) -> list[bytes]:
    """Rows of a square with a disc in the middle (42 % of the side in radius)."""
    centre, radius = (size - 1) / 2, size * 0.42
    rows = []
    for y in range(size):
        row = bytearray()
        for x in range(size):
            within = (x - centre) ** 2 + (y - centre) ** 2 <= radius**2
            row.extend(inside if within else outside)
        rows.append(bytes(row))
    return rows


@cache
def icon_png() -> bytes:
    return encode_png(SIZE, SIZE, disc(SIZE, ROSE, WHITE))
