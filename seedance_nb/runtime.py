"""Moved to ``seedance_nb.engine.client``; this alias keeps the old import path working."""

import sys

from .engine import client as _moved

sys.modules[__name__] = _moved
