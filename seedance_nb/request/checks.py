"""``build_request``: the single gate between user input and money, as a pipeline of checks.

It resolves the tier, fills documented defaults, works out the mode from the attached media,
probes local files and checks every limit in ``catalog``. Anything wrong raises
:class:`InvalidRequest` naming the field, the value, what is allowed, and for which model and
provider. Each step below is one named check; the parameter names come from :mod:`.schema`.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import catalog
from ..catalog import Offer, Provider
from ..errors import InvalidRequest
from . import model as _model
from . import schema
from .limits import check_callback, check_media, check_totals
from .media import resolve_media
from .prompt import lint_references, normalize_prompt

Media = dict[str, Any]  # parameter name → MediaRef | None (frames) or tuple[MediaRef, ...]


class SeedanceWarning(UserWarning):
    """Something worth a second look that does not stop the request."""


def _fail(
    message: str,
    *,
    field: str,
    value: Any,
    allowed: str | None,
    offer: Offer | None,
    provider: Provider,
    model: str | None = None,
) -> InvalidRequest:
    where = f"{offer.tier if offer else model} on {provider.name}"
    text = f"{field}={value!r} is not allowed for {where}: {message}"
    if allowed:
        text += f" Allowed: {allowed}."
    model_name = offer.tier if offer else model
    return InvalidRequest(
        text, field=field, value=value, allowed=allowed, model=model_name, provider=provider.name
    )


@dataclass(frozen=True)
class Gate:
    """The provider and offer a request is checked against, and how a check refuses it."""

    provider: Provider
    offer: Offer

    def fail(
        self, message: str, field: str, value: Any, allowed: str | None = None
    ) -> InvalidRequest:
        return _fail(
            message,
            field=field,
            value=value,
            allowed=allowed,
            offer=self.offer,
            provider=self.provider,
        )


def build_request(
    provider: Provider,
    prompt: Any,
    *,
    workdir: Path | None = None,
    probe: bool = True,
    warn: bool = True,
    **params: Any,
) -> tuple[_model.RequestBase, list[str]]:
    """Validate and normalise; returns the request and human-readable warnings.

    ``params`` are the schema's parameters (:data:`schema.NAMES`); a typo is a TypeError."""
    schema.check_names(params)
    tier, model, offer = resolve_model(provider, params.get("model"))
    gate = Gate(provider, offer)
    text = check_prompt(gate, prompt)
    media = resolve_media_all(gate, params, workdir, probe)
    mode = check_mode(gate, media)
    check_counts(gate, media)
    output = check_output_params(gate, params, mode)
    optional = check_optional_params(gate, params)
    options = check_options(gate, params.get("options"))
    notes = check_references(gate, text, media, mode)
    if warn:
        for note in notes:
            warnings.warn(note, SeedanceWarning, stacklevel=3)
    request = _model.VideoRequest(
        provider=provider.name,
        tier=tier,
        model=model,
        model_id=offer.model_id,
        prompt=text,
        **output,
        **optional,
        **media,
        options=options,
    )
    return request, notes


def resolve_model(p: Provider, model: Any) -> tuple[str | None, str, Offer]:
    """The tier and offer ``model`` names on ``p`` (the default tier when None)."""
    if isinstance(model, str) or model is None:
        model = (model or catalog.DEFAULT_TIER).strip()
    allowed = ", ".join(catalog.available_tiers(p))
    if not isinstance(model, str) or not model:
        message = "the model must be a tier name or a provider model id."
        raise _fail(
            message,
            field="model",
            value=model,
            allowed=allowed,
            offer=None,
            provider=p,
            model=str(model),
        )
    tier, offer = catalog.resolve_tier(p, model)
    if offer is None:
        other = [
            name
            for name, q in catalog.PROVIDERS.items()
            if name != p.name and catalog.resolve_tier(q, model)[1] is not None
        ]
        hint = f" ({model!r} is sold by {', '.join(other)})" if other else ""
        raise InvalidRequest(
            f"model={model!r} is not offered by {p.name}{hint}. Allowed: {allowed} (or their "
            "raw ids).",
            field="model",
            value=model,
            allowed=allowed,
            model=model,
            provider=p.name,
        )
    if not offer.available:
        message = f"{offer.note}."
        raise _fail(message, field="model", value=model, allowed=allowed, offer=offer, provider=p)
    return tier, model, offer


def check_prompt(gate: Gate, prompt: Any) -> str:
    """The prompt, normalised; it must be non-empty text."""
    if not isinstance(prompt, str):
        raise gate.fail("the prompt must be text.", "prompt", type(prompt).__name__)
    text = normalize_prompt(prompt)
    if not text:
        raise gate.fail("the prompt is empty; describe the video you want.", "prompt", prompt)
    return text


def _as_tuple(value: Any) -> tuple[Any, ...]:
    if value is None:
        return ()
    if isinstance(value, (str, bytes, bytearray)) or hasattr(value, "__fspath__"):
        return (value,)
    if hasattr(value, "save") and hasattr(value, "size"):
        return (value,)
    if isinstance(value, Iterable):
        return tuple(value)
    return (value,)


def _role(param: schema.Param, offer: Offer) -> str:
    """The content-array role of a medium given as ``param``."""
    if param.kind == "media_list":
        return f"reference_{param.media_kind}"
    return offer.last_frame_role if param.name == "last_frame" else param.name


def resolve_media_all(
    gate: Gate, params: dict[str, Any], workdir: Path | None, probe: bool
) -> Media:
    """Resolve and probe every attached medium, in content-array order (the schema's)."""
    media: Media = {}
    try:
        for p in schema.PARAMS:
            kind, value, role = p.media_kind, params.get(p.name), None
            if p.kind == "media":
                role = _role(p, gate.offer)
                media[p.name] = (
                    None
                    if value is None
                    else resolve_media(
                        value, kind, role, field=p.name, workdir=workdir, probe=probe
                    )  # type: ignore[arg-type]
                )
            elif p.kind == "media_list":
                role = _role(p, gate.offer)
                media[p.name] = tuple(
                    resolve_media(
                        v, kind, role, field=f"{p.name}[{i}]", workdir=workdir, probe=probe
                    )  # type: ignore[arg-type]
                    for i, v in enumerate(_as_tuple(value))
                )
    except InvalidRequest as exc:
        exc.provider, exc.model = gate.provider.name, gate.offer.tier
        exc.args = (f"{exc.message} (for {gate.offer.tier} on {gate.provider.name})",)
        raise
    return media


def check_mode(gate: Gate, media: Media) -> str:
    """The mode the media make (frames, references or text); modes never mix."""
    ff, lf = media["first_frame"], media["last_frame"]
    imgs, vids, auds = media["images"], media["videos"], media["audios"]
    if lf is not None and ff is None:
        allowed = "first_frame alone, or first_frame with last_frame"
        raise gate.fail("a last frame needs a first frame.", "last_frame", lf.short(), allowed)
    if ff is not None and (imgs or vids or auds):
        message = (
            "the three modes never mix: first frame, first+last frame, or multimodal "
            "references (images/videos/audios) — pick one."
        )
        field = "images" if imgs else ("videos" if vids else "audios")
        count = len(imgs) + len(vids) + len(auds)
        raise gate.fail(message, field, count, "no reference media with first_frame")
    if auds and not (imgs or vids):
        message = "reference audio never goes alone; attach an image or a video too."
        allowed = "audio together with at least one image or video"
        raise gate.fail(message, "audios", len(auds), allowed)
    if ff:
        mode = "first_last" if lf else "first_frame"
    else:
        mode = "reference" if imgs or vids or auds else "text"
    if mode not in gate.offer.modes:
        offer_modes = (m for m in catalog.MODES if m in gate.offer.modes)
        allowed = ", ".join(catalog.MODE_LABELS[m] for m in offer_modes)
        raise gate.fail(f"{catalog.MODE_LABELS[mode]} is not supported.", "mode", mode, allowed)
    return mode


def check_counts(gate: Gate, media: Media) -> None:
    """Reference kinds and counts the offer takes, then each medium and the summed lengths."""
    offer = gate.offer
    lists = {"image": media["images"], "video": media["videos"], "audio": media["audios"]}
    for kind, items in lists.items():
        if items and kind not in offer.reference_kinds:
            kinds = ", ".join(sorted(offer.reference_kinds)) or "none"
            message = f"reference {kind}s are not supported."
            raise gate.fail(message, f"{kind}s", len(items), f"reference kinds: {kinds}")
    most = {"image": offer.max_images, "video": offer.max_videos, "audio": offer.max_audios}
    for kind, items in lists.items():
        if len(items) > most[kind]:
            message = f"too many reference {kind}s."
            raise gate.fail(message, f"{kind}s", len(items), f"at most {most[kind]}")
    every = [m for m in (media["first_frame"], media["last_frame"]) if m]
    every += [m for items in lists.values() for m in items]
    if offer.max_media is not None and len(every) > offer.max_media:
        message = "too many media in one request."
        raise gate.fail(message, "media", len(every), f"at most {offer.max_media}")
    for ref in every:
        check_media(ref, gate.provider, gate.fail)
    check_totals(media["videos"], media["audios"], gate.fail)


def _norm_resolution(value: Any) -> str:
    text = str(value).strip().lower()
    if text.isdigit():
        text += "p"
    return text


def _whole_seconds(value: Any) -> int | None:
    """``value`` as whole seconds where it is one (5, 5.0, "5"), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value.strip()):
        return int(value.strip())
    return None


def check_output_params(gate: Gate, params: dict[str, Any], mode: str) -> dict[str, Any]:
    """Resolution, ratio and duration with their documented defaults, then the audio switch."""
    offer = gate.offer
    resolution, ratio, duration = (params.get(n) for n in ("resolution", "ratio", "duration"))
    res = _norm_resolution(resolution) if resolution is not None else "720p"
    if res not in offer.resolutions:
        allowed = ", ".join(offer.resolutions)
        raise gate.fail("unsupported resolution.", "resolution", resolution, allowed)
    if ratio is None:
        adaptive = mode != "text" and catalog.ADAPTIVE in offer.ratios
        rat = catalog.ADAPTIVE if adaptive else "16:9"
    else:
        rat = str(ratio).strip().lower().replace(" ", "")
    if rat not in offer.ratios:
        raise gate.fail("unsupported aspect ratio.", "ratio", ratio, ", ".join(offer.ratios))
    dur = _whole_seconds(5 if duration is None else duration)
    if dur is None:
        message = "the duration is a whole number of seconds."
        raise gate.fail(message, "duration", duration, offer.duration_text)
    if not (dur in offer.durations or (dur == -1 and offer.auto_duration)):
        raise gate.fail("unsupported duration.", "duration", dur, offer.duration_text)
    audio = check_audio(gate, params.get("generate_audio"))
    return {"ratio": rat, "resolution": res, "duration": dur, "generate_audio": audio}


def check_audio(gate: Gate, audio: Any) -> bool | None:
    """The audio switch: the offer's default when unset; None where the offer has no switch."""
    if audio is not None and not isinstance(audio, bool):
        raise gate.fail("generate_audio is true or false.", "generate_audio", audio, "True, False")
    if audio and not gate.offer.audio:
        message = "this model/provider cannot generate audio."
        raise gate.fail(message, "generate_audio", audio, "False")
    if audio is None:
        return gate.offer.audio_default
    # asked for silence where silence is all there is, or no switch exists
    return audio if gate.offer.audio else None


def check_optional_params(gate: Gate, params: dict[str, Any]) -> dict[str, Any]:
    """The schema's optional parameters: only where the offer takes them, each well-typed."""
    optional = [p for p in schema.PARAMS if p.optional_param]
    for p in optional:
        value = params.get(p.name)
        if value is not None and p.name not in gate.offer.params:
            allowed = ", ".join(sorted(gate.offer.params)) or "none of the optional parameters"
            message = f"{gate.provider.label} does not take {p.name} for this model."
            raise gate.fail(message, p.name, value, allowed)
    values: dict[str, Any] = {}
    for p in optional:
        value = params.get(p.name)
        values[p.name] = None if value is None else check_value(gate, p, value)
    return values


def check_value(gate: Gate, p: schema.Param, value: Any) -> Any:
    """One optional parameter's value, by its name where it has rules of its own, else its kind."""
    if p.name == "seed":
        if isinstance(value, bool) or not isinstance(value, int) or not -1 <= value <= 2**32 - 1:
            raise gate.fail("the seed is a whole number.", "seed", value, p.allowed_text())
        return value
    if p.name == "callback_url":
        return check_callback(value, gate.provider, gate.fail)
    if p.kind == "bool" and not isinstance(value, bool):
        raise gate.fail(f"{p.name} is true or false.", p.name, value, "True, False")
    if p.kind == "int" and (isinstance(value, bool) or not isinstance(value, int)):
        raise gate.fail(f"{p.name} is a whole number.", p.name, value)
    if p.kind == "text" and not isinstance(value, str):
        raise gate.fail(f"{p.name} is text.", p.name, value)
    choices = p.choices(gate.offer) if p.kind == "choice" else None
    if choices is not None and value not in choices:
        what = p.name.replace("_", " ")
        raise gate.fail(f"unsupported {what}.", p.name, value, ", ".join(map(str, choices)))
    return value


def check_options(gate: Gate, options: Any) -> dict[str, Any]:
    """Provider-specific fields: a dict whose keys the provider documents."""
    if options is not None and not isinstance(options, dict):
        message = "options is a dict of provider-specific fields."
        raise gate.fail(message, "options", options, "a dict such as {'priority': 1}")
    opts = dict(options or {})
    unknown = sorted(set(opts) - set(gate.provider.extra_options))
    if unknown:
        allowed = ", ".join(sorted(gate.provider.extra_options)) or "none"
        field = f"options.{unknown[0]}"
        raise gate.fail("unknown provider option.", field, opts[unknown[0]], allowed)
    return opts


def _ref_allowed(counts: dict[str, int]) -> str:
    parts = []
    for kind, n in counts.items():
        if n:
            parts.append(", ".join(f"[{kind.title()} {i}]" for i in range(1, n + 1)))
    return "; ".join(parts) if parts else "no references (nothing is attached)"


def check_references(gate: Gate, text: str, media: Media, mode: str) -> list[str]:
    """``[Image N]``-style references in the prompt against what is attached; the notes."""
    frames = (media["first_frame"] is not None) + (media["last_frame"] is not None)
    counts = {
        "image": len(media["images"]) + frames,
        "video": len(media["videos"]),
        "audio": len(media["audios"]),
    }
    issues = lint_references(text, counts, require_named=mode == "reference")
    errors = [i for i in issues if i.severity == "error"]
    if errors:
        first = errors[0]
        value = f"[{first.kind.title()} {first.index}]"
        raise gate.fail(first.message + ".", "prompt", value, _ref_allowed(counts))
    return [i.message for i in issues if i.severity == "warning"]
