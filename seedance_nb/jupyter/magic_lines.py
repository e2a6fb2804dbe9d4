"""The ``%seedance`` line commands: history, status, cancel, resubmit, models, config, spend.

They run coroutines on the client's own loop (:func:`runner.run_sync`), so they work in a
kernel, in terminal IPython and in a script alike.
"""

from __future__ import annotations

import argparse
import html
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from IPython.core.error import UsageError
from IPython.display import display

from .. import catalog
from .. import display as h
from ..errors import ConfigurationError, SeedanceError
from ..request import schema as params
from .history import HistoryView
from .magic_options import COMMANDS, COMMANDS_TEXT
from .render import show_error
from .runner import on_client_loop, run_sync
from .view import TaskView, launch


class Unknown(Exception):
    """A job id or name that names nothing."""


class LineCommands:
    """The line commands of :class:`~seedance_nb.jupyter.magic.Seedance` (a mixin: it uses the
    magic's ``client``, ``display``, ``shell``, ``_request`` and ``_bind_and_wait``)."""

    shell: Any
    display: Any  # the Seedance.display trait: "relative" or "embed"
    client: Callable[..., Any]
    _request: Callable[[argparse.Namespace], dict[str, Any]]
    _bind_and_wait: Callable[[argparse.Namespace, Any], None]
    _can_update: Callable[[], bool]
    _has_widgets: Callable[[], bool]

    def _line(self, args: argparse.Namespace) -> None:
        words = list(args.command) or ["status"]
        cmd, rest = words[0], words[1:]
        if cmd not in COMMANDS:
            raise UsageError(f"unknown command {cmd!r}: {COMMANDS_TEXT}")
        request = self._request(args)
        if request:
            raise UsageError(
                f"{', '.join(params.BY_NAME[n].flag for n in request)} belong on a %%seedance "
                "cell line, not on a line command"
            )
        if len(rest) > (0 if cmd in ("status", "config", "spend") else 1):
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
        elif cmd == "spend":
            self._spend(args.provider)
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
            from ..engine.job import Job
            from ..workflows.sweep import SweepResults
            from .runner import PendingJob

            if isinstance(value, Job):
                return [value]
            if isinstance(value, PendingJob):
                if value.job is None:
                    raise UsageError(f"{ref} is still being submitted (or its submit failed)")
                return [value.job]
            if isinstance(value, SweepResults):  # a comparison or a sweep
                return [j for j in value.jobs if j is not None]
            raise UsageError(f"{ref} is {_a(type(value).__name__)}, not a job")
        job_id = ns[ref] if isinstance(ns.get(ref), str) else ref
        client = self.client()
        try:
            job = self._run(client, client.get_job(job_id))
        except KeyError:
            raise Unknown(
                f"no job {job_id!r} in {client.workdir}, and no variable of that name"
            ) from None
        return [job]

    def _client_for(self, job: Any) -> Any:
        """The client that drives ``job``: its own, unless that speaks for another provider
        (a ledger row listed through the default client); then one of the job's provider."""
        runtime = job.client
        if runtime.provider_name == job.provider and not runtime.closed:
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

    def _spend(self, provider: str | None) -> None:
        """The workdir's spend (emulator's apart, "would have cost") and the budget."""
        spend = self.client(provider).spend()
        display({"text/plain": str(spend), "text/html": spend._repr_html_()}, raw=True)

    def _config(self) -> None:
        traits = ["model", "provider", "workdir", "display", "wait"]
        if getattr(self, "budget_usd", None) is not None:  # listed once set
            traits.append("budget_usd")
        lines = [f"Seedance.{t} = {getattr(self, t)!r}" for t in traits]
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
