"""``sd.form()``: an ipywidgets form for one request, with a widget for every parameter.

The widgets are generated from :data:`seedance_nb.request.schema.PARAMS`, the same declaration the
Python API, the CLI and the magic use, so the form offers every request parameter: closed
sets as dropdowns that follow the chosen model's offer, switches, numbers and text, uploads
(or a path / URL) for media, ``KEY=VALUE`` pairs for provider options. A parameter the offer
does not take is disabled, and its tooltip says so. The prompt is linted live against the
attached media and the estimate updates as you go. **Submit** shows the live task view below
the form; the button works from a real click, whatever thread ipykernel runs it on.
"""

from __future__ import annotations

import contextlib
import html
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .. import catalog
from .. import display as h
from ..errors import InvalidRequest, SeedanceError
from ..request.prompt import lint_references
from ..request.schema import PARAMS, Param, params_of, parse_option
from .form_widgets import (
    MAIN,
    PREFERRED,
    STYLE,
    advanced,
    dropdown_choice,
    help_of,
    make_widget,
    media_text,
    option_text,
    rows,
    split_refs,
)
from .remix import set_opener
from .runner import PendingJob, get_client
from .view import WidgetTaskView, launch

__all__ = ["Form", "WidgetTaskView", "form", "remix_form"]


class Form:
    """The widgets; ``form.submit()`` (or the Submit button) starts a job below the form.

    ``form.widgets`` maps every request parameter's name to its widget; ``form.refs`` maps
    each media parameter to the text field for a path, URL or ``asset://`` id beside its
    upload.
    """

    def __init__(
        self,
        provider: str | None = None,
        workdir: str | None = None,
        *,
        display: str = "relative",
        model: str = catalog.DEFAULT_TIER,
        client: Any = None,
    ) -> None:
        """``client``: the AsyncClient to submit with (a Remix passes its job's), else the
        notebook's cached one for ``provider`` and ``workdir``."""
        import ipywidgets as w

        self.client = client if client is not None else get_client(provider, workdir)
        self.display_mode = display
        self.tiers = list(catalog.available_tiers(self.client.provider))
        self.views: list[WidgetTaskView] = []
        self.pending: list[PendingJob] = []
        self._user: dict[str, Any] = {}  # what the user chose, restored when an offer allows it
        self._quiet_depth = 0
        self.widgets: dict[str, Any] = {}
        self.refs: dict[str, Any] = {}
        first = model if model in self.tiers else self.tiers[0]
        for p in PARAMS:
            self.widgets[p.name] = make_widget(p, self.tiers, first, self._offer(first), self.refs)
        self._make_controls()
        # the names the tutorials and tests use
        self.model = self.widgets["model"]
        self.ratio = self.widgets["ratio"]
        self.resolution = self.widgets["resolution"]
        self.duration = self.widgets["duration"]
        self.audio = self.widgets["generate_audio"]
        self.seed = self.widgets["seed"]
        self.images = self.widgets["images"]
        self.videos = self.widgets["videos"]
        self.audios = self.widgets["audios"]

        self._follow_offer()
        self._wire()
        self.widget = w.VBox(
            [
                self.model,
                self.prompt,
                self.lint,
                *rows(self.widgets, self.refs, MAIN[1:], main=True),
                advanced(self.widgets, self.refs),
                self.estimate,
                self.submit_button,
                self.results,
            ]
        )
        self._refresh()

    def _make_controls(self) -> None:
        """The prompt, its lint line, the estimate, Submit and the results below."""
        import ipywidgets as w

        self.prompt = w.Textarea(
            placeholder="Describe the video; name attached media as [Image 1], [Video 1] …",
            description="Prompt",
            layout=w.Layout(width="100%", height="6em"),
            style=STYLE,
        )
        self.lint = w.HTML()
        self.estimate = w.HTML()
        self.submit_button = w.Button(
            description="Submit",
            button_style="primary",
            icon="play",
            tooltip="Create the task; its live view appears below",
        )
        self.results = w.VBox()

    def _wire(self) -> None:
        """Every change refreshes the lint and the estimate; a new model re-limits the form."""
        self.model.observe(lambda _c: self._follow_offer(), "value")
        for name, widget in self.widgets.items():
            if name != "model":
                widget.observe(lambda change, n=name: self._changed(n, change), "value")
        for widget in (self.prompt, *self.refs.values()):
            widget.observe(lambda _c: self._refresh(), "value")
        self.submit_button.on_click(lambda _b: self.submit())

    # state changes ---------------------------------------------------------------------
    @contextlib.contextmanager
    def _quiet(self) -> Iterator[None]:
        """While the form sets values itself, they are not the user's choices."""
        self._quiet_depth += 1
        try:
            yield
        finally:
            self._quiet_depth -= 1

    def _changed(self, name: str, change: dict[str, Any]) -> None:
        if not self._quiet_depth and not isinstance(self.widgets[name].value, tuple):
            self._user[name] = change["new"]
        self._refresh()

    # offer ------------------------------------------------------------------------------
    def _offer(self, tier: str) -> catalog.Offer:
        offer = self.client.provider.offer(tier)
        assert offer is not None
        return offer

    @property
    def offer(self) -> catalog.Offer:
        return self._offer(self.model.value)

    def _follow_offer(self) -> None:
        """Limit every widget to what the chosen model's offer takes."""
        import ipywidgets as w

        o = self.offer
        label = self.client.provider.label
        with self._quiet():
            for p in PARAMS:
                widget = self.widgets[p.name]
                if p.name == "model":
                    continue
                takes = p.applies(o)
                if p.name == "generate_audio":
                    widget.value = bool(self._user.get(p.name, o.audio_default)) and takes
                elif isinstance(widget, w.Dropdown) and p.kind != "bool":
                    chosen = self._user.get(p.name, PREFERRED.get(p.name))
                    widget.options, widget.value = dropdown_choice(p, o, chosen)
                widget.disabled = not takes
                widget.tooltip = (
                    help_of(p) if takes else f"{o.tier} on {label} does not take {p.name}"
                )
                if p.name in self.refs:
                    self.refs[p.name].disabled = not takes
                    self.refs[p.name].tooltip = widget.tooltip
        self._refresh()

    # state ------------------------------------------------------------------------------
    def _uploads(self, widget: Any) -> list[str]:
        folder = self.client.workdir / "uploads"
        paths = []
        for item in widget.value or ():
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / Path(item["name"]).name
            path.write_bytes(bytes(item["content"]))
            paths.append(str(path))
        return paths

    def _value(self, p: Param) -> Any:
        """The parameter's value as ``Client.submit`` takes it; None when not given."""
        widget = self.widgets[p.name]
        if p.kind == "media":
            uploaded = self._uploads(widget)
            return uploaded[0] if uploaded else (self.refs[p.name].value.strip() or None)
        if p.kind == "media_list":
            return self._uploads(widget) + split_refs(self.refs[p.name].value) or None
        if p.kind == "mapping":
            return dict(parse_option(part) for part in shlex.split(widget.value or "")) or None
        if p.name == "generate_audio":
            return bool(widget.value)
        value = widget.value
        if isinstance(value, str):
            value = value.strip() or None
            if value is not None and p.kind == "int":
                try:
                    return int(value)
                except ValueError:
                    raise ValueError(f"{p.name} must be a whole number, not {value!r}") from None
        return value

    def params(self) -> dict[str, Any]:
        """The request parameters the form holds, for the chosen model's offer."""
        o = self.offer
        out: dict[str, Any] = {}
        for p in PARAMS:
            if not p.applies(o):
                continue
            value = self._value(p)
            if value is not None:
                out[p.name] = value
        return out

    def _counts(self) -> dict[str, int]:
        def count(name: str) -> int:
            return len(self.widgets[name].value or ()) + len(split_refs(self.refs[name].value))

        return {"image": count("images"), "video": count("videos"), "audio": count("audios")}

    def _problems(self) -> list[str]:
        """Entries that cannot be read at all (checked live, before any request is built)."""
        problems = []
        seed = self.seed.value.strip()
        if seed and not re.fullmatch(r"-?\d+", seed):
            problems.append(f"seed must be a whole number, not {seed!r}")
        try:
            for part in shlex.split(self.widgets["options"].value or ""):
                parse_option(part)
        except ValueError as exc:
            problems.append(f"options: {exc}")
        return problems

    def _refresh(self) -> None:
        if not hasattr(self, "estimate"):
            return
        issues = lint_references(self.prompt.value or "", self._counts())
        self.lint.value = "".join(
            h.error_line(i.message, "prompt")
            if i.severity == "error"
            else h.notice_line(i.message, kind="warning")
            for i in issues
        )
        problems = self._problems()
        if problems:
            self.estimate.value = "".join(h.error_line(p, "invalid entry") for p in problems)
            self.submit_button.disabled = True
            return
        o = self.offer
        w_, h_ = catalog.pixel_size(self.ratio.value, self.resolution.value)
        seconds = self.duration.value if self.duration.value > 0 else max(o.durations)
        tokens = catalog.estimate_tokens(w_, h_, seconds)
        cost = catalog.estimate_cost(self.model.value, tokens)
        money = f" · est. ${cost:.2f}" if cost is not None else ""
        self.estimate.value = f"<code>{w_}×{h_} · ≈ {tokens:,} tokens{html.escape(money)}</code>"
        self.submit_button.disabled = any(i.severity == "error" for i in issues)

    def prefill(self, prompt: str, params: dict[str, Any]) -> Form:
        """Set the prompt and every parameter in ``params`` (as ``schema.params_of`` gives
        them, e.g. a job's, for a Remix); the values stay the user's choices across models."""
        import ipywidgets as w

        self.prompt.value = prompt
        if params.get("model") in self.tiers:
            self.model.value = params["model"]
        with self._quiet():
            for p in PARAMS:
                value = params.get(p.name)
                if p.name == "model" or value is None:
                    continue
                widget = self.widgets[p.name]
                if p.kind in ("media", "media_list"):
                    refs = value if isinstance(value, (list, tuple)) else [value]
                    self.refs[p.name].value = ", ".join(media_text(m) for m in refs)
                elif p.kind == "mapping":
                    widget.value = " ".join(
                        f"{k}={shlex.quote(option_text(v))}" for k, v in value.items()
                    )
                elif isinstance(widget, w.Dropdown) and p.kind != "bool":
                    self._user[p.name] = value
                elif isinstance(widget, w.Text):
                    widget.value = str(value)
                else:  # a switch or a tri-state dropdown
                    widget.value = value
                    self._user[p.name] = value
        self._follow_offer()
        return self

    # submit -----------------------------------------------------------------------------
    def submit(self) -> PendingJob | None:
        """Validate and start a job; its live view appears below the form.

        Safe from any thread (a button click may arrive on a kernel subshell): the job is
        created on the client's own event loop.
        """
        import ipywidgets as w

        prompt = self.prompt.value or ""
        try:
            params = self.params()
            self.client.validate(prompt, **params)
        except (InvalidRequest, SeedanceError, ValueError, TypeError) as exc:
            msg = w.HTML(h.error_line(str(exc), type(exc).__name__))
            self.results.children = (msg, *self.results.children)
            return None
        view = WidgetTaskView(params["model"], self.display_mode)
        self.views.append(view)
        self.results.children = (view.box, *self.results.children)
        pending = launch(self.client, prompt, params, view)
        self.pending.append(pending)
        return pending

    @property
    def last(self) -> PendingJob | None:
        """The most recent submission (awaitable)."""
        return self.pending[-1] if self.pending else None

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)


def form(
    provider: str | None = None,
    workdir: str | None = None,
    *,
    display: str = "relative",
    model: str = catalog.DEFAULT_TIER,
) -> Form:
    """An interactive form for one Seedance request; display it (it is the cell's value)."""
    return Form(provider, workdir, display=display, model=model)


def remix_form(job: Any, client: Any = None, display: str = "relative") -> Form:
    """The form on ``client`` (default: the job's), prefilled with ``job``'s prompt and every
    parameter of its stored request: the Remix buttons' form (:mod:`.remix`)."""
    request = job.request
    model = request.tier or request.model
    made = Form(client=client or job.client, display=display, model=model)
    return made.prefill(request.prompt, params_of(request))


set_opener(remix_form)
