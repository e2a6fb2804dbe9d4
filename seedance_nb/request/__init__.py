"""The request layer: the parameter schema, the validated request, its checks, media, prompt.

``build_request`` is the single gate between user input and money (see :mod:`.checks`).
"""

from .checks import SeedanceWarning, build_request
from .model import VideoRequest

__all__ = ["SeedanceWarning", "VideoRequest", "build_request"]
