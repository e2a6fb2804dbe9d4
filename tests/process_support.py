"""A client in a process of its own, to kill or to run beside another: the killed-kernel and
team-ledger tests spawn one from a script, with no provider key in its environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any


def spawn(script: str, args: dict[str, Any], **env: str) -> subprocess.Popen[str]:
    """Run ``script`` (``python -c``) with ``args`` as its JSON argument; ``env`` is added to
    this environment, every ``*API_KEY`` taken out."""
    clean = {k: v for k, v in os.environ.items() if not k.endswith("API_KEY")}
    return subprocess.Popen(
        [sys.executable, "-c", script, json.dumps(args)],
        env={**clean, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def until(what: Callable[[], bool], timeout: float = 60.0) -> None:
    """Wait for ``what`` (a kill point, a lease taken over), polling every 50 ms."""
    end = time.monotonic() + timeout
    while not what():
        if time.monotonic() > end:
            raise AssertionError("the kill point never came")
        time.sleep(0.05)
