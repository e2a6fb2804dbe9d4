"""``%%seedance``: the cell body is the prompt, the line holds the options.

``%load_ext seedance_nb`` registers the magic and a ``Seedance`` configurable, so defaults are
set with ``%config Seedance.model = "seedance-2.0-fast"`` (traits: model, provider, workdir,
display, wait). The request options are generated from :mod:`seedance_nb.params`, the one
declaration the CLI and the form read too. The cell validates at once, then hands the submit
to the client's loop and returns; a live task view in the cell follows the job.

Every message is one styled line (:func:`render.show_error`); nothing raises into the cell.
Line commands run in a kernel (on its loop), in terminal IPython and in a script (both on
the private loop thread), because coroutines always go to the client's own loop.
"""

from __future__ import annotations

import argparse
import html
import json
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from IPython.core.displaypub import DisplayPublisher
from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class
from IPython.core.magic_arguments import (
    MagicHelpFormatter,
    argument,
    argument_group,
    kwds,
    magic_arguments,
)
from IPython.display import display
from traitlets import Bool, Enum, Unicode
from traitlets.config.configurable import Configurable

from .. import catalog, params
from ..errors import ConfigurationError, SeedanceError
from . import html as h
from .history import HistoryView
from .render import show_error, show_notice
from .runner import get_client, on_client_loop, run_sync
from .view import TaskView, launch

COMMANDS = ("history", "status", "cancel", "resubmit", "models", "config")
_COMMANDS_TEXT = "history [N] | status | cancel JOB | resubmit JOB | models [PROVIDER] | config"


class _Unknown(Exception):
    """A job id or name that names nothing."""


class _Formatter(MagicHelpFormatter):
    """IPython's magic help without the reST ``::`` before the usage."""

    def add_usage(self, usage: Any, actions: Any, groups: Any, prefix: str | None = "") -> None:
        super().add_usage(usage, actions, groups, "Usage:\n  ")


_USAGE = (
    "%%%%seedance [options]          the cell body is the prompt\n"
    f"  %%seedance COMMAND             {_COMMANDS_TEXT}"
)

_HELP = """\
Generate a Seedance video from a notebook cell. The cell returns at once and a live view
follows the job; --wait blocks until the video is on disk. The same request twice is not
sent again (the old video comes back, nothing is charged) unless --force. REF is a URL, a
local file, or the name of a variable holding a path, bytes or a PIL image.

Examples:
  %%seedance -m seedance-2.0-fast --duration 5 --resolution 720p --seed 7
  A paper boat drifts down a rain-soaked street at dusk

  %%seedance --image cat --ratio 1:1 --name take --wait
  The cat from [Image 1] leaps onto the windowsill

  %%seedance -m seedance-2.0,seedance-2.0-fast --duration 4 --dry-run
  A lighthouse in a storm, waves breaking over the rocks

Line commands:
  %seedance history [N]            the last N jobs: cost, status; open / re-run / cancel
  %seedance status [--provider P]  provider, endpoint and live jobs
  %seedance cancel JOB             JOB: a job id, or a variable bound with --name
  %seedance resubmit JOB           the same request again, a new paid take (--name, --wait)
  %seedance models [PROVIDER]      every tier with its durations, resolutions, ratios
  %seedance config                 the %config Seedance.* defaults

Allowed values for each model and provider: %seedance models
"""


def _options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Give the magic its options: the request parameters from the schema, then its own."""
    decorators: list[Any] = [
        argument(
            "command", nargs="*", metavar="COMMAND", help=f"Line magic only: {_COMMANDS_TEXT}."
        ),
        argument_group("request parameters (%seedance models lists what each tier allows)"),
    ]
    model_default = {"model": f"Seedance.model (initially {catalog.DEFAULT_TIER})"}
    for flags, spec in params.argument_specs(defaults=model_default):
        if spec["dest"] == "model":
            spec = {
                **spec,
                "help": spec["help"] + " A comma list runs one job per tier, side by side.",
            }
        decorators.append(argument(*flags, **spec))
    decorators += [
        argument_group("cell options"),
        argument(
            "--provider",
            help="Provider (default: Seedance.provider, else the environment; "
            "no key: the offline emulator).",
        ),
        argument("--wait", action="store_true", help="Block until the video is on disk."),
        argument(
            "--force",
            action="store_true",
            help="Send again (and pay again) even if the same request ran before.",
        ),
        argument(
            "--dry-run",
            action="store_true",
            help="Show the exact request and its estimate; send nothing.",
        ),
        argument("--name", metavar="VAR", help="Bind the job to this variable."),
    ]
    # IPython builds the parser from the decorators in source order, i.e. last applied first
    for deco in reversed(decorators):
        func = deco(func)
    func = kwds(usage=_USAGE, formatter_class=_Formatter)(func)
    return magic_arguments()(func)  # type: ignore[no-any-return]


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
    def client(self, provider: str | None = None, workdir: Path | None = None) -> Any:
        return get_client(provider or self.provider or None, workdir or self._workdir())

    def _workdir(self) -> Path:
        return Path(self.workdir).expanduser().resolve()

    def _ref(self, value: Any) -> Any:
        """A REF: a user-namespace variable name, else a URL or a local path (as given)."""
        ns = self.shell.user_ns if self.shell is not None else {}
        if isinstance(value, str) and value.isidentifier() and value in ns:
            return ns[value]
        return value

    def _can_update(self) -> bool:
        """Whether displays can be redrawn in place (a kernel's publisher, a capture); the
        plain publisher of terminal IPython prints every update again, so there the tables
        are painted once."""
        pub = getattr(self.shell, "display_pub", None)
        return pub is not None and type(pub) is not DisplayPublisher

    def _has_widgets(self) -> bool:
        return getattr(self.shell, "kernel", None) is not None

    # the magic --------------------------------------------------------------------------
    @line_cell_magic
    def seedance(self, line: str, cell: str | None = None) -> Any:
        try:
            args = self.seedance.parser.parse_argstring(line)
            if cell is None:
                self._line(args)
            elif args.command:
                raise UsageError(
                    f"unexpected words on the %%seedance line: {' '.join(args.command)} "
                    "(line commands go on a %seedance line of their own)"
                )
            else:
                self._cell(args, cell)
        except SeedanceError as exc:  # before ValueError: some of them are ValueErrors too
            show_error(str(exc), type(exc).__name__)
        except (UsageError, ValueError) as exc:  # argparse's, a bad quote, KEY=VALUE
            show_error(f"{exc}; see %seedance?", "UsageError")
        except _Unknown as exc:
            show_error(str(exc), "unknown job")
        except Exception as exc:  # a bug here must still not put a traceback in the cell
            show_error(f"{type(exc).__name__}: {exc}", "internal error")
        return None

    seedance.__doc__ = _HELP
    seedance = _options(seedance)

    def _request(self, args: argparse.Namespace) -> dict[str, Any]:
        return params.from_namespace(args, ref=self._ref)

    def _cell(self, args: argparse.Namespace, prompt: str) -> None:
        values = self._request(args)
        models = [m.strip() for m in (values.pop("model", None) or self.model).split(",")]
        models = [m for m in models if m]
        client = self.client(args.provider)
        for m in models:
            client.validate(prompt, model=m, **values)
        if args.dry_run:
            for m in models:
                self._show_preview(client.preview(prompt, model=m, **values))
            return
        if len(models) > 1:
            from .compare import Comparison

            result: Any = Comparison(
                client, prompt, models, values, display=self.display, force=args.force
            ).show()
        else:
            view = TaskView(models[0], self.display, force_hint="--force").show()
            result = launch(client, prompt, {"model": models[0], **values}, view, force=args.force)
        self._bind_and_wait(args, result)

    def _bind_and_wait(self, args: argparse.Namespace, result: Any) -> None:
        if args.name:
            self.shell.user_ns[args.name] = result
        if args.wait or self.wait:
            try:
                result.wait()
            except SeedanceError:
                pass  # the view already shows the failure
            except KeyboardInterrupt:
                show_notice("interrupted; the job goes on (%seedance status shows it)")

    def _show_preview(self, pv: dict[str, Any]) -> None:
        body = json.dumps(pv["body"], indent=2, ensure_ascii=False, default=str)
        cost = pv["estimated_cost_usd"]
        est = f"≈ {pv['estimated_tokens']:,} tokens" + (
            f" ≈ ${cost:.2f}" if cost is not None else ""
        )
        req = pv["request"]
        head = f"dry run · {req.describe()} · {est} · nothing sent"
        warn = "".join(f"\n⚠ {w}" for w in pv["warnings"])
        url = pv["url"]
        if pv["emulated"]:  # its port changes every run: a saved notebook keeps no stale one
            url = "<offline emulator>" + urlsplit(url).path
        text = f"{head}\n{pv['method']} {url}\n{body}{warn}"
        warn_html = "".join(h.notice_line(w, kind="warning") for w in pv["warnings"])
        markup = (
            f"<div class='seedance-dry-run'><b>{html.escape(head)}</b>"
            f"<pre>{html.escape(pv['method'])} {html.escape(url)}\n{html.escape(body)}</pre>"
            f"{warn_html}</div>"
        )
        display({"text/plain": text, "text/html": markup}, raw=True)

    # line magic -------------------------------------------------------------------------
    def _line(self, args: argparse.Namespace) -> None:
        words = list(args.command) or ["status"]
        cmd, rest = words[0], words[1:]
        if cmd not in COMMANDS:
            raise UsageError(f"unknown command {cmd!r}: {_COMMANDS_TEXT}")
        request = self._request(args)
        if request:
            raise UsageError(
                f"{', '.join(params.BY_NAME[n].flag for n in request)} belong on a %%seedance "
                "cell line, not on a line command"
            )
        if len(rest) > (0 if cmd in ("status", "config") else 1):
            raise UsageError(f"too many words for {cmd}: {' '.join(rest)}")
        if cmd == "history":
            if rest and not rest[0].isdigit():
                raise UsageError(f"history takes a number of rows, not {rest[0]!r}")
            self._history(int(rest[0]) if rest else 20)
        elif cmd == "status":
            self._status(args.provider)
        elif cmd in ("cancel", "resubmit"):
            if not rest:
                raise UsageError(f"usage: %seedance {cmd} JOB (a job id or a variable name)")
            if cmd == "cancel":
                self._cancel(rest[0])
            else:
                self._resubmit(rest[0], args)
        elif cmd == "models":
            self._models(rest[0] if rest else args.provider)
        else:
            self._config()

    def _run(self, client: Any, coro: Coroutine[Any, Any, Any]) -> Any:
        """Run ``coro`` on ``client``'s own loop and wait for it: nested in a kernel cell,
        handed to the private loop thread in terminal IPython or a script."""
        return run_sync(on_client_loop(client, coro))

    def _table(self, client: Any, jobs: list[Any], empty: str | None = None) -> HistoryView:
        return HistoryView(
            client,
            jobs,
            self.display,
            live=self._can_update(),
            actions=self._has_widgets(),
            empty_text=empty,
        ).show()

    def _history(self, limit: int) -> None:
        client = self.client()
        self._table(client, self._run(client, client.jobs(limit)))

    def _status(self, provider: str | None) -> None:
        client = self.client(provider)
        jobs = self._run(client, client.jobs(200))
        shown = [j for j in jobs if not j.done or j.status == "unknown"]
        if client.emulated:
            where = (
                f"{client.provider.dialect} dialect on the offline emulator at {client.base_url}"
            )
        else:
            where = f"{client.provider_name} at {client.base_url}"
        active = sum(not j.done for j in jobs)
        workdir = (
            h.shown_path(client.workdir)
            if client.workdir.is_relative_to(Path.cwd())
            else client.workdir
        )
        line = f"{where} · workdir {workdir} · {active} active"
        display({"text/plain": line, "text/html": f"<code>{html.escape(line)}</code>"}, raw=True)
        if shown:
            self._table(client, shown)

    def _jobs(self, ref: str) -> list[Any]:
        """The jobs a JOB word names: a variable bound with --name (a job, a pending job, a
        comparison) or, failing that, a job id in the ledger."""
        ns = self.shell.user_ns if self.shell is not None else {}
        if ref.isidentifier() and ref in ns and not isinstance(ns[ref], str):
            value = ns[ref]
            from ..job import Job
            from .compare import Comparison
            from .runner import PendingJob

            if isinstance(value, Job):
                return [value]
            if isinstance(value, PendingJob):
                if value.job is None:
                    raise UsageError(f"{ref} is still being submitted (or its submit failed)")
                return [value.job]
            if isinstance(value, Comparison):
                return [j for j in value.jobs() if j is not None]
            raise UsageError(f"{ref} is {_a(type(value).__name__)}, not a job")
        job_id = ns[ref] if isinstance(ns.get(ref), str) else ref
        client = self.client()
        try:
            job = self._run(client, client.get_job(job_id))
        except KeyError:
            raise _Unknown(
                f"no job {job_id!r} in {client.workdir}, and no variable of that name"
            ) from None
        return [job]

    def _client_for(self, job: Any) -> Any:
        """The client that drives ``job``: its own, unless that speaks for another provider
        (a ledger row listed through the default client); then one of the job's provider."""
        runtime = job.client
        if runtime.provider_name == job.provider and not runtime._closed:
            return runtime
        return self.client(job.provider, runtime.workdir)

    def _cancel(self, ref: str) -> None:
        for job in self._jobs(ref):
            client = self._client_for(job)
            target = job if job.client is client else self._run(client, client.get_job(job.id))
            try:
                self._run(client, target.cancel_async())
            except SeedanceError as exc:
                show_error(str(exc), "cannot cancel")
                continue
            display({"text/plain": f"{target.id}: {target.status}"}, raw=True)

    def _resubmit(self, ref: str, args: argparse.Namespace) -> None:
        results = []
        for job in self._jobs(ref):
            client = self._client_for(job)
            view = TaskView(job.model, self.display, force_hint="--force").show()
            results.append(
                launch(client, job.request.prompt, params.params_of(job.request), view, force=True)
            )
        if results:
            self._bind_and_wait(args, results[0] if len(results) == 1 else _Many(results))

    def _models(self, provider: str | None) -> None:
        name = provider or self.provider or None
        if name:
            try:
                spec = catalog.get_provider(name)
            except KeyError as exc:
                raise ConfigurationError(str(exc.args[0])) from None
        else:
            spec = self.client().provider
        head = list(catalog.OFFER_TABLE_HEAD)
        rows = catalog.offer_table(spec)
        display({"text/plain": f"{spec.label} ({spec.name})"}, raw=True)
        display(_plain_table(head, rows), raw=True)

    def _config(self) -> None:
        lines = [
            f"Seedance.{t} = {getattr(self, t)!r}"
            for t in ("model", "provider", "workdir", "display", "wait")
        ]
        display({"text/plain": "\n".join(lines)}, raw=True)


class _Many:
    """Several resubmitted jobs under one --name: wait() waits for all."""

    def __init__(self, pending: list[Any]) -> None:
        self.pending = pending

    def wait(self) -> list[Any]:
        return [p.wait() for p in self.pending]

    def __iter__(self) -> Any:
        return iter(self.pending)


def _a(noun: str) -> str:
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def _plain_table(headers: list[str], rows: list[list[str]]) -> dict[str, str]:
    cell = "text-align:left;padding:2px 8px"
    head = "".join(f"<th style='{cell}'>{html.escape(x)}</th>" for x in headers)
    body = "".join(
        "<tr>" + "".join(f"<td style='{cell}'>{html.escape(c)}</td>" for c in r) + "</tr>"
        for r in rows
    )
    table = [headers, *rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(headers))]
    text = "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in table
    )
    return {
        "text/html": f"<table class='seedance-table'><thead><tr>{head}</tr></thead>"
        f"<tbody>{body}</tbody></table>",
        "text/plain": text,
    }


def load_ipython_extension(ipython: Any) -> None:
    """Register the magic and its configurable; notices become a muted line in the cell."""
    from .. import config

    magics = Seedance(shell=ipython, parent=ipython)
    ipython.register_magics(magics)
    if magics not in ipython.configurables:
        ipython.configurables.append(magics)
    config.set_notifier(show_notice)
