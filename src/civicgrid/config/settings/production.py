"""Production serving, switched on by ``CIVICGRID_PRODUCTION=1`` (imported last by the settings).

The site is served over HTTPS only: Secure cookies, HSTS, a redirect from HTTP. Behind a TLS-terminating
reverse proxy set ``CIVICGRID_PROXY_SSL_HEADER=1`` (the proxy must set ``X-Forwarded-Proto``).
``CIVICGRID_CSRF_TRUSTED_ORIGINS`` lists the site's origins, comma-separated
(``https://civicgrid.example.gov.cn``); ``CIVICGRID_ALLOWED_HOSTS`` its host names.
``python -m django check --deploy`` reports no issues under these settings (tested).
"""

import os

DEBUG = False
SECURE_SSL_REDIRECT = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = int(os.environ.get("CIVICGRID_HSTS_SECONDS", str(365 * 24 * 60 * 60)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("CIVICGRID_CSRF_TRUSTED_ORIGINS", "").split(",")
                        if o.strip()]
# Probes on the host itself speak plain HTTP to the app server: no redirect for them.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
if os.environ.get("CIVICGRID_PROXY_SSL_HEADER", "0") == "1":
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
