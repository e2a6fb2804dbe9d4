"""The one declaration of every request parameter.

Each :class:`Param` says what a parameter is called in Python, on the command line and in the
magic, what kind of value it takes, a help line, and which values the catalog allows (for one
offer, or across everything sold). The client's keyword check, ``build_request``'s keywords
and optional-parameter checks, ``VideoRequest``'s fields (so the ledger's canonical form), the
CLI's and the magic's options and the form's widgets are all generated from :data:`PARAMS`, so
adding a parameter is one entry here plus its mapping in each provider dialect (and the
catalog's offers saying who takes it).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from .. import catalog

if TYPE_CHECKING:
    from ..catalog import Offer, Provider
    from .model import VideoRequest

Kind = Literal["choice", "int", "bool", "text", "media", "media_list", "mapping"]


@dataclass(frozen=True)
class Param:
    """One request parameter, as every face of the product shows it."""

    name: str  # the keyword of Client.submit / build_request
    kind: Kind
    help: str
    flag: str  # the long option of the CLI and the magic
    short: str | None = None
    negative: str | None = None  # for bools: the option that sets False
    metavar: str | None = None
    media_kind: str | None = None  # image / video / audio, for media parameters
    optional_param: bool = False  # listed in Offer.params: only some offers take it
    default_text: str = ""

    # --- what the catalog allows --------------------------------------------------------
    def choices(self, offer: Offer) -> tuple[Any, ...] | None:
        """The values ``offer`` accepts, where the parameter is a closed set."""
        if self.name == "ratio":
            return tuple(offer.ratios)
        if self.name == "resolution":
            return tuple(offer.resolutions)
        if self.name == "duration":
            return tuple(offer.durations) + ((-1,) if offer.auto_duration else ())
        if self.name == "service_tier":
            return tuple(offer.service_tiers)
        if self.name == "model":
            return None
        if self.kind == "bool":
            return (True, False)
        return None

    def applies(self, offer: Offer) -> bool:
        """Whether ``offer`` takes this parameter at all."""
        if self.name == "generate_audio":
            return offer.audio
        if self.optional_param:
            return self.name in offer.params
        if self.kind in ("media", "media_list"):
            if self.name in ("first_frame", "last_frame"):
                mode = "first_frame" if self.name == "first_frame" else "first_last"
                return mode in offer.modes
            return self.media_kind in offer.reference_kinds
        return True

    def allowed_text(self, provider: Provider | None = None) -> str:
        """Allowed values read from the catalog (one provider, or every provider)."""
        providers = [provider] if provider is not None else list(catalog.PROVIDERS.values())
        offers = [o for p in providers for o in p.offers.values() if o.available]
        if self.name == "model":
            tiers = dict.fromkeys(o.tier for o in offers)
            return ", ".join(tiers)
        if self.name == "duration":
            values = sorted({d for o in offers for d in o.durations})
            auto = any(o.auto_duration for o in offers)
            return f"{values[0]}-{values[-1]} s" + (
                ", -1 (the model picks; 2.0 tiers)" if auto else ""
            )
        if self.kind == "choice":
            seen: dict[Any, None] = {}
            for offer in offers:
                for value in self.choices(offer) or ():
                    seen[value] = None
            return ", ".join(str(v) for v in seen)
        if self.name == "seed":
            return "-1 (random) to 4294967295"
        if self.kind == "bool":
            return ""
        if self.name == "callback_url":
            return "an https:// URL (http:// for loopback)"
        if self.kind in ("media", "media_list"):
            what = {"image": "an image", "video": "a video", "audio": "an audio clip"}
            return "an https:// URL, a local file, a data: URL or asset://ID (Ark) of " + what.get(
                self.media_kind or "", "a file"
            )
        if self.kind == "mapping":
            keys = sorted({k for p in providers for k in p.extra_options})
            return "KEY=VALUE with KEY one of " + (", ".join(keys) or "none")
        return ""

    def takers(self) -> str:
        """Which tiers/providers take an optional parameter (for help text)."""
        if not self.optional_param and self.name != "generate_audio":
            return ""
        where = []
        for p in catalog.PROVIDERS.values():
            if p.name == "emulator":
                continue
            tiers = [o.tier for o in p.offers.values() if o.available and self.applies(o)]
            if tiers and len(tiers) == sum(o.available for o in p.offers.values()):
                where.append(p.name)
            elif tiers:
                where.append(f"{p.name} ({', '.join(tiers)})")
        return "; ".join(where) if where else "no provider"

    def help_line(self, provider: Provider | None = None, default: str | None = None) -> str:
        """The one help line of the CLI and the magic: what it is, and what is allowed."""
        text = self.help
        allowed = self.allowed_text(provider)
        if allowed:
            text += f" Allowed: {allowed}."
        default = self.default_text if default is None else default
        if default:
            text += f" Default: {default}."
        takers = self.takers()
        if takers and provider is None:
            text += f" Taken by: {takers}."
        return text.replace("%", "%%")  # argparse formats help with %


_MEDIA_HELP = "In the magic REF may also name a variable."

PARAMS: tuple[Param, ...] = (
    Param(
        "model",
        "text",
        "Tier name or the provider's raw model id.",
        "--model",
        short="-m",
        default_text=catalog.DEFAULT_TIER,
    ),
    Param(
        "ratio",
        "choice",
        "Aspect ratio of the video.",
        "--ratio",
        default_text="16:9 for text, adaptive with an image or video",
    ),
    Param("resolution", "choice", "Output resolution.", "--resolution", default_text="720p"),
    Param(
        "duration", "int", "Length in seconds.", "--duration", metavar="SECONDS", default_text="5"
    ),
    Param(
        "generate_audio",
        "bool",
        "Generate a soundtrack.",
        "--audio",
        negative="--no-audio",
        default_text="on where the tier has audio (Ark), off on gateways",
    ),
    Param(
        "seed",
        "int",
        "Random seed, for a reproducible take.",
        "--seed",
        optional_param=True,
        default_text="random",
    ),
    Param(
        "watermark",
        "bool",
        "Ask for the provider's watermark.",
        "--watermark",
        negative="--no-watermark",
        optional_param=True,
    ),
    Param(
        "camera_fixed",
        "bool",
        "Keep the camera still.",
        "--camera-fixed",
        negative="--no-camera-fixed",
        optional_param=True,
    ),
    Param(
        "return_last_frame",
        "bool",
        "Also return the video's last frame as a PNG.",
        "--last-frame-out",
        negative="--no-last-frame-out",
        optional_param=True,
    ),
    Param(
        "service_tier",
        "choice",
        "Ark's service tier (flex: cheaper, slower).",
        "--service-tier",
        optional_param=True,
        default_text="default",
    ),
    Param(
        "callback_url",
        "text",
        "Where the provider POSTs status changes.",
        "--callback-url",
        metavar="URL",
        optional_param=True,
    ),
    Param(
        "first_frame",
        "media",
        "Image the video starts from. " + _MEDIA_HELP,
        "--first-frame",
        metavar="REF",
        media_kind="image",
    ),
    Param(
        "last_frame",
        "media",
        "Image the video ends on (needs --first-frame). " + _MEDIA_HELP,
        "--last-frame",
        metavar="REF",
        media_kind="image",
    ),
    Param(
        "images",
        "media_list",
        "Reference image, named [Image N] in the prompt; repeatable. " + _MEDIA_HELP,
        "--image",
        metavar="REF",
        media_kind="image",
    ),
    Param(
        "videos",
        "media_list",
        "Reference video, named [Video N] in the prompt; repeatable. " + _MEDIA_HELP,
        "--video",
        metavar="REF",
        media_kind="video",
    ),
    Param(
        "audios",
        "media_list",
        "Reference audio, named [Audio N] in the prompt; repeatable. " + _MEDIA_HELP,
        "--ref-audio",
        metavar="REF",
        media_kind="audio",
    ),
    Param(
        "options",
        "mapping",
        "A provider-specific field; repeatable.",
        "--option",
        metavar="KEY=VALUE",
    ),
)

BY_NAME: dict[str, Param] = {p.name: p for p in PARAMS}
NAMES: tuple[str, ...] = tuple(BY_NAME)


def check_names(params: dict[str, Any]) -> None:
    """The client's keyword check: a typo is a TypeError, as for any Python function."""
    unknown = set(params) - set(NAMES)
    if unknown:
        raise TypeError(
            f"unexpected argument(s): {', '.join(sorted(unknown))}; "
            f"request parameters are {', '.join(NAMES)}"
        )


def params_of(request: VideoRequest) -> dict[str, Any]:
    """The keyword arguments that rebuild ``request`` (for a resubmit or a remix)."""
    values = {name: getattr(request, name) for name in NAMES}
    values["options"] = request.options or None
    return values


# --- argparse (the CLI and the magic) --------------------------------------------------------


def argument_specs(
    provider: Provider | None = None, defaults: dict[str, str] | None = None
) -> Iterator[tuple[tuple[str, ...], dict[str, Any]]]:
    """``(flags, kwargs)`` for ``ArgumentParser.add_argument`` (and IPython's ``@argument``),
    one or two per parameter; every default is None, so "not given" stays distinguishable.
    ``defaults`` names defaults that differ from the schema's (e.g. ``Seedance.model``)."""
    defaults = defaults or {}
    for p in PARAMS:
        flags = (p.short, p.flag) if p.short else (p.flag,)
        help_text = p.help_line(provider, defaults.get(p.name))
        kwargs: dict[str, Any] = {"dest": p.name, "help": help_text, "default": None}
        if p.metavar:
            kwargs["metavar"] = p.metavar
        if p.kind == "bool":
            kwargs.update(action="store_const", const=True)
            kwargs.pop("metavar", None)
            yield flags, kwargs
            if p.negative:
                opposite = {"action": "store_const", "const": False, "default": None}
                yield (
                    (p.negative,),
                    {"dest": p.name, **opposite, "help": f"The opposite of {p.flag}."},
                )
            continue
        if p.kind == "int":
            kwargs["type"] = int
        if p.kind in ("media_list", "mapping"):
            kwargs["action"] = "append"
        if p.kind == "choice" and p.metavar is None:
            kwargs["metavar"] = p.name.upper()
        yield flags, kwargs


def add_arguments(parser: argparse.ArgumentParser, provider: Provider | None = None) -> None:
    """Every request parameter as an option of ``parser``."""
    group = parser.add_argument_group("request parameters (seedance-nb models lists each tier)")
    for flags, kwargs in argument_specs(provider):
        group.add_argument(*flags, **kwargs)


def parse_option(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` of ``--option``; the value is JSON where it parses, else the text."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ValueError(f"--option takes KEY=VALUE, got {text!r}")
    try:
        return key.strip(), json.loads(value)
    except ValueError:
        return key.strip(), value


def from_namespace(
    ns: argparse.Namespace, ref: Callable[[Any], Any] = lambda v: v
) -> dict[str, Any]:
    """The parameters given on a parsed command line (``ref`` resolves media references,
    e.g. a variable name in the magic); options not given are left out."""
    out: dict[str, Any] = {}
    for p in PARAMS:
        value = getattr(ns, p.name, None)
        if value is None or value == []:
            continue
        if p.kind == "media":
            value = ref(value)
        elif p.kind == "media_list":
            value = [ref(v) for v in value]
        elif p.kind == "mapping":
            value = dict(parse_option(v) for v in value)
        out[p.name] = value
    return out
