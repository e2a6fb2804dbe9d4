"""The form's widgets, one per request parameter, chosen by the parameter's kind and laid out
a few to a row; and the dropdown values that follow the chosen model's offer."""

from __future__ import annotations

import re
from typing import Any

from .. import catalog
from ..request.schema import BY_NAME, PARAMS, Param

# the first screen; every other parameter sits under "More parameters"
MAIN = (
    "model",
    "ratio",
    "resolution",
    "duration",
    "generate_audio",
    "seed",
    "images",
    "videos",
    "audios",
)
LABELS = {
    "generate_audio": "Audio",
    "duration": "Duration (s)",
    "return_last_frame": "Last frame out",
    "callback_url": "Callback URL",
}
# the value a dropdown takes when the user has not chosen one the offer allows
PREFERRED: dict[str, Any] = {"ratio": "16:9", "resolution": "480p", "duration": 5}
TRI_STATE = (("provider default", None), ("on", True), ("off", False))
STYLE = {"description_width": "8em"}


def label_of(p: Param) -> str:
    return LABELS.get(p.name, p.name.replace("_", " ").capitalize())


def help_of(p: Param) -> str:
    """The parameter's help line, without the magic-only sentence."""
    return p.help.split(" In the magic")[0]


def split_refs(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[,\n]", text or "") if part.strip()]


def make_widget(
    p: Param, tiers: list[str], model: str, offer: catalog.Offer, refs: dict[str, Any]
) -> Any:
    """The widget for one parameter, chosen by its kind; a media parameter also gets its
    path/URL text field in ``refs``."""
    import ipywidgets as w

    label, tip = label_of(p), help_of(p)
    if p.name == "model":
        return w.Dropdown(options=tiers, value=model, description=label, style=STYLE, tooltip=tip)
    if p.name == "generate_audio":  # a plain switch: the offer says what "default" means
        return w.Checkbox(description=label, value=True, indent=False, tooltip=tip)
    if p.kind == "bool":
        return w.Dropdown(
            options=TRI_STATE, value=None, description=label, style=STYLE, tooltip=tip
        )
    if p.kind == "choice" or (p.kind == "int" and p.choices(offer) is not None):
        return w.Dropdown(description=label, style=STYLE, tooltip=tip)
    if p.kind in ("media", "media_list"):
        many = p.kind == "media_list"
        refs[p.name] = w.Text(
            description=f"{label} refs" if many else f"{label} ref",
            style=STYLE,
            placeholder="paths, URLs or asset://IDs, comma-separated"
            if many
            else "a path, URL or asset://ID",
            tooltip=f"{tip} (instead of or besides an upload)",
            layout=w.Layout(width="100%"),
        )
        return w.FileUpload(
            accept=f"{p.media_kind}/*", multiple=many, description=label, tooltip=tip
        )
    placeholder = {
        "int": p.default_text or "",
        "text": p.metavar or "",
        "mapping": "KEY=VALUE KEY2=VALUE2",
    }.get(p.kind, "")
    return w.Text(
        description=label,
        placeholder=placeholder,
        style=STYLE,
        tooltip=tip,
        layout=w.Layout(width="100%" if p.kind != "int" else "auto"),
    )


def rows(
    widgets: dict[str, Any], refs: dict[str, Any], names: tuple[str, ...], *, main: bool
) -> list[Any]:
    """Lay ``names`` out a few to a row: choices, switches and numbers, then media."""
    import ipywidgets as w

    ps = [BY_NAME[n] for n in names]
    media = [p for p in ps if p.kind in ("media", "media_list")]
    small = [p for p in ps if p not in media and p.kind not in ("text", "mapping")]
    wide = [p for p in ps if p.kind in ("text", "mapping")]
    out: list[Any] = []
    for i in range(0, len(small), 3):
        out.append(w.HBox([widgets[p.name] for p in small[i : i + 3]]))
    if main:
        out.append(w.HBox([widgets[p.name] for p in media]))
    else:
        out.extend(w.HBox([widgets[p.name], refs[p.name]]) for p in media)
    out.extend(widgets[p.name] for p in wide)
    return out


def advanced(widgets: dict[str, Any], refs: dict[str, Any]) -> Any:
    """The "More parameters" accordion: every parameter not on the first screen."""
    import ipywidgets as w

    rest = tuple(p.name for p in PARAMS if p.name not in MAIN)
    main_refs = [refs[n] for n in MAIN if n in refs]  # paths/URLs for the main uploads
    box = w.VBox([*rows(widgets, refs, rest, main=False), *main_refs])
    accordion = w.Accordion(children=[box], selected_index=None)
    accordion.set_title(0, "More parameters")
    return accordion


def dropdown_choice(p: Param, offer: catalog.Offer, chosen: Any) -> tuple[list[Any], Any]:
    """A dropdown's options under ``offer`` and its value: the user's choice if allowed, else
    the preferred value if allowed, else the first allowed one."""
    allowed = list(p.choices(offer) or ())
    options: list[Any] = list(allowed)
    if p.optional_param or not allowed:  # (label, value) pairs only where needed
        options = [("provider default", None), *((str(v), v) for v in allowed)]
        allowed.insert(0, None)
    preferred = PREFERRED.get(p.name)
    if chosen in allowed:
        return options, chosen
    return options, preferred if preferred in allowed else allowed[0]


def media_text(media: Any) -> str:
    """A stored media reference as the form's ref field takes it: its URL (http, asset://,
    a data: URL given as such), else its local path, else what the user gave."""
    return str(getattr(media, "url", None) or getattr(media, "path", None) or media.source)


def option_text(value: Any) -> str:
    """A provider option's value as ``--option KEY=VALUE`` writes it (JSON where not a str)."""
    import json

    return value if isinstance(value, str) else json.dumps(value)
