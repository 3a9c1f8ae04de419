"""Training runs as jobs: submit, read, follow (Server-Sent Events), cancel, download.

The job id is the capability: whoever holds it may read, follow and cancel the job. Listing
every job needs the teacher token (``Authorization: Bearer $MATHLENS_ADMIN_TOKEN``).
"""

from __future__ import annotations

import re
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from ..encoding import ORJSONResponse
from ..errors import ComputeError
from ..jobs import ConfigError, Job, JobService, JobsUnavailable, QueueFull, history_csv
from ..schemas.jobs import Job as JobModel
from ..schemas.jobs import JobCreate, JobCreated, JobList

router = APIRouter(prefix="/api/v1/jobs", tags=["training jobs"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "no job has this id, or training jobs are off on this server"},
    503: {"description": "the Dask cluster is unreachable; see Retry-After"},
}
_FIELD = re.compile(r"^([A-Za-z_][\w.]*(?:\[\d+\])?)\b")


def _service(request: Request) -> JobService:
    svc = getattr(request.app.state, "jobs", None)
    if svc is None:  # the feature is not there, as if the route were not: 404, not a server error
        raise HTTPException(404, "training jobs are off on this server (MATHLENS_START_JOBS=false)")
    return svc


async def _job(request: Request, job_id: str, events: bool = False) -> Job:
    job = await _service(request).get(job_id, events=events)
    if job is None:
        raise HTTPException(404, f"no job with id {job_id!r}")
    return job


def _compute_config(body: JobCreate) -> tuple[dict, bool]:
    """Compute's own validation (cross-field bounds such as epochs x steps), defaults filled."""
    from compute.nn.config import TrainConfig

    config = body.config.model_dump(mode="json")
    gpu = body.gpu or config["device"] == "cuda"
    if body.gpu and config["device"] == "cpu":
        raise ComputeError("gpu", "gpu must be false when config.device is 'cpu'; got gpu true")
    if gpu:
        config["device"] = "cuda"
    try:
        return TrainConfig.from_dict(config).to_dict(), gpu
    except ValueError as e:
        m = _FIELD.match(str(e))
        where = re.sub(r"\[\d+\]", "", m.group(1)).split(".") if m else []
        raise ComputeError(("config", *where), str(e)) from e


@router.post("", status_code=202, response_model=JobCreated, responses={
    200: {"model": JobCreated, "description": "an identical run (seeds included) already succeeded: that job"},
    429: {"description": "queue_limit jobs are queued or running; see Retry-After"},
    **_ERRORS,
})  # fmt: skip
async def create_job(body: JobCreate, request: Request) -> Response:
    """Queue a training run (202). An identical config that already succeeded answers 200 with that
    job at once, unless `fresh` is true. Follow it at `events_url`."""
    svc = _service(request)
    config, gpu = _compute_config(body)
    try:
        job, cached = await svc.submit(config, gpu, body.fresh)
    except QueueFull as e:
        return JSONResponse({"detail": str(e)}, 429, headers={"Retry-After": str(e.retry_after)})
    except JobsUnavailable as e:
        return JSONResponse({"detail": str(e)}, 503, headers={"Retry-After": str(e.retry_after)})
    except ConfigError as e:
        raise ComputeError(e.field, str(e)) from e
    url = f"/api/v1/jobs/{job.id}"
    return ORJSONResponse(
        {
            "id": job.id,
            "status": job.status,
            "cached": cached,
            "url": url,
            "events_url": f"{url}/events",
        },
        status_code=200 if cached else 202,
        headers={"Location": url},
    )


@router.get("", response_model=JobList, responses={
    401: {"description": "missing or wrong teacher token"}, 403: {"description": "no teacher token is set"},
    503: _ERRORS[503]})  # fmt: skip
async def list_jobs(
    request: Request,
    authorization: Annotated[
        str | None, Header(description="Bearer <MATHLENS_ADMIN_TOKEN>")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> ORJSONResponse:
    """Every job, newest first, without results (teacher token required)."""
    svc = _service(request)
    token = request.app.state.settings.admin_token
    if not token:
        raise HTTPException(403, "listing jobs needs a teacher token: set MATHLENS_ADMIN_TOKEN")
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not secrets.compare_digest(
        given.strip().encode(), token.encode()
    ):
        raise HTTPException(
            401,
            "listing jobs needs the teacher token: Authorization: Bearer <token>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    jobs = await svc.list(limit, offset)
    return ORJSONResponse(
        {"jobs": jobs, "active": len(svc.active), "queue_limit": svc.settings.queue_limit}
    )


@router.get("/{job_id}", response_model=JobModel, responses=_ERRORS)
async def get_job(job_id: str, request: Request) -> ORJSONResponse:
    """Status, latest progress, and when finished the result (accuracies, history, confusion);
    while queued, how many jobs are ahead of it."""
    job = await _job(request, job_id)
    return ORJSONResponse({**job.view(), "queue": _service(request).queue_info(job)})


@router.delete("/{job_id}", response_model=JobModel, responses=_ERRORS)
async def cancel_job(job_id: str, request: Request) -> ORJSONResponse:
    """Cancel: a queued job at once, a running one within 2 s (its worker polls a stop flag).
    A job that has already ended is left as it is."""
    job = await _service(request).cancel(job_id)
    if job is None:
        raise HTTPException(404, f"no job with id {job_id!r}")
    return ORJSONResponse(job.view())


@router.get("/{job_id}/events", response_class=StreamingResponse, responses={
    200: {"content": {"text/event-stream": {}}, "description":
          "`id: <seq>`, `event: status|step|epoch`, `data: {json}` frames; the last is the final "
          "status. Resume with the `Last-Event-ID` header (or `?last_event_id=`)."},
    **_ERRORS})  # fmt: skip
async def job_events(
    job_id: str,
    request: Request,
    last_event_id: Annotated[int | None, Header(ge=0, le=10**9)] = None,
    last_event_id_q: Annotated[int | None, Query(alias="last_event_id", ge=0, le=10**9)] = None,
) -> StreamingResponse:
    """Progress as Server-Sent Events, numbered from 1, replayed after `Last-Event-ID`."""
    job = await _job(request, job_id, events=True)
    after = last_event_id if last_event_id is not None else (last_event_id_q or 0)
    return StreamingResponse(
        _service(request).stream(job, after),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/{job_id}/weights", response_class=Response, responses={
    200: {"content": {"application/octet-stream": {}},
          "description": "torch.save bytes of the model's state_dict (load with torch.load)"},
    **_ERRORS})  # fmt: skip
async def job_weights(job_id: str, request: Request) -> Response:
    """The trained weights (`torch.load(io.BytesIO(body))` gives the state_dict)."""
    job = await _job(request, job_id)
    weights = await _service(request).weights(job_id) if job.has_weights or job.weights else None
    if not weights:
        raise HTTPException(404, f"job {job_id!r} has no weights (status {job.status})")
    return Response(
        weights,
        media_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="mathlens-{job_id}.pt"'},
    )


@router.get(
    "/{job_id}/history.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "one row per epoch"}, **_ERRORS},
)
async def job_history_csv(job_id: str, request: Request) -> Response:
    """The per-epoch history (loss, train/test loss and accuracy, lr) as CSV."""
    job = await _job(request, job_id)
    if not job.result:
        raise HTTPException(404, f"job {job_id!r} has no history yet (status {job.status})")
    return Response(
        history_csv(job.result),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="mathlens-{job_id}-history.csv"'},
    )
