"""Moved to ``seedance_nb.engine.job``; this alias keeps the old import path working."""

import sys

from .engine import job as _moved

sys.modules[__name__] = _moved
