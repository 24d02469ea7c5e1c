"""Web hardening: response headers, sessions, passwords and log-in lockout (issue 11).

Production serving (HTTPS only: Secure cookies, HSTS, the redirect to HTTPS, trusted origins) is
switched on by ``CIVICGRID_PRODUCTION=1``; see :mod:`civicgrid.config.settings.production`.
"""

import os

from civicgrid.core.middleware import DEFAULT_POLICY

# Headers (Django's SecurityMiddleware sets these; the CSP comes from civicgrid.core.middleware).
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
CIVICGRID_CONTENT_SECURITY_POLICY = DEFAULT_POLICY

# Sessions: at most 12 hours, and gone when the browser closes.
SESSION_COOKIE_AGE = 12 * 60 * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Django's log-in backend, reading the user's role in the same query (every request builds a scope from it)
AUTHENTICATION_BACKENDS = ["civicgrid.accounts.backends.RoleModelBackend"]

# Passwords: at least 12 characters, not a common password, not all digits, not like the user name.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Log-in lockout (civicgrid.accounts.lockout): after this many failed log-ins within the window, the
# user name (or the client address) is refused until the window has passed since the last failure.
CIVICGRID_LOGIN_WINDOW_MINUTES = int(os.environ.get("CIVICGRID_LOGIN_WINDOW_MINUTES", "15"))
CIVICGRID_LOGIN_MAX_FAILURES_PER_USER = int(os.environ.get("CIVICGRID_LOGIN_MAX_FAILURES_PER_USER", "5"))
CIVICGRID_LOGIN_MAX_FAILURES_PER_IP = int(os.environ.get("CIVICGRID_LOGIN_MAX_FAILURES_PER_IP", "30"))
CIVICGRID_LOGIN_KEEP_DAYS = int(os.environ.get("CIVICGRID_LOGIN_KEEP_DAYS", "30"))  # then pruned (audited)
# Behind a reverse proxy, the request header (Django META name, e.g. HTTP_X_REAL_IP) holding the
# client's address; empty: REMOTE_ADDR.
CIVICGRID_CLIENT_IP_HEADER = os.environ.get("CIVICGRID_CLIENT_IP_HEADER", "")

if os.environ.get("CIVICGRID_PRODUCTION", "0") == "1":
    from civicgrid.config.settings.production import *  # noqa: F403
