"""A lean HTTP/1.1 load generator: prepared request bytes over keep-alive connections.

httpx costs ~0.5 ms of client CPU a request (PERFORMANCE.md), which would make the
client, not the server, the thing measured. This sends prepared bytes on raw asyncio
streams and reads just the status line, headers and Content-Length body back.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class LoadResult:
    seconds: float
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


def http_request(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
            break
    if length:
        await reader.readexactly(length)
    return status


async def run_load(host: str, port: int, requests: Sequence[bytes], concurrency: int) -> LoadResult:
    """Send every request once, `concurrency` connections at a time; latency per request."""
    queue = iter(requests)
    result = LoadResult(0.0)

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            for payload in queue:
                started = time.perf_counter()
                writer.write(payload)
                status = await _read_response(reader)
                result.latencies.append(time.perf_counter() - started)
                result.statuses[status] += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    result.seconds = time.perf_counter() - started
    return result


async def wait_ready(url: str, process: subprocess.Popen[bytes], seconds: float = 30) -> None:
    """Until `url` answers at all (any status), or fail if the server process ended."""
    import httpx

    async with httpx.AsyncClient() as client:
        for _ in range(int(seconds / 0.05)):
            if process.poll() is not None:
                raise RuntimeError(f"server exited with {process.returncode}")
            try:
                await client.get(url)
                return
            except httpx.TransportError:
                await asyncio.sleep(0.05)
    raise RuntimeError(f"{url} never answered")
