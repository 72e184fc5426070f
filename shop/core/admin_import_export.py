"""Import and export buttons for the shop's admin lists (django-import-export).

An admin class says, as attributes, which resources it imports and exports with and who may use
them; without an explicit resource there is no import or export (import-export would otherwise
export every column of the model). Export is CSV or Excel, import CSV only.

Import takes two steps: the upload is run as a dry run and shown row by row (what would change,
and each row's errors); only a file without errors can be confirmed, and the confirmation runs it
again for real, in one transaction. If the data changed in between and a row now fails, nothing
is imported and the page shows why, instead of import-export's "Import finished" message.
"""

from django.contrib import messages
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.template.response import TemplateResponse
from import_export import admin as import_export_admin
from import_export.formats.base_formats import CSV

from shop.core.export_formats import InertCSV, InertXLSX


class _ExportAccess:
    # Every cell inert (shop.core.export_formats): no spreadsheet runs an exported value.
    export_formats = [InertCSV, InertXLSX]
    #: Permissions needed to export (all of them); None: the model's IMPORT_EXPORT_EXPORT_PERMISSION_CODE.
    export_permissions: tuple[str, ...] | None = None
    export_resource_classes: list = []

    def has_export_permission(self, request):
        if self.export_permissions is None:
            return super().has_export_permission(request)
        return request.user.has_perms(self.export_permissions)

    def get_export_data(self, file_format, request, queryset, **kwargs):
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

    def get_export_resource_classes(self, request):
        if not self.export_resource_classes:
            raise ImproperlyConfigured(f"{type(self).__name__} declares no export_resource_classes.")
        return self.export_resource_classes


class _ImportAccess:
    import_formats = [CSV]
    #: Permissions needed to import (all of them); None: the model's IMPORT_EXPORT_IMPORT_PERMISSION_CODE.
    import_permissions: tuple[str, ...] | None = None
    import_resource_classes: list = []

    def has_import_permission(self, request):
        if self.import_permissions is None:
            return super().has_import_permission(request)
        return request.user.has_perms(self.import_permissions)

    def get_import_resource_classes(self, request):
        if not self.import_resource_classes:
            raise ImproperlyConfigured(f"{type(self).__name__} declares no import_resource_classes.")
        return self.import_resource_classes

    def process_result(self, result, request):
        if result.has_errors() or result.has_validation_errors():
            return self._import_refused(result, request)
        return super().process_result(result, request)

    def _import_refused(self, result, request):
        """The confirmed import failed (and was rolled back): the upload page, with the row errors."""
        messages.error(
            request,
            "Nothing was imported: some rows fail now (the data changed since the preview). "
            "Correct the file and upload it again.",
        )
        resource_classes = self.get_import_resource_classes(request)
        form = self.get_import_form_class(request)(self.get_import_formats(), resource_classes)
        resource_kwargs = self.get_import_resource_kwargs(request)
        request.current_app = self.admin_site.name
        context = {
            **self.get_import_context_data(),
            **self.admin_site.each_context(request),
            "title": "Import",
            "form": form,
            "opts": self.model._meta,
            "media": self.media + form.media,
            "result": result,
            "fields_list": [
                (
                    resource_class.get_display_name(),
                    [
                        field.column_name
                        for field in resource_class(**resource_kwargs).get_user_visible_fields()
                    ],
                )
                for resource_class in resource_classes
            ],
            "import_error_display": self.import_error_display,
        }
        return TemplateResponse(request, [self.import_template_name], context)


class ExportMixin(_ExportAccess, import_export_admin.ExportMixin):
    """An Export button on the list: its rows, as filtered and searched, to CSV or Excel."""


class ImportExportMixin(_ImportAccess, _ExportAccess, import_export_admin.ImportExportMixin):
    """Import (CSV, previewed, all or nothing) and Export buttons on the list."""
