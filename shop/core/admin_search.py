"""Admin searches whose cost does not grow with the tables: every admin class's default.

Django's admin search ORs `field ILIKE '%word%'` over every search field, joined through every
relation a field names, which reads whole tables (and, across a many-valued relation, sorts them
for DISTINCT). Here:

- A term that is a whole value of a unique field (an order number, a SKU, an email, a payment
  reference) finds that row through the field's index, and nothing else is asked.
- Otherwise each word is looked for in each field separately: a field of the listed model as a
  condition on it, a field across a relation by finding the related rows first (through the
  field's trigram index on PostgreSQL, see `shop.core.admin_indexes`) and listing at most
  SEARCH_BOUND of their keys, then the rows that point to them. The conditions are ORed, so each
  is an index lookup and the list never joins a whole table. No relation is joined, so a row is
  never listed twice.

Prefixes keep Django's meaning: `^name` starts with, `=name` is the whole value (case
ignored), `@name` is treated as a plain search.
"""

from functools import reduce
from operator import and_, or_

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import Q, QuerySet
from django.utils.text import smart_split, unescape_string_literal

# Related rows a word may match through one relation; the newest are kept beyond that.
SEARCH_BOUND = 1000
_LOOKUPS = {"^": "istartswith", "=": "iexact", "@": "icontains"}


def lookup_path(model, path: str):
    """(relation fields from `model` to the last model, the last model's field) of a lookup path."""
    relations = []
    for part in path.split("__")[:-1]:
        field = model._meta.get_field(part)
        if not field.is_relation or field.many_to_many:
            raise FieldDoesNotExist(path)
        relations.append(field)
        model = field.related_model
    return relations, model._meta.get_field(path.split("__")[-1])


def _condition(model, paths, value) -> Q:
    """`path__lookup=value` for any of `paths` ((path, lookup) pairs through the same relations),
    as a condition on `model`'s own columns: the relations are resolved into key lists, from
    the far end back to `model`, one statement per relation whatever the number of fields."""
    try:
        steps = [lookup_path(model, path) for path, _ in paths]
    except FieldDoesNotExist:  # a many-to-many or unknown path: Django's own join
        return reduce(or_, (Q(**{f"{path}__{lookup}": value}) for path, lookup in paths))
    relations = steps[0][0]
    condition = reduce(
        or_,
        (
            Q(**{f"{field.name}__{lookup}": value})
            for (_, field), (_, lookup) in zip(steps, paths, strict=True)
        ),
    )
    for relation in reversed(relations):
        # Unordered: the first SEARCH_BOUND the index finds (an order would walk the whole key
        # index to sort them when many match).
        related = relation.related_model._default_manager.filter(condition).order_by()
        if relation.concrete:  # a foreign key of this model: the related rows' keys
            keys = list(related.values_list("pk", flat=True)[:SEARCH_BOUND])
            condition = Q(**{f"{relation.attname}__in": keys})
        else:  # rows pointing here (an order's shipments): their foreign key values
            keys = list(related.values_list(relation.field.attname, flat=True)[:SEARCH_BOUND])
            condition = Q(pk__in=keys)
    return condition


def _by_relation(paths) -> list[list[tuple[str, str]]]:
    """(path, lookup) pairs grouped by the relations they go through, in declaration order."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for path, lookup in paths:
        groups.setdefault(path.rpartition("__")[0], []).append((path, lookup))
    return list(groups.values())


def _is_unique(model, path: str) -> bool:
    try:
        _, field = lookup_path(model, path)
    except FieldDoesNotExist:
        return False
    return bool(field.unique or field.primary_key) and not field.is_relation


def _valid_for(model, path: str, value) -> bool:
    """Whether `value` can be compared with the field at all (no text in an integer column)."""
    try:
        _, field = lookup_path(model, path)
        field.to_python(value)
    except (FieldDoesNotExist, ValidationError, TypeError, ValueError):
        return False
    return True


def indexed_search(queryset: QuerySet, term: str, search_fields) -> QuerySet:
    """`queryset` narrowed to what `term` finds in `search_fields` (the admin's declarations)."""
    term = term.strip()
    if not term or not search_fields:
        return queryset
    model = queryset.model
    fields = [(name.lstrip("^=@"), _LOOKUPS.get(name[0], "icontains")) for name in search_fields]
    exact = [
        (path, "exact") for path, _ in fields if _is_unique(model, path) and _valid_for(model, path, term)
    ]
    if exact:
        found = queryset.filter(
            reduce(or_, (_condition(model, group, term) for group in _by_relation(exact)))
        )
        if found.exists():
            return found
    words = []
    for bit in smart_split(term):
        if bit.startswith(('"', "'")) and bit[0] == bit[-1]:
            bit = unescape_string_literal(bit)
        words.append(bit)
    conditions = []
    for word in words:
        usable = [
            (path, lookup) for path, lookup in fields if lookup != "iexact" or _valid_for(model, path, word)
        ]
        each = [_condition(model, group, word) for group in _by_relation(usable)]
        conditions.append(reduce(or_, each) if each else Q(pk__in=[]))
    return queryset.filter(reduce(and_, conditions))
