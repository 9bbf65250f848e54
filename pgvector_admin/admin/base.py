"""What the vector admin's parts share, declared once: each mixin (pictures, indexes,
imports) is mixed into a ``ModelAdmin`` together with ``VectorAdminMixin``, and calls
the admin's own methods and the vector admin's (its columns, URL names, the search
and similar answers) through this base instead of through an undeclared ``self``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from pgvector_admin.search.conditions import Conditions
from pgvector_admin.search.outcome import SearchOutcome
from pgvector_admin.vectors.fields import VectorColumn

if TYPE_CHECKING:
    # For the type checker, the ModelAdmin every part ends up in; at run time the
    # admin class itself brings it, after the mixins.
    _ModelAdmin = admin.ModelAdmin
else:
    _ModelAdmin = object


class VectorAdminBase(_ModelAdmin):
    """The interface the vector admin's parts rely on. ``VectorAdminMixin`` sets the
    columns and implements the answers."""

    _vector_columns: list[VectorColumn]

    def get_vector_columns(self) -> list[VectorColumn]:
        """The vector fields this admin searches."""
        return self._vector_columns

    def url_name(self, verb: str) -> str:
        """``<app>_<model>_<verb>``, as Django names the admin's own URLs."""
        return f"{self.opts.app_label}_{self.opts.model_name}_{verb}"

    def search_outcome(
        self, request: HttpRequest, *, with_recall: bool | None = None, cells_only: bool = False
    ) -> tuple[Any, Conditions, SearchOutcome | None]:
        """The search page's form, conditions and answer (``VectorAdminMixin``)."""
        raise NotImplementedError

    def similar_outcome(
        self,
        request: HttpRequest,
        obj: Any,
        *,
        with_recall: bool | None = None,
        cells_only: bool = False,
    ) -> tuple[Any, Conditions, SearchOutcome | None]:
        """The similar page's form, conditions and answer for ``obj``."""
        raise NotImplementedError

    def missing_row_text(self, object_id: str) -> str:
        """What a part requested for a row that is not there (or not the user's) says."""
        return _("No %(thing)s with id %(id)s.") % {
            "thing": self.opts.verbose_name,
            "id": object_id,
        }

    def form_conditions(self, request: HttpRequest, form: Any) -> Conditions:
        """The request's changelist conditions; a problem with them becomes an error
        of ``form``."""
        raise NotImplementedError


def task_page_url(progress: Any) -> str:
    """The page of a background task's progress (``pgvector_admin.models.TaskProgress``),
    where a page that starts a task sends its user."""
    return reverse("admin:pgvector_admin_taskprogress_change", args=[progress.pk])


def form_errors_text(form: Any) -> str:
    """A form's errors as one sentence, for a part of a page that cannot be drawn."""
    messages = [str(error) for errors in form.errors.values() for error in errors]
    return " ".join(messages) or _("Nothing to draw.")
