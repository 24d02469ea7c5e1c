"""Gunicorn settings of ``civicgrid serve`` (``-c python:civicgrid.config.gunicorn``).

The bind address and the number of worker processes come from the command line of ``civicgrid
serve``; the rest is fixed here: JSON log lines (the same format as the app's, see
civicgrid.core.logs), no access log (the app writes one line per request, with its request id),
worker heartbeat files in memory, and a timeout long enough for an import.
"""

import os

# each worker keeps its PostgreSQL connection between requests (settings/database.py)
os.environ.setdefault("CIVICGRID_DATABASE_CONN_MAX_AGE", "300")
timeout = int(os.environ.get("CIVICGRID_WEB_TIMEOUT", "120"))
# Threads in each worker process: requests waiting at the same moment share one transaction where the app
# groups its writes (need filings in a surge, see civicgrid.core.groupcommit); a slow page does not hold up
# its process's other requests. Django keeps one database connection per thread.
worker_class = "gthread"
threads = int(os.environ.get("CIVICGRID_WEB_THREADS", "8"))
# A process takes on at most this many connections at once; the rest wait in the listening socket's queue,
# from which whichever process has a thread free takes the next (not queued behind a busy process's work).
# (An idle kept-alive connection holds its place for `keepalive` seconds: behind the reverse proxy of "run it for
# real" the app sees the proxy's few pooled connections, not every phone's; serving phones directly, raise
# CIVICGRID_WEB_THREADS rather than this.)
worker_connections = 2 * threads
# The longest request line gunicorn allows (its default, 4,094 bytes, refused a long link, such as a list filtered
# by many places, with its own English page): up to this the app answers, in the reader's language.
limit_request_line = 8190
graceful_timeout = 30
keepalive = 5
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# The app is loaded once in the master and the workers are forked from it: a worker recycled now and then
# (bounded memory; staggered by the jitter) starts in milliseconds instead of importing the platform again,
# which took seconds of CPU in the middle of a surge. Nothing opens a database connection at import.
preload_app = True
max_requests = 20000
max_requests_jitter = 2000
forwarded_allow_ips = os.environ.get("CIVICGRID_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = None
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "civicgrid.core.logs.ContextFilter"}},
    "formatters": {"json": {"()": "civicgrid.core.logs.JsonFormatter"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["context"]}},
    "loggers": {
        "gunicorn.error": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
    },
    "root": {"level": "WARNING", "handlers": []},
}


def pre_fork(server: object, worker: object) -> None:
    """Before each worker is forked from the loaded app: the whole app, its URLconf and views included, is
    loaded and goes to the collector's permanent generation, so a worker's garbage collections never walk it
    again (shorter pauses under load, and fewer copy-on-write page copies): civicgrid.config.warm."""
    from django.db import connections

    from civicgrid.config.warm import load_and_freeze

    # a connection the master opened while loading (the encryption key's check) must not be inherited: two
    # workers writing on one socket would garble each other's statements; each worker opens its own
    connections.close_all()
    load_and_freeze()
