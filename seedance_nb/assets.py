"""Moved to ``seedance_nb.engine.assets``; this alias keeps the old import path working."""

import sys

from .engine import assets as _moved

sys.modules[__name__] = _moved
