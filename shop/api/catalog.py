"""GET /products and /products/{sku}: the catalog with available stock."""

from typing import Annotated

from django.db.models import F, IntegerField, Q, Value
from django.db.models.functions import Coalesce, Greatest
from ninja import Query, Router

from catalog.models import Product
from shop.api import keys, schemas
from shop.api.common import READ_ERRORS, money
from shop.api.pagination import MAX_LIMIT, page
from shop.api.problems import ApiProblem
from shop.core.validators import normalize_sku

router = Router(tags=["catalog"], auth=keys.READ_CATALOG)


def _products():
    available = Greatest(
        Coalesce(F("stock__on_hand") - F("stock__allocated"), Value(0)), Value(0), output_field=IntegerField()
    )
    return Product.objects.select_related("product_type").annotate(available_units=available)


def product_out(product) -> dict:
    return {
        "sku": product.sku,
        "name": product.name,
        "type": product.product_type.name,
        "description": product.description,
        "price": money(product.price),
        "currency": product.currency,
        "active": product.is_active,
        "available": product.available_units,
    }


@router.get(
    "",
    response={200: schemas.ProductPage, **READ_ERRORS},
    summary="List products",
    description="Products by id, `limit` at a time; filter by type and active, search by name or SKU.",
)
def list_products(
    request,
    type: Annotated[str | None, Query(max_length=100, description="A product type's name")] = None,
    active: Annotated[bool | None, Query()] = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Part of the name, or the start of the SKU")
    ] = None,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
):
    products = _products()
    if type:
        products = products.filter(product_type__name__iexact=type.strip())
    if active is not None:
        products = products.filter(is_active=active)
    if q and q.strip():
        term = q.strip()
        products = products.filter(Q(name__icontains=term) | Q(sku__startswith=normalize_sku(term)))
    rows, next_cursor = page(products, cursor=cursor, limit=limit)
    return {"items": [product_out(p) for p in rows], "next_cursor": next_cursor}


@router.get(
    "/{sku}",
    response={200: schemas.Product, **READ_ERRORS},
    summary="Get a product by SKU",
    description="The SKU in any case (`el-hub-007` finds `EL-HUB-007`).",
)
def get_product(request, sku: str):
    product = _products().filter(sku=normalize_sku(sku[:100])).first()
    if product is None:
        raise ApiProblem(404, "product_not_found", f"There is no product with the SKU {sku}.")
    return product_out(product)
