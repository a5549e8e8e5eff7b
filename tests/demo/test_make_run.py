"""`make run`'s co-op as a newcomer meets it: three real processes on loopback."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.demo import DEMO_START, demo_env, eventually, start_demo

pytestmark = pytest.mark.slow


def port_closed(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_the_demo_co_op_federates_and_stops_cleanly(tmp_path: Path) -> None:
    launcher, ports = start_demo(
        tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    cart, market, calendar = ports.cart, ports.market, ports.calendar
    env = demo_env()
    shop = f"http://127.0.0.1:{cart}/"
    try:

        def catalogue_filled() -> bool:
            try:
                page = httpx.get(shop, timeout=5).text
            except httpx.TransportError:
                return False
            return "The Bakery" in page and "The Old School Hall" in page

        eventually(
            catalogue_filled,
            "the cart's catalogue shows the market's and the calendar's pages",
            seconds=DEMO_START,
        )
        assert "£3.50" in httpx.get(shop).text  # the sourdough loaf, before the change

        # A shopper puts the loaf in a cart, as the catalogue's form does.
        shopper = httpx.Client(base_url=shop, follow_redirects=True)
        catalogue = shopper.get("/").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', catalogue).group(1)  # type: ignore[union-attr]
        loaf = re.search(r'name="item" value="([^"]+/sourdough)"', catalogue).group(1)  # type: ignore[union-attr]
        added = shopper.post(
            "/cart/lines", data={"csrf_token": token, "item": loaf, "quantity": "2"}
        )
        assert added.status_code == 200 and "£7.00" in shopper.get("/cart").text

        changed = subprocess.run(
            [
                sys.executable,
                "-m",
                "demo",
                "market",
                "--data-dir",
                str(tmp_path / "market"),
                "set-price",
                "sourdough",
                "9.87",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert changed.returncode == 0, changed.stdout + changed.stderr
        eventually(lambda: "£9.87" in httpx.get(shop).text, "the new price reaches the shop")
        open_cart = shopper.get("/cart").text
        assert "Price changed" in open_cart
        assert '<span class="visually-hidden">was </span>£3.50' in open_cart
        assert '<span class="visually-hidden">now </span>£9.87' in open_cart
    finally:
        launcher.send_signal(signal.SIGINT)
        output, _ = launcher.communicate(timeout=60)
    assert "The co-op is running" in output
    assert "-> all stopped" in output
    for port in (cart, market, calendar):
        assert port_closed(port), f"something still listens on {port}"
