"""The fault matrix: each emulator fault against many jobs, with the guarantees counted.

Per fault (one row), ``JOBS`` distinct requests go through one :class:`AsyncClient` against an
emulator whose fault plan fires that fault at the row's rate, over real loopback sockets, with
an API key the emulator requires. Then, per row:

* upstream tasks per logical request — exactly 1: every job adopted a distinct upstream task
  and the emulator created no more tasks than there were requests (so no orphan, no double);
* videos lost — 0: every task that succeeded upstream has its complete MP4 on disk;
* jobs stuck non-terminal — 0 after the deadline;
* files outside the workdir — 0 (the client's and emulator's folders are the only writers);
* key sightings — 0 in the workdir's files, the emulator's files, every log record, and the
  repr/str/summary of every job and exception;
* time to recover — for each fault the client saw, seconds from seeing it to the step it
  broke succeeding (``AsyncClient.recovery_seconds``), reported as p50 and max.

CI runs this file with ``JOBS=6`` (the fast slice). The full matrix (``JOBS=40`` and the
gateway rows at full size) is ``bash scripts/fault-matrix``, which also rewrites the table in
RELIABILITY.md from ``artifacts/fault-matrix.json``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import seedance_nb as sd
from seedance_nb.emulator import Emulator

JOBS = int(os.environ.get("SEEDANCE_FAULT_JOBS", "6"))
REQUEST_TIMEOUT = 3.0  # the client's: how long an unanswered create may still be in flight
DEADLINE = 90.0 + 1.5 * JOBS  # seconds for a whole row to settle


@dataclass(frozen=True)
class Row:
    """One fault to run: what the emulator does, and what the jobs must end as."""

    spec: str
    provider: str = "ark"
    callbacks: bool = False  # jobs carry a callback_url to a local receiver
    expect_unknown: bool = False  # no listing to reconcile with: the job must say "unknown"
    failing_outcomes: bool = False  # the fault makes upstream tasks fail or expire

    @property
    def name(self) -> str:
        return self.spec.split(";")[0]

    @property
    def fault(self) -> str:
        return self.name.split("@")[0].split("*")[0]


ROWS = [
    Row("create-5xx@0.3"),
    Row("create-429@0.3"),
    Row("create-drop@0.5"),
    Row("create-timeout@0.5;stall=4"),
    # Ark reads every job's status in one listing, so a poll round is a single request: these
    # rows fail the first reads outright (rate 1, capped) so that the fault surely happens
    Row("status-429*3"),
    Row("status-5xx*1;burst=3"),
    Row("status-garbage*3"),
    Row("status-partial*3"),
    Row("status-reset*3"),
    Row("status-huge*2"),
    Row("download-cut@0.5"),
    Row("download-trickle@0.5;trickle=200000"),
    Row("download-expired@0.5"),
    Row("download-redirect-file@0.4"),
    Row("callback-drop@0.5", callbacks=True),
    Row("callback-duplicate@0.5", callbacks=True),
    Row("callback-reorder@0.7", callbacks=True),
    Row("task-expired@0.4", failing_outcomes=True),
    Row("task-moderated@0.4", failing_outcomes=True),
    Row(
        "create-5xx@0.1,create-drop@0.1,status-5xx@0.1,status-garbage@0.1,status-reset@0.1,"
        "download-cut@0.2,download-expired@0.1,callback-drop@0.3",
        callbacks=True,
    ),
    # a gateway without a task listing: status/download faults on single-task polling, and the
    # lost create that can only be reported as unknown (never resent on its own)
    Row("status-garbage@0.4", provider="orcarouter"),
    Row("status-reset@0.4", provider="orcarouter"),
    Row("download-cut@0.5", provider="orcarouter"),
    Row("download-expired@0.5", provider="orcarouter"),
    Row("create-drop@0.5", provider="orcarouter", expect_unknown=True),
]


@dataclass
class Figures:
    row: str
    provider: str
    jobs: int
    fired: int = 0  # fault firings the emulator counted
    upstream_tasks: int = 0  # tasks the emulator created in this row
    adopted: int = 0  # distinct upstream tasks the jobs are bound to
    orphans: int = 0  # upstream tasks no job is bound to (a resend, or a lost answer)
    succeeded: int = 0
    failed_upstream: int = 0
    unknown: int = 0
    videos_lost: int = 0
    stuck: int = 0
    files_outside: int = 0
    key_sightings: int = 0
    seconds: float = 0.0
    recoveries: int = 0  # faults the client saw and recovered from
    recover_p50: float | None = None  # seconds from a fault seen to the broken step succeeding
    recover_max: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def tasks_per_request(self) -> float:
        return self.upstream_tasks / max(1, self.jobs)


class _Keep(logging.Handler):
    """Every log record, formatted with its arguments, to look for the key in."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        self.lines.append(text)


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def _sightings(key: str, texts: list[str], files: list[Path]) -> int:
    needle = key.encode()
    return sum(t.count(key) for t in texts) + sum(p.read_bytes().count(needle) for p in files)


async def _settle(jobs: list[sd.Job], deadline: float) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end and not all(j.done for j in jobs):
        await asyncio.sleep(0.2)


def _run_row(row: Row, root: Path) -> Figures:
    key = "sk-matrix-" + secrets.token_hex(12)
    work, state = root / "work", root / "emulator"
    emu = Emulator(
        state,
        api_key=key,
        queued_seconds=0.2,
        running_seconds=0.4,
        faults=row.spec + (",seed=11" if ";" in row.spec else ";seed=11"),
    ).start()
    keep = _Keep()
    watched = [
        logging.getLogger("seedance_nb"),
        logging.getLogger("httpx"),
        logging.getLogger("httpcore"),
    ]
    levels = [lg.level for lg in watched]
    for lg in watched:
        lg.addHandler(keep)
        lg.setLevel(logging.DEBUG)
    texts: list[str] = []
    figures = Figures(row=row.name, provider=row.provider, jobs=JOBS)
    started = time.monotonic()
    try:
        prefix = catalog_prefix(row.provider)

        async def main() -> list[sd.Job]:
            client = sd.AsyncClient(
                provider=row.provider,
                api_key=key,
                base_url=emu.base_url + prefix,
                workdir=work,
                request_timeout=REQUEST_TIMEOUT,
                poll=sd.PollPolicy(0.5, 4.0) if row.callbacks else None,
            )
            async with client:
                extra: dict[str, Any] = {}
                if row.callbacks:
                    receiver = await client.receive_callbacks()
                    extra["callback_url"] = receiver.url

                async def one(i: int) -> sd.Job | None:
                    try:
                        return await client.submit(
                            f"fault matrix {row.name} request {i}",
                            duration=4,
                            resolution="480p",
                            **extra,
                        )
                    except sd.UnknownOutcomeError as exc:
                        texts.extend([str(exc), repr(exc)])
                        return exc.job
                    except sd.SeedanceError as exc:  # anything else is a row failure below
                        texts.extend([str(exc), repr(exc)])
                        figures.notes.append(f"submit {i}: {type(exc).__name__}: {exc}")
                        return None

                jobs = [j for j in await asyncio.gather(*(one(i) for i in range(JOBS))) if j]
                await _settle(jobs, DEADLINE)
                for job in jobs:
                    texts.extend([repr(job), str(job), job.summary(), job._repr_html_()])
                texts.append(repr(client))
                _recovery_figures(figures, client.recovery_seconds())
                return jobs

        jobs = asyncio.run(main())
        figures.seconds = round(time.monotonic() - started, 1)
        stats = emu.stats()
        figures.fired = sum(stats.get("faults", {}).values())
        tasks = {t.id: t for t in emu.service.tasks()}
        figures.upstream_tasks = len(tasks)
        figures.adopted = len({j.task_id for j in jobs if j.task_id})
        figures.orphans = len(set(tasks) - {j.task_id for j in jobs})
        for job in jobs:
            figures.unknown += job.outcome_unknown
            figures.stuck += not job.done
            task = tasks.get(job.task_id or "")
            if task is None:
                continue
            if task.outcome != "succeeded":
                figures.failed_upstream += 1
                continue
            path = work / "videos" / f"{job.id}.mp4"
            served = emu.service.file_path(task, "video.mp4")
            if (
                job.status == "succeeded"
                and path.exists()
                and served is not None
                and path.read_bytes() == served.read_bytes()
            ):
                figures.succeeded += 1
            else:
                figures.videos_lost += 1
        outside = [
            p for p in _files(root) if not p.is_relative_to(work) and not p.is_relative_to(state)
        ]
        figures.files_outside = len(outside)
        figures.key_sightings = _sightings(key, texts + keep.lines, _files(work) + _files(state))
    finally:
        for lg, level in zip(watched, levels, strict=True):
            lg.removeHandler(keep)
            lg.setLevel(level)
        emu.stop()
    return figures


def _recovery_figures(figures: Figures, seconds: list[float]) -> None:
    figures.recoveries = len(seconds)
    if seconds:
        figures.recover_p50 = round(statistics.median(seconds), 2)
        figures.recover_max = round(max(seconds), 2)


def catalog_prefix(provider: str) -> str:
    prefix = sd.catalog.PROVIDERS[provider].emulator_prefix.rstrip("/")
    return prefix + ("/api/v3" if provider == "ark" and not prefix.endswith("/api/v3") else "")


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r.provider}:{r.name}")
def test_fault_row(row: Row, tmp_path: Path, fault_matrix: list[dict[str, Any]]) -> None:
    figures = _run_row(row, tmp_path)
    fault_matrix.append({**figures.__dict__, "tasks_per_request": figures.tasks_per_request})
    assert figures.fired > 0, f"{row.spec} never fired: the row proves nothing"
    assert not figures.notes, figures.notes
    assert figures.key_sightings == 0
    assert figures.files_outside == 0
    assert figures.stuck == 0, f"{figures.stuck} job(s) still unsettled after {DEADLINE:.0f} s"
    # each logical request made exactly one upstream task: as many tasks as requests...
    assert figures.upstream_tasks == JOBS, figures
    if row.expect_unknown:
        # ...and each lost answer is reported as unknown, never resent on its own: the tasks
        # it made are the only ones no job is bound to
        assert figures.unknown >= 1 and figures.orphans == figures.unknown, figures
        assert figures.adopted == JOBS - figures.unknown
        assert (
            figures.videos_lost == 0
            and figures.succeeded + figures.failed_upstream == figures.adopted
        )
        return
    if row.provider == "ark" and row.fault in ("create-drop", "create-timeout"):
        # the task exists: it is adopted as soon as the listing shows it, well inside the
        # sender's timeout (which the client used to wait out before reading the listing)
        assert figures.recover_max is not None, figures
        assert figures.recover_max < REQUEST_TIMEOUT / 2, figures
    # ...and every one of them is bound to its own job
    assert figures.adopted == JOBS and figures.orphans == 0 and figures.unknown == 0, figures
    assert figures.videos_lost == 0
    if row.failing_outcomes:
        assert figures.failed_upstream >= 1
    assert figures.succeeded + figures.failed_upstream == JOBS
