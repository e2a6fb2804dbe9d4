"""A request run again is returned from the ledger, and says so (``job.reused``, one line)."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import client_kwargs

import seedance_nb as sd
from seedance_nb.emulator import Emulator

M10 = "seedance-1.0-pro"


def test_a_job_returned_from_the_ledger_says_it_was_reused(
    client: sd.Client, emulator: Emulator, tmp_path: Path
) -> None:
    params = {"model": M10, "duration": 2, "resolution": "480p", "seed": 7}
    first = client.submit("a kite over the dunes", **params)
    assert first.reused is False
    assert "reused" not in repr(first)
    first.wait(timeout=60)
    again = client.submit("a kite over the dunes", **params)
    assert again.id == first.id and again.reused is True
    assert repr(again).endswith("reused>")
    note = again.reuse_note("--force")
    tokens = f"{again.tokens:,}"
    assert re.fullmatch(
        rf"same request as {again.id} \(\d\d:\d\d, {M10}, {tokens} tokens\): "
        r"reused, nothing charged; --force to pay for a new take",
        note,
    ), note
    # after a restart (a new client on the same workdir) it is still a reuse
    with sd.Client(**client_kwargs(emulator, tmp_path / "w")) as restarted:
        third = restarted.submit("a kite over the dunes", **params)
        assert third.id == first.id and third.reused is True
    # force=True is a new take, not a reuse
    forced = client.submit("a kite over the dunes", force=True, **params)
    assert forced.id != first.id and forced.reused is False
    forced.wait(timeout=60)


def test_a_reused_job_still_running_names_its_state(client: sd.Client) -> None:
    params = {"model": M10, "duration": 2, "resolution": "480p", "seed": 8}
    first = client.submit("a slow tide [[slow]]", **params)
    again = client.submit("a slow tide [[slow]]", **params)
    assert again.reused is True and not again.done  # queued 0.2 s, then 2 s running
    assert f"{M10}, {again.status})" in again.reuse_note()
    assert again.reuse_note().endswith("force=True to pay for a new take")
    first.wait(timeout=60)
