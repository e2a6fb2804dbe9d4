"""Helpers to run cells in a real IPython shell and read what they displayed (shared by the
magic and Jupyter-layer tests; the shell itself is conftest's ``ip`` fixture)."""

from __future__ import annotations

from typing import Any

from IPython.utils.capture import capture_output


async def run(ip: Any, source: str) -> tuple[Any, Any]:
    """Run a cell as ipykernel does (inside the running loop); returns (result, captured)."""
    with capture_output() as cap:
        result = await ip.run_cell_async(source, transformed_cell=ip.transform_cell(source))
    return result, cap


def _outputs(cap: Any) -> list[Any]:
    """The cell's outputs without the once-per-process emulator notice."""
    return [o for o in cap.outputs if not o.data.get("text/plain", "").startswith("seedance-nb: ")]


def texts(cap: Any) -> list[str]:
    return [o.data.get("text/plain", "") for o in _outputs(cap)]


def htmls(cap: Any) -> list[str]:
    return [o.data.get("text/html", "") for o in _outputs(cap)]
