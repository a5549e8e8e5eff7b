"""The actor's avatar: a small PNG made here, so every instance has one without a file.

Servers show an `icon` beside the actor's name and some lay out a profile badly without
one; Mastodon and most others take PNG (not SVG). A rose disc on white, 96 pixels,
drawn once per process with the standard library's zlib.
"""

from __future__ import annotations

import struct
import zlib
from functools import cache

SIZE = 96
ROSE = (0xC2, 0x18, 0x5B)
WHITE = (0xFF, 0xFF, 0xFF)
MEDIA_TYPE = "image/png"


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


@cache
def icon_png() -> bytes:
    centre, radius = (SIZE - 1) / 2, SIZE * 0.42
    rows = []
    for y in range(SIZE):
        row = bytearray(b"\x00")  # filter type: none
        for x in range(SIZE):
            inside = (x - centre) ** 2 + (y - centre) ** 2 <= radius**2
            row.extend(ROSE if inside else WHITE)
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", SIZE, SIZE, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + _chunk(b"IEND", b"")
    )
