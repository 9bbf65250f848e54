"""What an import may write, by the admin's own permissions: adding rows needs "add",
changing rows that exist needs "change", replacing every row needs "delete" as well.

The admin asks its ``has_*_permission`` hooks (``ImportRights.of_admin``); the task
queue's worker asks the user who started the task, when it runs
(``ImportRights.of_user``): a permission taken away in between is honoured.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_permission_codename
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from pgvector_admin.numbers import grouped


@dataclass(frozen=True)
class ImportRights:
    """The writes an import may make on one model."""

    model: type[models.Model]
    add: bool
    change: bool
    delete: bool

    @classmethod
    def of_admin(cls, model_admin: Any, request: Any) -> ImportRights:
        """As ``request``'s user's permissions allow, narrowed by the model admin's
        ``has_change_permission`` and ``has_delete_permission``. Not by its
        ``has_add_permission``: an admin often answers that for its add form (a model
        whose vectors are not form fields has none), not for rows a file brings."""
        user = cls.of_user(request.user, model_admin.model)
        return cls(
            model=model_admin.model,
            add=user.add,
            change=user.change and bool(model_admin.has_change_permission(request)),
            delete=user.delete and bool(model_admin.has_delete_permission(request)),
        )

    @classmethod
    def of_user(cls, user: Any, model: type[models.Model]) -> ImportRights:
        """As ``user``'s model permissions allow (a superuser may do anything)."""
        opts = model._meta

        def may(action: str) -> bool:
            codename = get_permission_codename(action, opts)
            return bool(user.is_active and user.has_perm(f"{opts.app_label}.{codename}"))

        return cls(model=model, add=may("add"), change=may("change"), delete=may("delete"))

    def refusal(self, *, new: int, updated: int, replace: bool) -> str | None:
        """Why an import of ``new`` rows and ``updated`` existing ones (``replace``: the
        table emptied first) is more than these rights allow; None when it is not."""
        plural = self.model._meta.verbose_name_plural
        if replace and not self.delete:
            return _(
                "Replacing every row deletes the %(things)s that are there now, which needs the "
                "“delete” permission on %(things)s (%(permission)s). Nothing was written."
            ) % {"things": plural, "permission": self._name("delete")}
        if updated and not self.change:
            return ngettext(
                "%(rows)s of the file's rows would change %(things)s that exist, which needs "
                "the “change” permission on %(things)s (%(permission)s). Nothing was written.",
                "%(rows)s of the file's rows would change %(things)s that exist, which needs "
                "the “change” permission on %(things)s (%(permission)s). Nothing was written.",
                updated,
            ) % {"rows": grouped(updated), "things": plural, "permission": self._name("change")}
        if new and not self.add:
            return ngettext(
                "%(rows)s of the file's rows would add new %(things)s, which needs the “add” "
                "permission on %(things)s (%(permission)s). Nothing was written.",
                "%(rows)s of the file's rows would add new %(things)s, which needs the “add” "
                "permission on %(things)s (%(permission)s). Nothing was written.",
                new,
            ) % {"rows": grouped(new), "things": plural, "permission": self._name("add")}
        return None

    def refuses_row(self, *, new: bool) -> str | None:
        """Why one row (``new``, or a change to one that exists) is refused."""
        return self.refusal(new=int(new), updated=int(not new), replace=False)

    def _name(self, action: str) -> str:
        opts = self.model._meta
        return f"{opts.app_label}.{get_permission_codename(action, opts)}"
