"""Form bodies built with httpx's public API: multipart/form-data always, even with no file part.

Gateways whose reference curl sends every field with ``-F`` read only a multipart body, so a call
with text fields alone must not fall back to urlencoded (what httpx does with ``data=`` alone).
"""

from __future__ import annotations

import re

import httpx

from seedance_nb.engine.http import build_httpx_request
from seedance_nb.providers.base import HttpCall


def _boundary(request: httpx.Request) -> str:
    match = re.fullmatch(
        r"multipart/form-data; boundary=([0-9a-f]+)", request.headers["content-type"]
    )
    assert match, request.headers["content-type"]
    return match.group(1)


def test_text_fields_alone_travel_as_multipart_form_fields() -> None:
    call = HttpCall("POST", "/v", data={"prompt": "a cat", "seconds": "5"})
    request = build_httpx_request(call, "https://h")
    b = _boundary(request)
    assert (
        request.content
        == (
            f'--{b}\r\nContent-Disposition: form-data; name="prompt"\r\n\r\na cat\r\n'
            f'--{b}\r\nContent-Disposition: form-data; name="seconds"\r\n\r\n5\r\n'
            f"--{b}--\r\n"
        ).encode()
    )
    assert request.headers["content-length"] == str(len(request.content))


def test_fields_come_before_files_as_before() -> None:
    call = HttpCall(
        "POST", "/v", data={"prompt": "p"}, files=[("f", ("a.png", b"PNG", "image/png"))]
    )
    request = build_httpx_request(call, "https://h", {"Authorization": "Bearer k"})
    b = _boundary(request)
    assert (
        request.content
        == (
            f'--{b}\r\nContent-Disposition: form-data; name="prompt"\r\n\r\np\r\n'
            f'--{b}\r\nContent-Disposition: form-data; name="f"; filename="a.png"\r\n'
            f"Content-Type: image/png\r\n\r\nPNG\r\n--{b}--\r\n"
        ).encode()
    )
    assert request.headers["authorization"] == "Bearer k"


def test_an_empty_form_is_still_multipart() -> None:
    request = build_httpx_request(HttpCall("POST", "/v", data={}), "https://h")
    assert request.content == f"--{_boundary(request)}--\r\n".encode()
