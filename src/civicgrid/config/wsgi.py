import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.config.settings")
django_application = get_wsgi_application()


def application(environ: dict, start_response):  # type: ignore[no-untyped-def, type-arg]
    """Django's WSGI app inside the request's log context, so that even the lines Django writes after
    the middleware has returned (``Not Found: ...``, a 500's traceback) carry the request id."""
    from civicgrid.core.logs import REQUEST_ID_ENVIRON, clean_request_id, log_context

    rid = clean_request_id(environ.get("HTTP_X_REQUEST_ID"))
    environ[REQUEST_ID_ENVIRON] = rid
    with log_context(request_id=rid):
        return django_application(environ, start_response)


# Refuse to serve with a field key that cannot read the stored data (a lost var/secrets.json).
from civicgrid.core.crypto import check_field_key  # noqa: E402

check_field_key()
