"""Settings for vector catalog, read from the environment.

DATABASE_URL            any PostgreSQL with pgvector; unset: the embedded server
EMBEDDED_PGDATA         the embedded server's data folder (default: .pgdata here)
DJANGO_DEBUG            1 turns DEBUG on (quickstart does so); off by default
DJANGO_SECRET_KEY       the secret key; required with DEBUG off (a development key kept
                        in .secret_key serves DEBUG and the tests)
DJANGO_ALLOWED_HOSTS    comma-separated host names
DJANGO_CSRF_TRUSTED_ORIGINS  comma-separated origins, e.g. https://vectors.example.com
DJANGO_SECURE_SSL_REDIRECT   0 to serve plain HTTP with DEBUG off (default: redirect)
DJANGO_SECURE_PROXY_SSL_HEADER  1 when a proxy in front terminates TLS (X-Forwarded-Proto)
DJANGO_HSTS_SECONDS     Strict-Transport-Security max-age with DEBUG off (default 1 year)
DATABASE_POOL_SIZE      the most connections one process opens (psycopg's pool; default 10)
DATABASE_REPLICA_URLS   comma-separated URLs of streaming read replicas of DATABASE_URL: the
                        vector searches and the changelist read from them (pgvector_admin.replicas)
DATABASE_REPLICA_MAX_LAG  seconds a replica may be behind and still serve (default 30)
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from project.embedded import default_pgdata

BASE_DIR = Path(__file__).resolve().parent.parent


def env_flag(name: str, default: bool = False) -> bool:
    """Read a yes/no environment variable ("1", "true", "yes", "on" mean yes)."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    """Read a comma-separated environment variable."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def development_secret_key(path: Path) -> str:
    """A random key generated once per checkout and kept out of git."""
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = env_flag("DJANGO_DEBUG")
# pytest sets PYTEST_VERSION; the debug toolbar stays out of the test run.
TESTING = "PYTEST_VERSION" in os.environ

# Production: DEBUG off outside the test run. Its safety settings are below.
PRODUCTION = not DEBUG and not TESTING

# With DEBUG off the key must come from the environment: it is left empty here, so
# that serving (project/wsgi.py, asgi.py) refuses to start and `check --deploy`
# says why, while commands that sign nothing (migrate, import_vectors) still run.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or (
    development_secret_key(BASE_DIR / ".secret_key") if DEBUG or TESTING else ""
)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")
# The debug toolbar is shown to these addresses, and only with DEBUG on (REMOTE_ADDR
# itself: no X-Forwarded-For header makes a request "internal").
INTERNAL_IPS = ["127.0.0.1"]

if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_flag("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", 31_536_000))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    if env_flag("DJANGO_SECURE_PROXY_SSL_HEADER"):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# Scripts and styles from this site only: no inline script or handler anywhere (the
# admin's, ours, django-import-export's export page through our template). Images may
# also be data: URIs (plotly's 3-d view draws its WebGL picture into one to save it).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # Index expressions with an operator class (OpClass), e.g. a vector cast to halfvec.
    "django.contrib.postgres",
    "import_export",
    # Long work (imports, index builds, big exports) runs in the background: Django's
    # tasks API (django-tasks, the backport of Django 6's django.tasks) on a queue kept
    # in PostgreSQL (django-tasks-db), worked by `manage.py db_worker`. No broker.
    "django_tasks",
    "django_tasks_db",
    "pgvector_admin",
    "catalog",
]

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}
if TESTING:
    # In the tests a task runs when it is queued, in the test's own transaction, as
    # Django's docs advise; tests/test_tasks.py runs the real queue and its worker
    # through the "queue" backend.
    TASKS = {
        "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"},
        "queue": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]},
    }
    # The check that says so is meant for sites, not for these tests.
    SILENCED_SYSTEM_CHECKS = ["pgvector_admin.W005"]

if TESTING:
    # Models of every vector type, registered with the vector admin: the tests' own.
    INSTALLED_APPS.append("tests.vector_models")

MIDDLEWARE = [
    # First: it wraps everything below that may touch the database (sessions, the
    # debug toolbar, views) and turns "the database is gone" into a 503 page.
    "project.middleware.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files without DEBUG, from STATIC_ROOT (filled by collectstatic; `serve`
    # runs it), compressed and with cache headers.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language: the one chosen with the header's switch (Django's set_language),
    # else the browser's Accept-Language, else LANGUAGE_CODE.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After the session: a request that wrote keeps the primary's WAL position in it,
    # so that the user's next pages read their own writes (pgvector_admin.replicas).
    "pgvector_admin.replicas.ReadYourWritesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

DEBUG_TOOLBAR = DEBUG and not TESTING
if not DEBUG_TOOLBAR:
    # The Content-Security-Policy header (django-csp; Django 6 has it built in): every
    # page but quickstart's, whose debug toolbar injects inline scripts and styles.
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
        "csp.middleware.CSPMiddleware",
    )
if DEBUG_TOOLBAR:
    INSTALLED_APPS.append("debug_toolbar")
    # After authentication: the toolbar is shown to logged-in staff only.
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
        "debug_toolbar.middleware.DebugToolbarMiddleware",
    )

DEBUG_TOOLBAR_CONFIG = {
    # Collapsed until clicked, so it does not cover the admin's own pages.
    "SHOW_COLLAPSED": True,
    # DEBUG on, an internal address, and a staff user who may view items: the toolbar
    # and its panel views show the request's SQL and data.
    "SHOW_TOOLBAR_CALLBACK": "project.toolbar.show_toolbar",
}
# The vector panel reads the SQL panel's statements, so it comes before it.
DEBUG_TOOLBAR_PANELS = [
    "debug_toolbar.panels.history.HistoryPanel",
    "debug_toolbar.panels.versions.VersionsPanel",
    "debug_toolbar.panels.timer.TimerPanel",
    "debug_toolbar.panels.settings.SettingsPanel",
    "debug_toolbar.panels.headers.HeadersPanel",
    "debug_toolbar.panels.request.RequestPanel",
    "pgvector_admin.toolbar.panel.VectorSearchPanel",
    "debug_toolbar.panels.sql.SQLPanel",
    "debug_toolbar.panels.staticfiles.StaticFilesPanel",
    "debug_toolbar.panels.templates.TemplatesPanel",
    "debug_toolbar.panels.alerts.AlertsPanel",
    "debug_toolbar.panels.cache.CachePanel",
    "debug_toolbar.panels.signals.SignalsPanel",
    "debug_toolbar.panels.community.CommunityPanel",
    "debug_toolbar.panels.redirects.RedirectsPanel",
    "debug_toolbar.panels.profiling.ProfilingPanel",
]

# Import needs the "add" permission on Item, export the "view" permission.
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "add"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
FILE_UPLOAD_HANDLERS = [
    "pgvector_admin.transfer.uploads.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# Files the app keeps: uploads between the import preview and its confirmation, and
# exports written by the task queue's worker (under MEDIA_ROOT/vector-imports unless
# VECTOR_IMPORT_DIR names another folder). The web and worker processes share it.
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT") or BASE_DIR / "media")

# bench/load.py serves bench.changelist_urls: the demo plus stock admins to compare with.
ROOT_URLCONF = os.environ.get("DJANGO_ROOT_URLCONF", "project.urls")

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # The site's own pages (503.html) and the admin's branding; the vector admin's
        # templates come with the package.
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "project.wsgi.application"

# psycopg's connection pool: each process opens at most DATABASE_POOL_SIZE connections,
# however many threads serve requests, so a busy server cannot exhaust PostgreSQL's
# max_connections. Connections are checked before reuse; a broken one is replaced.
POOL_OPTIONS = {
    "pool": {
        "min_size": 1,
        "max_size": int(os.environ.get("DATABASE_POOL_SIZE", 10)),
        "timeout": 5,
    }
}

if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.config(conn_max_age=0, conn_health_checks=True)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "project.embedded_postgres",
            "NAME": "vector_catalog",
            "USER": "postgres",
            "PGDATA": str(default_pgdata(BASE_DIR)),
            "CONN_HEALTH_CHECKS": True,
        },
    }
DATABASES["default"].setdefault("OPTIONS", {}).update(POOL_OPTIONS)

# Read replicas: replica_1, replica_2… in the order given. Reads of the vector pages go
# to them (pgvector_admin.replicas.ReplicaRouter); a replica that fails is skipped, quickly:
# it gets a short connect timeout and a pool that waits briefly.
for number, url in enumerate(
    (url.strip() for url in os.environ.get("DATABASE_REPLICA_URLS", "").split(",") if url.strip()),
    start=1,
):
    try:
        replica = dj_database_url.parse(url, conn_max_age=0, conn_health_checks=True)
    except ValueError as error:  # an unknown scheme
        raise ImproperlyConfigured(f"DATABASE_REPLICA_URLS: {error}") from error
    if replica["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured(
            f"DATABASE_REPLICA_URLS: replica {number} is not a PostgreSQL URL "
            "(postgres://user:password@host:5432/name): a replica is a standby of DATABASE_URL."
        )
    replica.setdefault("OPTIONS", {}).update(
        {"connect_timeout": 2, "pool": {**POOL_OPTIONS["pool"], "min_size": 0, "timeout": 2}}
    )
    # The tests' own database: a replica is the primary's copy, never created apart.
    replica["TEST"] = {"MIRROR": "default"}
    DATABASES[f"replica_{number}"] = replica
DATABASE_ROUTERS = ["pgvector_admin.replicas.ReplicaRouter"]
try:
    REPLICA_MAX_LAG = float(os.environ.get("DATABASE_REPLICA_MAX_LAG", 30))
except ValueError as error:
    raise ImproperlyConfigured("DATABASE_REPLICA_MAX_LAG must be a number of seconds.") from error

# django-pgvector-admin's settings (pgvector_admin/conf.py has every key and default).
PGVECTOR_ADMIN = {
    # The largest file the admin's import accepts; bigger files: manage.py import_vectors.
    "IMPORT_MAX_BYTES": int(os.environ.get("VECTOR_IMPORT_MAX_BYTES", 2 * 1024**3)),
    # Bigger uploads are previewed (checked) by the task queue's worker, not in the request.
    "IMPORT_PREVIEW_MAX_BYTES": int(
        os.environ.get("VECTOR_IMPORT_PREVIEW_MAX_BYTES", 10 * 1024 * 1024)
    ),
    "IMPORT_DIR": os.environ.get("VECTOR_IMPORT_DIR", ""),
    "REPLICA_MAX_LAG": REPLICA_MAX_LAG,
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
# The languages the admin's header offers; pgvector_admin ships a Korean catalogue.
LANGUAGES = [("en", "English"), ("ko", "한국어")]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# The site's own assets (the admin's branding); the package's come with it.
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Gzip and Brotli copies made at collectstatic time. Not the manifest storage: a page
    # would fail (a 500) for a missing manifest entry wherever collectstatic was not run.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
