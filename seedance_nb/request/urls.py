"""What no server could use in a URL, an asset:// id or a data: URL, said before money is spent.

Whitespace or control characters, an unclosed IPv6 bracket, no host, a bad port: each has a
short reason that ``build_request`` (and the callback check) puts in its message.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from urllib.parse import urlsplit

from ..errors import InvalidRequest

URL_ALLOWED = (
    "an http(s) URL with a host and no whitespace or control characters "
    "(percent-encode them: a space is %20)"
)
ASSET_ALLOWED = "asset://<id> as Ark's asset library shows it, e.g. asset://asset-20260222-abcde"
_WHITESPACE_NAMES = {" ": "a space", "\n": "a line break", "\r": "a line break", "\t": "a tab"}
_HOST_CHARS = re.compile(r"^[A-Za-z0-9._-]+$")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def refuse_url(field: str, text: str, problem: str | None, allowed: str) -> None:
    """Raise the refusal for a URL-like value that ``problem`` says no server could use."""
    if problem is None:
        return
    shown = text if not text.lower().startswith("data:") or len(text) <= 60 else text[:40] + "…"
    message = f"{field}={shown!r} is not a URL a server can fetch: {problem}. Allowed: {allowed}."
    raise InvalidRequest(message, field=field, value=text, allowed=allowed)


def char_problem(text: str) -> str | None:
    """The first whitespace, control or invisible character in ``text``, said where it is.

    A URL never contains them raw: a pasted line break or an unencoded space reaches the
    provider's fetcher as a broken request line, and it fails the task (or the create)."""
    for i, ch in enumerate(text):
        if ch.isspace():
            name = _WHITESPACE_NAMES.get(ch, f"whitespace {ch!r}")
        elif unicodedata.category(ch) in ("Cc", "Cs"):
            name = f"the control character {ch!r}"
        elif unicodedata.category(ch) == "Cf":
            name = f"the invisible character {ch!r}"
        else:
            continue
        return f"it contains {name} after {text[max(0, i - 24) : i]!r}"
    return None


def url_problem(url: str) -> str | None:
    """Why no server could fetch this http(s) URL, or None when it is well formed.

    Checked: no whitespace or control characters anywhere, ``urlsplit`` parses it (an
    unclosed IPv6 bracket does not), the scheme is http or https, there is a host, an IPv6
    host is bracketed and valid, a DNS name has no empty labels or stray characters, the
    port is 1-65535, and every ``%`` in the path starts an escape."""
    found = char_problem(url)
    if found:
        return found
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        hint = " (an IPv6 host is written https://[2001:db8::1]/…)" if "IPv6" in str(exc) else ""
        return f"it cannot be parsed: {exc}{hint}"
    if parts.scheme.lower() not in ("http", "https"):
        return f"the scheme is {parts.scheme or 'missing'!r}, not http:// or https://"
    if not url[len(parts.scheme) :].startswith("://"):
        return "it has no host: http(s) URLs start with http:// or https:// and a server name"
    problem = _netloc_problem(parts.netloc)
    if problem:
        return problem
    if _BAD_ESCAPE.search(parts.path):  # servers refuse it there; a query is the app's business
        return "its path has a % that starts no escape like %20 (write a literal % as %25)"
    return None


def _netloc_problem(netloc: str) -> str | None:
    hostport = netloc.rpartition("@")[2]
    if not hostport:
        return "it has no host after the scheme (e.g. https://cdn.example.com/…)"
    if hostport.startswith("["):
        end = hostport.find("]")
        host, rest = hostport[1:end], hostport[end + 1 :]
        try:
            ipaddress.IPv6Address(host.replace("%25", "%"))
        except ValueError:
            return f"[{host}] is not an IPv6 address"
        if rest and not rest.startswith(":"):
            return f"{rest!r} comes after the ] of the IPv6 host, where only :port may"
        return _port_problem(rest[1:])
    host, colon, port = hostport.partition(":")
    if colon and ":" in port:
        return "an IPv6 address must be in brackets, e.g. https://[2001:db8::1]/…"
    if not host:
        return "it has no host before the port"
    return _host_problem(host) or (_port_problem(port) if colon else None)


def _port_problem(port: str) -> str | None:
    if port == "":
        return None  # "host:" with an empty port is allowed and means the default
    if not (port.isascii() and port.isdigit()) or not 1 <= int(port) <= 65535:
        return f"the port {port!r} is not a number in 1-65535"
    return None


def _host_problem(host: str) -> str | None:
    name = host[:-1] if host.endswith(".") else host
    if name.replace(".", "").isdigit():
        try:
            ipaddress.IPv4Address(name)
        except ValueError:
            return f"the host {host!r} is not an IPv4 address (four numbers 0-255)"
        return None
    labels = name.split(".")
    if any(not label for label in labels):
        return f"the host {host!r} has an empty label (two dots in a row?)"
    if name.isascii():
        bad = next((ch for ch in name if not _HOST_CHARS.match(ch) and ch != "."), None)
        if bad is not None:
            return f"the host {host!r} contains {bad!r}, which no server name has"
        if len(name) > 253 or any(len(label) > 63 for label in labels):
            return f"the host {host!r} is longer than DNS allows"
        return None
    try:
        name.encode("idna")
    except UnicodeError:
        return f"the host {host!r} is not a valid internationalised domain name"
    return None


def asset_problem(text: str) -> str | None:
    """Why ``text`` is not an ``asset://<id>`` Ark could look up, or None."""
    if not text.lower().startswith("asset://"):
        return "an asset id is written asset://<id>"
    asset_id = text[len("asset://") :]
    if not asset_id:
        return "the asset id after asset:// is empty"
    found = char_problem(asset_id)
    if found:
        return found
    if any(ch in asset_id for ch in "/?#"):
        bad = next(ch for ch in asset_id if ch in "/?#")
        return f"an asset id is one name, without {bad!r}"
    return None


def data_url_problem(text: str) -> str | None:
    """Why ``text`` is not a ``data:`` URL a provider can decode, or None."""
    _head, comma, payload = text.partition(",")
    if not comma:
        return "a data: URL needs a comma between its media type and its payload"
    found = char_problem(text)
    if found:
        return found + " (a data: URL carries no whitespace; remove base64 line breaks)"
    if not payload:
        return "its payload after the comma is empty"
    return None
