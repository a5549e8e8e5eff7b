"""The one test clock: a `now` callable the test moves instead of waiting for time to pass.

Code that reads the time takes a `clock: Callable[[], datetime]` (docs/design.md); tests
pass a `Clock` and `advance()` it past a lease, a backoff or an expiry. Code that measures
elapsed time takes a `monotonic: Callable[[], float]`: tests pass `clock.monotonic`, which
moves with the same `advance()`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

START = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


class Clock:
    def __init__(self, start: datetime | None = None) -> None:
        self.now = self.start = start or START

    @classmethod
    def from_wall_time(cls) -> Clock:
        """Starting at the real time, for code that also compares with wall-clock times."""
        return cls(datetime.now(UTC).replace(microsecond=0))

    def __call__(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        """Seconds since the clock's start, for code that takes a monotonic clock."""
        return (self.now - self.start).total_seconds()

    def advance(self, delta: timedelta) -> None:
        self.now += delta
