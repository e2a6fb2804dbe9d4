"""``config`` only decides; the engine starts the emulator (and says so once) when a client is made.

Starting a server is a side effect the settings layer must not have: a command that only needs
to know the provider (``config.choose_provider``) or a caller that resolves settings with its
own emulator must never spawn one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

import seedance_nb.emulator as emulator
from seedance_nb import catalog, errors
from seedance_nb.engine import settings as config
from seedance_nb.engine.client import AsyncClient

URL = "http://127.0.0.1:9"


@pytest.fixture
def no_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for spec in catalog.PROVIDERS.values():
        for name in spec.key_env:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("SEEDANCE_PROVIDER", raising=False)


@pytest.fixture
def starts(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every emulator start, recorded instead of spawning a server."""
    calls: list[Path] = []

    def fake(state_dir: Path) -> str:
        calls.append(Path(state_dir))
        return URL

    monkeypatch.setattr(emulator, "ensure_running", fake)
    return calls


@pytest.fixture
def notices(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    seen: list[str] = []
    monkeypatch.setattr(config, "_announced", set())
    monkeypatch.setattr(config, "_notifier", seen.append)  # the extension's comes back after
    yield seen


@pytest.mark.usefixtures("no_keys")
def test_resolve_uses_the_given_emulator_and_starts_none(
    tmp_path: Path, starts: list[Path], notices: list[str]
) -> None:
    settings = config.resolve("ark", None, None, tmp_path, emulator_url=URL)
    assert settings.emulated and settings.base_url == URL + catalog.PROVIDERS["ark"].emulator_prefix
    assert settings.workdir == tmp_path.resolve()
    assert starts == [] and notices == []
    with pytest.raises(errors.ConfigurationError, match="emulator"):
        config.resolve(None, None, None, tmp_path)
    assert starts == [] and notices == []


@pytest.mark.usefixtures("no_keys")
def test_a_keyless_client_starts_the_emulator_in_its_workdir_and_says_so_once(
    tmp_path: Path, starts: list[Path], notices: list[str]
) -> None:
    async def make_two() -> list[str]:
        urls = []
        for _ in range(2):
            client = AsyncClient(workdir=tmp_path)
            urls.append(client.base_url)
            await client.aclose()
        return urls

    urls = asyncio.run(make_two())
    prefix = catalog.PROVIDERS["emulator"].emulator_prefix
    assert urls == [URL + prefix, URL + prefix]
    assert starts == [tmp_path.resolve() / "emulator"] * 2
    assert notices == [config.EMULATOR_NOTICE]


@pytest.mark.usefixtures("no_keys")
def test_a_client_with_a_key_or_base_url_starts_nothing(
    tmp_path: Path, starts: list[Path], notices: list[str]
) -> None:
    async def make() -> tuple[str, bool]:
        client = AsyncClient("ark", api_key="k", workdir=tmp_path)
        try:
            return client.base_url, client.emulated
        finally:
            await client.aclose()

    assert asyncio.run(make()) == (catalog.PROVIDERS["ark"].base_url, False)
    assert starts == [] and notices == []
