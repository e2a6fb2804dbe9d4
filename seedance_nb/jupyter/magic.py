"""``%%seedance``: the cell body is the prompt, the line holds the options.

``%load_ext seedance_nb`` registers the magic and a ``Seedance`` configurable, so defaults are
set with ``%config Seedance.model = "seedance-2.0-fast"`` (traits: model, provider, workdir,
display, wait). The cell validates at once (a short, styled error, never a traceback), then
schedules the submit on the kernel's loop and returns; a live task view in the cell follows
the job. ``--wait`` blocks until the video is on disk.
"""

from __future__ import annotations

import html
import json
import shlex
import time
from pathlib import Path
from typing import Any, ClassVar

from IPython.core.magic import Magics, line_cell_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from IPython.display import display
from traitlets import Bool, Enum, Unicode
from traitlets.config.configurable import Configurable

from .. import catalog
from ..errors import InvalidRequest, JobFailed, SeedanceError
from . import html as h
from .render import show_error
from .runner import get_client, run_sync
from .view import TaskView, launch


def _now(coro: Any) -> Any:
    """Drive a coroutine that never actually suspends (ledger reads) to its result."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    coro.close()
    raise RuntimeError("coroutine suspended")


def _table(
    headers: list[str], rows: list[list[Any]], raw_html: set[int] | None = None
) -> dict[str, str]:
    raw_html = raw_html or set()
    head = "".join(f"<th style='text-align:left'>{html.escape(x)}</th>" for x in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td style='text-align:left'>{c if i in raw_html else html.escape(str(c))}</td>"
            for i, c in enumerate(r)
        )
        + "</tr>"
        for r in rows
    )
    text_rows = [headers] + [[_strip(str(c)) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in text_rows) for i in range(len(headers))]
    text = "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)).rstrip() for r in text_rows
    )
    return {
        "text/html": f"<table class='seedance-table'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>",
        "text/plain": text,
    }


def _strip(text: str) -> str:
    import re

    return re.sub(r"<[^>]+>", "", text)


@magics_class
class Seedance(Magics, Configurable):  # type: ignore[misc]
    """Seedance video generation from notebook cells."""

    model = Unicode(catalog.DEFAULT_TIER, help="Default model tier (or raw model id).").tag(
        config=True
    )
    provider = Unicode(
        "", help="Provider name; empty: from the environment (no key: the emulator)."
    ).tag(config=True)
    workdir = Unicode(
        "seedance-output", help="Ledger and videos, relative to the notebook's folder."
    ).tag(config=True)
    display = Enum(
        list(h.DISPLAY_MODES),
        default_value="relative",
        help="'relative': <video src> served by jupyter-server; 'embed': base64 in the notebook.",
    ).tag(config=True)
    wait = Bool(False, help="Block every %%seedance cell until its video is on disk.").tag(
        config=True
    )

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)

    # helpers ----------------------------------------------------------------------------
    def client(self, provider: str | None = None) -> Any:
        return get_client(provider or self.provider or None, self._workdir())

    def _workdir(self) -> Path:
        return Path(self.workdir).expanduser().resolve()

    def _ref(self, value: str | None) -> Any:
        """A REF: a user-namespace variable name, else a URL or a local path (as given)."""
        if value is None:
            return None
        ns = self.shell.user_ns if self.shell is not None else {}
        if value.isidentifier() and value in ns:
            return ns[value]
        return value

    def _params(self, args: Any) -> dict[str, Any]:
        p: dict[str, Any] = {}
        for name in ("ratio", "resolution", "duration", "seed"):
            v = getattr(args, name)
            if v is not None:
                p[name] = v
        if args.audio is not None:
            p["generate_audio"] = args.audio
        if args.watermark:
            p["watermark"] = True
        if args.last_frame_out:
            p["return_last_frame"] = True
        if args.first_frame:
            p["first_frame"] = self._ref(args.first_frame)
        if args.last_frame:
            p["last_frame"] = self._ref(args.last_frame)
        if args.image:
            p["images"] = [self._ref(x) for x in args.image]
        if args.video:
            p["videos"] = [self._ref(x) for x in args.video]
        if args.ref_audio:
            p["audios"] = [self._ref(x) for x in args.ref_audio]
        return p

    # the magic --------------------------------------------------------------------------
    @magic_arguments()
    @argument(
        "command", nargs="*", help="Line magic: history [N] | models | status | cancel ID | config"
    )
    @argument(
        "-m", "--model", help="Tier or raw id; a comma list runs one job per tier, side by side."
    )
    @argument("--provider", help="Provider (default: Seedance.provider / the environment).")
    @argument("--ratio", help="16:9, 9:16, 1:1, 4:3, 3:4, 21:9, adaptive.")
    @argument("--resolution", help="480p, 720p, 1080p …")
    @argument("--duration", type=int, help="Seconds (-1: the model picks, where allowed).")
    @argument("--audio", dest="audio", action="store_const", const=True, default=None,
              help="Generate audio.")  # fmt: skip
    @argument("--no-audio", dest="audio", action="store_const", const=False, help="Silent video.")
    @argument("--seed", type=int, help="Seed for reproducible output.")
    @argument("--watermark", action="store_true", help="Ask for the provider's watermark.")
    @argument("--first-frame", metavar="REF", help="Image for the first frame.")
    @argument("--last-frame", metavar="REF", help="Image for the last frame.")
    @argument(
        "--image", metavar="REF", action="append", help="Reference image [Image N]; repeatable."
    )
    @argument(
        "--video", metavar="REF", action="append", help="Reference video [Video N]; repeatable."
    )
    @argument("--ref-audio", metavar="REF", action="append", help="Reference audio [Audio N].")
    @argument("--last-frame-out", action="store_true", help="Also return the last frame as a PNG.")
    @argument("--wait", action="store_true", help="Block until the video is on disk.")
    @argument(
        "--force", action="store_true", help="Send again even if the same request ran before."
    )
    @argument(
        "--dry-run",
        action="store_true",
        help="Show the exact request and its estimate; send nothing.",
    )
    @argument("--name", metavar="VAR", help="Bind the job to this variable.")
    @line_cell_magic
    def seedance(self, line: str, cell: str | None = None) -> Any:
        """%%seedance [options] — the cell body is the prompt.

        REF is a URL, a local path, or the name of a variable (path, bytes, PIL image).
        """
        if cell is None:
            return self._line(line)
        args = parse_argstring(self.seedance, line)
        if args.command:
            show_error(
                f"unexpected words on the %%seedance line: {' '.join(args.command)}", "UsageError"
            )
            return None
        return self._cell(args, cell)

    def _cell(self, args: Any, prompt: str) -> None:
        models = [m.strip() for m in (args.model or self.model).split(",") if m.strip()]
        try:
            client = self.client(args.provider)
        except SeedanceError as exc:
            show_error(str(exc), type(exc).__name__)
            return None
        try:
            params = self._params(args)
            for m in models:
                client.validate(prompt, model=m, **params)
        except InvalidRequest as exc:
            show_error(str(exc), "InvalidRequest")
            return None
        except SeedanceError as exc:
            show_error(str(exc), type(exc).__name__)
            return None
        if args.dry_run:
            for m in models:
                self._show_preview(client.preview(prompt, model=m, **params))
            return None
        if len(models) > 1:
            from .compare import Comparison

            result: Any = Comparison(
                client, prompt, models, params, display=self.display, force=args.force
            ).show()
        else:
            view = TaskView(models[0], self.display).show()
            result = launch(client, prompt, {"model": models[0], **params}, view, force=args.force)
        if args.name:
            self.shell.user_ns[args.name] = result
        if args.wait or self.wait:
            try:
                result.wait()
            except JobFailed:
                pass  # the view already shows the failure
            except SeedanceError:
                pass
        return None

    def _show_preview(self, pv: dict[str, Any]) -> None:
        body = json.dumps(pv["body"], indent=2, ensure_ascii=False, default=str)
        cost = pv["estimated_cost_usd"]
        est = f"≈ {pv['estimated_tokens']:,} tokens" + (
            f" ≈ ${cost:.2f}" if cost is not None else ""
        )
        req = pv["request"]
        head = f"dry run · {req.describe()} · {est} · nothing sent"
        warn = "".join(f"\n⚠ {w}" for w in pv["warnings"])
        text = f"{head}\n{pv['method']} {pv['url']}\n{body}{warn}"
        warn_html = "".join(
            f"<div style='color:#9a6700'>⚠ {html.escape(w)}</div>" for w in pv["warnings"]
        )
        markup = (
            f"<div class='seedance-dry-run'><b>{html.escape(head)}</b>"
            f"<pre>{html.escape(pv['method'])} {html.escape(pv['url'])}\n{html.escape(body)}</pre>{warn_html}</div>"
        )
        display({"text/plain": text, "text/html": markup}, raw=True)

    # line magic -------------------------------------------------------------------------
    def _line(self, line: str) -> Any:
        words = shlex.split(line)
        if not words:
            words = ["status"]
        cmd, rest = words[0], words[1:]
        try:
            if cmd == "history":
                return self._history(int(rest[0]) if rest else 20)
            if cmd == "models":
                return self._models(rest[0] if rest else None)
            if cmd == "status":
                return self._status()
            if cmd == "cancel":
                if not rest:
                    show_error("usage: %seedance cancel JOB_ID", "UsageError")
                    return None
                return self._cancel(rest[0])
            if cmd == "config":
                return self._config()
        except SeedanceError as exc:
            show_error(str(exc), type(exc).__name__)
            return None
        except KeyError as exc:
            show_error(str(exc.args[0]) if exc.args else str(exc), "KeyError")
            return None
        show_error(
            f"unknown command {cmd!r}: history [N] | models | status | cancel ID | config",
            "UsageError",
        )
        return None

    def _rows(self, jobs: list[Any]) -> list[list[Any]]:
        rows = []
        for j in jobs:
            r = j.request
            src = h.video_src(j) if j.status == "succeeded" else None
            # a muted video with preload=metadata shows a frame: the history's thumbnail
            video = (
                f"<a href='{html.escape(src)}' target='_blank' title='{html.escape(src)}'>"
                f"<video src='{html.escape(src)}#t=1' width='120' muted preload='metadata'></video></a>"
                if src
                else ""
            )
            prompt = r.prompt if len(r.prompt) <= 60 else r.prompt[:57] + "…"
            rows.append([
                j.id, time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(j.created_at)), j.provider,
                j.model, j.status, f"{r.resolution} {r.duration}s", j.seed if j.seed is not None else "",
                f"{j.tokens:,}" if j.tokens else "", f"{j.elapsed:.1f}s", prompt, video,
            ])  # fmt: skip
        return rows

    _HEAD: ClassVar[list[str]] = [
        "id",
        "created",
        "provider",
        "model",
        "status",
        "format",
        "seed",
        "tokens",
        "wall",
        "prompt",
        "video",
    ]

    def _history(self, limit: int) -> None:
        client = self.client()
        jobs = _now(client.jobs(limit))
        if not jobs:
            display({"text/plain": f"no jobs yet in {client.workdir}"}, raw=True)
            return None
        display(_table(self._HEAD, self._rows(jobs), raw_html={10}), raw=True)
        return None

    def _status(self) -> None:
        client = self.client()
        active = [j for j in _now(client.jobs(200)) if not j.done]
        where = "emulator" if client.emulated else client.base_url
        display({"text/plain": f"{client.provider_name} at {where} · workdir {client.workdir} · {len(active)} active"},
                raw=True)  # fmt: skip
        if active:
            display(_table(self._HEAD, self._rows(active), raw_html={10}), raw=True)
        return None

    def _cancel(self, job_id: str) -> None:
        client = self.client()
        job = _now(client.get_job(job_id))
        try:
            run_sync(job.cancel_async())
        except SeedanceError as exc:
            show_error(str(exc), "cannot cancel")
            return None
        display({"text/plain": f"{job.id}: {job.status}"}, raw=True)
        return None

    def _models(self, provider: str | None) -> None:
        name = provider or self.provider or None
        if name:
            spec = catalog.get_provider(name)
        else:
            spec = self.client().provider
        rows = []
        for tier, o in spec.offers.items():
            price = catalog.price_per_million_tokens(tier)
            rows.append([
                tier + ("" if o.available else " (unavailable)"), o.model_id,
                " ".join(sorted(o.modes)), " ".join(sorted(o.reference_kinds)) or "-",
                o.duration_text, " ".join(o.resolutions), " ".join(o.ratios),
                "yes" if o.audio else "no", f"${price:.2f}" if price is not None else "?",
            ])  # fmt: skip
        head = [
            "tier",
            "model id",
            "modes",
            "references",
            "durations",
            "resolutions",
            "ratios",
            "audio",
            "$/Mtok",
        ]
        display({"text/plain": f"{spec.label} ({spec.name})"}, raw=True)
        display(_table(head, rows), raw=True)
        return None

    def _config(self) -> None:
        lines = [
            f"Seedance.{t} = {getattr(self, t)!r}"
            for t in ("model", "provider", "workdir", "display", "wait")
        ]
        display({"text/plain": "\n".join(lines)}, raw=True)
        return None


def load_ipython_extension(ipython: Any) -> None:
    magics = Seedance(shell=ipython, parent=ipython)
    ipython.register_magics(magics)
    if magics not in ipython.configurables:
        ipython.configurables.append(magics)
