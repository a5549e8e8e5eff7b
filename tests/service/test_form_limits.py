"""Forms are read within limits and decoded as Starlette decodes them (cart.web.visit).

Every form of the shop is URL-encoded and read by `read_form`: at most 64 KiB (413
otherwise, before or while the body arrives) and 50 fields (400), each a 4xx that changes
nothing. The standard library parses it; the names and values must come out exactly as
Starlette's own form parser gives them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.requests import Request

from cart.web.visit import MAX_FORM_BYTES, MAX_FORM_FIELDS, read_form
from tests.cart.web_support import csrf_token
from tests.support.inbox_peers import Served
from tests.support.state import snapshot

TRICKY = b"a=Zo%C3%AB+Smith&b=&c&d=%FF%FE&e=x%2By+z&a=2&%C3%A9t%C3%A9=%E2%82%AC&f=%zz&g=1%&&h=;i"


def _request(body: bytes) -> Request:
    sent = False

    async def receive() -> dict[str, object]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    headers = [
        (b"content-type", b"application/x-www-form-urlencoded; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
    ]
    return Request({"type": "http", "method": "POST", "headers": headers}, receive)


async def test_a_form_reads_as_starlettes_own_parser_reads_it() -> None:
    ours = await read_form(_request(TRICKY))
    theirs = await _request(TRICKY).form()
    assert ours.multi_items() == theirs.multi_items()
    assert ours.getlist("a") == ["Zoë Smith", "2"] and ours["été"] == "€"


@pytest.fixture
def over_the_network() -> bool:
    return True


async def _chunks(size: int) -> AsyncIterator[bytes]:
    yield b"csrf_token=x&email="
    for _ in range(size // 4096 + 1):
        yield b"a" * 4096


@pytest.mark.parametrize("chunked", [False, True], ids=["declared", "chunked"])
async def test_a_form_over_the_size_is_a_413_that_changes_nothing(
    served: Served, browser: httpx.AsyncClient, chunked: bool
) -> None:
    token = csrf_token((await browser.get("/login")).text)
    before = await snapshot(served.db)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if chunked:
        answer = await browser.post("/register", content=_chunks(MAX_FORM_BYTES), headers=headers)
    else:
        body = f"csrf_token={token}&email=" + "a" * MAX_FORM_BYTES
        answer = await browser.post("/register", content=body.encode(), headers=headers)
    assert answer.status_code == 413, answer.text
    assert "larger than any of this shop" in answer.text
    assert await snapshot(served.db) == before


async def test_empty_segments_and_a_trailing_separator_are_not_fields() -> None:
    body = b"&".join(b"f%d=x" % i for i in range(MAX_FORM_FIELDS)) + b"&&"
    assert len((await read_form(_request(body))).multi_items()) == MAX_FORM_FIELDS


async def test_a_form_with_too_many_fields_is_a_400_that_changes_nothing(
    served: Served, browser: httpx.AsyncClient
) -> None:
    token = csrf_token((await browser.get("/login")).text)
    before = await snapshot(served.db)
    fields = {"csrf_token": token, **{f"f{i}": "x" for i in range(MAX_FORM_FIELDS)}}
    answer = await browser.post("/register", data=fields)
    assert answer.status_code == 400, answer.text
    assert "too many fields" in answer.text
    assert await snapshot(served.db) == before


async def test_a_multipart_form_must_declare_its_length(
    served: Served, browser: httpx.AsyncClient
) -> None:
    # Starlette's multipart parser bounds each part, not the whole body: chunked, a
    # multipart form is refused before it is read.
    token = csrf_token((await browser.get("/login")).text)
    before = await snapshot(served.db)

    async def body() -> AsyncIterator[bytes]:
        yield b'--b\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
        yield token.encode() + b"\r\n--b--\r\n"

    answer = await browser.post(
        "/register",
        content=body(),
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    )
    assert answer.status_code == 411, answer.text
    assert await snapshot(served.db) == before
    # The same form with its length declared is read as any form is.
    whole = b"".join([part async for part in body()]).replace(
        b"--b--",
        b'--b\r\nContent-Disposition: form-data; name="email"\r\n\r\nmp@example.org\r\n--b--',
    )
    answer = await browser.post(
        "/register", content=whole, headers={"Content-Type": "multipart/form-data; boundary=b"}
    )
    assert answer.status_code == 303, answer.text
