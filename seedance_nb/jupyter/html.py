"""The job's HTML for the Jupyter views, re-exported from :mod:`seedance_nb.display`.

The strings live in the engine layer so ``Job._repr_html_`` needs nothing from the Jupyter
face; the views keep importing ``from . import html as h``.
"""

from __future__ import annotations

from ..display import *  # noqa: F403
from ..display import _STATUS
from ..display import __all__ as _display_all

__all__ = [*_display_all, "_STATUS"]
