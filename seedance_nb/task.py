"""Moved to ``seedance_nb.providers.task``; the old name is the same module until imports are rewritten."""

import sys

from .providers import task

sys.modules[__name__] = task
