"""One display that many jobs repaint: a sweep's gallery, a storyboard's board.

Each job's change asks for a repaint; repaints closer together than ``min_interval`` are
dropped (the next one shows the latest state anyway), so a hundred jobs finishing together
send a handful of display updates, not a hundred.
"""

from __future__ import annotations

import time
from typing import Any


class LiveDisplay:
    """A display id updated in place from :meth:`_bundle`, at most every ``min_interval``."""

    min_interval = 0.25
    _handle: Any = None  # the display's handle, once shown
    _last = 0.0  # when it was last repainted

    def _bundle(self) -> tuple[dict[str, str], dict[str, Any]]:
        raise NotImplementedError

    def _show_live(self) -> None:
        """Display the bundle now, under a display id that later repaints update."""
        from IPython.display import display

        data, meta = self._bundle()
        self._handle = display(data, raw=True, metadata=meta, display_id=True)

    def _paint(self, force: bool = False) -> None:
        now = time.monotonic()
        if self._handle is None or (not force and now - self._last < self.min_interval):
            return
        self._last = now
        data, meta = self._bundle()
        self._handle.update(data, raw=True, metadata=meta)
