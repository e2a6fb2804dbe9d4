"""``%seedance history`` / ``status``: the ledger as a table that stays current.

The table is one output with a ``display_id``; live jobs repaint it (throttled) from
``job.on_change`` on the client's loop, so a saved notebook keeps the last state. Its
text/plain is a readable fixed-width table. Where widgets work (a kernel), a row of buttons
per job sits under it: open (the video below), re-run (the same request, a new take), remix
(the form below, prefilled with the job's parameters) and cancel. Button callbacks may run on
another thread (ipykernel 7 subshells): work is handed to the client's own loop with
:func:`runner.on_client_loop`, never to whatever loop runs. A succeeded job whose video is not
on disk yet shows the time its URL has left (24 h).
"""

from __future__ import annotations

import html
import time
from typing import TYPE_CHECKING, Any

from .. import display as h
from ..engine.expiry import expiry_text
from ..request.schema import params_of
from .remix import REMIX_TIP, open_remix_form, widget_output
from .runner import on_client_loop

if TYPE_CHECKING:
    from ..engine.client import AsyncClient
    from ..engine.job import Job

# marks in the text table and colours in the HTML one (the roles of html.PALETTE, as the task
# view uses them): an ended row is told at a glance; a cancel is the user's own act, not red
_MARK = {"failed": "✗ ", "expired": "✗ ", "cancelled": "■ ", "unknown": "⚠ "}
_ROLE = {
    "succeeded": "success",
    "failed": "error",
    "expired": "error",
    "running": "running",
    "downloading": "running",
    "unknown": "text",
}
_MUTED = h.PALETTE["muted"]
_HEAD = (
    "id",
    "created",
    "provider",
    "model",
    "status",
    "format",
    "seed",
    "tokens",
    "cost",
    "wall",
    "prompt",
)
EXPIRY_HINT = (
    "↓ a finished video not on disk yet: client.resume() (or seedance-nb resume) fetches it "
    "before its URL expires"
)
UNKNOWN_HINT = (
    "⚠ unknown outcome: the provider may or may not have made it; "
    "%seedance resubmit ID sends it again (it may be paid twice)"
)


def money(value: float | None) -> str:
    """Dollars with 2–4 decimals: cents for big sums, tenths of a cent for small ones."""
    if value is None:
        return "?"
    if value >= 1:
        return f"${value:,.2f}"
    if 0 < value < 0.00005:
        return "<$0.0001"
    text = f"{value:.4f}"
    while text.endswith("0") and len(text.split(".")[1]) > 2:
        text = text[:-1]
    return f"${text}"


def cost_text(job: Job) -> str:
    """The catalog's price of the job: billed tokens once known, the estimate ("est.") while
    it runs, a dash for an ended job nobody billed, "?" when the outcome is unknown."""
    if job.status == "unknown":
        return "?"
    if job.done and not job.tokens and job.status != "succeeded":
        return "–"
    cost = job.cost
    if cost is None:
        return ""
    return money(cost) if job.tokens else f"est. {money(cost)}"


def status_text(job: Job) -> str:
    """The status; a video not on disk yet says how long its URL has left (24 h)."""
    status = job.status
    if not job.done and job.phase in ("creating", "downloading"):
        status = job.phase
    left = expiry_text(job).replace("video URL ", "URL ")
    return _MARK.get(job.status, "") + status + (f" · {left}" if left else "")


def stored_text(job: Job) -> str:
    """Where the store holds the video; "local only" after a failed upload (resume() retries)."""
    if job.stored_url:
        return job.stored_url
    return "local only" if job.store_error else ""


def heads(jobs: list[Job]) -> tuple[str, ...]:
    """The columns: a "stored" one once any job was written to an object store (or tried)."""
    stored = any(j.stored_url or j.store_error for j in jobs)
    return (*_HEAD, "stored") if stored else _HEAD


def row(job: Job, columns: tuple[str, ...] = _HEAD) -> list[str]:
    """One job as the table's text cells (the HTML table shows the same, plus the video)."""
    r = job.request
    prompt = " ".join(r.prompt.split())
    extra = [stored_text(job)] if "stored" in columns else []
    return [
        job.id,
        time.strftime("%Y-%m-%d %H:%M", time.localtime(job.created_at)),
        job.provider,
        job.model,
        status_text(job),
        f"{r.resolution} {r.duration}s",
        str(job.seed) if job.seed is not None else "",
        f"{job.tokens:,}" if job.tokens else "",
        cost_text(job),
        f"{job.elapsed:.1f}s",
        prompt if len(prompt) <= 48 else prompt[:47] + "…",
        *extra,
    ]


def text_table(jobs: list[Job]) -> str:
    columns = heads(jobs)
    rows = [list(columns)] + [row(j, columns) for j in jobs]
    widths = [max(len(r[i]) for r in rows) for i in range(len(columns))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines += hints(jobs)
    return "\n".join(lines)


def hints(jobs: list[Job]) -> list[str]:
    """The ways out the table's rows call for, one line each."""
    out = [UNKNOWN_HINT] if any(j.status == "unknown" for j in jobs) else []
    return out + ([EXPIRY_HINT] if any(j.url_expires_at for j in jobs) else [])


def _video_cell(job: Job, display: str) -> str:
    src = h.video_src(job) if job.status == "succeeded" else None
    if not src:
        return ""
    # a muted video with preload=metadata shows a frame: the history's thumbnail
    s = html.escape(src)
    return (
        f"<a href='{s}' target='_blank' title='open {s}'>"
        f"<video src='{s}#t=1' width='120' muted preload='metadata'></video><br>open</a>"
    )


def html_table(jobs: list[Job], display: str = "relative") -> str:
    cell = "text-align:left;vertical-align:top;padding:2px 8px"
    columns = heads(jobs)
    head = "".join(
        f"<th style='{cell};color:{_MUTED}'>{html.escape(x)}</th>" for x in (*columns, "video")
    )
    body = []
    for job in jobs:
        cells = row(job, columns)
        tds = []
        for i, text in enumerate(cells):
            style = cell
            if columns[i] in ("created", "format", "wall", "cost", "tokens", "status"):
                style += ";white-space:nowrap"
            if columns[i] == "status":
                style += f";color:{h.PALETTE[_ROLE.get(job.status, 'muted')]};font-weight:600"
            if columns[i] == "cost" and text.startswith("est."):
                style += f";color:{_MUTED}"
            title = f" title='{html.escape(job.request.prompt)}'" if columns[i] == "prompt" else ""
            if columns[i] == "stored" and job.store_error:
                title = f" title='{html.escape(job.store_error)}'"
            tds.append(f"<td style='{style}'{title}>{html.escape(text)}</td>")
        tds.append(f"<td style='{cell}'>{_video_cell(job, display)}</td>")
        ended = job.status in _MARK
        style = f" style='background:{h.PALETTE['surface']}'" if ended else ""
        body.append(
            f"<tr class='seedance-row-{html.escape(job.status)}'{style}>{''.join(tds)}</tr>"
        )
    hint = "".join(f"<div style='color:{_MUTED}'>{html.escape(t)}</div>" for t in hints(jobs))
    return (
        "<div class='seedance-history'><table style='border-collapse:collapse;"
        "font-family:var(--jp-code-font-family, monospace);font-size:var(--jp-code-font-size, 90%)'>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{hint}</div>"
    )


class _RowActions:
    """The buttons of one job's row."""

    def __init__(self, view: HistoryView, job: Job) -> None:
        import ipywidgets as w

        self.job = job
        small = w.Layout(width="auto")
        self.label = w.HTML(f"<code>{html.escape(job.id)}</code>", layout=w.Layout(width="14em"))
        self.open = w.Button(
            description="open", icon="play", layout=small, tooltip="show the video below"
        )
        self.rerun = w.Button(
            description="re-run",
            icon="redo",
            layout=small,
            tooltip="the same request again: a new take, paid again",
        )
        self.cancel = w.Button(
            description="cancel", icon="stop", layout=small, tooltip="ask the provider to cancel"
        )
        self.remix = w.Button(description="remix", icon="sliders", layout=small, tooltip=REMIX_TIP)
        self.open.on_click(lambda _b: view.open(self.job))
        self.rerun.on_click(lambda _b: view.rerun(self.job))
        self.remix.on_click(lambda _b: view.remix(self.job))
        self.cancel.on_click(lambda _b: view.cancel(self.job))
        self.box = w.HBox([self.label, self.open, self.rerun, self.remix, self.cancel])
        self.refresh()

    def refresh(self) -> None:
        job = self.job
        self.open.disabled = not (job.status == "succeeded" and job.video_path is not None)
        self.cancel.disabled = job.done


class HistoryView:
    """A table of jobs kept current while any is live, with per-row actions where widgets work."""

    min_interval = 0.5  # seconds between two repaints while jobs run

    def __init__(
        self,
        client: AsyncClient,
        jobs: list[Job],
        display: str = "relative",
        *,
        live: bool = True,
        actions: bool = False,
        empty_text: str | None = None,
    ) -> None:
        self.client = client
        self.jobs = list(jobs)
        self.display_mode = display
        self.live = live
        self.actions = actions
        self.empty_text = empty_text or f"no jobs yet in {client.workdir}"
        self._handle: Any = None
        self._rows: dict[str, _RowActions] = {}
        self._box: Any = None
        self.output: Any = None
        self._last = 0.0
        self._pending_paint: Any = None
        self._unsubscribe: dict[str, Any] = {}

    def bundle(self) -> dict[str, str]:
        if not self.jobs:
            return {"text/plain": self.empty_text}
        return {
            "text/plain": text_table(self.jobs),
            "text/html": html_table(self.jobs, self.display_mode),
        }

    def show(self) -> HistoryView:
        from IPython.display import display

        self._handle = display(self.bundle(), raw=True, display_id=True)
        if self.live:
            for job in self.jobs:
                self._follow(job)
        if self.actions and self.jobs:
            import ipywidgets as w

            self.output = w.Output()
            self._box = w.VBox([])
            for job in self.jobs:
                self._add_row(job)
            display(w.VBox([self._box, self.output]))
        return self

    def row(self, job_id: str) -> _RowActions:
        return self._rows[job_id]

    # live updates -------------------------------------------------------------------------
    def _follow(self, job: Job) -> None:
        if not job.done and job.id not in self._unsubscribe:
            self._unsubscribe[job.id] = job.on_change(self._changed)

    def _changed(self, job: Job) -> None:
        """On the client's loop: repaint now, or once the throttle interval has passed."""
        if job.id in self._rows:
            self._rows[job.id].refresh()
        if job.done and job.id in self._unsubscribe:
            self._unsubscribe.pop(job.id)()
        now = time.monotonic()
        wait = self.min_interval - (now - self._last)
        if job.done or wait <= 0:
            self._paint()
        elif self._pending_paint is None and job.loop is not None:
            self._pending_paint = job.loop.call_later(wait, self._paint)

    def _paint(self) -> None:
        if self._pending_paint is not None:
            self._pending_paint.cancel()
            self._pending_paint = None
        self._last = time.monotonic()
        if self._handle is not None:
            self._handle.update(self.bundle(), raw=True)

    # row actions --------------------------------------------------------------------------
    def _add_row(self, job: Job, first: bool = False) -> None:
        if self._box is None:
            return
        actions = _RowActions(self, job)
        self._rows[job.id] = actions
        boxes = list(self._box.children)
        self._box.children = tuple([actions.box, *boxes] if first else [*boxes, actions.box])

    def _say(self, bundle: dict[str, str]) -> None:
        if self.output is not None:
            out = {"output_type": "display_data", "data": bundle, "metadata": {}}
            self.output.outputs = (out,)

    def _fail(self, message: str, kind: str) -> None:
        self._say({"text/plain": f"✗ {kind}: {message}", "text/html": h.error_line(message, kind)})

    def open(self, job: Job) -> None:
        """Show the job's video under the table."""
        self._say(
            {
                "text/plain": str(job.video_path or job.summary()),
                "text/html": h.job_html(job, self.display_mode),
            }
        )

    def remix(self, job: Job) -> Any:
        """The form under the table, prefilled with the job's parameters (change, Submit)."""
        form = open_remix_form(job, self._client_for(job), self.display_mode)
        if self.output is not None:
            self.output.outputs = (widget_output(form.widget),)
        return form

    def _client_for(self, job: Job) -> AsyncClient:
        runtime: AsyncClient = job.client
        if runtime.provider_name == job.provider:
            return runtime
        from .runner import get_client

        return get_client(job.provider, runtime.workdir, runtime.storage)

    def rerun(self, job: Job) -> Any:
        """The same request again with force=True; the new job joins the table, live."""
        client = self._client_for(job)
        old = job

        async def go() -> Job:
            new = await client.submit(old.request.prompt, force=True, **params_of(old.request))
            self.jobs.insert(0, new)
            self._add_row(new, first=True)
            self._follow(new)
            self._say(
                {
                    "text/plain": f"re-run of {old.id}: {new.id} submitted",
                    "text/html": f"<code>re-run of {html.escape(old.id)}: "
                    f"{html.escape(new.id)} submitted</code>",
                }
            )
            self._paint()
            return new

        return self._start(client, go(), "re-run failed")

    def cancel(self, job: Job) -> Any:
        client = self._client_for(job)

        async def go() -> Job:
            target = job if job.client is client else await client.get_job(job.id)
            await target.cancel_async()
            self._paint()
            return target

        return self._start(client, go(), "cannot cancel")

    def _start(self, client: AsyncClient, coro: Any, kind: str) -> Any:
        future = on_client_loop(client, coro)

        def done(f: Any) -> None:
            if f.cancelled():
                return
            exc = f.exception()
            if exc is not None:  # shown, never raised into the widget machinery
                self._fail(str(exc), kind)

        future.add_done_callback(done)
        return future
