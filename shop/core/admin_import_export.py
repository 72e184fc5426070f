"""Import and export buttons for the shop's admin lists (django-import-export).

An admin class says, as attributes, which resources it imports and exports with and who may use
them; without an explicit resource there is no import or export (import-export would otherwise
export every column of the model). Export is CSV or Excel, import CSV only.

Import takes two steps. The upload is read (shop.core.resources.read_csv: size and row limits,
encoding, separator, header) and checked in full against the database without writing anything,
and shown: the counts, every row in error, the first rows. Only a file without errors is kept, in
the import upload storage (shop.core.import_uploads), for the user and session that uploaded it;
the confirmation names it by its id, takes it from the storage and runs the import for real, in
one transaction. If the data changed in between and a row now fails, nothing is imported and the
page shows why.
"""

import tempfile

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import FileResponse, HttpResponseRedirect, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_POST
from import_export import admin as import_export_admin
from import_export.signals import post_export

from shop.core.admin_visibility import resource_for
from shop.core.db import insert_many
from shop.core.exceptions import ShopError
from shop.core.export_formats import InertCSV, InertXLSX
from shop.core.import_uploads import UploadNotFound, upload_discard, upload_save, upload_take, uploads_clean
from shop.core.resources import ImportFileError, ImportRow
from shop.core.streaming_export import CHUNK_SIZE, StreamedExport
from shop.core.uploads import refused_uploads


class _ExportAccess:
    # Every cell inert (shop.core.export_formats): no spreadsheet runs an exported value.
    export_formats = [InertCSV, InertXLSX]
    #: Permissions needed to export (all of them); None: the model's IMPORT_EXPORT_EXPORT_PERMISSION_CODE.
    export_permissions: tuple[str, ...] | None = None
    export_resource_classes: list = []
    #: Rows read from the database at a time by an export.
    export_chunk_size = CHUNK_SIZE

    def has_export_permission(self, request):
        if self.export_permissions is None:
            return super().has_export_permission(request)
        return request.user.has_perms(self.export_permissions)

    def get_export_data(self, file_format, request, queryset, **kwargs):
        # The in-memory export (import-export's, from instances), which the streamed one must
        # match cell for cell (tests/core/test_streaming_export.py).
        # import-export keeps numbers native only for its own binary format classes (an exact
        # type check); the inert XLSX is one too, so its amounts stay numbers.
        if not self.has_export_permission(request):
            raise PermissionDenied
        data = self.get_data_for_export(
            request, queryset, force_native_type=file_format.is_binary(), **kwargs
        )
        export_data = file_format.export_data(data)
        encoding = kwargs.get("encoding")
        if not file_format.is_binary() and encoding:
            export_data = export_data.encode(encoding)
        return export_data

    def _do_file_export(self, file_format, request, queryset, export_form=None):
        # import-export's export_action (its form: format, resource, columns) ends here; the file
        # is streamed (shop.core.streaming_export) instead of built in memory from instances.
        if not self.has_export_permission(request):
            raise PermissionDenied
        resource_class = self.choose_export_resource_class(export_form, request)
        export = StreamedExport(
            resource_class(**self.get_export_resource_kwargs(request)),
            queryset,
            selected_fields=self.get_export_resource_fields_from_form(export_form),
            native=file_format.is_binary(),
            chunk_size=self.export_chunk_size,
        )
        filename = self.get_export_filename(request, queryset, file_format)
        content_type = file_format.get_content_type()
        if file_format.is_binary():
            file = tempfile.TemporaryFile()  # noqa: SIM115 (the response closes it once sent)
            export.write_xlsx(file)
            file.seek(0)
            response = FileResponse(file, as_attachment=True, filename=filename, content_type=content_type)
        else:
            response = StreamingHttpResponse(
                export.csv_chunks(self.to_encoding or settings.DEFAULT_CHARSET), content_type=content_type
            )
            response["Content-Disposition"] = f'attachment; filename="{filename}"'
        post_export.send(sender=None, model=self.model)
        return response

    def get_export_resource_classes(self, request):
        if not self.export_resource_classes:
            raise ImproperlyConfigured(f"{type(self).__name__} declares no export_resource_classes.")
        # Without the columns that reach data this user may not see (shop.core.admin_visibility):
        # not offered on the export page, not written to the file.
        return [resource_for(resource_class, request.user) for resource_class in self.export_resource_classes]


class ImportFileForm(forms.Form):
    import_file = forms.FileField(label="CSV file", allow_empty_file=True)


class ConfirmImportForm(forms.Form):
    """The confirmation names the pending upload by its id only (shop.core.import_uploads)."""

    upload = forms.CharField(widget=forms.HiddenInput, max_length=64)


class _ImportAccess:
    #: The list's CSV import (a shop.core.resources.CsvImport); None: the list has no import.
    csv_import_class = None
    #: Permissions needed to import (all of them); None: the model's IMPORT_EXPORT_IMPORT_PERMISSION_CODE.
    import_permissions: tuple[str, ...] | None = None
    import_template_name = "admin/shop/import.html"

    def has_import_permission(self, request):
        if self.csv_import_class is None:
            return False
        if self.import_permissions is None:
            return super().has_import_permission(request)
        return request.user.has_perms(self.import_permissions)

    def _import_kind(self) -> str:
        return f"{self.opts.app_label}.{self.opts.model_name}"

    def _upload_owner(self, request) -> dict:
        if not request.session.session_key:
            request.session.save()
        return {
            "user_id": request.user.pk,
            "session_key": request.session.session_key,
            "kind": self._import_kind(),
        }

    def import_action(self, request, **kwargs):
        """The upload page; a posted file is read, checked and shown as a preview (a dry run).

        Only a file without errors is kept (shop.core.import_uploads) for its confirmation; a file
        that cannot be read, is too big or too long, or has rows in error is a message on this
        page, and nothing of it is kept.
        """
        if not self.has_import_permission(request):
            raise PermissionDenied
        importer = self.csv_import_class()
        form = ImportFileForm(request.POST or None, request.FILES or None)
        if request.method != "POST":
            return self._import_page(request, importer, form)
        if refused_uploads(request):
            messages.error(
                request,
                f"The file is more than the {_size(settings.IMPORT_MAX_FILE_SIZE)} one import takes. "
                "Split it into smaller files and import them one after the other.",
            )
            return self._import_page(request, importer, form)
        if not form.is_valid():
            messages.error(request, "Choose a CSV file to import.")
            return self._import_page(request, importer, form)
        upload = form.cleaned_data["import_file"]
        limit = settings.IMPORT_MAX_FILE_SIZE
        if upload.size > limit:
            messages.error(
                request,
                f"The file is {_size(upload.size)}, more than the {_size(limit)} one import takes. "
                "Split it into smaller files and import them one after the other.",
            )
            return self._import_page(request, importer, form)
        data = upload.read()
        try:
            result = importer.preview(importer.read(data))
        except ImportFileError as error:
            messages.error(request, str(error))
            return self._import_page(request, importer, form)
        if result.has_errors:
            errors, total = len(result.error_rows), len(result.rows)
            messages.error(
                request,
                f"Nothing can be imported: {errors:,} of the {_rows(total)} "
                f"{'has an error' if errors == 1 else 'have errors'} (listed below). Correct the file "
                "and upload it again.",
            )
            return self._import_page(request, importer, form, result=result)
        owner = self._upload_owner(request)
        # One pending upload per user and list: a new upload replaces the one not confirmed.
        session_slot = f"import_upload:{owner['kind']}"
        upload_discard(upload_id=request.session.get(session_slot), **owner)
        uploads_clean()
        upload_id = upload_save(data=data, file_name=upload.name, **owner)
        request.session[session_slot] = upload_id
        confirm_form = ConfirmImportForm(initial={"upload": upload_id})
        return self._import_page(request, importer, form, result=result, confirm_form=confirm_form)

    @method_decorator(require_POST)
    def process_import(self, request, **kwargs):
        """The confirmation: the pending upload, taken from the storage, is imported for real in
        one transaction. Anything but this user's own pending upload is a 404 with a message."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        importer = self.csv_import_class()
        form = ImportFileForm()
        try:
            pending = upload_take(upload_id=request.POST.get("upload"), **self._upload_owner(request))
        except UploadNotFound as error:
            messages.error(request, str(error))
            return self._import_page(request, importer, form, status=404)
        try:
            result = importer.run(importer.read(pending.data), actor=request.user)
        except ShopError as error:
            messages.error(request, f"Nothing was imported: {error}")
            return self._import_page(request, importer, form)
        if result.has_errors:
            messages.error(
                request,
                "Nothing was imported: some rows fail now (the data changed since the preview). "
                "Correct the file and upload it again.",
            )
            return self._import_page(request, importer, form, result=result)
        self._log_import(request, importer, result)
        messages.success(request, result.summary())
        return HttpResponseRedirect(
            reverse(
                f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist",
                current_app=self.admin_site.name,
            )
        )

    def _log_import(self, request, importer, result) -> None:
        """The admin's history: one entry per product or stock row the import changed."""
        content_type_id = ContentType.objects.get_for_model(self.model).pk
        flags = {ImportRow.NEW: ADDITION, ImportRow.UPDATE: CHANGE}
        insert_many(
            LogEntry(
                user_id=request.user.pk,
                content_type_id=content_type_id,
                object_id=str(getattr(obj, "pk", obj)),
                object_repr=label[:200],
                action_flag=flags[action],
                change_message=message,
            )
            for obj, label, action, message in importer.log_entries(result)
        )

    def _import_page(self, request, importer, form, *, result=None, confirm_form=None, status=200):
        request.current_app = self.admin_site.name
        context = {
            **self.admin_site.each_context(request),
            "title": f"Import: {importer.title}",
            "opts": self.model._meta,
            "form": form,
            "importer": importer,
            "result": result,
            "confirm_form": confirm_form,
            "limits": {"size": _size(settings.IMPORT_MAX_FILE_SIZE), "rows": f"{settings.IMPORT_MAX_ROWS:,}"},
            "media": self.media + form.media,
        }
        return TemplateResponse(request, [self.import_template_name], context, status=status)


def _size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f}".removesuffix(".0") + " MB"
    return f"{max(size // 1024, 1)} KB"


def _rows(count: int) -> str:
    return f"{count:,} row{'' if count == 1 else 's'}"


class ExportMixin(_ExportAccess, import_export_admin.ExportMixin):
    """An Export button on the list: its rows, as filtered and searched, to CSV or Excel."""


class ImportExportMixin(_ImportAccess, _ExportAccess, import_export_admin.ImportExportMixin):
    """Import (CSV, previewed, all or nothing: `csv_import_class`) and Export buttons on the list."""
