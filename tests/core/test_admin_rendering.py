"""The admin's faster rendering writes the same markup as Django's own widgets."""

import pytest
from django import forms
from django.contrib import admin
from django.test.html import parse_html

from orders.models import Order
from shop.core.widgets import FastSelect
from tests.factories import OrderFactory

CHOICES = [
    ("", "---------"),
    ("US", "United States"),
    ("FR", "France & <Overseas>"),
    ("Islands", [("AX", "Åland Islands"), ("FO", 'Faroe "Islands"')]),
    ("DE", "Germany"),
]


@pytest.mark.parametrize("value", ["", "US", "FR", "FO", None, "XX"])
def test_fast_select_renders_what_django_select_renders(value):
    attrs = {"id": "id_country", "class": "wide"}

    django_html = forms.Select(choices=CHOICES).render("country", value, attrs)
    fast_html = FastSelect(choices=CHOICES).render("country", value, attrs)

    assert parse_html(fast_html) == parse_html(django_html)


def test_fast_select_marks_only_the_first_of_repeated_values_selected():
    choices = [("US", "United States"), ("US", "USA (again)")]

    html = FastSelect(choices=choices).render("country", "US", {})

    assert html.count("selected") == 1


@pytest.mark.django_db
def test_row_selection_box_is_the_markup_django_renders():
    order = OrderFactory()
    model_admin = admin.site._registry[Order]

    ours = model_admin.action_checkbox(order)
    djangos = admin.ModelAdmin.action_checkbox(model_admin, order)

    assert parse_html(ours) == parse_html(djangos)
