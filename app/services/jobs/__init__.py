"""Scheduled jobs (SPEC §12 ``jobs run``) and their runner."""

from app.services.jobs.runner import (
    Job,
    JobContext,
    JobResult,
    job_names,
    register,
    registered_jobs,
    run_jobs,
)

__all__ = ["Job", "JobContext", "JobResult", "job_names", "register", "registered_jobs", "run_jobs"]
