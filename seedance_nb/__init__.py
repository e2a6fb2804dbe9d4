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

__version__ = "0.1.0"


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext seedance_nb``: register the ``%%seedance`` magic."""
    from .jupyter.magic import load_ipython_extension as load

    load(ipython)


def __getattr__(name: str) -> Any:
    """Lazy Jupyter helpers (``compare``, ``form``, ``show_references``) load on first use."""
    if name == "compare":
        from .jupyter.compare import compare

        return compare
    if name == "form":
        from .jupyter.form import form

        return form
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
    "TaskError",
    "TaskState",
    "UnknownOutcomeError",
    "Usage",
    "VideoRequest",
    "WaitTimeout",
    "catalog",
    "compare",
    "form",
    "load_ipython_extension",
    "show_references",
]
