"""Moved to ``seedance_nb.engine.http``; this alias keeps the old import path working."""

import sys

from .engine import http as _moved

sys.modules[__name__] = _moved
