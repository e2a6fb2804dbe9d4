"""``%%seedance``: the cell body is the prompt, the line holds the options.

``%load_ext seedance_nb`` registers the magic and a ``Seedance`` configurable, so defaults are
set with ``%config Seedance.model = "seedance-2.0-fast"`` (traits: model, provider, workdir,
ledger, display, wait, storage, budget_usd). ``Seedance.ledger`` shows a URL's password
masked. The request options are generated from :mod:`seedance_nb.request.schema`, the one
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
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class
from IPython.display import display
from traitlets import Bool, Enum, Float, TraitError, TraitType, Unicode, observe
from traitlets.config.configurable import Configurable

from .. import catalog
from .. import display as h
from ..engine.ledger_url import LedgerURL, ledger_location
from ..errors import ConfigurationError, SeedanceError
from ..request import schema as params
from .form import remix_form
from .magic_lines import LineCommands, Unknown
from .magic_options import COMMANDS, HELP, with_options
from .remix import set_opener
from .render import show_error, show_notice
from .runner import get_client, set_budget, use_ledger, use_storage
from .view import TaskView, can_update_displays, launch

__all__ = ["COMMANDS", "Seedance", "load_ipython_extension"]


class LedgerSetting(TraitType[Any, Any]):
    """A ledger: a ``postgresql://`` URL, held sealed (``%config`` shows its password
    masked), or an SQLite file path; None for the default."""

    default_value = None
    allow_none = True
    info_text = "a postgresql:// URL or an SQLite file path"

    def validate(self, obj: Any, value: Any) -> LedgerURL | Path | None:
        if value is None or value == "":
            return None
        if not isinstance(value, (str, Path, LedgerURL)):
            raise TraitError(f"Seedance.ledger takes {self.info_text}, not {type(value).__name__}")
        try:
            return ledger_location(value)
        except ConfigurationError as exc:
            raise TraitError(str(exc)) from None


@magics_class
class Seedance(LineCommands, Magics, Configurable):  # type: ignore[misc]
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
    ledger = LedgerSetting(
        help="The job ledger: a team's postgresql:// URL, or an SQLite file; unset: "
        "SEEDANCE_LEDGER_URL, else ledger.sqlite in the workdir."
    ).tag(config=True)
    display = Enum(
        list(h.DISPLAY_MODES),
        default_value="relative",
        help="'relative': <video src> served by jupyter-server; 'embed': base64 in the notebook.",
    ).tag(config=True)
    wait = Bool(False, help="Block every %%seedance cell until its video is on disk.").tag(
        config=True
    )
    storage = Unicode(
        "",
        help="Object store every finished video is also written to (s3://bucket/prefix, any "
        "fsspec URL); empty: SEEDANCE_STORAGE, else none. Credentials: the environment.",
    ).tag(config=True)

    budget_usd = Float(
        None,
        allow_none=True,
        help="Cap on spend in US dollars, counted from the workdir's ledger; a submit past it "
        "is refused before anything is sent. None: SEEDANCE_BUDGET_USD, else no cap.",
    ).tag(config=True)

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        set_budget(self.budget_usd)

    @observe("budget_usd")
    def _budget_changed(self, change: Any) -> None:
        set_budget(change["new"])  # every notebook client, the form's and history's too

    @observe("ledger")
    def _ledger_changed(self, change: Any) -> None:
        use_ledger(change["new"])  # the form, compare and history open the same ledger

    @observe("storage")
    def _storage_changed(self, change: Any) -> None:
        use_storage(change["new"])  # ... and write to the same store

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
        return can_update_displays(self.shell)

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
        except Unknown as exc:
            show_error(str(exc), "unknown job")
        except Exception as exc:  # a bug here must still not put a traceback in the cell
            show_error(f"{type(exc).__name__}: {exc}", "internal error")
        return None

    seedance.__doc__ = HELP
    seedance = with_options(seedance)

    def _request(self, args: argparse.Namespace) -> dict[str, Any]:
        return params.from_namespace(args, ref=self._ref)

    def _cell(self, args: argparse.Namespace, prompt: str) -> None:
        values = self._request(args)
        given_model = values.pop("model", None)
        models = [m.strip() for m in (given_model or self.model).split(",")]
        models = [m for m in models if m]
        client = self.client(args.provider)
        if args.sweep:
            self._sweep(args, client, prompt, values, models, explicit=given_model is not None)
            return
        if len(models) > 1:  # a comparison: a sweep over model, each tier validated
            from .compare import Comparison, plan_comparison

            plan = plan_comparison(client, prompt, models, values, args.force)
        else:
            request = client.validate(prompt, model=models[0], **values)
            if not args.dry_run:  # refused here, in one line, before any view or request
                client.check_budget([request], force=args.force)
        if args.dry_run:
            for m in models:
                self._show_preview(client.preview(prompt, model=m, **values))
            return
        if len(models) > 1:
            result: Any = Comparison(
                client, prompt, models, values, display=self.display, force=args.force, plan=plan
            ).show()
        else:
            view = TaskView(models[0], self.display, force_hint="--force").show()
            result = launch(client, prompt, {"model": models[0], **values}, view, force=args.force)
        self._bind_and_wait(args, result)

    def _sweep(
        self,
        args: argparse.Namespace,
        client: Any,
        prompt: str,
        values: dict[str, Any],
        models: list[str],
        *,
        explicit: bool,
    ) -> None:
        """``--sweep`` axes: the plan, then the gallery (``--dry-run``: the plan only)."""
        from ..errors import InvalidRequest
        from ..workflows.sweep_plan import plan_sweep
        from .magic_sweep import merge, parse_axes
        from .sweep import SweepGallery, show_plan, show_refusal

        axes = parse_axes(args.sweep, self._ref)
        if explicit or "model" not in axes:
            values = {**values, "model": models if len(models) > 1 else models[0]}
        try:
            plan = plan_sweep(client, prompt, force=args.force, **merge(values, axes))
        except InvalidRequest as exc:
            show_refusal(exc)
            return
        if args.dry_run:
            show_plan(plan)
            return
        result = SweepGallery(
            client, plan.expansion, plan=plan, display=self.display, force=args.force
        ).show()
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
            f" · est. ${cost:.2f}" if cost is not None else ""
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


def load_ipython_extension(ipython: Any) -> None:
    """Register the magic and its configurable; notices become a muted line in the cell."""
    from ..engine import settings as config

    magics = Seedance(shell=ipython, parent=ipython)
    ipython.register_magics(magics)
    if magics not in ipython.configurables:
        ipython.configurables.append(magics)
    config.set_notifier(show_notice)
    set_opener(remix_form)  # the views' Remix buttons open the form
