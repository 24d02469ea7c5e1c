"""Logs: JSON lines (civicgrid.core.logs) to stderr, and to CIVICGRID_LOG_FILE when set (e.g.
``var/log/civicgrid.jsonl``; rotate it with logrotate's ``copytruncate``). CIVICGRID_LOG_LEVEL: INFO by default."""

import os
from pathlib import Path

_level = os.environ.get("CIVICGRID_LOG_LEVEL", "INFO")
_file = os.environ.get("CIVICGRID_LOG_FILE", "")
_handlers = ["stderr"]
_handler_config: dict[str, dict[str, object]] = {
    "stderr": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["context"]},
}
if _file:
    Path(_file).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    _handler_config["file"] = {"class": "logging.FileHandler", "filename": _file, "formatter": "json",
                               "filters": ["context"], "encoding": "utf-8"}
    _handlers.append("file")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "civicgrid.core.logs.ContextFilter"}},
    "formatters": {"json": {"()": "civicgrid.core.logs.JsonFormatter"}},
    "handlers": _handler_config,
    "root": {"handlers": _handlers, "level": "WARNING"},
    "loggers": {
        "civicgrid": {"level": _level},
        "django": {"level": "INFO"},
        "django.server": {"level": "WARNING"},
        "django-q": {"level": _level},  # the job queue's own lines
        "gunicorn": {"level": _level},
    },
}
