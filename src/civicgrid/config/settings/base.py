"""Applications, middleware, templates and static files."""

from civicgrid.config.settings.paths import VAR_DIR

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",  # the API docs' Swagger UI from its own static files (no CDN, no inline script)
    "django_q",  # the job queue (see civicgrid.ops.jobs), its queue and results in the database
    "civicgrid.core",
    "civicgrid.registry",
    "civicgrid.accounts",
    "civicgrid.cases",
    "civicgrid.emergency",
    "civicgrid.alerts",
    "civicgrid.relief",
    "civicgrid.social",
    "civicgrid.procurement",
    "civicgrid.council",
    "civicgrid.volunteers",
    "civicgrid.mediation",
    "civicgrid.grievances",
    "civicgrid.fund",
    "civicgrid.analytics",
    "civicgrid.simulation",
    "civicgrid.evaluation",
    "civicgrid.ops",
    "civicgrid.home",
]

MIDDLEWARE = [
    "civicgrid.core.middleware.RequestIdMiddleware",  # first: every log line of a request has its id
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # static files from var/static, cached and compressed
    "civicgrid.core.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "civicgrid.core.uploads.UploadLimitMiddleware",  # before anything reads an oversized body
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "civicgrid.core.middleware.RejectNulMiddleware",  # 400 for a NUL character in any input
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "civicgrid.core.middleware.DomainErrorMiddleware",
]

ROOT_URLCONF = "civicgrid.config.urls"
WSGI_APPLICATION = "civicgrid.config.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "civicgrid.accounts.context.role",
                "civicgrid.home.context.display",
            ],
        },
    },
]

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"  # filled by `civicgrid serve` (collectstatic) and served by WhiteNoise
# Compressed copies (gzip) beside each file; no manifest, so pages render before collectstatic has run.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
FILE_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 50 * 1024 * 1024
