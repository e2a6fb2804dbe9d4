"""The schema drives the request: VideoRequest's fields, build_request's keywords, the canonical
form and Ark's output fields all come from :data:`seedance_nb.request.schema.PARAMS`, and a
ledger row written before the request layer became a package reads back unchanged."""

from __future__ import annotations

import argparse
import dataclasses
import json
from typing import Any

import pytest

from seedance_nb import catalog
from seedance_nb.errors import InvalidRequest
from seedance_nb.providers import ark as ark_dialect
from seedance_nb.request import VideoRequest, build_request, model, schema

ARK = catalog.PROVIDERS["ark"]

# Written by build_request and VideoRequest.model_dump(mode="json") at commit 1055e6d, before
# the request layer became a package: what the ledger holds for a rich reference request.
OLD_ROW = (
    '{"provider": "ark", "tier": "seedance-2.0", "model": "seedance-2.0", "model_id": '
    '"dreamina-seedance-2-0-260128", "prompt": "a cat [Image 1] and [Video 1]", "ratio": '
    '"9:16", "resolution": "720p", "duration": 6, "generate_audio": true, "seed": 7, '
    '"watermark": false, "camera_fixed": null, "return_last_frame": true, "service_tier": '
    'null, "callback_url": "https://example.com/cb", "first_frame": null, "last_frame": null, '
    '"images": [{"kind": "image", "role": "reference_image", "source": '
    '"https://example.com/a.png", "url": "https://example.com/a.png", "path": null, "sha256": '
    'null, "format": "png", "size_bytes": null, "width": null, "height": null, "duration": '
    'null, "fps": null}], "videos": [{"kind": "video", "role": "reference_video", "source": '
    '"https://example.com/b.mp4", "url": "https://example.com/b.mp4", "path": null, "sha256": '
    'null, "format": "mp4", "size_bytes": null, "width": null, "height": null, "duration": '
    'null, "fps": null}], "audios": [], "options": {}}'
)
OLD_DIGEST = "44e57c4704fb5dafc36c49fab40c03a0495bd272dbc24478c8012fbb2744841d"


def _rich_request() -> VideoRequest:
    request, _ = build_request(
        ARK,
        "a cat [Image 1] and [Video 1]",
        model="seedance-2.0",
        images=["https://example.com/a.png"],
        videos=["https://example.com/b.mp4"],
        seed=7,
        watermark=False,
        return_last_frame=True,
        callback_url="https://example.com/cb",
        ratio="9:16",
        duration=6,
        warn=False,
    )
    return request


def test_a_ledger_row_written_by_the_old_code_reads_back_identically() -> None:
    stored = json.loads(OLD_ROW)
    request = VideoRequest.model_validate(stored)
    assert request.model_dump(mode="json") == stored
    assert json.dumps(request.model_dump(mode="json")) == OLD_ROW  # same keys, same order
    assert request.digest("ark") == OLD_DIGEST


def test_build_request_writes_the_row_the_old_code_wrote() -> None:
    request = _rich_request()
    assert json.dumps(request.model_dump(mode="json")) == OLD_ROW
    assert request.digest("ark") == OLD_DIGEST


def test_video_request_has_one_field_per_schema_parameter() -> None:
    base = list(model.RequestBase.model_fields)
    assert base == ["provider", "tier", "model", "model_id", "prompt"]
    generated = [p.name for p in schema.PARAMS if p.name != "model"]
    assert list(VideoRequest.model_fields) == base + generated
    assert issubclass(VideoRequest, model.RequestBase) and VideoRequest.__name__ == "VideoRequest"


def test_an_unknown_keyword_is_a_type_error_naming_it() -> None:
    with pytest.raises(TypeError, match="sede"):
        build_request(ARK, "a boat", sede=3, warn=False)


def test_old_module_names_are_the_new_modules() -> None:
    import seedance_nb.providers.task
    import seedance_nb.request.media
    import seedance_nb.request.prompt
    import seedance_nb.request.schema
    from seedance_nb.providers import task
    from seedance_nb.request import media, prompt

    assert seedance_nb.request.schema is schema
    assert seedance_nb.request.media is media and seedance_nb.request.prompt is prompt
    assert seedance_nb.providers.task is task
    assert seedance_nb.VideoRequest is VideoRequest


# --------------------------------------------------------------------------- one edit
BLUR = schema.Param(
    "motion_blur",
    "bool",
    "Blur fast motion.",
    "--motion-blur",
    negative="--no-motion-blur",
    optional_param=True,
)


@pytest.fixture
def with_blur(monkeypatch: pytest.MonkeyPatch) -> catalog.Provider:
    """The schema with one more optional parameter, and an Ark whose 2.0 tier takes it.

    The edit is the schema entry (and the catalog saying who takes it); VideoRequest is
    regenerated the way importing the package generates it, nothing else is touched."""
    params = (*schema.PARAMS, BLUR)
    monkeypatch.setattr(schema, "PARAMS", params)
    monkeypatch.setattr(schema, "BY_NAME", {p.name: p for p in params})
    monkeypatch.setattr(schema, "NAMES", tuple(p.name for p in params))
    monkeypatch.setattr(model, "VideoRequest", model.make_request_model())
    offers = dict(ARK.offers)
    offer = offers["seedance-2.0"]
    offers["seedance-2.0"] = dataclasses.replace(offer, params=offer.params | {"motion_blur"})
    return dataclasses.replace(ARK, offers=offers)


def test_one_schema_entry_is_accepted_everywhere(with_blur: catalog.Provider) -> None:
    schema.check_names({"motion_blur": True, "seed": 1})  # the client's keyword check
    request, _ = build_request(with_blur, "a boat", model="seedance-2.0", motion_blur=True)
    assert request.motion_blur is True  # type: ignore[attr-defined]
    assert request.canonical()["motion_blur"] is True
    assert ark_dialect.output_fields(request)["motion_blur"] is True
    plain, _ = build_request(with_blur, "a boat", model="seedance-2.0")
    assert plain.digest("ark") != request.digest("ark")
    assert "motion_blur" not in ark_dialect.output_fields(plain)
    # stored and read back like any other field
    again = model.VideoRequest.model_validate(request.model_dump(mode="json"))
    assert again == request
    # the CLI and the magic parse it from the same schema
    parser = argparse.ArgumentParser()
    schema.add_arguments(parser)
    assert schema.from_namespace(parser.parse_args(["--no-motion-blur"])) == {"motion_blur": False}


def test_the_new_parameter_is_checked_like_its_kind(with_blur: catalog.Provider) -> None:
    with pytest.raises(InvalidRequest) as info:
        build_request(with_blur, "a boat", model="seedance-2.0-fast", motion_blur=True)
    assert info.value.field == "motion_blur"
    assert "does not take motion_blur" in str(info.value)
    with pytest.raises(InvalidRequest) as info:
        build_request(with_blur, "a boat", model="seedance-2.0", motion_blur="yes")
    assert "motion_blur is true or false" in str(info.value)


def test_without_the_entry_the_keyword_is_refused(with_blur: catalog.Provider) -> None:
    """The control: the same call on the schema as shipped fails, so the entry is what counts."""
    params: dict[str, Any] = {"motion_blur": True}
    with pytest.MonkeyPatch.context() as undo:
        undo.setattr(schema, "NAMES", tuple(n for n in schema.NAMES if n != "motion_blur"))
        with pytest.raises(TypeError, match="motion_blur"):
            build_request(with_blur, "a boat", model="seedance-2.0", **params)
