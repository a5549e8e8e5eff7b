"""The command line as an operator uses it: real processes, a real port."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization

from tests.support.loopback import free_port

ROSE_CART = [sys.executable, "-m", "service"]


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROSE_CART_")}
    env.update({"ROSE_CART_DATA_DIR": str(tmp_path / "data"), **extra})
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ROSE_CART, *args], env=env, capture_output=True, text=True, timeout=60)


def test_init_creates_everything_once_and_says_what_it_did(tmp_path: Path) -> None:
    env = environment(tmp_path)
    first = run(["init"], env)
    assert first.returncode == 0, first.stderr
    assert "created secret" in first.stdout and "created (RSA-2048, Ed25519)" in first.stdout
    second = run(["init"], env)
    assert second.returncode == 0
    assert "created" not in second.stdout and "present" in second.stdout
    assert (tmp_path / "data" / "secret_key").stat().st_mode & 0o777 == 0o600


def test_a_bad_setting_stops_the_cli_with_the_variable_named(tmp_path: Path) -> None:
    result = run(["init"], environment(tmp_path, ROSE_CART_BASE_URL="not-a-url"))
    assert result.returncode == 2
    assert "ROSE_CART_BASE_URL" in result.stderr


@pytest.mark.slow
def test_serve_answers_discovery_over_http_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = environment(tmp_path, ROSE_CART_BASE_URL=base)
    assert run(["init"], env).returncode == 0
    server = subprocess.Popen(
        [*ROSE_CART, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, server.communicate()[1]
            assert time.monotonic() < deadline, "serve did not become ready in 30 s"
            time.sleep(0.1)
        jrd = httpx.get(
            f"{base}/.well-known/webfinger", params={"resource": f"acct:cart@127.0.0.1:{port}"}
        )
        self_link = next(link["href"] for link in jrd.json()["links"] if link["rel"] == "self")
        actor = httpx.get(self_link, headers={"Accept": "application/activity+json"}).json()
        serialization.load_pem_public_key(actor["publicKey"]["publicKeyPem"].encode())
        page = httpx.get(self_link, headers={"Accept": "text/html"})
        assert page.headers["content-type"].startswith("text/html")
        # The server wakes once a second (service/server.py), and its Date moves with it.
        first, moved_by = page.headers["date"], time.monotonic() + 30
        while httpx.get(f"{base}/readyz").headers["date"] == first:
            assert time.monotonic() < moved_by, "the Date header never moved"
            time.sleep(0.1)
    finally:
        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=30)
    # uvicorn finishes its shutdown, then re-raises the signal so supervisors see it
    assert server.returncode in (0, -signal.SIGTERM), err
    assert "Application shutdown complete" in err
    secret = (tmp_path / "data" / "secret_key").read_text()
    assert secret not in out + err
    assert "PRIVATE KEY" not in out + err
