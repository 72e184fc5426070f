"""Staff operations: one declaration per thing staff do to a row through a service.

An operation names its title, permission, service and form once (`StaffOperation`); a model
admin lists its operations (`StaffOperationsMixin.operations`) and gets from them, with no
code of its own:

- the page for one object, at `<pk>/<name-with-dashes>/` (URL name `<app>_<model>_<name>`), and
  its button on the object's page while the object can take the step;
- the list action for a selection (when the operation has an `action`), whose page asks once for
  all the objects or once per object (`per_row`), then runs the service for each: an object the
  service refuses is named with the reason and left as it was, the others go ahead;
- a 403 for a user without the permission, on the page and on a posted action;
- an admin history entry (LogEntry) for every object the service changed.

Pages are rendered from templates that fall back from the model to the app to the shared one,
as Django's `delete_selected` does: `admin/<app>/<model>/<name>_form.html`, then
`admin/<app>/<model>/operation_form.html`, `admin/<app>/operation_form.html` and
`admin/shop/operation_form.html` (`_selected.html` likewise for a selection).
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from django import forms
from django.contrib import messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path, reverse

from shop.core.admin_tools import (
    ActionPermissionMixin,
    ObjectRowForm,
    ObjectRowsFormSet,
    admin_page,
    log_message,
)
from shop.core.exceptions import ShopError


def _plural(count: int) -> str:
    return "" if count == 1 else "s"


@dataclass(frozen=True)
class StaffOperation:
    """What staff do to one row (or each of a selection) through a service.

    The service is called as `service(<object_arg>=obj, actor=user, **form.service_kwargs())`
    and raises a `ShopError` to refuse. Messages are format strings: `done` gets `obj` (the
    object) and `result` (what the service returned), `done_many` gets `count` and `s`.
    """

    name: str  # in the URL and the URL name: "receive_stock" -> <pk>/receive-stock/
    title: str  # the button, the page title and the history entry
    permission: str  # "catalog.receive_stock"
    service: Callable
    form: type[forms.Form] = forms.Form  # what the page asks; a form without fields confirms
    done: str | Callable = "{obj}: done."  # success message for one object (or obj, result -> str)
    action: str = ""  # the list action's name for a selection ("" for none)
    action_label: str = ""  # in the list's action menu
    action_title: str = ""  # the selection page's title and button (default: title)
    done_many: str = "{count} done."
    per_row: bool = False  # a selection asks the form once per object rather than once for all
    object_arg: str = ""  # the service's keyword for the object (default: the model's name)
    help: str = ""  # what will happen, shown on the pages above the form
    submit_label: str = ""  # the submit button (default: title, or action_title on a selection)
    back_label: str = "Cancel"
    button: bool = True  # a button on the object's page leads to the operation's page
    on_object_page: bool = False  # the form is on the object's page itself; errors go back there
    blocked: Callable[[object], str] | None = None  # why an object cannot take the step now ("": it can)
    cannot: str = "take this step now"  # "2 of these orders cannot <cannot>"
    initial: Callable[[object], dict] | None = None  # the form's initial values for an object
    # Keyword arguments for the form on an object's page, from the object (a form whose choices
    # are the object's own: a customer's addresses...); not used by a selection's pages.
    form_kwargs: Callable[[object], dict] | None = None
    queryset: Callable | None = None  # what the pages read besides the rows (select_related...)
    label: Callable[[object], str] = str  # how a refusal names the object
    history: str | None = None  # the history entry; default: title and the form's input
    history_details: Callable[[object, dict], dict] | None = None  # (result, input) -> details
    # A question on a page of its own between the form and the service, from the object and the
    # form's input: "Refund 12.34 USD of ...? This cannot be undone." (None: no such step). The
    # page posts the input back with `confirmed=yes` to run, or with `_edit` to change it.
    confirm: Callable[[object, dict], str] | None = None
    confirm_label: str = "Yes, go ahead"  # the confirmation's button
    confirm_edit_label: str = "Change it"  # its button back to the form

    @property
    def url_path(self) -> str:
        return self.name.replace("_", "-")

    def blocked_reason(self, obj) -> str:
        return self.blocked(obj) if self.blocked else ""

    def success_message(self, obj, result) -> str:
        if callable(self.done):
            return self.done(obj, result)
        return self.done.format(obj=obj, result=result)

    def success_many_message(self, count: int) -> str:
        return self.done_many.format(count=count, s=_plural(count))

    def history_message(self, result, details: dict) -> str:
        if self.history is not None:
            return self.history
        if self.history_details is not None:
            details = self.history_details(result, details)
        return log_message(self.title, details)

    @cached_property
    def row_formset(self) -> type[ObjectRowsFormSet]:
        """The selection page's formset: the operation's form once per object."""
        row_form = type(f"{self.form.__name__}Row", (ObjectRowForm, self.form), {})
        return forms.formset_factory(row_form, formset=ObjectRowsFormSet, extra=0)


def _form_kwargs(form) -> dict:
    """What the form adds to the service call (a confirmation form adds nothing)."""
    service_kwargs = getattr(form, "service_kwargs", None)
    return service_kwargs() if service_kwargs else {}


class StaffOperationsMixin(ActionPermissionMixin):
    """Pages, buttons, list actions, refusals and history for the admin's `operations`."""

    operations: list[StaffOperation] = []

    # Declarations

    def get_operation(self, name: str) -> StaffOperation:
        for operation in self.operations:
            if operation.name == name:
                return operation
        raise LookupError(f"{type(self).__name__} has no operation {name!r}.")

    def has_operation_permission(self, request, operation: StaffOperation) -> bool:
        return request.user.has_perm(operation.permission)

    def operation_url(self, operation: StaffOperation, obj) -> str:
        info = self.opts.app_label, self.opts.model_name, operation.name
        return reverse("{}:{}_{}_{}".format(self.admin_site.name, *info), args=[obj.pk])

    # URLs, buttons, actions

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            *(
                path(
                    f"<path:object_id>/{operation.url_path}/",
                    self.admin_site.admin_view(self.operation_view),
                    {"operation": operation.name},
                    name="{}_{}_{}".format(*info, operation.name),
                )
                for operation in self.operations
            ),
            *super().get_urls(),
        ]

    @property
    def change_form_template(self):
        # The object's page with the operations' buttons, unless the model has its own page
        # (which then extends the shared one).
        app, model = self.opts.app_label, self.opts.model_name
        return [
            f"admin/{app}/{model}/change_form.html",
            f"admin/{app}/change_form.html",
            "admin/shop/change_form.html",
        ]

    def operation_buttons(self, request, obj) -> list[tuple[str, str]]:
        """(title, url) of the operations this user may take on `obj` now."""
        return [
            (operation.title, self.operation_url(operation, obj))
            for operation in self.operations
            if operation.button
            and not operation.on_object_page
            and self.has_operation_permission(request, operation)
            and not operation.blocked_reason(obj)
        ]

    def operation_forms(self, request, obj) -> list[tuple[StaffOperation, forms.Form, str]]:
        """(operation, form, url) of the operations whose form sits on the object's page."""
        return [
            (
                operation,
                operation.form(initial=self._initial(operation, obj), **self._form_kwargs(operation, obj)),
                self.operation_url(operation, obj),
            )
            for operation in self.operations
            if operation.on_object_page and self.has_operation_permission(request, operation)
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["operation_buttons"] = self.operation_buttons(request, obj)
            context["operation_forms"] = self.operation_forms(request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        for operation in self.operations:
            if operation.action and self.has_operation_permission(request, operation):
                actions[operation.action] = (
                    self._selection_action(operation),
                    operation.action,
                    operation.action_label or operation.title,
                )
        return actions

    def all_action_names(self) -> set[str]:
        return super().all_action_names() | {op.action for op in self.operations if op.action}

    def _selection_action(self, operation: StaffOperation):
        def action(modeladmin, request, queryset):
            return modeladmin.operation_selected(request, queryset, operation)

        action.__name__ = operation.action
        return action

    # Running

    def _rows(self, operation: StaffOperation, queryset):
        return operation.queryset(queryset) if operation.queryset else queryset

    def _initial(self, operation: StaffOperation, obj) -> dict:
        return operation.initial(obj) if operation.initial else {}

    def _form_kwargs(self, operation: StaffOperation, obj) -> dict:
        return operation.form_kwargs(obj) if operation.form_kwargs else {}

    def run_operation(self, request, operation: StaffOperation, obj, form):
        """The service for one object, and its history entry; a refusal raises ShopError."""
        details = _form_kwargs(form)
        result = operation.service(
            **{operation.object_arg or self.opts.model_name: obj}, actor=request.user, **details
        )
        self.log_change(request, obj, operation.history_message(result, details))
        return result

    def _templates(self, operation: StaffOperation, page: str) -> list[str]:
        app, model = self.opts.app_label, self.opts.model_name
        return [
            f"admin/{app}/{model}/{operation.name}_{page}.html",
            f"admin/{app}/{model}/operation_{page}.html",
            f"admin/{app}/operation_{page}.html",
            f"admin/shop/operation_{page}.html",
        ]

    def _get_operation_object(self, request, operation: StaffOperation, object_id):
        queryset = self._rows(operation, self.get_queryset(request))
        try:
            pk = self.opts.pk.to_python(unquote(object_id))
            return queryset.get(pk=pk)
        except (queryset.model.DoesNotExist, ValidationError, ValueError, TypeError):
            return None

    def operation_view(self, request, object_id, operation):
        """One object: the operation's form, then its service; back to the object's page."""
        operation = self.get_operation(operation)
        if not self.has_operation_permission(request, operation):
            raise PermissionDenied
        obj = self._get_operation_object(request, operation, object_id)
        if obj is None:
            raise Http404(f"No {self.opts.verbose_name} with the id {object_id!r}.")
        change_url = reverse(
            f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk]
        )
        data = request.POST if request.method == "POST" else None
        form = operation.form(
            data, initial=self._initial(operation, obj), **self._form_kwargs(operation, obj)
        )
        # "_edit": back from the confirmation to the form, with what was typed.
        if form.is_bound and form.is_valid() and "_edit" not in request.POST:
            if operation.confirm and request.POST.get("confirmed") != "yes":
                return self._confirmation_page(request, operation, obj, form, change_url)
            try:
                result = self.run_operation(request, operation, obj, form)
            except ShopError as error:
                messages.error(request, str(error))
            else:
                messages.success(request, operation.success_message(obj, result))
                return redirect(change_url)
        if operation.on_object_page and form.is_bound:
            for errors in form.errors.values():
                messages.error(request, " ".join(errors))
            return redirect(change_url)
        return admin_page(
            self,
            request,
            self._templates(operation, "form"),
            {
                "title": operation.title,
                "original": obj,
                "operation": operation,
                "blocked": operation.blocked_reason(obj),
                "form": form,
                "submit_label": operation.submit_label or operation.title,
                "cancel_url": change_url,
            },
        )

    def _confirmation_page(self, request, operation: StaffOperation, obj, form, change_url):
        """The operation's question, with the form's input kept in the page to post it again."""
        return admin_page(
            self,
            request,
            self._templates(operation, "confirm"),
            {
                "title": operation.title,
                "original": obj,
                "operation": operation,
                "question": operation.confirm(obj, form.cleaned_data),
                "form": form,
                "submit_label": operation.confirm_label,
                "cancel_url": change_url,
            },
        )

    def operation_selected(self, request, queryset, operation: StaffOperation):
        """A selection: one page asking what to do (once, or per object), then the service for
        each object. A refused object is reported by name and left as it was; the others go ahead."""
        objects = list(self._rows(operation, queryset))
        data = request.POST if "apply" in request.POST else None
        if operation.per_row:
            form = None
            formset = operation.row_formset(data, objects=objects, prefix="rows")
            rows = formset.rows
            valid = formset.is_bound and formset.is_valid()
        else:
            formset = None
            form = operation.form(data)
            rows = [(obj, form) for obj in objects]
            valid = form.is_bound and form.is_valid()
        if valid:
            done = 0
            for obj, row_form in rows:
                try:
                    self.run_operation(request, operation, obj, row_form)
                except ShopError as error:
                    messages.error(request, _refusal(operation.label(obj), error))
                else:
                    done += 1
            if done:
                messages.success(request, operation.success_many_message(done))
            return None
        title = operation.action_title or operation.title
        page_rows = [
            {
                "obj": obj,
                self.opts.model_name: obj,  # row.order, row.product... in a model's template
                "form": row_form if formset else None,
                "blocked": operation.blocked_reason(obj),
            }
            for obj, row_form in rows
        ]
        return admin_page(
            self,
            request,
            self._templates(operation, "selected"),
            {
                "title": f"{title}: {len(objects)} {self._name_for(len(objects))}",
                "operation": operation,
                "rows": page_rows,
                "blocked_count": sum(1 for row in page_rows if row["blocked"]),
                "formset": formset,
                "form": form,
                "objects": objects,
                "action_name": operation.action,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "submit_label": operation.submit_label or title,
                "cancel_url": request.get_full_path(),
            },
        )

    def _name_for(self, count: int) -> str:
        return str(self.opts.verbose_name if count == 1 else self.opts.verbose_name_plural)


def _refusal(label: str, error) -> str:
    """A service's refusal, naming the object it concerns (once, if the message already does)."""
    message = str(error)
    return message if label in message else f"{label}: {message}"
