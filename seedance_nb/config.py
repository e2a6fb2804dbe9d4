"""Moved to ``seedance_nb.engine.settings``; this alias keeps the old import path working."""

import sys

from .engine import settings as _moved

sys.modules[__name__] = _moved
