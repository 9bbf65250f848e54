"""Settings from the environment, checked in fresh processes (the test run's own
settings are the test settings)."""

from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings

PRODUCTION_ENV = {
    "DJANGO_SECRET_KEY": "a-production-key-" + "x" * 50,
    "DJANGO_ALLOWED_HOSTS": "vectors.example.com",
    "DJANGO_CSRF_TRUSTED_ORIGINS": "https://vectors.example.com",
}


def run(code_or_args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {"PYTEST_VERSION", "DJANGO_DEBUG", "DJANGO_SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    return subprocess.run(
        [sys.executable, *code_or_args],
        cwd=settings.BASE_DIR,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def settings_of(env: dict[str, str], *names: str) -> list[str]:
    code = (
        "import os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'project.settings'; "
        "django.setup(); from django.conf import settings; "
        f"print('|'.join(repr(getattr(settings, n, None)) for n in {list(names)!r}))"
    )
    result = run(["-c", code], env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().split("|")


def test_check_deploy_is_clean_with_production_settings() -> None:
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_debug_is_off_unless_turned_on() -> None:
    assert settings_of(PRODUCTION_ENV, "DEBUG") == ["False"]
    assert settings_of({**PRODUCTION_ENV, "DJANGO_DEBUG": "1"}, "DEBUG") == ["True"]


def test_production_turns_on_secure_cookies_hsts_and_https() -> None:
    values = settings_of(
        PRODUCTION_ENV,
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_HSTS_SECONDS",
        "SECURE_SSL_REDIRECT",
        "ALLOWED_HOSTS",
        "CSRF_TRUSTED_ORIGINS",
        "DEBUG_TOOLBAR",
    )
    assert values == [
        "True",
        "True",
        "31536000",
        "True",
        "['vectors.example.com']",
        "['https://vectors.example.com']",
        "False",
    ]


def test_serving_without_a_secret_key_is_refused_with_debug_off() -> None:
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "DJANGO_SECRET_KEY"}
    result = run(["-c", "import project.wsgi"], env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set when DEBUG is off" in result.stderr
    assert run(["-c", "import project.wsgi"], PRODUCTION_ENV).returncode == 0


def test_commands_that_sign_nothing_run_without_a_secret_key() -> None:
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "DJANGO_SECRET_KEY"}
    result = run(["manage.py", "import_vectors", "--help"], env)
    assert result.returncode == 0, result.stderr


def test_the_development_key_is_never_committed() -> None:
    ignored = subprocess.run(
        ["git", "check-ignore", ".secret_key", ".pgdata"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
    )
    assert ignored.stdout.split() == [".secret_key", ".pgdata"]


def test_read_replicas_are_postgresql_mirrors_of_the_primary_or_a_clear_error() -> None:
    url = "postgres://catalog:secret@replica.example.com:5433/vector_catalog"
    (databases,) = settings_of({"DATABASE_REPLICA_URLS": f" {url} "}, "DATABASES")
    assert "'replica_1'" in databases
    assert "'HOST': 'replica.example.com'" in databases
    assert "'MIRROR': 'default'" in databases  # the tests never create it apart
    for bad, message in [
        ("mysql://a:b@host/name", "replica 1 is not a PostgreSQL URL"),
        ("nonsense", "DATABASE_REPLICA_URLS: Scheme"),
    ]:
        result = run(["manage.py", "check"], {"DATABASE_REPLICA_URLS": bad})
        assert result.returncode != 0
        assert message in result.stderr
    lag = run(["manage.py", "check"], {"DATABASE_REPLICA_MAX_LAG": "soon"})
    assert "DATABASE_REPLICA_MAX_LAG must be a number of seconds." in lag.stderr
