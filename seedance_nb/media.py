"""Moved to ``seedance_nb.request.media``; the old name is the same module until imports are rewritten."""

import sys

from .request import media

sys.modules[__name__] = media
