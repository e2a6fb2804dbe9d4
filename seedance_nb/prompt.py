"""Moved to ``seedance_nb.request.prompt``; the old name is the same module until imports are rewritten."""

import sys

from .request import prompt

sys.modules[__name__] = prompt
