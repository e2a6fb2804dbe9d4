"""Moved to ``seedance_nb.engine.callbacks``; this alias keeps the old import path working."""

import sys

from .engine import callbacks as _moved

sys.modules[__name__] = _moved
