"""Data some staff may not see, declared once per model field; every admin list follows it.

Some pages a role may open hold data that belongs to another role: the card an order was paid
with (payment details), a customer's email address (customer details), the amount and gateway
reference of a payment in an order's history. Each app declares such fields once, with the
permission that reveals them:

    restrict(Order, ["payment_method", "payment_method_label"], PAYMENT_METHODS)
    restrict(Payment, ALL_FIELDS, PAYMENTS)          # every field of the model
    restrict(OrderEvent, ["message"], PAYMENTS, rows=Q(kind__in=...), masked_by="message_masked")

and every admin class with `RestrictedFieldsMixin` (all the shop's: `ActionPermissionMixin`, the
base of every shop admin, includes it) then, for a user the restriction hides the field from:

- leaves out the list columns and the fields of the object's page that show it (a column that
  is the field, or an `@admin.display` whose `ordering` is the field); a field restricted only on
  some rows is shown through its `masked_by` column instead, where there is one;
- leaves out the search fields that reach it, so a search cannot find rows by it; a field
  restricted on some rows only is still searched on the other rows;
- leaves out the list filters on it, and answers a filter through it in the address
  (`?payment_method_label__icontains=4242`), on the list or its export, with a 403;
- leaves it out of exports: a resource column whose attribute reaches it is not offered and not
  written (`shop.core.admin_import_export`).

A path reaches a field when following it from the admin's model goes through it:
`customer__email` from an order, `order__customer__email` from a shipment; a relation restricted
as a whole (an order's `payment_method`) covers every path through it, and a model restricted as
a whole (payments) every path into it. Declarations live next to the admin classes
(`<app>/admin.py`), so they are all made when the admin loads.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.admin import SimpleListFilter
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db.models import Case, F, Q, TextField, Value, When
from django.db.models.constants import LOOKUP_SEP

#: `restrict(model, ALL_FIELDS, ...)`: every field of the model, and every path into it.
ALL_FIELDS = "*"


@dataclass(frozen=True)
class Restriction:
    """A kind of data and the permissions that reveal it (any one of them)."""

    name: str  # "payment details": what a refusal calls it
    permissions: tuple[str, ...]

    def visible_to(self, user) -> bool:
        return any(user.has_perm(permission) for permission in self.permissions)


@dataclass(frozen=True)
class RestrictedField:
    model: type
    field: str  # a field name, or ALL_FIELDS
    restriction: Restriction
    rows: Q | None = None  # restricted only on these rows (None: on every row)
    masked_by: str = ""  # the admin display that shows the field with those rows masked

    def __str__(self) -> str:
        return f"{self.model._meta.label}.{self.field} ({self.restriction.name})"


_REGISTRY: dict[tuple[type, str], RestrictedField] = {}


def restrict(model, fields, restriction: Restriction, *, rows: Q | None = None, masked_by: str = "") -> None:
    """Declare `fields` of `model` (names, or ALL_FIELDS) as data only `restriction` reveals."""
    for name in [fields] if isinstance(fields, str) else fields:
        if name != ALL_FIELDS:
            name = model._meta.get_field(name).name  # a typo fails when the admin loads
        _REGISTRY[(model, name)] = RestrictedField(model, name, restriction, rows, masked_by)


def restricted_fields() -> list[RestrictedField]:
    """Every declaration (for the tests that walk them)."""
    return list(_REGISTRY.values())


def _concrete(model):
    return model._meta.concrete_model if model is not None else None


def path_restrictions(model, path: str) -> list[RestrictedField]:
    """The declarations a lookup path from `model` goes through ("customer__email__icontains").

    Parts that are not fields (lookups, transforms, properties such as `full_name`) end the path.
    """
    found = []
    current = _concrete(model)
    whole = _REGISTRY.get((current, ALL_FIELDS))
    if whole:
        found.append(whole)
    for part in str(path).lstrip("^=@").split(LOOKUP_SEP):
        if current is None:
            break
        if part == "pk":
            part = current._meta.pk.name
        try:
            field = current._meta.get_field(part)
        except FieldDoesNotExist:
            break
        declared = _REGISTRY.get((current, field.name))
        if declared:
            found.append(declared)
        if not field.is_relation or field.related_model is None:
            break
        current = _concrete(field.related_model)
        whole = _REGISTRY.get((current, ALL_FIELDS))
        if whole:
            found.append(whole)
    return found


def hidden_on_path(model, path: str, user) -> list[RestrictedField]:
    """The declarations on the path that hide data from `user`."""
    return [r for r in path_restrictions(model, path) if not r.restriction.visible_to(user)]


def path_of(model_admin, name) -> str | None:
    """The model path a list column or page field shows: the field itself, or the `ordering` of
    an `@admin.display` method (None when it says neither)."""
    if callable(name):
        target = name
    else:
        try:
            model_admin.model._meta.get_field(name)
        except FieldDoesNotExist:
            target = getattr(model_admin, name, None)
        else:
            return name
    ordering = getattr(target, "admin_order_field", None)
    return ordering if isinstance(ordering, str) else None


def filter_path(entry) -> str | None:
    """The model path a list_filter entry filters on (a SimpleListFilter says it as `reads`)."""
    if isinstance(entry, (list, tuple)):
        entry = entry[0]
    if isinstance(entry, str):
        return entry
    if isinstance(entry, type) and issubclass(entry, SimpleListFilter):
        return getattr(entry, "reads", None)
    return None


def resource_field_path(field) -> str | None:
    """The model path an import-export resource column reads."""
    return field.attribute or None


def _masked_search_alias(declared: RestrictedField) -> str:
    return f"_visible_{declared.field}"


class RestrictedFieldsMixin:
    """Columns, page fields, searches, filters and exports that follow the declarations above."""

    def hidden(self, request, path) -> list[RestrictedField]:
        if path is None:
            return []
        return hidden_on_path(self.model, path, request.user)

    def _shown(self, request, name) -> str | None:
        """How a column or page field is shown to this user: itself, its masked column, or None."""
        hidden = self.hidden(request, path_of(self, name))
        if not hidden:
            return name
        if all(declared.rows is not None and declared.masked_by for declared in hidden):
            return hidden[0].masked_by
        return None

    def _visible_names(self, request, names):
        shown = [self._shown(request, name) for name in names]
        return [name for name in shown if name is not None]

    def get_list_display(self, request):
        return self._visible_names(request, super().get_list_display(request))

    def get_list_display_links(self, request, list_display):
        links = super().get_list_display_links(request, list_display)
        if links is None:
            return None
        kept = [link for link in links if link in list_display]
        # Django links the first column when none is named; a hidden link leaves the first one.
        return kept or list(list_display)[:1]

    def get_fields(self, request, obj=None):
        return self._visible_names(request, super().get_fields(request, obj))

    def get_fieldsets(self, request, obj=None):
        fieldsets = []
        for name, options in super().get_fieldsets(request, obj):
            fields = []
            for field in options.get("fields", ()):
                if isinstance(field, (list, tuple)):
                    line = self._visible_names(request, field)
                    if line:
                        fields.append(line)
                elif (shown := self._shown(request, field)) is not None:
                    fields.append(shown)
            if fields:
                fieldsets.append((name, {**options, "fields": fields}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        # Masked columns are shown read-only wherever the field they stand for was.
        for declared in _REGISTRY.values():
            masked = declared.masked_by
            if (
                masked
                and declared.model is _concrete(self.model)
                and hasattr(self, masked)
                and masked not in readonly
            ):
                readonly.append(masked)
        return readonly

    def get_search_fields(self, request):
        fields = []
        for field in super().get_search_fields(request):
            hidden = self.hidden(request, field)
            if not hidden:
                fields.append(field)
                continue
            declared = hidden[0]
            prefix, name = field[: len(field) - len(field.lstrip("^=@"))], field.lstrip("^=@")
            if len(hidden) == 1 and declared.rows is not None and name == declared.field:
                # A field of this model restricted on some rows: searched on the others
                # (through the annotation get_search_results adds).
                fields.append(prefix + _masked_search_alias(declared))
        return fields

    def get_search_results(self, request, queryset, search_term):
        aliases = {}
        for declared in _REGISTRY.values():
            if (
                search_term
                and declared.rows is not None
                and declared.model is _concrete(self.model)
                and not declared.restriction.visible_to(request.user)
            ):
                aliases[_masked_search_alias(declared)] = Case(
                    When(declared.rows, then=Value("")),
                    default=F(declared.field),
                    output_field=TextField(),
                )
        if aliases:
            queryset = queryset.alias(**aliases)
        return super().get_search_results(request, queryset, search_term)

    def get_list_filter(self, request):
        return [
            entry
            for entry in super().get_list_filter(request)
            if not self.hidden(request, filter_path(entry))
        ]

    def lookup_allowed(self, lookup, value, request=None):
        if request is not None:
            hidden = self.hidden(request, lookup)
            if hidden:
                raise PermissionDenied(f"Filtering by {hidden[0].restriction.name} is not allowed.")
        return super().lookup_allowed(lookup, value, request)


_RESOURCE_CLASSES: dict[tuple[type, frozenset[str]], type] = {}


def resource_for(resource_class, user):
    """The resource class as this user may export it: without the columns that reach data the
    user may not see (the same class when there are none)."""
    model = resource_class._meta.model
    hidden = frozenset(
        name
        for name, field in resource_class.fields.items()
        if hidden_on_path(model, resource_field_path(field) or "", user)
    )
    if not hidden:
        return resource_class
    key = (resource_class, hidden)
    if key not in _RESOURCE_CLASSES:
        meta_attrs = {"model": model}
        for option in ("fields", "export_order"):
            names = getattr(resource_class._meta, option, None)
            if names is not None:
                meta_attrs[option] = tuple(name for name in names if name not in hidden)
        meta = type("Meta", (getattr(resource_class, "Meta", object),), meta_attrs)
        restricted = type(
            resource_class.__name__,
            (resource_class,),
            {"Meta": meta, "__module__": resource_class.__module__},
        )
        restricted.fields = {name: field for name, field in restricted.fields.items() if name not in hidden}
        _RESOURCE_CLASSES[key] = restricted
    return _RESOURCE_CLASSES[key]
