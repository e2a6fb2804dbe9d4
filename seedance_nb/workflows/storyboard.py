"""Shots chained by their last frame: shot k+1 starts from shot k's last frame.

>>> board = sd.Client().storyboard(["A fox wakes at dawn", "The fox trots into the forest"],
...                                model="seedance-2.0-fast", duration=4, resolution="480p")
>>> board.wait(); board.concat("film.mp4")

The whole board is checked before anything is sent: every shot against the provider's offer,
shots 2+ with a stand-in first frame of the size the shot before will deliver, and a provider
that takes media as public URLs only is refused (the last frame is a local file). Shots are
then submitted in order as their first frames become available. Each shot is an ordinary
ledger job whose request is hashed with its first frame's bytes, and those bytes never change
(:mod:`seedance_nb.engine.frames`), so running the board again reuses every finished shot and
never pays for one twice.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import catalog
from ..engine.bridge import run_sync, running_loop
from ..engine.frames import ask_last_frame, frame_file, last_frame, placeholder, refuse_url_only
from ..errors import InvalidRequest, SeedanceError, WaitTimeout
from ..request.schema import check_names
from .film import Film, concat

if TYPE_CHECKING:
    from ..engine.client import AsyncClient
    from ..engine.job import Job
    from ..request import VideoRequest

log = logging.getLogger("seedance_nb")

ShotSpec = str | Mapping[str, Any]
WAITING, SUBMITTING, BLOCKED, REFUSED = "waiting", "submitting", "blocked", "refused"


@dataclass(eq=False)
class Shot:
    """One shot of a board: what it asks for, and its job once submitted."""

    index: int  # 1-based
    prompt: str
    params: dict[str, Any]  # without the chained first frame (added when it exists)
    request: VideoRequest  # as validated (with a stand-in first frame while `known` is False)
    known: bool  # the request is exactly what will be sent (its first frame exists)
    first_frame: Path | None = None
    job: Job | None = None
    status: str = WAITING  # before a job exists: waiting, submitting, blocked or refused
    problem: str | None = None  # why it was refused, or blocked

    @property
    def state(self) -> str:
        return self.job.status if self.job is not None else self.status


class Storyboard:
    """Shots chained by their last frame; awaitable (the jobs), and one film via :meth:`concat`.

    ``shots``: prompts, or dicts with a ``prompt`` and parameters of their own; ``params``
    apply to every shot (a ``first_frame`` to the first only). Validation happens here;
    :meth:`start` submits the shots in order on the client's loop.
    """

    def __init__(
        self, client: AsyncClient, shots: Sequence[ShotSpec], *, force: bool = False, **params: Any
    ) -> None:
        self.client = client
        self.force = force
        self.params = dict(params)
        self.film: Film | None = None
        self._future: concurrent.futures.Future[list[Job]] | None = None
        self._listeners: list[Callable[[Storyboard], None]] = []
        self.shots = self._plan(list(shots))
        # the budget refuses the whole board at once, before anything is sent (finished shots
        # are planned with their real request, so they count as reused: free)
        client.check_budget(self.requests, force=force)

    # planning -----------------------------------------------------------------------------
    def _plan(self, specs: list[ShotSpec]) -> list[Shot]:
        """Every shot validated; finished shots (in the ledger) give the next its real frame."""
        if not specs:
            raise InvalidRequest("a storyboard needs at least one shot", field="shots", value=[])
        check_names(self.params)
        if len(specs) > 1:
            refuse_url_only(self.client.provider, "a storyboard")
        shots: list[Shot] = []
        frame: Path | None = None  # the next shot's first frame, where it exists already
        for index, spec in enumerate(specs, 1):
            prompt, params = self._spec(spec, index, len(specs))
            offer = catalog.resolve_tier(
                self.client.provider, str(params.get("model") or catalog.DEFAULT_TIER)
            )[1]
            params = ask_last_frame(params, offer)
            if index == 1:
                request = self._validate(index, len(specs), prompt, params)
            else:
                stand_in = frame or placeholder(shots[-1].request.size, self.client.workdir)
                chained = {**params, "first_frame": stand_in}
                request = self._validate(index, len(specs), prompt, chained)
            known = index == 1 or frame is not None
            shots.append(Shot(index, prompt, params, request, known, first_frame=frame))
            frame = self._finished_frame(request) if known and not self.force else None
        return shots

    def _spec(self, spec: ShotSpec, index: int, count: int) -> tuple[str, dict[str, Any]]:
        """A shot's prompt and parameters: the board's, then its own."""
        if isinstance(spec, str):
            prompt, own = spec, {}
        elif isinstance(spec, Mapping) and isinstance(spec.get("prompt"), str):
            own = {k: v for k, v in spec.items() if k != "prompt"}
            prompt = spec["prompt"]
            check_names(own)
        else:
            raise TypeError(f"shot {index}: a prompt, or a dict with a 'prompt' and parameters")
        params = {**self.params, **own}
        if index > 1 and "first_frame" in own:
            raise InvalidRequest(
                f"shot {index} of {count}: its first frame is shot {index - 1}'s last frame; "
                "leave first_frame out (or start a new storyboard from that image)",
                field="first_frame",
                value=own["first_frame"],
            )
        if index > 1:
            params.pop("first_frame", None)  # the board's first frame is the first shot's
        return prompt, params

    def _validate(self, index: int, count: int, prompt: str, params: dict[str, Any]) -> Any:
        try:
            return self.client.validate(prompt, **params)
        except InvalidRequest as exc:
            where = f"shot {index} of {count}"
            if index > 1:
                where += f" (starts from shot {index - 1}'s last frame)"
            raise InvalidRequest(
                f"{where}: {exc}",
                field=exc.field,
                value=exc.value,
                allowed=exc.allowed,
                model=exc.model,
                provider=exc.provider,
            ) from None

    def _finished_frame(self, request: VideoRequest) -> Path | None:
        """The last frame of this request's finished job, if the ledger has one on disk."""
        row = self.client.ledger.find(self.client.route, request.digest(self.client.route))
        if row is None or row["status"] != "succeeded" or not row.get("video_path"):
            return None
        video = Path(row["video_path"])
        provided = Path(row["last_frame_path"]) if row.get("last_frame_path") else None
        try:
            return frame_file(video, provided) if video.exists() else None
        except SeedanceError:
            return None

    # running ------------------------------------------------------------------------------
    def start(self, loop: asyncio.AbstractEventLoop | None = None) -> Storyboard:
        """Submit the shots in order on ``loop`` (the client's); returns at once."""
        if self._future is None:
            loop = loop or self.client.loop or running_loop()
            if loop is None:
                raise RuntimeError("Storyboard.start needs the event loop its client runs on")
            self._future = asyncio.run_coroutine_threadsafe(self._run(), loop)
        return self

    async def _run(self) -> list[Job]:
        jobs: list[Job] = []
        try:
            for shot in self.shots:
                jobs.append(await self._shoot(shot))
        except BaseException:
            stopped = self.shots[len(jobs)]
            for later in self.shots[len(jobs) + 1 :]:
                later.status = BLOCKED
                later.problem = f"not sent: shot {stopped.index} ended {stopped.state}"
            self._changed()
            raise
        return jobs

    async def _shoot(self, shot: Shot) -> Job:
        """Submit one shot once its first frame exists, and wait for its video."""
        if shot.index > 1:
            before = self.shots[shot.index - 2].job
            assert before is not None
            shot.first_frame = await asyncio.to_thread(last_frame, before)
        shot.status = SUBMITTING
        self._changed()
        params = dict(shot.params)
        if shot.first_frame is not None and shot.index > 1:
            params["first_frame"] = shot.first_frame
        try:
            job = await self.client.submit(shot.prompt, force=self.force, **params)
        except Exception as exc:
            shot.status, shot.problem = REFUSED, str(exc)
            self._changed()
            raise
        shot.job = job
        job.on_change(lambda _job: self._changed())
        self._changed()
        return await job.wait_async()

    # watching -----------------------------------------------------------------------------
    def on_change(self, callback: Callable[[Storyboard], None]) -> None:
        """Call ``callback(board)`` on the client's loop after every change of any shot."""
        self._listeners.append(callback)

    def _changed(self) -> None:
        for listener in list(self._listeners):
            try:
                listener(self)
            except Exception:  # a broken display must not stop the board
                log.exception("storyboard listener failed")

    # waiting and the film -----------------------------------------------------------------
    async def wait_async(self, timeout: float | None = None) -> list[Job]:
        """Every shot's finished job; raises the first failure (``sd.JobFailed`` …)."""
        self.start()
        assert self._future is not None
        try:
            return await asyncio.wait_for(
                asyncio.shield(asyncio.wrap_future(self._future)), timeout
            )
        except asyncio.TimeoutError:
            raise WaitTimeout(f"the storyboard is still running after {timeout:g} s") from None

    def __await__(self) -> Any:
        return self.wait_async().__await__()

    def wait(self, timeout: float | None = None) -> list[Job]:
        """Block until every shot is done; works in scripts and notebook cells."""
        return run_sync(self.wait_async(timeout))  # type: ignore[no-any-return]

    async def concat_async(self, path: str | Path | None = None) -> Film:
        """See :meth:`concat`."""
        jobs = await self.wait_async()
        videos = [job.video_path for job in jobs if job.video_path is not None]
        if path is None:
            digest = hashlib.sha256(",".join(j.id for j in jobs).encode()).hexdigest()[:12]
            path = self.client.workdir / "films" / f"storyboard-{digest}.mp4"
        self.film = await asyncio.to_thread(concat, videos, Path(path))
        self._changed()
        return self.film

    def concat(self, path: str | Path | None = None) -> Film:
        """Every shot end to end as one MP4 (waits for the board first); default path
        ``<workdir>/films/storyboard-<id>.mp4``."""
        return run_sync(self.concat_async(path))  # type: ignore[no-any-return]

    # reading ------------------------------------------------------------------------------
    @property
    def jobs(self) -> list[Job | None]:
        return [shot.job for shot in self.shots]

    @property
    def requests(self) -> list[VideoRequest]:
        """Every shot's request as planned (stand-in first frames where not known yet)."""
        return [shot.request for shot in self.shots]

    @property
    def done(self) -> bool:
        return self._future is not None and self._future.done()

    def rows(self) -> list[dict[str, Any]]:
        """One row per shot: its state, job, whether it was reused, and its estimate."""
        return [
            {
                "shot": s.index,
                "prompt": s.prompt,
                "state": s.state,
                "job": s.job.id if s.job else None,
                "reused": s.job.reused if s.job else None,
                "first_frame": s.first_frame.name if s.first_frame else None,
                "estimated_tokens": s.request.estimated_tokens,
            }
            for s in self.shots
        ]

    def text(self) -> str:
        lines = []
        for s in self.shots:
            note = " (reused)" if s.job is not None and s.job.reused else ""
            lines.append(f"shot {s.index}: {s.state}{note} · {s.prompt[:60]}")
        if self.film is not None:
            lines.append(f"film: {self.film}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Storyboard {len(self.shots)} shots>\n{self.text()}"

    def _repr_html_(self) -> str:
        from .board_html import board_html

        return board_html(self)
