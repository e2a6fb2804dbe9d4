"""``sd.form()``: an ipywidgets form whose choices follow the chosen model's offer.

Model, prompt (with live ``[Image N]`` lint against the attached files), ratio, resolution and
duration limited to what the tier sells, audio, seed, reference uploads, and a token/cost
estimate. Submit shows the live task view below the form.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from .. import catalog
from ..errors import InvalidRequest, SeedanceError
from ..prompt import lint_references
from . import html as h
from .runner import PendingJob, get_client
from .view import TaskView, launch


class WidgetTaskView(TaskView):
    """A task view painted into an ``ipywidgets.HTML`` (works inside other widgets)."""

    def __init__(self, label: str, display: str = "relative") -> None:
        import ipywidgets as w

        super().__init__(label, display, cancel_button=False)
        self.widget = w.HTML(self.html)
        self.cancel_button = w.Button(description="Cancel", icon="stop", button_style="warning")
        self.cancel_button.on_click(lambda _b: self.cancel())
        self.box = w.VBox([self.widget, self.cancel_button])

    def show(self) -> WidgetTaskView:
        return self

    def _paint(self, force: bool = False) -> None:
        job = self.job
        if job is not None and not self.html.startswith('<div class="seedance-error'):
            self.html = h.job_html(job, self.display_mode)
        self.widget.value = self.html
        if self._final:
            self.cancel_button.layout.display = "none"


class Form:
    """The widgets; ``form.submit()`` (or the Submit button) starts a job below the form."""

    def __init__(
        self,
        provider: str | None = None,
        workdir: str | None = None,
        *,
        display: str = "relative",
        model: str = catalog.DEFAULT_TIER,
    ) -> None:
        import ipywidgets as w

        self.client = get_client(provider, workdir)
        self.display_mode = display
        spec = self.client.provider
        tiers = list(catalog.available_tiers(spec))
        style = {"description_width": "7em"}
        self.model = w.Dropdown(options=tiers, value=model if model in tiers else tiers[0],
                                description="Model", style=style)  # fmt: skip
        self.prompt = w.Textarea(
            placeholder="Describe the video; name attached media as [Image 1], [Video 1] …",
            description="Prompt", layout=w.Layout(width="100%", height="6em"), style=style,
        )  # fmt: skip
        self.lint = w.HTML()
        self.ratio = w.Dropdown(description="Ratio", style=style)
        self.resolution = w.Dropdown(description="Resolution", style=style)
        self.duration = w.Dropdown(description="Duration (s)", style=style)
        self.audio = w.Checkbox(description="Audio", value=True, indent=False)
        self.seed = w.Text(description="Seed", placeholder="random", style=style)
        self.images = w.FileUpload(accept="image/*", multiple=True, description="Images")
        self.videos = w.FileUpload(accept="video/*", multiple=True, description="Videos")
        self.audios = w.FileUpload(accept="audio/*", multiple=True, description="Audios")
        self.estimate = w.HTML()
        self.submit_button = w.Button(description="Submit", button_style="primary", icon="play")
        self.results = w.VBox()
        self.views: list[WidgetTaskView] = []
        self.pending: list[PendingJob] = []
        self._follow_offer()
        self.model.observe(lambda _c: self._follow_offer(), "value")
        for widget in (self.prompt, self.ratio, self.resolution, self.duration, self.audio,
                       self.seed, self.images, self.videos, self.audios):  # fmt: skip
            widget.observe(lambda _c: self._refresh(), "value")
        self.submit_button.on_click(lambda _b: self.submit())
        self.widget = w.VBox([
            self.model, self.prompt, self.lint,
            w.HBox([self.ratio, self.resolution, self.duration]),
            w.HBox([self.audio, self.seed]),
            w.HBox([self.images, self.videos, self.audios]),
            self.estimate, self.submit_button, self.results,
        ])  # fmt: skip
        self._refresh()

    # offer ------------------------------------------------------------------------------
    @property
    def offer(self) -> catalog.Offer:
        offer = self.client.provider.offer(self.model.value)
        assert offer is not None
        return offer

    def _follow_offer(self) -> None:
        o = self.offer

        def keep(widget: Any, options: list[Any], preferred: Any) -> None:
            current = widget.value
            widget.options = options
            widget.value = current if current in options else (
                preferred if preferred in options else options[0])  # fmt: skip

        keep(self.ratio, list(o.ratios), "16:9")
        keep(self.resolution, list(o.resolutions), "480p")
        durations = list(o.durations) + ([-1] if o.auto_duration else [])
        keep(self.duration, durations, 5 if 5 in durations else durations[0])
        self.audio.disabled = not o.audio
        if not o.audio:
            self.audio.value = False
        kinds = o.reference_kinds
        self.images.disabled = "image" not in kinds and "reference" not in o.modes
        self.videos.disabled = "video" not in kinds
        self.audios.disabled = "audio" not in kinds
        self._refresh()

    # state ------------------------------------------------------------------------------
    def _uploads(self, widget: Any, kind: str) -> list[str]:
        folder = self.client.workdir / "uploads"
        paths = []
        for item in widget.value or ():
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / Path(item["name"]).name
            path.write_bytes(bytes(item["content"]))
            paths.append(str(path))
        return paths

    def params(self) -> dict[str, Any]:
        p: dict[str, Any] = {
            "model": self.model.value,
            "ratio": self.ratio.value,
            "resolution": self.resolution.value,
            "duration": self.duration.value,
        }
        if self.offer.audio:
            p["generate_audio"] = bool(self.audio.value)
        seed = self.seed.value.strip()
        if seed:
            p["seed"] = int(seed)
        for widget, key, kind in ((self.images, "images", "image"), (self.videos, "videos", "video"),
                                  (self.audios, "audios", "audio")):  # fmt: skip
            paths = self._uploads(widget, kind)
            if paths:
                p[key] = paths
        return p

    def _counts(self) -> dict[str, int]:
        return {"image": len(self.images.value or ()), "video": len(self.videos.value or ()),
                "audio": len(self.audios.value or ())}  # fmt: skip

    def _refresh(self) -> None:
        if not hasattr(self, "estimate"):
            return
        issues = lint_references(self.prompt.value or "", self._counts())
        colour = {"error": "#cf222e", "warning": "#9a6700"}
        self.lint.value = "".join(
            f"<div style='color:{colour[i.severity]}'>{'✗' if i.severity == 'error' else '⚠'} "
            f"{html.escape(i.message)}</div>"
            for i in issues
        )
        try:
            seed = self.seed.value.strip()
            if seed:
                int(seed)
            o = self.offer
            w_, h_ = catalog.pixel_size(self.ratio.value, self.resolution.value)
            seconds = self.duration.value if self.duration.value > 0 else max(o.durations)
            tokens = catalog.estimate_tokens(w_, h_, seconds)
            cost = catalog.estimate_cost(self.model.value, tokens)
            money = f" ≈ ${cost:.2f}" if cost is not None else ""
            self.estimate.value = f"<code>{w_}×{h_} · ≈ {tokens:,} tokens{money}</code>"
            self.submit_button.disabled = any(i.severity == "error" for i in issues)
        except (ValueError, KeyError) as exc:
            self.estimate.value = h.error_line(f"seed must be a whole number ({exc})", "seed")
            self.submit_button.disabled = True

    # submit -----------------------------------------------------------------------------
    def submit(self) -> PendingJob | None:
        """Validate and start a job; its live view appears below the form."""
        import ipywidgets as w

        prompt = self.prompt.value or ""
        try:
            params = self.params()
            self.client.validate(prompt, **params)
        except (InvalidRequest, SeedanceError, ValueError) as exc:
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


def form(provider: str | None = None, workdir: str | None = None, *, display: str = "relative",
         model: str = catalog.DEFAULT_TIER) -> Form:  # fmt: skip
    """An interactive form for one Seedance request; display it (it is the cell's value)."""
    return Form(provider, workdir, display=display, model=model)
