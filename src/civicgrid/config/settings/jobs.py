"""The job queue (django-q2 with its ORM broker; why: :mod:`civicgrid.ops.jobs`). Run by ``civicgrid worker``.

CIVICGRID_JOB_WORKERS   worker processes of ``civicgrid worker`` (default 2)
CIVICGRID_JOB_TIMEOUT   seconds a job may run before it is stopped (default 600)
CIVICGRID_JOB_RETRY     seconds after which a job that failed (or whose worker died) is run again; must
                        exceed the timeout (default: timeout + 60)
CIVICGRID_JOB_ATTEMPTS  runs of a failing job before it is recorded as failed for good (default 3)
"""

import os

_timeout = int(os.environ.get("CIVICGRID_JOB_TIMEOUT", "600"))
_retry = int(os.environ.get("CIVICGRID_JOB_RETRY", str(_timeout + 60)))
if _retry <= _timeout:
    raise ValueError("CIVICGRID_JOB_RETRY must be larger than CIVICGRID_JOB_TIMEOUT")

Q_CLUSTER = {
    "name": "civicgrid",
    "orm": "default",  # the queue is a table of the app's own database: no extra service
    "workers": int(os.environ.get("CIVICGRID_JOB_WORKERS", "2")),
    "timeout": _timeout,
    "retry": _retry,
    "max_attempts": int(os.environ.get("CIVICGRID_JOB_ATTEMPTS", "3")),
    "ack_failures": False,  # a failed job stays queued and is retried after `retry` seconds
    "save_limit": 1000,  # successful runs kept for the Jobs page (failures are all kept)
    "catch_up": False,  # after downtime, run a periodic job once, not once per missed minute
    "poll": 1,  # seconds between looks at the queue table
    "label": "Jobs",
    "log_level": os.environ.get("CIVICGRID_LOG_LEVEL", "INFO"),
}
# Records of failed runs are kept this many days (then pruned by the ops app's periodic job_records_prune).
CIVICGRID_JOB_FAILURES_KEEP_DAYS = int(os.environ.get("CIVICGRID_JOB_FAILURES_KEEP_DAYS", "90"))
