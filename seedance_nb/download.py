"""Moved to ``seedance_nb.engine.downloader``; this alias keeps the old import path working."""

import sys

from .engine import downloader as _moved

sys.modules[__name__] = _moved
