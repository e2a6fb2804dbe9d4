"""Where the ledger lives: a file path, or a PostgreSQL URL sealed so its password never prints.

A team ledger's URL carries a password (``postgresql://alice:s3cret@db/team``). It is held in a
:class:`LedgerURL`, whose repr, str and every message built from it show the password as
``***``; only the ledger's connect call reads it back (:meth:`LedgerURL.reveal`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from ..errors import ConfigurationError

SCHEMES = ("postgresql", "postgres")
_SECRET_PARAMS = ("password", "sslpassword")
MASK = "***"


class LedgerURL:
    """A PostgreSQL ledger URL that prints with its password masked."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        parts = urlsplit(value)
        if parts.scheme not in SCHEMES:
            raise ConfigurationError(
                f"unsupported ledger URL {mask_url(value)!r}: use postgresql://… for a team "
                "ledger, or a file path for SQLite"
            )
        self._value = value

    def reveal(self) -> str:
        """The URL as given, password included: for the connect call only."""
        return self._value

    @property
    def masked(self) -> str:
        return mask_url(self._value)

    @property
    def secrets(self) -> list[str]:
        """The password(s) it carries, as written and decoded (what must never be shown)."""
        found: list[str] = []
        parts = urlsplit(self._value)
        raw = parts.netloc.rpartition("@")[0].partition(":")[2] if "@" in parts.netloc else ""
        found += [raw, unquote(raw)]
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            if key in _SECRET_PARAMS:
                found += [value, quote(value, safe="")]
        return [s for s in dict.fromkeys(found) if s]

    def scrub(self, text: str) -> str:
        """``text`` with every form of the password replaced by ``***``."""
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, MASK)
        return text

    def __repr__(self) -> str:
        return f"LedgerURL({self.masked!r})"

    def __str__(self) -> str:
        return self.masked

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LedgerURL) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("LedgerURL", self._value))

    def __reduce__(self) -> Any:
        raise TypeError("a ledger URL is not picklable (it may carry a password)")


def mask_url(url: str) -> str:
    """``url`` with the password in its user part and its query replaced by ``***``."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        user, _, host = netloc.rpartition("@")
        name, colon, _password = user.partition(":")
        netloc = f"{name}{':' + MASK if colon else ''}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, MASK if k in _SECRET_PARAMS else v) for k, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def is_url(value: str | Path | LedgerURL) -> bool:
    return isinstance(value, LedgerURL) or (isinstance(value, str) and "://" in value)


def ledger_location(value: str | Path | LedgerURL) -> Path | LedgerURL:
    """A ledger setting as a file path or a sealed URL (refusing URLs of other schemes)."""
    if isinstance(value, LedgerURL):
        return value
    if is_url(value):
        return LedgerURL(str(value))
    return Path(value).expanduser().resolve()
