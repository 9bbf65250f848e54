"""The package's settings: one dict, ``PGVECTOR_ADMIN``, in your settings module; every
key is optional and its default is here. Read through ``app_settings``, which looks at
Django's settings on every access (so ``override_settings`` works in tests).

    PGVECTOR_ADMIN = {"IMPORT_MAX_BYTES": 500 * 1024**2, "REPLICA_MAX_LAG": 10}

The README's "Settings" table lists the same keys.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

SETTINGS_NAME = "PGVECTOR_ADMIN"

DEFAULTS: dict[str, Any] = {
    # Uploads waiting between an import's preview and its confirmation, and exports
    # written by the task worker: this folder, or MEDIA_ROOT/vector-imports when empty.
    # Web and worker processes must share it.
    "IMPORT_DIR": "",
    # The largest file the admin's import accepts (bytes); bigger: `import_vectors`.
    "IMPORT_MAX_BYTES": 2 * 1024**3,
    # Uploads above this size are checked by the task worker, not in the request.
    "IMPORT_PREVIEW_MAX_BYTES": 10 * 1024**2,
    # Uploads and export files older than this are removed (seconds).
    "UPLOAD_MAX_AGE": 24 * 3600,
    # Exported text cells that a spreadsheet would run as a formula get a leading quote.
    "EXPORT_FORMULA_GUARD": True,
    # Database aliases starting with this are read replicas of "default".
    "REPLICA_PREFIX": "replica_",
    # Seconds a replica may be behind the primary and still serve searches.
    "REPLICA_MAX_LAG": 30.0,
    # hnsw.ef_search for searches through an index with no saved setting (at least k).
    "DEFAULT_EF_SEARCH": 100,
    # Past this many rows (the planner's estimate), a vector admin's changelist shows the
    # estimate instead of counting every row; 0 counts always.
    "COUNT_ESTIMATE_ABOVE": 100_000,
    # A search sends its plan with its query, and BEGIN with its settings, in one round
    # trip each (psycopg's pipeline mode); False sends each statement on its own, for a
    # connection pooler that does not pass pipelined statements through.
    "PIPELINE_MODE": True,
}


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _positive_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


# What each value must be: (test, description).
_RULES: dict[str, tuple[Any, str]] = {
    "IMPORT_DIR": (lambda v: isinstance(v, str), "a folder's path (a string)"),
    "IMPORT_MAX_BYTES": (_positive_int, "a positive whole number of bytes"),
    "IMPORT_PREVIEW_MAX_BYTES": (_positive_int, "a positive whole number of bytes"),
    "UPLOAD_MAX_AGE": (_positive_number, "a positive number of seconds"),
    "EXPORT_FORMULA_GUARD": (lambda v: isinstance(v, bool), "True or False"),
    "REPLICA_PREFIX": (lambda v: isinstance(v, str) and v != "", "a non-empty string"),
    "REPLICA_MAX_LAG": (_positive_number, "a positive number of seconds"),
    "DEFAULT_EF_SEARCH": (lambda v: _positive_int(v) and v <= 1000, "a whole number 1-1000"),
    "COUNT_ESTIMATE_ABOVE": (
        lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
        "a whole number of rows, 0 or more",
    ),
    "PIPELINE_MODE": (lambda v: isinstance(v, bool), "True or False"),
}


def user_settings() -> dict[str, Any]:
    """The ``PGVECTOR_ADMIN`` dict of the site's settings (empty when unset)."""
    value = getattr(settings, SETTINGS_NAME, None)
    return value if isinstance(value, dict) else {}


def problems() -> list[str]:
    """What is wrong with ``PGVECTOR_ADMIN``, in words (the system checks report it)."""
    value = getattr(settings, SETTINGS_NAME, None)
    if value is not None and not isinstance(value, dict):
        return [f"{SETTINGS_NAME} must be a dict, not {type(value).__name__}."]
    found = []
    for key, given in user_settings().items():
        if key not in DEFAULTS:
            found.append(f"{SETTINGS_NAME}[{key!r}] is not a setting of pgvector_admin.")
            continue
        test, description = _RULES[key]
        if not test(given):
            found.append(f"{SETTINGS_NAME}[{key!r}] must be {description}, not {given!r}.")
    return found


class _AppSettings:
    """``app_settings.IMPORT_MAX_BYTES``: the site's value, else the default."""

    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(f"pgvector_admin has no setting {name!r}")
        return user_settings().get(name, DEFAULTS[name])


app_settings = _AppSettings()
