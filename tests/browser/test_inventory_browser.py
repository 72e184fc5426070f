"""Inventory staff receive stock for a low-stock product: the low-stock filter, the product's
page, "Receive stock", and the receipt on the product's ledger; the product is then not low."""

from playwright.sync_api import expect

from catalog.models import Product, Stock, StockMovement
from tests.browser.pages import (
    click_and_wait,
    column,
    expect_no_errors,
    list_filter,
    result_row,
    result_rows,
    success_messages,
)

NOTE = "PO 4711, Baker & Sons delivery"


def low_stock_list(page):
    """The product list filtered to low stock, as the list shows it: name -> (available, threshold)."""
    names = column(page, "name")
    available = [int(value) for value in column(page, "available")]
    thresholds = [int(value) for value in column(page, "low_stock_threshold")]
    return dict(zip(names, zip(available, thresholds, strict=True), strict=True))


def test_inventory_staff_receive_stock_for_a_low_stock_product(page, live_server, login, shot, demo):
    login(page, "ivy.inventory", role="Inventory staff")
    shot(page, "dashboard")
    click_and_wait(page, page.locator("#catalog-product").get_by_role("link", name="Products", exact=True))
    expect(page.get_by_role("heading", name="Select product to change")).to_be_visible()
    shot(page, "product-list")

    list_filter(page, "stock level", "Low stock")
    assert "stock_level=low" in page.url
    low = low_stock_list(page)
    # The filter's promise, read off the list: some stock available, but no more than the threshold.
    assert len(low) >= 2, low
    assert all(0 < available <= threshold for available, threshold in low.values()), low
    # The product this test restocks: a few left, so the receipt lifts it well above its threshold.
    product = (
        Product.objects.low_stock().filter(is_active=True).select_related("stock").order_by("name").first()
    )
    assert product is not None and product.name in low
    before, allocated = product.stock.on_hand, product.stock.allocated
    quantity = before + product.stock.low_stock_threshold + 10
    shot(page, "low-stock")

    click_and_wait(page, result_row(page, product.name).get_by_role("link", name=product.name, exact=True))
    expect(page.get_by_role("heading", name=product.name)).to_be_visible()
    expect(page.locator("#stock-group td.field-on_hand")).to_have_text(str(before))
    shot(page, "product-page")

    click_and_wait(page, page.locator(".object-tools").get_by_role("link", name="Receive stock"))
    expect(page.get_by_role("heading", name="Receive stock")).to_be_visible()
    expect(page.locator("#content-main")).to_contain_text(f"{before} on hand")
    page.get_by_label("Quantity").fill(str(quantity))
    page.get_by_label("Note").fill(NOTE)
    shot(page, "receive-form-filled")
    click_and_wait(page, page.get_by_role("button", name="Receive stock", exact=True))

    # Back on the product's page: the message, the new quantity and the ledger row.
    expect_no_errors(page)
    after = before + quantity
    expect(success_messages(page)).to_have_text(
        [
            f"Received stock for {product}: now {after} on hand, {allocated} allocated, "
            f"{after - allocated} available."
        ]
    )
    expect(page.get_by_role("heading", name=product.name)).to_be_visible()
    expect(page.locator("#stock-group td.field-on_hand")).to_have_text(str(after))
    ledger = page.locator(".field-recent_movements table")
    newest = ledger.locator("tbody tr").first
    expect(newest).to_contain_text(NOTE)
    when, *cells = (cell.strip() for cell in newest.locator("td").all_inner_texts())
    assert when  # the time it was received
    assert cells == ["Receipt", "", f"+{quantity}", "+0", "", "ivy.inventory", NOTE]
    shot(page, "product-page-after")

    click_and_wait(page, page.get_by_role("link", name="Whole ledger for this product"))
    expect(page.get_by_role("heading", name="Select stock movement to view")).to_be_visible()
    receipt = result_rows(page).filter(has_text=NOTE)
    expect(receipt).to_have_count(1)
    expect(receipt.locator(".field-kind")).to_have_text("Receipt")
    expect(receipt.locator(".field-on_hand_delta")).to_have_text(str(quantity))
    expect(receipt.locator(".field-actor")).to_have_text("ivy.inventory")
    shot(page, "ledger")

    # The product left the low-stock list; the others are still on it.
    click_and_wait(page, page.locator("#nav-sidebar").get_by_role("link", name="Products", exact=True))
    list_filter(page, "stock level", "Low stock")
    expect(result_rows(page)).to_have_count(len(low) - 1)
    assert set(low_stock_list(page)) == set(low) - {product.name}
    shot(page, "low-stock-after")

    stock = Stock.objects.get(pk=product.pk)
    assert (stock.on_hand, stock.allocated) == (after, allocated)
    movement = StockMovement.objects.filter(product=product).order_by("-created_at", "-id").first()
    assert (movement.kind, movement.on_hand_delta, movement.note) == (
        StockMovement.Kind.RECEIPT,
        quantity,
        NOTE,
    )
    assert movement.actor.username == "ivy.inventory"
