"""seedance-nb: ByteDance Seedance video generation from Python and Jupyter.

>>> import seedance_nb as sd
>>> job = sd.Client().submit("A paper boat drifts down a rain-soaked street", duration=4)
>>> job.wait().video_path

With no API key in the environment the client uses the built-in offline emulator. Heavy
modules (PyAV, Pillow, numpy, ipywidgets, the emulator server) load only when used.
"""

from __future__ import annotations

from typing import Any

from . import catalog
from .client import Client
from .engine.assets import Asset
from .engine.callbacks import CallbackReceiver
from .engine.client import AsyncClient, PollPolicy
from .engine.frames import last_frame
from .engine.job import Job
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
from .providers.task import TaskError, TaskState, Usage
from .request import SeedanceWarning, VideoRequest
from .workflows import Film, Shot, Storyboard
from .workflows.sweep import Sweep
from .workflows.sweep_plan import SweepInvalid, SweepPlan

__version__ = "0.1.0"


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext seedance_nb``: register the ``%%seedance`` magic."""
    from .jupyter.magic import load_ipython_extension as load

    load(ipython)


def __getattr__(name: str) -> Any:
    """Lazy Jupyter helpers (``compare``, ``sweep``, ``storyboard``, ``form``,
    ``show_references``) load on first use."""
    if name == "compare":
        from .jupyter.compare import compare

        return compare
    if name == "sweep":
        from .jupyter.sweep import sweep

        return sweep
    if name == "form":
        from .jupyter.form import form

        return form
    if name == "storyboard":
        from .jupyter.storyboard import storyboard

        return storyboard
    if name == "show_references":
        from .jupyter.refs import show_references

        return show_references
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
