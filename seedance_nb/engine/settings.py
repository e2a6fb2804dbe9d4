"""Which provider, key, endpoint and workdir a client uses, decided once at construction."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .. import catalog
from ..catalog import Provider
from ..errors import ConfigurationError
from .ledger_url import LedgerURL, ledger_location

if TYPE_CHECKING:  # httpx loads with the first client, not with %load_ext
    from .http import Secret

LEDGER_ENV = "SEEDANCE_LEDGER_URL"  # a team's ledger (postgresql://…); unset: the workdir's file
DEFAULT_WORKDIR = "seedance-output"  # visible: jupyter-server will not serve hidden folders
EMULATOR_KEY = "emulator-local-key"
_announced: set[str] = set()


@dataclass(frozen=True)
class Settings:
    provider: Provider
    api_key: Secret | None
    base_url: str
    emulated: bool
    route: str  # what the ledger dedupes on besides the request: provider@host
    workdir: Path
    ledger: Path | LedgerURL | None = None  # None: <workdir>/ledger.sqlite

    @property
    def ledger_at(self) -> Path | LedgerURL:
        """The ledger this client opens: a team's URL, or an SQLite file."""
        return self.ledger if self.ledger is not None else self.workdir / "ledger.sqlite"


def ledger_setting(ledger: str | Path | LedgerURL | None) -> Path | LedgerURL | None:
    """The ledger asked for: ``ledger=``, else ``SEEDANCE_LEDGER_URL``, else None (the
    workdir's own SQLite file). A URL is sealed at once so its password never prints."""
    if ledger is None or ledger == "":
        ledger = os.environ.get(LEDGER_ENV) or None
    return ledger_location(ledger) if ledger is not None else None


BUDGET_ENV = "SEEDANCE_BUDGET_USD"


def budget_value(value: float | str | None, where: str = "budget_usd") -> float | None:
    """A budget in US dollars (None: no budget); a bad one is refused before anything runs."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        usd = float(value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{where}={value!r} is not a number of US dollars") from None
    if not usd >= 0:  # also refuses NaN
        raise ConfigurationError(f"{where}={value!r}: a budget cannot be negative")
    return usd


def default_budget() -> float | None:
    """The budget of a client that names none: ``SEEDANCE_BUDGET_USD``, else no budget."""
    return budget_value(os.environ.get(BUDGET_ENV), BUDGET_ENV)


def default_workdir() -> Path:
    return Path(os.environ.get("SEEDANCE_WORKDIR") or DEFAULT_WORKDIR).expanduser().resolve()


def storage_setting(
    storage: str | None, options: dict[str, Any] | None
) -> tuple[str | None, dict[str, Any]]:
    """The object store for finished videos and its fsspec options: the arguments, else
    ``SEEDANCE_STORAGE`` and ``SEEDANCE_STORAGE_OPTIONS`` (a JSON object); none by default.
    Credentials are best left to the environment or an AWS profile, where s3fs finds them."""
    url = storage if storage is not None else os.environ.get("SEEDANCE_STORAGE") or None
    if options is None:
        text = os.environ.get("SEEDANCE_STORAGE_OPTIONS") or "{}"
        try:
            options = json.loads(text)
        except ValueError:
            options = None
        if not isinstance(options, dict):  # the text is never echoed: it may hold a secret
            raise ConfigurationError("SEEDANCE_STORAGE_OPTIONS must be a JSON object")
    return (url or None), dict(options)


def _env_key(provider: Provider) -> str | None:
    for name in provider.key_env:
        value = os.environ.get(name)
        if value:
            return value
    return None


@dataclass(frozen=True)
class ProviderChoice:
    """Which provider a client would use, told without side effects (no emulator started)."""

    provider: Provider
    emulated: bool  # the offline emulator stands in (no key and no base_url)
    route: str  # provider@host: what the ledger dedupes on besides the request


def _choose(
    provider: str | None, api_key: str | None, base_url: str | None
) -> tuple[Provider, str | None, bool]:
    """The provider spec, its key (if any) and whether the emulator stands in for it."""
    name = provider or os.environ.get("SEEDANCE_PROVIDER") or None
    if name is None:
        for candidate in catalog.AUTO_PROVIDER_ORDER:
            if _env_key(catalog.PROVIDERS[candidate]):
                name = candidate
                break
    if name is None:
        name = "emulator"
    if name not in catalog.PROVIDERS:
        raise ConfigurationError(
            f"unknown provider {name!r}; choose one of {', '.join(catalog.PROVIDER_NAMES)}"
        )
    spec = catalog.PROVIDERS[name]
    key = api_key if api_key is not None else _env_key(spec)
    emulated = name == "emulator" or (key is None and base_url is None)
    return spec, key, emulated


def _route(spec: Provider, emulated: bool, base_url: str | None) -> str:
    host = "emulator" if emulated else (urlsplit(base_url or spec.base_url).hostname or "")
    return f"{spec.name}@{host}"


def choose_provider(
    provider: str | None = None, api_key: str | None = None, base_url: str | None = None
) -> ProviderChoice:
    """What :func:`resolve` would pick, read from the arguments and the environment only, so a
    command that needs no provider (listing, validation, a refused request) starts nothing."""
    spec, _key, emulated = _choose(provider, api_key, base_url)
    return ProviderChoice(spec, emulated, _route(spec, emulated, base_url))


def workdir_path(workdir: str | Path | None) -> Path:
    """The absolute working directory: the one given, else :func:`default_workdir`."""
    return Path(workdir).expanduser().resolve() if workdir is not None else default_workdir()


def resolve(
    provider: str | None,
    api_key: str | None,
    base_url: str | None,
    workdir: str | Path | None,
    *,
    emulator_url: str | None = None,
    ledger: str | Path | LedgerURL | None = None,
) -> Settings:
    """Pick provider and key; fall back to the offline emulator when there is no key.

    Deciding only: when the emulator stands in (see :func:`choose_provider`) and no
    ``base_url`` is given, the caller passes the running emulator's root as ``emulator_url``
    (the engine starts it: ``runtime.AsyncClient``); this module never starts a server."""
    wd = workdir_path(workdir)
    where = ledger_setting(ledger)
    spec, key, emulated = _choose(provider, api_key, base_url)
    route = _route(spec, emulated, base_url)
    if emulated and base_url is None:
        if emulator_url is None:
            raise ConfigurationError(
                f"{spec.label} runs on the offline emulator here (no API key): start it and pass "
                "its URL as emulator_url"
            )
        base_url = emulator_url + spec.emulator_prefix
    if base_url is None:
        base_url = spec.base_url
    if emulated and key is None:
        key = EMULATOR_KEY
    if key is None:
        env = " or ".join(spec.key_env)
        raise ConfigurationError(f"{spec.label} needs an API key: pass api_key= or set {env}")
    from .http import Secret, check_base_url

    base_url = check_base_url(base_url, has_key=True)
    return Settings(spec, Secret(key), base_url, emulated, route, wd, where)


EMULATOR_NOTICE = (
    "offline emulator: videos are synthetic and free — set ARK_API_KEY or another "
    "provider's key for real ones"
)


def _print_notice(text: str) -> None:
    print(f"seedance-nb: {text}", file=sys.stderr)


_notifier: Callable[[str], None] = _print_notice


def set_notifier(callback: Callable[[str], None] | None) -> None:
    """Where one-time notices go: stderr by default; the Jupyter layer shows a muted line."""
    global _notifier
    _notifier = callback or _print_notice


def announce_emulator(spec: Provider) -> None:
    """Say once per process that the emulator stands in for a provider (information, not an
    error: the first hour on Binder has no key, and that is fine); called where it starts."""
    if _announced:
        return
    _announced.add(spec.name)
    _notifier(EMULATOR_NOTICE)
