"""Import and export in the vector admin, for any model: django-import-export's
screens, permissions and preview, with CSV and TSV served by the COPY fast path of
``pgvector_admin.transfer.services``.

The preview validates the whole file in bulk without writing (its rows go to a
temporary staging table only); the confirm step loads it with COPY. Other formats
(JSON) take the library's own path through the model's resource
(``pgvector_admin.transfer.resources.vector_resource``).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST
from import_export.admin import ExportActionMixin, ImportMixin
from import_export.formats.base_formats import CSV, JSON, TSV
from import_export.forms import ConfirmImportForm, ImportForm
from import_export.results import Result, RowResult

from pgvector_admin.admin.base import VectorAdminBase, task_page_url
from pgvector_admin.features import background_tasks_available
from pgvector_admin.numbers import grouped
from pgvector_admin.tasks.jobs import import_message, start_check, start_export, start_import
from pgvector_admin.transfer.resources import vector_resource
from pgvector_admin.transfer.rights import ImportRights
from pgvector_admin.transfer.services import (
    ImportReport,
    export_chunks,
    export_columns,
    import_schema,
    import_vectors,
)
from pgvector_admin.transfer.upload_storage import UploadStorage
from pgvector_admin.transfer.uploads import (
    BadTicket,
    UploadFolderError,
    UploadTooLarge,
    claim,
    preview_max_bytes,
    remove_upload,
    save_upload,
    ticket_for,
    upload_path,
    upload_refused,
)

FAST_FORMATS = (CSV, TSV)


class VectorImportForm(ImportForm):
    """The library's import form, with the choice to replace the table's rows."""

    replace = forms.BooleanField(
        required=False,
        label=gettext_lazy("Replace every row"),
        help_text=gettext_lazy("Empty the table first: its rows become the file's (CSV and TSV)."),
    )


class VectorConfirmImportForm(ConfirmImportForm):
    """The confirm step carries the preview's choice to replace."""

    replace = forms.BooleanField(required=False, widget=forms.HiddenInput())


class VectorImportExportMixin(ImportMixin, ExportActionMixin, VectorAdminBase):
    """Import and export for a model with vector fields (part of ``VectorAdminMixin``).

    The JSON format goes through ``resource_classes`` when set, else through a
    resource made for the model (``vector_resource``)."""

    import_formats = [CSV, TSV, JSON]
    export_formats = [CSV, TSV, JSON]
    # django-import-export's, with the vector pages' buttons after Import and Export:
    # shown whether or not the user may add rows (its own hides the rest then).
    import_export_change_list_template = "pgvector_admin/change_list_import_export.html"
    import_template_name = "pgvector_admin/import.html"
    # The library's export page without its inline handler (Content-Security-Policy).
    export_template_name = "pgvector_admin/export.html"
    import_form_class = VectorImportForm
    confirm_form_class = VectorConfirmImportForm
    # One log entry per import instead of one per row: see pgvector_admin.tasks.jobs._log_import.
    skip_admin_log = True
    # The library's own formats (JSON) keep their upload in the app's uploads folder,
    # under a token; the confirm form carries a signed ticket for it
    # (pgvector_admin.transfer.uploads).
    tmp_storage_class = UploadStorage

    def get_resource_classes(self, request: HttpRequest) -> list[Any]:
        if self.resource_classes or getattr(self, "resource_class", None):
            return list(super().get_resource_classes(request))
        return [vector_resource(self.model)]

    # Import -------------------------------------------------------------------

    def has_import_permission(self, request: HttpRequest) -> bool:
        # Whoever may add rows or change them may import: what a file may do beyond
        # that is refused with the permission it needs (pgvector_admin.transfer.rights).
        rights = ImportRights.of_admin(self, request)
        return rights.add or rights.change

    def get_confirm_form_initial(self, request: HttpRequest, import_form: Any) -> dict[str, Any]:
        initial = dict(super().get_confirm_form_initial(request, import_form))
        if import_form is not None:
            initial["replace"] = import_form.cleaned_data.get("replace", False)
            # Not the file's name: a ticket only this user can redeem, for this model.
            initial["import_file_name"] = ticket_for(
                initial["import_file_name"], user=request.user, model=self.model
            )
        return initial

    def get_import_data_kwargs(self, **kwargs: Any) -> dict[str, Any]:
        # The library's path (JSON) refuses, row by row, what the user may not write.
        request = kwargs.get("request")
        data = dict(super().get_import_data_kwargs(**kwargs))
        if request is not None:
            data["import_rights"] = ImportRights.of_admin(self, request)
        return data

    def get_import_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = dict(super().get_import_context_data(**kwargs))
        context["import_columns"] = import_schema(self.model).describe()
        return context

    def import_action(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        if not self.has_import_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return super().import_action(request, **kwargs)
        import_form = self.create_import_form(request)
        refused = upload_refused(request)
        if refused:
            import_form.is_valid()
            import_form.errors.pop("import_file", None)
            import_form.add_error("import_file", refused)
            return self._import_page(request, import_form, {})
        if not import_form.is_valid():
            return super().import_action(request, **kwargs)
        input_format = self.get_import_formats()[int(import_form.cleaned_data["format"])]()
        replace = import_form.cleaned_data.get("replace", False)
        rights = ImportRights.of_admin(self, request)
        refusal = rights.refusal(new=0, updated=0, replace=replace)
        if refusal or (replace and not isinstance(input_format, FAST_FORMATS)):
            import_form.add_error(
                "replace", refusal or _("Replace every row works with CSV and TSV files only.")
            )
            return self._import_page(request, import_form, {})
        context: dict[str, Any] = {}
        if not isinstance(input_format, FAST_FORMATS):
            try:
                return super().import_action(request, **kwargs)
            except (UploadTooLarge, UploadFolderError) as error:
                import_form.add_error("import_file", str(error))
                return self._import_page(request, import_form, context)

        import_file = import_form.cleaned_data["import_file"]
        try:
            token = save_upload(import_file.chunks(), size=import_file.size)
        except (UploadTooLarge, UploadFolderError) as error:
            import_form.add_error("import_file", str(error))
            return self._import_page(request, import_form, context)
        if import_file.size > preview_max_bytes() and background_tasks_available():
            # A big file's preview would hold the request: the worker checks it, and its
            # page offers the import once every line is good.
            progress = start_check(
                token=token,
                model=self.model,
                file_name=import_file.name,
                delimiter=_delimiter(input_format),
                replace=replace,
                user=request.user,
            )
            return HttpResponseRedirect(task_page_url(progress))
        with open(upload_path(token), "rb") as stream:
            report = import_vectors(
                stream,
                model=self.model,
                dry_run=True,
                replace=replace,
                delimiter=_delimiter(input_format),
                rights=rights,
            )
        if report.file_error:
            remove_upload(token)
            import_form.add_error("import_file", report.file_error)
            return self._import_page(request, import_form, context)
        context["result"] = _result_from_report(report)
        context["report"] = report
        if report.ok:
            import_file.tmp_storage_name = token
            context["confirm_form"] = self.create_confirm_form(request, import_form=import_form)
        else:
            remove_upload(token)  # there will be no confirm step
        return self._import_page(request, import_form, context)

    @method_decorator(require_POST)
    def process_import(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        if not self.has_import_permission(request):
            raise PermissionDenied
        confirm_form = self.create_confirm_form(request)
        if not confirm_form.is_valid():
            return super().process_import(request, **kwargs)
        formats = self.get_import_formats()
        try:
            input_format = formats[int(confirm_form.cleaned_data["format"])]()
        except (ValueError, IndexError):
            return HttpResponseBadRequest(_("Not an import format of this page."))
        # The upload is found through the ticket the preview signed for this user and
        # model, never through a name or path from the form.
        try:
            token = claim(
                confirm_form.cleaned_data["import_file_name"], user=request.user, model=self.model
            )
            upload_path(token)
        except BadTicket as error:
            return HttpResponseBadRequest(
                _("Nothing was imported: %(reason)s.") % {"reason": error}
            )
        except (ValueError, FileNotFoundError) as error:
            messages.error(request, _("Nothing was imported: %(reason)s") % {"reason": error})
            return HttpResponseRedirect(self._admin_url("import"))
        if not isinstance(input_format, FAST_FORMATS):
            return self._process_library_import(request, confirm_form, input_format, token)
        if not background_tasks_available():
            return self._import_here(request, confirm_form, input_format, token)
        # The work goes to the task queue's worker; this request only queues it. The
        # upload stays on disk until the task has read it.
        progress = start_import(
            token=token,
            model=self.model,
            file_name=confirm_form.cleaned_data["original_file_name"],
            delimiter=_delimiter(input_format),
            replace=confirm_form.cleaned_data.get("replace", False),
            user=request.user,
        )
        return HttpResponseRedirect(task_page_url(progress))

    def _import_here(
        self, request: HttpRequest, confirm_form: Any, input_format: Any, token: str
    ) -> HttpResponse:
        """Without background tasks: the import runs in this request (all or nothing, as
        in the worker), and the changelist says what it did."""
        try:
            with open(upload_path(token), "rb") as stream:
                report = import_vectors(
                    stream,
                    model=self.model,
                    dry_run=False,
                    replace=confirm_form.cleaned_data.get("replace", False),
                    delimiter=_delimiter(input_format),
                    rights=ImportRights.of_admin(self, request),
                )
        finally:
            remove_upload(token)
        name = confirm_form.cleaned_data["original_file_name"]
        if report.ok and report.written:
            messages.success(request, import_message(report, name))
        else:
            problem = (
                report.file_error
                or report.index_error
                or (
                    ngettext("%(count)s bad line", "%(count)s bad lines", report.error_count)
                    % {"count": grouped(report.error_count)}
                    if report.error_count
                    else _("nothing to write")
                )
            )
            messages.error(
                request,
                _("Nothing was imported from %(file)s: %(problem)s.")
                % {"file": name, "problem": problem},
            )
        return HttpResponseRedirect(self._admin_url("changelist"))

    def _process_library_import(
        self, request: HttpRequest, confirm_form: Any, input_format: Any, token: str
    ) -> HttpResponse:
        """The library's own path (JSON), reading the claimed upload: all or nothing."""
        storage = UploadStorage(name=token, read_mode=input_format.get_read_mode())
        dataset = input_format.create_dataset(storage.read())
        result = self.process_dataset(dataset, confirm_form, request)
        storage.remove()
        if result.has_errors() or result.has_validation_errors():
            reasons = {str(error.error) for row in result.rows for error in row.errors} | {
                message
                for invalid in result.invalid_rows
                for messages_ in invalid.error_dict.values()
                for message in messages_
            }
            messages.error(
                request,
                _("Nothing was imported: %(reason)s") % {"reason": " ".join(sorted(reasons))},
            )
            return HttpResponseRedirect(self._admin_url("import"))
        return self.process_result(result, request)

    def _admin_url(self, view: str) -> str:
        opts = self.model._meta
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}")

    def _import_page(
        self, request: HttpRequest, import_form: Any, context: dict[str, Any]
    ) -> TemplateResponse:
        schema = import_schema(self.model)
        context.update(self.admin_site.each_context(request))
        context.update(
            {
                "title": _("Import"),
                "form": import_form,
                "opts": self.model._meta,
                "media": self.media + import_form.media,
                "fields_list": [(self.model._meta.verbose_name, schema.names)],
                "import_columns": schema.describe(),
                "import_error_display": self.import_error_display,
            }
        )
        request.current_app = self.admin_site.name
        status = 400 if import_form.errors or not context.get("confirm_form") else 200
        return TemplateResponse(request, [self.import_template_name], context, status=status)

    # Export -------------------------------------------------------------------

    def export_action(self, request: HttpRequest) -> HttpResponse:
        # The library reads the changelist's conditions from the address: one the list
        # refuses is a message, as on the changelist, not a server error.
        try:
            return super().export_action(request)
        except IncorrectLookupParameters as error:
            return HttpResponseBadRequest(
                _("Nothing was exported: the list's conditions are not valid (%(reason)s).")
                % {"reason": error},
                content_type="text/plain; charset=utf-8",
            )

    def export_admin_action(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        # The library's form would carry every selected id in the page (a million hidden
        # inputs for "select all"): more than a page of rows goes to the worker at once.
        if queryset.count() > self.list_per_page and self.has_export_permission(request):
            return self._do_file_export(self.get_export_formats()[0](), request, queryset)
        return super().export_admin_action(request, queryset)

    def get_valid_export_item_pks(self, request: HttpRequest) -> list[Any]:
        # The library's default lists every pk in the table (a million choices for a
        # million rows); only the posted ones that exist matter.
        posted = [pk for pk in request.POST.getlist("export_items") if _is_key(self.model, pk)]
        # Among the rows this admin shows the user (get_queryset: their own, say).
        rows = self.get_queryset(request).filter(pk__in=posted)
        return list(rows.values_list("pk", flat=True))

    def _do_file_export(
        self,
        file_format: Any,
        request: HttpRequest,
        queryset: QuerySet[Any],
        export_form: Any = None,
    ) -> HttpResponse:
        if not isinstance(file_format, CSV) or isinstance(file_format, TSV):
            return super()._do_file_export(file_format, request, queryset, export_form=export_form)
        if not self.has_export_permission(request):
            raise PermissionDenied
        # Streamed straight out of PostgreSQL's COPY: memory does not grow with the table.
        columns = export_columns(self.model)
        if export_form is not None and hasattr(export_form, "get_selected_resource_export_fields"):
            columns = tuple(export_form.get_selected_resource_export_fields()) or columns
        file_name = self.get_export_filename(request, queryset, file_format)
        if queryset.count() > self.list_per_page and background_tasks_available():
            # More than a page of rows: written by the worker, then offered as a download.
            progress = start_export(
                queryset=queryset, columns=list(columns), file_name=file_name, user=request.user
            )
            return HttpResponseRedirect(task_page_url(progress))
        response = StreamingHttpResponse(
            export_chunks(queryset=queryset, columns=columns), content_type="text/csv"
        )
        response["Content-Disposition"] = f'attachment; filename="{file_name}"'
        return response


def _is_key(model: type[Any], text: str) -> bool:
    """Whether ``text`` can be a primary key of ``model`` (an id posted by a form)."""
    try:
        model._meta.pk.to_python(text)
    except ValidationError:
        return False
    return True


def _delimiter(input_format: Any) -> str:
    return "\t" if isinstance(input_format, TSV) else ","


def _result_from_report(report: ImportReport) -> Result:
    """The library's Result, for its preview and error screens: the first rows for the
    preview, every listed bad line (by line number) for the errors table."""
    result = Result()
    columns = [
        column
        for column in (report.schema.columns if report.schema else [])
        if column.name in report.columns
    ]
    result.diff_headers = [column.name for column in columns]
    for bad in report.errors:
        result.append_invalid_row(
            bad.line, {"line": bad.text}, ValidationError({"line": [bad.reason]})
        )
    if report.ok:
        for row in report.sample:
            row_result = RowResult()
            updates = row.id is not None and row.id in report.sample_existing_ids
            row_result.import_type = (
                RowResult.IMPORT_TYPE_UPDATE if updates else RowResult.IMPORT_TYPE_NEW
            )
            row_result.diff = [column.shown(row.values.get(column.name)) for column in columns]
            result.append_row_result(row_result)
    result.totals[RowResult.IMPORT_TYPE_NEW] = report.new
    result.totals[RowResult.IMPORT_TYPE_UPDATE] = report.updated
    result.total_rows = report.rows
    return result
