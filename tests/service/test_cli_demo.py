"""`rose-cart` in a shell beside `make run`: the README's operator steps reach the demo's
cart (its database under data/cart and its peers) instead of a second, empty database."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from demo.launcher import services, write_demo_settings
from service.cli import main


def test_operators_add_and_peers_find_the_demo_cart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [n for n in os.environ if n.startswith("ROSE_CART_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    data = Path("data")
    write_demo_settings(data, services(data, 8000, 8001, 8002)[-1].env)
    runner = CliRunner()

    assert runner.invoke(main, ["init"]).exit_code == 0
    added = runner.invoke(
        main,
        ["operators", "add", "you@example.org", "--password-stdin"],
        input="a long operator password\n",
    )
    assert added.exit_code == 0, added.output
    assert "demo cart" in added.output
    assert (tmp_path / "data" / "cart" / "rose-cart.sqlite3").exists()
    assert not (tmp_path / "data" / "rose-cart.sqlite3").exists()  # no second database

    listed = runner.invoke(main, ["operators", "list"])
    assert "you@example.org" in listed.output
    peers = runner.invoke(main, ["peers"])
    assert peers.exit_code == 0, peers.output
    assert "http://127.0.0.1:8001/actor" in peers.output
    assert "http://127.0.0.1:8002/actor" in peers.output
