"""What an attacker would try: forged forms, forged or stolen cookies, other carts, markup."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette

from cart.identity.sessions import COOKIE_NAME
from tests.cart.web_support import (
    add,
    line_ids,
    login,
    logout,
    new_client,
    post_form,
    register,
    seed,
    session_cookie,
    token,
)
from tests.support.factories import product


async def test_the_session_cookie_is_httponly_samesite_lax_and_secure_under_https(
    web_client: httpx.AsyncClient,
) -> None:
    response = await web_client.get("/")
    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith(COOKIE_NAME + "=")
    assert (
        "httponly" in cookie
        and "samesite=lax" in cookie
        and "secure" in cookie
        and "path=/" in cookie
    )
    again = await web_client.get("/")
    assert "set-cookie" not in again.headers  # an unchanged session is not re-sent


async def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(
    web_app: Starlette, web_client: httpx.AsyncClient
) -> None:
    (loaf,) = await seed(web_app, product(1, name="Loaf"))
    await web_client.get("/")
    for fields in ({}, {"csrf_token": ""}, {"csrf_token": "forged"}):
        response = await web_client.post(
            "/cart/lines", data={"item": loaf, "quantity": "1", **fields}
        )
        assert response.status_code == 403
        assert (
            "This form could not be accepted" in response.text
            and "Nothing was changed" in response.text
        )
    assert "Your cart is empty." in (await web_client.get("/cart")).text


async def test_a_csrf_from_another_session_is_refused(
    web_app: Starlette, web_client: httpx.AsyncClient
) -> None:
    (loaf,) = await seed(web_app, product(1, name="Loaf"))
    async with new_client(web_app) as attacker:
        stolen = await token(attacker)
    await web_client.get("/")
    response = await web_client.post(
        "/cart/lines", data={"item": loaf, "quantity": "1", "csrf_token": stolen}
    )
    assert response.status_code == 403
    assert "Your cart is empty." in (await web_client.get("/cart")).text


async def test_every_form_action_checks_the_token(
    web_app: Starlette, web_client: httpx.AsyncClient
) -> None:
    (loaf,) = await seed(web_app, product(1))
    await add(web_client, loaf)
    (line,) = line_ids((await web_client.get("/cart")).text)
    paths = [
        "/cart/lines",
        f"/cart/lines/{line}/quantity",
        f"/cart/lines/{line}/remove",
        f"/cart/lines/{line}/accept-price",
        "/cart/page/x/checkout",
        "/register",
        "/register/finish/x",
        "/login",
        "/logout",
    ]
    for path in paths:
        response = await web_client.post(
            path, data={"quantity": "0", "email": "a@b.org", "password": "x" * 12}
        )
        assert response.status_code == 403, path
    assert line_ids((await web_client.get("/cart")).text) == [line]


async def test_a_tampered_cookie_starts_a_fresh_anonymous_session(
    web_app: Starlette, web_client: httpx.AsyncClient
) -> None:
    (loaf,) = await seed(web_app, product(1, name="Loaf"))
    await add(web_client, loaf)
    original = session_cookie(web_client)
    assert original
    payload, _, signature = original.rpartition(".")
    for forged in (
        original[:-2] + ("AA" if not original.endswith("AA") else "BB"),
        "garbage",
        payload + ".",
        "",
    ):
        web_client.cookies.set(COOKIE_NAME, forged, domain="cart.test")
        response = await web_client.get("/cart")
        assert response.status_code == 200
        assert "Your cart is empty." in response.text
        assert session_cookie(web_client) not in (forged, original)  # a new one was issued


async def test_another_shoppers_line_ids_answer_404_and_change_nothing(web_app: Starlette) -> None:
    (loaf,) = await seed(web_app, product(1, name="Loaf"))
    async with new_client(web_app) as alice, new_client(web_app) as mallory:
        await add(alice, loaf, 2)
        (line,) = line_ids((await alice.get("/cart")).text)
        for action, fields in (
            ("quantity", {"quantity": "7"}),
            ("remove", {}),
            ("accept-price", {}),
        ):
            response = await post_form(
                mallory, f"/cart/lines/{line}/{action}", {"next": "/cart", **fields}
            )
            assert response.status_code == 404, action
            assert "That item is not in your cart." in response.text
        page = (await alice.get("/cart")).text
        assert line_ids(page) == [line] and 'name="quantity" value="2"' in page


async def test_markup_in_names_from_peers_is_shown_as_text(
    web_app: Starlette, web_client: httpx.AsyncClient
) -> None:
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    (loaf,) = await seed(web_app, product(1, name=evil))
    await add(web_client, loaf)
    for path in ("/", "/cart"):
        page = (await web_client.get(path)).text
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page


async def test_login_rotates_the_session_id_and_the_old_cookie_stays_anonymous(
    web_app: Starlette,
) -> None:
    (loaf,) = await seed(web_app, product(1, name="Loaf"))
    async with new_client(web_app) as setup:
        await register(setup, "ada@example.org")
    async with new_client(web_app) as browser:
        await add(browser, loaf)
        before = session_cookie(browser)
        before_token = await token(browser)
        await login(browser)
        after = session_cookie(browser)
        assert after and after != before
        assert await token(browser) != before_token
        async with new_client(web_app) as fixated:  # an attacker who planted `before`
            fixated.cookies.set(COOKIE_NAME, before or "", domain="cart.test")
            page = (await fixated.get("/cart")).text
            assert "Logged in as" not in page and "Your cart is empty." in page


async def test_logout_revokes_the_session_even_for_a_copied_cookie(web_app: Starlette) -> None:
    async with new_client(web_app) as browser:
        await register(browser)
        logged_in = session_cookie(browser)
        assert "Logged in as ada@example.org" in (await browser.get("/")).text
        response = await logout(browser)
        assert response.status_code == 303
        page = (await browser.get("/")).text
        assert "You have logged out." in page and "Logged in as" not in page
    async with new_client(web_app) as thief:
        thief.cookies.set(COOKIE_NAME, logged_in or "", domain="cart.test")
        assert "Logged in as" not in (await thief.get("/")).text


async def test_the_csrf_failure_page_is_a_clear_html_page(web_client: httpx.AsyncClient) -> None:
    response = await web_client.post("/logout", data={})
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "reload the page and try again" in response.text
    # A browser without a session gets one, so going back and reloading then works.
    assert response.headers["set-cookie"].startswith(COOKIE_NAME + "=")
