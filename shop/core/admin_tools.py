"""Pieces shared by the apps' admin modules: read-only admins, careful saves, one-default rules."""

from django import forms
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.models import BaseInlineFormSet
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from shop.core.admin_visibility import RestrictedFieldsMixin


class ReadOnlyAdminMixin:
    """For rows only services write (ledger, payments, history): staff may look, never touch."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInlineMixin(ReadOnlyAdminMixin):
    extra = 0
    max_num = 0
    can_delete = False


class ProtectedFirstMixin:
    """On the delete page, rows that protect the object are the reason it cannot be deleted.

    Django also counts every protected row whose model this user may not delete (orders and
    order lines can never be deleted in the admin) as a missing permission, and shows that
    instead: "your account doesn't have permission" when no account could. Nothing is deleted
    either way while something protects the object.
    """

    def get_deleted_objects(self, objs, request):
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        if protected:
            perms_needed = set()
        return deleted, model_count, perms_needed, protected


class ServiceRowAdminMixin:
    """Rows a service creates (a product's stock, an order's shipment): staff may correct the
    columns the page leaves editable, but never add or delete one, and a save writes only what
    the form changed, so it cannot overwrite what a service changed meanwhile."""

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        save_changed_fields(obj, form)


def save_changed_fields(obj, form) -> None:
    """Save only the columns the form changed (plus `auto_now` timestamps).

    Services change other columns of these rows (stock quantities, statuses) under their own
    locks; a plain `save()` would write back whatever the admin read a moment earlier.
    """
    fields = [name for name in form.changed_data if name in {f.name for f in obj._meta.concrete_fields}]
    if not fields:
        return
    fields += [f.name for f in obj._meta.concrete_fields if getattr(f, "auto_now", False)]
    obj.save(update_fields=fields)


class ChangedFieldsOnlyFormSet(BaseInlineFormSet):
    """An inline formset that updates existing rows with `save_changed_fields`."""

    def save_existing(self, form, obj, commit=True):
        if commit:
            save_changed_fields(obj, form)
        return obj


def constraint_message(model, name: str) -> str:
    """The violation message of the model's constraint `name`: the admin says what the database says."""
    for constraint in model._meta.constraints:
        if constraint.name == name:
            return constraint.get_violation_error_message()
    raise LookupError(f"{model.__name__} has no constraint {name!r}.")


# Address and PaymentMethod keep "at most one default per customer" as a UniqueConstraint over a
# GeneratedField. A ModelForm never validates it: the generated column is not a form field, so
# Django excludes the constraint, and the database's refusal would surface as a 500. These check
# the same rule before saving; the database constraint stays the backstop for races.


class OneDefaultPerCustomerForm(forms.ModelForm):
    """A model form (with a `customer` field) that refuses a second default per customer.

    `default_flags` maps each boolean flag field to the name of its UniqueConstraint.
    """

    default_flags: dict[str, str] = {}

    def clean(self):
        cleaned_data = super().clean()
        customer = cleaned_data.get("customer")
        if customer is None:
            return cleaned_data
        model = self._meta.model
        for flag, constraint in self.default_flags.items():
            if not cleaned_data.get(flag):
                continue
            others = model._default_manager.filter(customer=customer, **{flag: True})
            if self.instance.pk is not None:
                others = others.exclude(pk=self.instance.pk)
            if others.exists():
                self.add_error(flag, constraint_message(model, constraint))
        return cleaned_data


class OneDefaultPerCustomerFormSet(BaseInlineFormSet):
    """The customer page's inline: the rule applies to the rows as they will be after saving."""

    default_flags: dict[str, str] = {}

    def clean(self):
        super().clean()
        kept = [
            form
            for form in self.forms
            if getattr(form, "cleaned_data", None) and not self._should_delete_form(form)
        ]
        listed = [form.instance.pk for form in self.initial_forms if form.instance.pk is not None]
        errors = []
        for flag, constraint in self.default_flags.items():
            defaults = sum(1 for form in kept if form.cleaned_data.get(flag))
            if self.instance.pk is not None:
                # Rows of this customer that are not on the page (added meanwhile) count too.
                defaults += (
                    self.model._default_manager.filter(**{self.fk.name: self.instance, flag: True})
                    .exclude(pk__in=listed)
                    .count()
                )
            if defaults > 1:
                errors.append(constraint_message(self.model, constraint))
        if errors:
            raise ValidationError(errors)

    def _takes_default(self, form) -> bool:
        return not self._should_delete_form(form) and any(
            flag in form.changed_data and form.cleaned_data.get(flag) for flag in self.default_flags
        )

    def save_existing_objects(self, commit=True):
        # Django saves rows in page order and the database checks the rule row by row, so moving
        # a default to a row listed before the old default would fail halfway. Rows that take a
        # default are saved last; otherwise this is BaseModelFormSet.save_existing_objects.
        self.changed_objects = []
        self.deleted_objects = []
        saved_instances = []
        forms_to_delete = self.deleted_forms
        for form in sorted(self.initial_forms, key=self._takes_default):
            obj = form.instance
            if obj.pk is None:
                continue
            if form in forms_to_delete:
                self.deleted_objects.append(obj)
                self.delete_existing(obj, commit=commit)
            elif form.has_changed():
                self.changed_objects.append((obj, form.changed_data))
                saved_instances.append(self.save_existing(form, obj, commit=commit))
                if not commit:
                    self.saved_forms.append(form)
        return saved_instances


def change_link(model, pk, text) -> str:
    """A link to a row's admin change page, built from its pk alone (no query)."""
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[pk])
    return format_html('<a href="{}">{}</a>', url, text)


# Staff screens: actions and small form pages that call a service and report what it refused.


class ActionPermissionMixin(RestrictedFieldsMixin):
    """An action the user may not run is missing from the list, and posting it anyway is a 403.

    Every shop admin class uses this mixin, and so also gets `RestrictedFieldsMixin`: columns,
    searches, filters and exports that leave out what the user may not see
    (shop.core.admin_visibility).

    Django leaves such an action out of the list (`@admin.action(permissions=...)`), but a direct
    POST of its name only earns a "No action selected" redirect; a refusal should say so.
    """

    def changelist_view(self, request, extra_context=None):
        action = request.POST.get("action") if request.method == "POST" else None
        if action and action not in self.get_actions(request) and action in self.all_action_names():
            raise PermissionDenied
        return super().changelist_view(request, extra_context)

    def all_action_names(self) -> set[str]:
        """Every action of this admin, whoever may run it."""
        # _get_base_actions(): the declared actions, before the permission filter.
        return {name for _, name, _ in self._get_base_actions()}

    def action_checkbox(self, obj):
        """The row's selection box, the same markup as Django's without a template per row.

        Django renders a `CheckboxInput` through the template engine for every row: about a
        third of a 100-row list's rendering time. The markup is fixed, so it is written here.
        """
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            str(obj.pk),
            format_html(_("Select this object for an action - {}"), str(obj)),
        )


def admin_page(model_admin, request, template: str, context: dict) -> TemplateResponse:
    """Render one of a model admin's own pages (a form or confirmation) inside the admin's frame."""
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(
        request,
        template,
        {
            **model_admin.admin_site.each_context(request),
            "opts": model_admin.opts,
            "app_label": model_admin.opts.app_label,
            **context,
        },
    )


def can_open(request, model_admin, model) -> bool:
    """Whether this user may open `model`'s admin pages (so a link to them is not a dead end)."""
    site = model_admin.admin_site
    if not site.is_registered(model):
        return False
    return site.get_model_admin(model).has_view_or_change_permission(request)


class ObjectRowForm(forms.Form):
    """One row of a bulk page: the form for one selected object, which it keeps as `obj`."""

    pk = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, obj=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.obj = obj
        for field in self.fields.values():
            # A row has no room for help under each input: it becomes the input's tooltip.
            if field.help_text:
                field.widget.attrs.setdefault("title", field.help_text)
                field.help_text = ""


class ObjectRowsFormSet(forms.BaseFormSet):
    """One `ObjectRowForm` per selected object, in the order of `objects`.

    Each row posts back its object's pk, so answers never land on another object if the
    selection changed between showing the page and submitting it.
    """

    def __init__(self, *args, objects, **kwargs):
        self.objects = list(objects)
        kwargs.setdefault("initial", [{"pk": obj.pk} for obj in self.objects])
        super().__init__(*args, **kwargs)

    def total_form_count(self):
        return len(self.objects)

    def get_form_kwargs(self, index):
        kwargs = super().get_form_kwargs(index)
        if index is not None:
            kwargs["obj"] = self.objects[index]
        return kwargs

    def _construct_form(self, i, **kwargs):
        # Every row offers the same choices (carriers, reasons from a table...): read once for
        # the page, not once per row.
        form = super()._construct_form(i, **kwargs)
        shared = self.__dict__.setdefault("_shared_choices", {})
        for name, field in form.fields.items():
            if isinstance(field, forms.ModelChoiceField):
                if name not in shared:
                    shared[name] = list(field.choices)
                field.choices = shared[name]
        return form

    def clean(self):
        super().clean()
        posted = [form.cleaned_data.get("pk") for form in self.forms if hasattr(form, "cleaned_data")]
        if posted != [obj.pk for obj in self.objects]:
            raise ValidationError(
                "The selection changed since this page was shown. Go back to the list and select again."
            )

    @property
    def rows(self):
        """(object, form) pairs, in page order."""
        return list(zip(self.objects, self.forms, strict=True))


def log_message(title: str, details: dict) -> str:
    """The admin history line for a step taken through a service: what, and with which input."""
    shown = ", ".join(
        f"{key.replace('_', ' ')}: {value}" for key, value in details.items() if value not in ("", None)
    )
    return f"{title} ({shown})" if shown else title
