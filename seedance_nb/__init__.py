"""seedance-nb: ByteDance Seedance video generation from Python and Jupyter.

>>> import seedance_nb as sd
>>> job = sd.Client().submit("A paper boat drifts down a rain-soaked street", duration=4)
>>> job.wait().video_path

With no API key in the environment the client uses the built-in offline emulator. Heavy
modules (PyAV, Pillow, numpy, ipywidgets, the emulator server) load only when used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    BadResponseError,
    BudgetExceeded,
    ConfigurationError,
    DownloadCapExceeded,
    DownloadError,
    InsufficientQuotaError,
    InvalidRequest,
    JobFailed,
    NotFoundError,
    NotSentError,
    PermissionDeniedError,
    RateLimitError,
    SeedanceError,
    ServerError,
    UnknownOutcomeError,
    WaitTimeout,
)

if TYPE_CHECKING:
    from . import catalog
    from .client import Client
    from .engine.assets import Asset
    from .engine.callbacks import CallbackReceiver
    from .engine.client import AsyncClient
    from .engine.frames import last_frame
    from .engine.job import Job
    from .engine.pacing import PollPolicy
    from .jupyter.compare import compare
    from .jupyter.form import form
    from .jupyter.refs import show_references
    from .jupyter.storyboard import storyboard
    from .jupyter.sweep import sweep
    from .providers.task import TaskError, TaskState, Usage
    from .request import SeedanceWarning, VideoRequest
    from .workflows import Film, Shot, Storyboard
    from .workflows.sweep import Sweep
    from .workflows.sweep_plan import SweepInvalid, SweepPlan

# name → the module that defines it: loaded on first use, so ``import seedance_nb`` and
# ``%load_ext seedance_nb`` cost little more than ``import httpx`` (pydantic, the client and
# the engine come with the first ``sd.Client``; PyAV, Pillow, numpy, ipywidgets later still)
_LAZY = {
    "catalog": "",
    "Client": ".client",
    "Asset": ".engine.assets",
    "CallbackReceiver": ".engine.callbacks",
    "AsyncClient": ".engine.client",
    "PollPolicy": ".engine.pacing",
    "Job": ".engine.job",
    "last_frame": ".engine.frames",
    "TaskError": ".providers.task",
    "TaskState": ".providers.task",
    "Usage": ".providers.task",
    "SeedanceWarning": ".request",
    "VideoRequest": ".request",
    "compare": ".jupyter.compare",
    "form": ".jupyter.form",
    "show_references": ".jupyter.refs",
    "sweep": ".jupyter.sweep",
    "storyboard": ".jupyter.storyboard",
    "Film": ".workflows",
    "Shot": ".workflows",
    "Storyboard": ".workflows",
    "Sweep": ".workflows.sweep",
    "SweepInvalid": ".workflows.sweep_plan",
    "SweepPlan": ".workflows.sweep_plan",
}

__version__ = "0.1.0"


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext seedance_nb``: register the ``%%seedance`` magic."""
    from .jupyter.magic import load_ipython_extension as load

    load(ipython)


def __getattr__(name: str) -> Any:
    """The public names, each imported from its module on first use (then kept here)."""
    where = _LAZY.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if not where:
        value: Any = importlib.import_module(f".{name}", __name__)
    else:
        value = getattr(importlib.import_module(where, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "APIConnectionError",
    "APIError",
    "Asset",
    "AsyncClient",
    "AuthenticationError",
    "BadResponseError",
    "BudgetExceeded",
    "CallbackReceiver",
    "Client",
    "ConfigurationError",
    "DownloadCapExceeded",
    "DownloadError",
    "Film",
    "InsufficientQuotaError",
    "InvalidRequest",
    "Job",
    "JobFailed",
    "NotFoundError",
    "NotSentError",
    "PermissionDeniedError",
    "PollPolicy",
    "RateLimitError",
    "SeedanceError",
    "SeedanceWarning",
    "ServerError",
    "Shot",
    "Storyboard",
    "Sweep",
    "SweepInvalid",
    "SweepPlan",
    "TaskError",
    "TaskState",
    "UnknownOutcomeError",
    "Usage",
    "VideoRequest",
    "WaitTimeout",
    "catalog",
    "compare",
    "form",
    "last_frame",
    "load_ipython_extension",
    "show_references",
    "storyboard",
    "sweep",
]
