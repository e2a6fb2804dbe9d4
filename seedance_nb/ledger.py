"""Moved to ``seedance_nb.engine.ledger``; this alias keeps the old import path working."""

import sys

from .engine import ledger as _moved

sys.modules[__name__] = _moved
