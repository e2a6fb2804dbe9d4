"""Moved to ``seedance_nb.request.schema``; the old name is the same module until imports are rewritten."""

import sys

from .request import schema

sys.modules[__name__] = schema
