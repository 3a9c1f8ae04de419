"""Settings: one object, read from ``MATHLENS_*`` environment variables, with defaults that work
with no environment at all."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MATHLENS_", extra="ignore")

    host: str = Field("127.0.0.1", description="Interface `mathlens serve` binds to.")
    port: int = Field(8000, ge=1, le=65535)
    data_dir: Path = Field(Path("data"), description="Where job records (SQLite) live.")
    max_body_bytes: int = Field(1_000_000, ge=1_024, description="Largest JSON request body.")
    max_upload_bytes: int = Field(5_242_880, ge=1_024, description="Largest file upload.")
    # Training jobs (Dask).
    scheduler: str | None = Field(
        None, description="Dask scheduler address, e.g. tcp://host:8786; none = in-process cluster."
    )
    local_workers: int = Field(1, ge=1, le=64, description="Workers of the in-process cluster.")
    local_threads_per_worker: int = Field(2, ge=1, le=64)
    queue_limit: int = Field(64, ge=1, le=10_000, description="Queued + running jobs at most.")
    job_timeout_s: float = Field(600.0, gt=0, le=86_400, description="Wall time per job at most.")
    lane_groups: bool = Field(
        True,
        description="Train queued same-shaped CPU jobs together as lanes of one kernel (30 jobs "
        "at once on 2 cores: all done 1.1-1.6x sooner); 0 trains each job in a task of its own.",
    )
    admin_token: str | None = Field(
        None, description="Teacher token: lists and cancels every job (Bearer)."
    )
    start_jobs: bool = Field(True, description="Start the Dask job service with the app.")
