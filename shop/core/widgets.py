"""Form widgets that render long option lists without the template engine.

Django renders every `<option>` of a `<select>` through a template include: a country list of
about 250 entries on each address row of the customer page was most of that page's time. The
`<select>` element itself still goes through its template (attributes, ids, admin wrappers);
only the options are written in Python, with the same markup and escaping.
"""

from django import forms
from django.utils.html import conditional_escape, escape
from django.utils.safestring import mark_safe


class FastSelect(forms.Select):
    template_name = "shop/widgets/fast_select.html"

    def get_context(self, name, value, attrs):
        # forms.Widget's context (name, value, attrs), not ChoiceWidget's: its per-option dicts
        # are only needed by the per-option templates this widget replaces.
        context = forms.Widget.get_context(self, name, value, attrs)
        context["widget"]["options_html"] = self.options_html(context["widget"]["value"])
        return context

    def options_html(self, values) -> str:
        selected = {str(v) for v in values}
        found = False
        parts = []

        def option(value, label) -> str:
            nonlocal found
            key = "" if value is None else str(value)
            mark = ""
            if key in selected and (self.allow_multiple_selected or not found):
                found = True
                mark = " selected"
            return f'<option value="{escape(key)}"{mark}>{conditional_escape(label)}</option>'

        for value, label in self.choices:
            if isinstance(label, (list, tuple)):
                inner = "".join(option(v, text) for v, text in label)
                parts.append(f'<optgroup label="{conditional_escape(value)}">{inner}</optgroup>')
            else:
                parts.append(option(value, label))
        return mark_safe("".join(parts))


class FastChoicesMixin:
    """For a ModelAdmin or inline: fields with choices (such as countries) use `FastSelect`.

    Django's admin builds these fields in `formfield_for_choice_field`, which ignores
    `formfield_overrides`; radio buttons (`radio_fields`) are left as they are.
    """

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name not in self.radio_fields:
            kwargs.setdefault("widget", FastSelect)
        return super().formfield_for_choice_field(db_field, request, **kwargs)
