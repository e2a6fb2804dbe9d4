"""Bad input gets each dialect's documented 4xx envelope from the emulator, never a 5xx.

Over a real socket: malformed media and callback URLs posted to every dialect's create route
(a ``ValueError: Invalid IPv6 URL`` used to escape ``Service.resolve_media`` as 500
InternalServiceError), a few hostile bodies found by hand, and a property test that draws
create bodies for every dialect and asserts the answer is never 5xx and every refusal wears
that dialect's envelope. Prompts carry ``[[expire]]`` so that a body the emulator accepts
makes a task that never renders: the fuzzing costs requests, not CPU.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from conftest import png_data_url
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seedance_nb import catalog
from seedance_nb.emulator import Emulator

AUTH = {"Authorization": "Bearer test-key"}
BAD_MEDIA = [
    "https://[2001:db8::1/a.jpg",
    "https://2001:db8::1]/a.jpg",
    "https://[not-an-ip]/a.jpg",
    "https://cdn.example.com/my frame.jpg",
    "https://cdn.example.com/my\nframe.jpg",
    "https://cdn.example.com/a.jpg\r\nX-Injected: 1",
    "https://cdn.example.com/a\x00.jpg",
    "https://cdn.example.com:99999/a.jpg",
    "https://cdn.example.com:x/a.jpg",
    "https:///a.jpg",
    "http://[::1/a.png",
    "http://127.0.0.1:1/my frame.png",
]
BAD_CALLBACKS = [
    "https://[2001:db8::1/hook",
    "https://hooks.example.com/my hook",
    "https://hooks.example.com/hook\nX: 1",
    "https://hooks.example.com:70000/hook",
    "https:///hook",
]


@dataclass(frozen=True)
class Dialect:
    """How to post a create to one mount and what its refusals look like."""

    provider: str
    path: str
    media_body: Callable[[str, str], dict[str, Any]]  # (prompt, url) → httpx kwargs
    callback_body: Callable[[str, str], dict[str, Any]] | None
    envelope: Callable[[int, Any], None]  # asserts the refusal's shape

    @property
    def prefix(self) -> str:
        return catalog.PROVIDERS[self.provider].emulator_prefix


def ark_envelope(status: int, body: Any) -> None:
    err = body["error"]
    assert set(err) == {"code", "message", "param", "type"}, body
    assert isinstance(err["code"], str) and isinstance(err["message"], str), body
    assert err["type"] == {
        400: "BadRequest",
        401: "Unauthorized",
        404: "NotFound",
        429: "TooManyRequests",
    }.get(status, err["type"]), body


def orca_envelope(status: int, body: Any) -> None:
    err = body["error"]
    assert set(err) == {"message", "code", "type"} and isinstance(err["message"], str), body


def comet_envelope(status: int, body: Any) -> None:
    if status in (401, 403, 429):
        assert set(body["error"]) == {"message", "type", "code"}, body
    else:
        assert set(body) == {"code", "message", "data"} and body["data"] is None, body


def evolink_envelope(status: int, body: Any) -> None:
    err = body["error"]
    assert set(err) == {"code", "message", "type"} and isinstance(err["message"], str), body
    if status == 400:
        assert err["code"] == "invalid_request" and err["type"] == "invalid_request_error", body


def ink_envelope(status: int, body: Any) -> None:
    assert body["success"] is False and set(body["error"]) == {"code", "message"}, body


def ark_model(provider: str) -> str:
    return catalog.PROVIDERS[provider].offers["seedance-2.0"].model_id


def ark_media(provider: str) -> Callable[[str, str], dict[str, Any]]:
    return lambda prompt, url: {
        "json": {
            "model": ark_model(provider),
            "content": [
                {"type": "text", "text": prompt},
                {"type": "image_url", "image_url": {"url": url}, "role": "reference_image"},
            ],
        }
    }


def ark_callback(provider: str) -> Callable[[str, str], dict[str, Any]]:
    return lambda prompt, url: {
        "json": {
            "model": ark_model(provider),
            "callback_url": url,
            "content": [{"type": "text", "text": prompt}],
        }
    }


ORCA_MODEL = "byteplus/dreamina-seedance-2-0-260128"
DIALECTS = {
    "ark": Dialect(
        "ark", "/contents/generations/tasks", ark_media("ark"), ark_callback("ark"), ark_envelope
    ),
    "volcengine": Dialect(
        "volcengine",
        "/contents/generations/tasks",
        ark_media("volcengine"),
        ark_callback("volcengine"),
        ark_envelope,
    ),
    "orcarouter": Dialect(
        "orcarouter",
        "/v1/video/generations",
        lambda prompt, url: {
            "json": {
                "model": ORCA_MODEL,
                "prompt": prompt,
                "metadata": {
                    "content": [
                        {"type": "image_url", "image_url": {"url": url}, "role": "reference_image"}
                    ]
                },
            }
        },
        lambda prompt, url: {
            "json": {"model": ORCA_MODEL, "prompt": prompt, "metadata": {"callback_url": url}}
        },
        orca_envelope,
    ),
    # CometAPI takes its one medium as an uploaded file part: a URL in its place is refused
    "cometapi": Dialect(
        "cometapi",
        "/v1/videos",
        lambda prompt, url: {
            "files": {
                "prompt": (None, prompt),
                "model": (None, "doubao-seedance-2-0"),
                "input_reference": (None, url),
            }
        },
        None,
        comet_envelope,
    ),
    "evolink": Dialect(
        "evolink",
        "/v1/videos/generations",
        lambda prompt, url: {
            "json": {
                "model": "seedance-2.0-reference-to-video",
                "prompt": prompt,
                "image_urls": [url],
            }
        },
        lambda prompt, url: {
            "json": {"model": "seedance-2.0-text-to-video", "prompt": prompt, "callback_url": url}
        },
        evolink_envelope,
    ),
    "seedance2ink": Dialect(
        "seedance2ink",
        "/video/generations",
        lambda prompt, url: {
            "json": {"model": "seedance-2.0", "prompt": prompt, "mediaUrls": [url]}
        },
        lambda prompt, url: {
            "json": {"model": "seedance-2.0", "prompt": prompt, "webhookUrl": url}
        },
        ink_envelope,
    ),
}


@pytest.fixture(scope="module")
def http(emulator: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator.base_url, headers=AUTH, timeout=30, trust_env=False) as c:
        yield c


def post(http: httpx.Client, d: Dialect, kwargs: dict[str, Any]) -> httpx.Response:
    return http.post(d.prefix + d.path, **kwargs)


def assert_refused(resp: httpx.Response, d: Dialect, *names: str) -> dict[str, Any]:
    assert 400 <= resp.status_code < 500, (d.provider, resp.status_code, resp.text[:300])
    body = resp.json()
    d.envelope(resp.status_code, body)
    for name in names:
        assert name in resp.text, (name, resp.text[:300])
    return body


def test_every_registered_dialect_is_covered() -> None:
    from seedance_nb.emulator.dialects import REGISTRY

    assert set(REGISTRY) == set(DIALECTS)


@pytest.mark.parametrize("name", sorted(DIALECTS))
@pytest.mark.parametrize("url", BAD_MEDIA)
def test_malformed_media_url_is_a_4xx_in_the_dialects_envelope(
    http: httpx.Client, name: str, url: str
) -> None:
    d = DIALECTS[name]
    resp = post(http, d, d.media_body("[Image 1] walks [[expire]]", url))
    assert_refused(resp, d)
    assert resp.status_code == 400


@pytest.mark.parametrize("name", sorted(n for n, d in DIALECTS.items() if d.callback_body))
@pytest.mark.parametrize("url", BAD_CALLBACKS)
def test_malformed_callback_url_is_a_4xx_in_the_dialects_envelope(
    http: httpx.Client, name: str, url: str
) -> None:
    d = DIALECTS[name]
    assert d.callback_body is not None
    resp = post(http, d, d.callback_body("a boat [[expire]]", url))
    assert_refused(resp, d)
    assert resp.status_code == 400


def test_ark_names_the_param_of_the_malformed_url(http: httpx.Client) -> None:
    d = DIALECTS["ark"]
    body = assert_refused(post(http, d, d.media_body("[Image 1] [[expire]]", BAD_MEDIA[0])), d)
    assert body["error"]["param"] == "content[1].image_url"
    assert body["error"]["code"] == "InvalidParameter" and "IPv6" in body["error"]["message"]
    body = assert_refused(post(http, d, d.callback_body("x [[expire]]", BAD_CALLBACKS[1])), d)
    assert body["error"]["param"] == "callback_url" and "space" in body["error"]["message"]


@pytest.mark.parametrize("name", sorted(DIALECTS))
def test_well_formed_bodies_are_still_accepted(http: httpx.Client, name: str) -> None:
    """The checks refuse the malformed, not the valid: the same bodies with a good URL pass."""
    d = DIALECTS[name]
    url = png_data_url() if name == "cometapi" else "https://cdn.example.com/a%20b.png"
    if name == "cometapi":
        kwargs = {
            "files": {
                "prompt": (None, "a boat [[expire]]"),
                "model": (None, "doubao-seedance-2-0"),
                "input_reference": ("a.png", _png()),
            }
        }
    else:
        kwargs = d.media_body("[Image 1] walks [[expire]]", url)
    resp = post(http, d, kwargs)
    assert resp.status_code == 200, resp.text[:300]
    if d.callback_body is not None:
        resp = post(http, d, d.callback_body("x [[expire]]", "https://hooks.example.com/h?a=1"))
        assert resp.status_code == 200, resp.text[:300]


def _png() -> bytes:
    from conftest import png_bytes

    return png_bytes()


# ----------------------------------------------------------------------------- hostile bodies


HOSTILE = [
    b"[" * 100_000 + b"]" * 100_000,  # nesting deep enough to exhaust the JSON parser's stack
    json.dumps(
        {
            "model": "\ud800",
            "prompt": "\udfff [[expire]]",
            "content": "\ud800",
            "mediaUrls": ["\ud800"],
            "image_urls": ["https://h/\ud800.png"],
        }
    ).encode(),
    b'{"duration": "\xc2\xb2", "seconds": "\xc2\xb2"}',
]


@pytest.mark.parametrize("name", sorted(DIALECTS))
@pytest.mark.parametrize("index", range(len(HOSTILE)))
def test_hostile_raw_bodies_are_refused_not_crashed_on(
    http: httpx.Client, name: str, index: int
) -> None:
    d = DIALECTS[name]
    raw = HOSTILE[index]
    headers = {"Content-Type": "application/json"}
    resp = http.post(d.prefix + d.path, content=raw, headers=headers)
    assert_refused(resp, d)


def test_superscript_digits_in_a_duration_are_refused(http: httpx.Client) -> None:
    """``"²".isdigit()`` is true but ``int("²")`` raises: a gateway duration must not crash."""
    for name, field, body in (
        (
            "evolink",
            "duration",
            {"model": "seedance-2.0-text-to-video", "prompt": "x [[expire]]", "duration": "²"},
        ),
        (
            "seedance2ink",
            "duration",
            {"model": "seedance-2.0", "prompt": "x [[expire]]", "duration": "1²"},
        ),
        (
            "orcarouter",
            "duration",
            {"model": ORCA_MODEL, "prompt": "x [[expire]]", "metadata": {"duration": "²"}},
        ),
    ):
        d = DIALECTS[name]
        assert_refused(post(http, d, {"json": body}), d, field)
    d = DIALECTS["cometapi"]
    form = {
        "files": {
            "prompt": (None, "x [[expire]]"),
            "model": (None, "doubao-seedance-2-0"),
            "seconds": (None, "²"),
        }
    }
    assert_refused(post(http, d, form), d, "duration")


# ----------------------------------------------------------------------------- property test

LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10)
)
JSON = st.recursive(
    LEAVES,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
SCHEMES = st.sampled_from(
    [
        "https://",
        "http://",
        "https://",
        "http://",
        "https:",
        "asset://",
        "data:image/png;base64,",
        "ftp://",
        "",
    ]
)
URL_PARTS = st.sampled_from(
    [
        "[",
        "]",
        "[::1]",
        "[2001:db8::1",
        "cdn.example.com",
        "127.0.0.1",
        ":",
        ":0",
        ":65536",
        ":x",
        "/",
        "a b",
        "\n",
        "\t",
        "%",
        "%zz",
        "?",
        "#",
        "@",
        "..",
        "²",
        "\x00",
        "\ud800",
        "iVBORw0KGgo=",
        ".png",
        ".mp4",
        ".wav",
    ]
)
URL = (
    st.tuples(SCHEMES, st.lists(URL_PARTS, max_size=5)).map(lambda t: t[0] + "".join(t[1]))
    | st.just(png_data_url())
    | st.just("https://cdn.example.com/a.png")
)
NUMBER = st.sampled_from([5, 4, 15, -1, 0, 10**30, 5.0, 5.5, "5", "²", "٣", " 5 ", None])
PROMPT = st.text(max_size=30).map(lambda t: t + " [Image 1] [[expire]]") | st.just("[[expire]]")


def opt(
    fields: dict[str, st.SearchStrategy[Any]],
    required: dict[str, st.SearchStrategy[Any]] | None = None,
) -> st.SearchStrategy[dict[str, Any]]:
    """The required keys (so most bodies get past the first checks), then any subset of the
    optional ones, each mostly plausible and sometimes hostile."""
    return st.fixed_dictionaries(
        dict(required or {}), optional={k: st.one_of(v, v, v, JSON) for k, v in fields.items()}
    )


def ark_content() -> st.SearchStrategy[Any]:
    roles = st.sampled_from(["reference_image", "reference_image", "first_frame", "last_frame"])

    def media(kind: str) -> st.SearchStrategy[Any]:
        role = roles if kind == "image_url" else st.just(f"reference_{kind[:5]}")
        return st.fixed_dictionaries(
            {"type": st.just(kind), kind: st.fixed_dictionaries({"url": URL})},
            optional={"role": st.one_of(role, role, role, JSON)},
        )

    kinds = st.sampled_from(["image_url", "image_url", "video_url", "audio_url"])
    text = st.fixed_dictionaries({"type": st.just("text"), "text": PROMPT})
    return st.tuples(text, st.lists(kinds.flatmap(media), min_size=1, max_size=3)).map(
        lambda t: [t[0], *t[1]]
    )


OUTPUTS = {
    "ratio": st.sampled_from(["16:9", "adaptive", "9:16"]),
    "resolution": st.sampled_from(["480p", "720p"]),
    "duration": NUMBER,
    "seed": NUMBER,
    "generate_audio": st.booleans(),
    "callback_url": URL | st.just("https://hooks.example.com/h"),
}
BODIES: dict[str, st.SearchStrategy[Any]] = {
    "ark": opt(
        {
            **OUTPUTS,
            "frames": NUMBER,
            "camera_fixed": st.booleans(),
            "execution_expires_after": NUMBER,
            "service_tier": st.just("flex"),
        },
        {"model": st.just(ark_model("ark")), "content": ark_content()},
    ),
    "volcengine": opt(
        OUTPUTS, {"model": st.just(ark_model("volcengine")), "content": ark_content()}
    ),
    "orcarouter": opt(
        {},
        {
            "model": st.just(ORCA_MODEL),
            "prompt": PROMPT,
            "metadata": opt(
                {**OUTPUTS, "service_tier": st.just("flex"), "return_last_frame": st.booleans()},
                {"content": ark_content()},
            ),
        },
    ),
    "evolink": opt(
        {
            "video_urls": st.lists(URL, max_size=2),
            "audio_urls": st.lists(URL, max_size=2),
            "aspect_ratio": OUTPUTS["ratio"],
            "quality": OUTPUTS["resolution"],
            "duration": NUMBER,
            "generate_audio": st.booleans(),
            "callback_url": OUTPUTS["callback_url"],
            "model_params": opt({"web_search": st.booleans()}),
        },
        {
            "model": st.sampled_from(
                [
                    "seedance-2.0-text-to-video",
                    "seedance-2.0-image-to-video",
                    "seedance-2.0-reference-to-video",
                ]
            ),
            "prompt": PROMPT,
            "image_urls": st.lists(URL, min_size=1, max_size=3),
        },
    ),
    "seedance2ink": opt(
        {
            "aspectRatio": OUTPUTS["ratio"],
            "resolution": OUTPUTS["resolution"],
            "duration": NUMBER,
            "webhookUrl": OUTPUTS["callback_url"],
            "metadata": JSON,
        },
        {
            "model": st.sampled_from(["seedance-2.0", "seedance-1.5-pro"]),
            "prompt": PROMPT,
            "mediaUrls": st.lists(URL, min_size=1, max_size=3),
        },
    ),
}
FORM_TEXT = st.text(max_size=12) | st.sampled_from(["5", "²", "doubao-seedance-2-0", "16:9"])
COMET_FORMS = st.fixed_dictionaries(
    {},
    optional={
        "prompt": st.text(max_size=20).map(lambda t: t + " [[expire]]"),
        "model": st.sampled_from(["doubao-seedance-2-0", "doubao-seedance-1-0-pro"]),
        "seconds": NUMBER.map(str) | FORM_TEXT,
        "size": FORM_TEXT,
        "resolution": FORM_TEXT,
        "input_reference": URL,
    },
)


def _encodable(text: str) -> str:
    return text.encode("utf-8", "replace").decode("utf-8")


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
@pytest.mark.parametrize("name", sorted(BODIES))
def test_json_create_bodies_never_get_a_5xx(
    http: httpx.Client, name: str, data: st.DataObject
) -> None:
    d = DIALECTS[name]
    body = data.draw(BODIES[name])
    raw = json.dumps(body).encode()  # ensure_ascii: lone surrogates travel as \\ud800 escapes
    resp = http.post(d.prefix + d.path, content=raw, headers={"Content-Type": "application/json"})
    assert resp.status_code < 500, (name, body, resp.status_code, resp.text[:300])
    if resp.status_code >= 400:
        d.envelope(resp.status_code, resp.json())


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(form=COMET_FORMS)
def test_cometapi_forms_never_get_a_5xx(http: httpx.Client, form: dict[str, str]) -> None:
    d = DIALECTS["cometapi"]
    files = {k: (None, _encodable(v)) for k, v in form.items()} or {"x": (None, "")}
    resp = http.post(d.prefix + d.path, files=files)
    assert resp.status_code < 500, (form, resp.status_code, resp.text[:300])
    if resp.status_code >= 400:
        d.envelope(resp.status_code, resp.json())
