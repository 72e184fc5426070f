"""What a person sees and clicks in Django's admin, for the browser tests.

Selectors are the admin's own: `#changelist-form`, `#result_list`, `select[name=action]`,
`button[name=index]` ("Go"), `ul.messagelist`, `.field-<name>` on list cells and form rows.
Every click that loads a page waits for that page.
"""

from playwright.sync_api import Locator, Page, expect


def click_and_wait(page: Page, target: Locator) -> None:
    """Click a link or a submit button and wait until the page it leads to has loaded."""
    with page.expect_navigation():
        target.click()


def app_names(page: Page) -> list[str]:
    """The application captions of the index page's app list ("Catalog", "Orders"...), as written
    rather than as shown (CSS shows them in capitals)."""
    return [name.strip() for name in page.locator("#content-main .module caption").all_text_contents()]


def model_names(page: Page) -> list[str]:
    """The model rows of the index page's app list ("Products", "Stock movements"...)."""
    return [name.strip() for name in page.locator("#content-main th[scope=row]").all_text_contents()]


def sidebar_app_names(page: Page) -> list[str]:
    """The applications of the navigation sidebar on every page but the index."""
    return [name.strip() for name in page.locator("#nav-sidebar .module caption").all_text_contents()]


def result_rows(page: Page) -> Locator:
    return page.locator("#changelist-form #result_list tbody tr")


def result_row(page: Page, link_text: str) -> Locator:
    """The list row whose link (the object's first column) reads `link_text`."""
    return result_rows(page).filter(has=page.get_by_role("link", name=link_text, exact=True))


def column(page: Page, name: str) -> list[str]:
    """The cells of one list column (`list_display` name), top to bottom."""
    return [cell.strip() for cell in result_rows(page).locator(f".field-{name}").all_inner_texts()]


def run_action(page: Page, label: str) -> None:
    """Choose an action in the list's action bar and press "Go"."""
    page.locator("#changelist-form select[name=action]").select_option(label=label)
    click_and_wait(page, page.locator("#changelist-form button[name=index]"))


def list_filter(page: Page, title: str, choice: str) -> None:
    """Click `choice` under "By <title>" in the list's filter sidebar."""
    group = page.locator("#changelist-filter details").filter(
        has=page.locator("summary", has_text=f"By {title}")
    )
    click_and_wait(page, group.get_by_role("link", name=choice, exact=True))


def readonly(page: Page, field: str) -> Locator:
    """A read-only field's value on a change page."""
    return page.locator(f"#content-main fieldset .field-{field} .readonly")


def timeline_row(page: Page, kind: str) -> Locator:
    """The order page's timeline row(s) of one kind ("Shipped", "Cancelled", "Refunded"...)."""
    return page.locator("#events-group tbody tr").filter(
        has=page.locator("td.field-kind").get_by_text(kind, exact=True)
    )


def success_messages(page: Page) -> Locator:
    return page.locator("ul.messagelist li.success")


def error_messages(page: Page) -> Locator:
    return page.locator("ul.messagelist li.error, .errornote, .errorlist")


def expect_no_errors(page: Page) -> None:
    expect(error_messages(page)).to_have_count(0)
