"""Settings: named as docs/design.md's contract says, documented, secrets hidden."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from service.settings import Peer, Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_is_documented_in_the_readme() -> None:
    text = README.read_text()
    missing = [name for name in Settings.model_fields if f"ROSE_CART_{name.upper()}" not in text]
    assert missing == [], f"document these in README.md: {missing}"


def test_the_readme_documents_no_setting_that_does_not_exist() -> None:
    documented = set(re.findall(r"`ROSE_CART_([A-Z_]+)`", README.read_text()))
    known = {name.upper() for name in Settings.model_fields} | {"TEST_POSTGRES_URL"}
    assert documented - known == set()


def test_the_contract_names_of_design_md_exist() -> None:
    contract = {
        "BASE_URL",
        "USERNAME",
        "DATABASE_URL",
        "DATA_DIR",
        "SECRET_KEY",
        "PEERS",
        "ALLOW_PRIVATE_ADDRESSES",
        "SUMUP_API_KEY",
        "SUMUP_MERCHANT_CODE",
        "SUMUP_API_URL",
        "WORKERS",
    }
    assert contract <= {name.upper() for name in Settings.model_fields}


def test_secrets_never_show_in_a_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROSE_CART_SECRET_KEY", "super-secret-value")
    monkeypatch.setenv("ROSE_CART_SUMUP_API_KEY", "sup_sk_live_value")
    text = repr(Settings()) + str(Settings().model_dump())
    assert "super-secret-value" not in text and "sup_sk_live_value" not in text


def test_peers_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "ROSE_CART_PEERS", "market=https://market.example/actor, calendar=https://cal.example/actor"
    )
    assert Settings().peers == (
        Peer("market", "https://market.example/actor"),
        Peer("calendar", "https://cal.example/actor"),
    )


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("ROSE_CART_PEERS", "shop=https://x.example/actor", "role=actor-iri"),
        ("ROSE_CART_PEERS", "market=ftp://x.example/actor", "http(s)"),
        ("ROSE_CART_BASE_URL", "cart.example", "http(s) origin"),
        ("ROSE_CART_BASE_URL", "https://cart.example/shop", "no path"),
        ("ROSE_CART_USERNAME", "a b", "USERNAME"),
    ],
)
def test_bad_settings_say_what_is_wrong(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, says: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=re.escape(says)):
        Settings()


def test_the_secret_file_is_created_private_once(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.ensure_secret() is True
    assert settings.ensure_secret() is False
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert len(settings.secret()) >= 40
