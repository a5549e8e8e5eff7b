"""bench/vocab measures both paths only if its "slow" documents really need JSON-LD.

Its slow copies had become fast ones: the fast path learnt to fold a plain extra term
(Mastodon's "toot"), and the bench stopped at its own assertion. Each slow copy must
leave the fast path and still read the same.
"""

from __future__ import annotations

import json

import pytest

from bench.vocab import _documents, _slow
from vocab.parse import parse, takes_fast_path


@pytest.mark.parametrize("name", list(_documents()))
def test_each_slow_copy_takes_the_json_ld_path_and_reads_the_same(name: str) -> None:
    document = _documents()[name]
    fast, slow = json.dumps(document).encode(), json.dumps(_slow(document)).encode()
    assert takes_fast_path(fast)
    assert not takes_fast_path(slow)
    assert parse(slow) == parse(fast)
