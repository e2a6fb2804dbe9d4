"""A remix: a job's own parameters with your changes, sent as one ordinary submit.

The parameters come from the job's stored request through the one schema
(:func:`~seedance_nb.request.schema.params_of`), so a remix carries every parameter there is.
Reuse rules apply: a remix that changes nothing is the same request, and returns the same job.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import catalog
from ..catalog import Provider
from ..request import VideoRequest
from ..request.schema import PARAMS, check_names, params_of

if TYPE_CHECKING:
    from .job import Job


def remix_params(
    request: VideoRequest, changes: dict[str, Any], provider: Provider
) -> tuple[str, dict[str, Any]]:
    """The prompt and keyword arguments of ``request`` with ``changes`` (``prompt`` may be one).

    When ``model`` changes, a parameter the new model does not take at all (audio on a silent
    tier, say) is dropped unless the changes set it: the old value was the old model's, and
    the new model's own default is what the user means. A value the new model takes but does
    not allow (1080p on a 720p tier) is kept, so the check names it before any money."""
    changes = dict(changes)
    prompt = str(changes.pop("prompt", request.prompt))
    check_names(changes)
    params = {**params_of(request), **changes}
    if "model" in changes:
        _tier, offer = catalog.resolve_tier(provider, str(changes["model"]))
        if offer is not None:
            for p in PARAMS:
                if p.name not in changes and not p.applies(offer):
                    params.pop(p.name, None)
    return prompt, params


async def remix(job: Job, *, force: bool = False, **changes: Any) -> Job:
    """Submit ``job``'s request with ``changes`` on the job's own client (on its loop)."""
    prompt, params = remix_params(job.request, changes, job.client.provider)
    return await job.client.submit(prompt, force=force, **params)


__all__ = ["remix", "remix_params"]
