"""A sender over its rate is told when to come back, and nothing it sent over the rate is kept."""

from __future__ import annotations

import pytest

from tests.inbox.test_receive import PROBLEM, stored
from tests.support.inbox_peers import Served
from tests.support.peers import RemotePeer


@pytest.fixture
def inbox_settings_extra() -> dict[str, object]:
    # one token per 100 s: the test does not depend on how fast the machine is
    return {"inbox_rate_limit": 0.01, "inbox_burst": 3}


async def test_a_sender_over_its_rate_is_refused_429_with_retry_after(
    served: Served, stranger: RemotePeer
) -> None:
    # Time stands still for the limiter: the bucket refills by the clock, not by how fast
    # this machine happens to sign and send four deliveries.
    served.app.state.inbox_receiver.limiter.clock = lambda: 1000.0
    answers = [
        await stranger.deliver(
            served.inbox, stranger.activity("Follow", f"{served.base_url}/actor")
        )
        for _ in range(4)
    ]
    assert [a.status_code for a in answers] == [202, 202, 202, 429]
    assert int(answers[3].headers["retry-after"]) >= 1
    assert answers[3].headers["content-type"] == PROBLEM
    assert len(await stored(served)) == 3
