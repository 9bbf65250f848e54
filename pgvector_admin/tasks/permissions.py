"""Who may run a background task of each kind, asked when it is started again and
again when the worker runs it: a permission taken away meanwhile is honoured.

    import, check   add or change on the model (what the file writes is checked in
                    turn: ``pgvector_admin.transfer.rights``)
    index, curve    the index permission (``pgvector_admin.manage_vector_indexes``)
    export          view on the model
    embed           change on the model
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib.auth import get_permission_codename
from django.utils.translation import gettext as _

from pgvector_admin.transfer.rights import ImportRights

MANAGE_PERMISSION = "pgvector_admin.manage_vector_indexes"


def refusal(user: Any, *, kind: str, arguments: dict[str, Any]) -> str | None:
    """Why ``user`` may not run a task of ``kind`` with ``arguments`` now (None: they
    may). A task started by no user (from the shell) is never refused."""
    if user is None:
        return None
    if not user.is_active:
        return _("%(user)s is no longer an active user.") % {"user": user}
    try:
        model = apps.get_model(arguments.get("model_label", ""))
    except (LookupError, ValueError):
        return _("The task's table is no longer part of the app.")
    opts = model._meta
    values = {"user": user, "things": opts.verbose_name_plural}
    if kind in {"import", "check"}:
        rights = ImportRights.of_user(user, model)
        if rights.add or rights.change:
            return None
        label = f"{opts.app_label}.%s_{opts.model_name}"
        return _("%(user)s may no longer add or change %(things)s (%(add)s or %(change)s).") % (
            values | {"add": label % "add", "change": label % "change"}
        )
    if kind in {"index", "curve"}:
        if user.is_superuser or user.has_perm(MANAGE_PERMISSION):
            return None
        return _("%(user)s may no longer manage vector indexes (%(permission)s).") % (
            values | {"permission": MANAGE_PERMISSION}
        )
    if kind == "embed":
        codename = get_permission_codename("change", opts)
        if user.has_perm(f"{opts.app_label}.{codename}"):
            return None
        return _("%(user)s may no longer change %(things)s (%(permission)s).") % (
            values | {"permission": f"{opts.app_label}.{codename}"}
        )
    if kind == "export":
        codename = get_permission_codename("view", opts)
        change = get_permission_codename("change", opts)
        if user.has_perm(f"{opts.app_label}.{codename}") or user.has_perm(
            f"{opts.app_label}.{change}"
        ):
            return None
        return _("%(user)s may no longer view %(things)s (%(permission)s).") % (
            values | {"permission": f"{opts.app_label}.{codename}"}
        )
    return _("Unknown kind of task: %(kind)s.") % {"kind": kind}
