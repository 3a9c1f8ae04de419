"""The learning-rate-schedules lab API: schedule curves and the same training run under each."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from compute import lr_lab

from ..encoding import ORJSONResponse
from ..errors import field_error
from ..schemas.optimization_schedules import LRSchedulesRequest, LRSchedulesResponse

router = APIRouter(prefix="/api/v1/optimization", tags=["optimization"])


def _last(a: Any) -> float:
    return float(a[-1])


def _run_out(r: lr_lab.ScheduleRun) -> dict[str, Any]:
    return {"name": r.name, "params": r.params, "lr": r.lr, "train_loss": r.train_loss,
            "test_loss": r.test_loss, "train_acc": r.train_acc, "test_acc": r.test_acc,
            "final_train_acc": _last(r.train_acc), "final_test_acc": _last(r.test_acc),
            "final_train_loss": _last(r.train_loss), "final_test_loss": _last(r.test_loss),
            "diverged": r.diverged, "blowup_epoch": r.blowup_epoch, "status": r.status}  # fmt: skip


@router.post("/lr-schedules", response_model=LRSchedulesResponse)
def lr_schedules(req: LRSchedulesRequest) -> ORJSONResponse:
    """Each schedule's lr_t, and one seeded MLP trained once per schedule (same init, same batches)."""
    body = req.model_dump()
    try:
        r = lr_lab.compare_schedules(**body)
    except ValueError as e:
        raise field_error(e, body, "schedules") from e
    return ORJSONResponse({"runs": [_run_out(x) for x in r.runs], "steps_per_epoch": r.steps_per_epoch,
                           "total_steps": r.total_steps, "epochs": r.epochs, "epoch_steps": r.epoch_steps,
                           "n_train": r.n_train, "n_test": r.n_test, "n_params": r.n_params,
                           "work": r.work, "max_work": lr_lab.MAX_WORK})  # fmt: skip
