"""Imports that cannot be turned against the server (shop.core.import_uploads, read_csv).

The pending upload is kept for the user and session that uploaded it, in a directory of its own,
and found only by its random id: another user's id, an unknown id, a path, a missing id are each
a 404 with a message, never a file outside the storage. Oversize and overlong files, the wrong
encoding, an unknown separator, a missing column: each a message on the upload page, nothing
imported, nothing left in the storage. Expired uploads go (on the next upload, or by
`manage.py import_uploads_clean`).
"""

import io
import json
import os
import stat
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from catalog.models import Product, ProductType, Stock, StockMovement
from shop.core import import_uploads
from shop.core.resources import ImportFileError, read_csv
from tests.admin_support import INVENTORY, admin_url, log_in, messages_of
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

COUNT = "sku,counted,note\nCUP-1,12,Aisle 4\nPLT-1,2,\n"


@pytest.fixture(autouse=True)
def storage(settings, tmp_path):
    settings.IMPORT_UPLOAD_DIR = tmp_path / "uploads"
    return settings.IMPORT_UPLOAD_DIR


@pytest.fixture
def shelf():
    return ProductFactory(name="Cups", sku="CUP-1", stock=10), ProductFactory(
        name="Plates", sku="PLT-1", stock=5
    )


def stored(storage) -> list[str]:
    return sorted(path.name for path in storage.iterdir()) if storage.exists() else []


def on_hand(*products) -> list[int]:
    return [Stock.objects.get(pk=product.pk).on_hand for product in products]


def counts():
    return StockMovement.objects.filter(reason=StockMovement.Reason.COUNT)


def upload(client, data, model=Stock, name="count.csv"):
    data = data.encode() if isinstance(data, str) else data
    return client.post(admin_url(model, "import"), {"import_file": SimpleUploadedFile(name, data)})


def upload_id(preview) -> str:
    assert preview.status_code == 200, preview.content[:500]
    assert preview.context["confirm_form"] is not None, messages_of(preview)
    return preview.context["confirm_form"].initial["upload"]


def confirm(client, value, model=Stock):
    return client.post(admin_url(model, "process_import"), {} if value is None else {"upload": value})


# The pending upload belongs to its user and session


def test_a_previewed_upload_waits_in_a_private_directory_and_goes_when_confirmed(client, shelf, storage):
    log_in(client, INVENTORY)

    pending = upload_id(upload(client, COUNT))

    assert stored(storage) == [f"{pending}.csv", f"{pending}.json"]
    assert stat.S_IMODE(storage.stat().st_mode) == 0o700
    assert stat.S_IMODE((storage / f"{pending}.csv").stat().st_mode) == 0o600
    response = confirm(client, pending)
    assert response.status_code == 302
    assert on_hand(*shelf) == [12, 2]
    assert stored(storage) == []
    # Taken once: a second confirmation (a double click) finds nothing and imports nothing more.
    again = confirm(client, pending)
    assert again.status_code == 404
    assert counts().count() == 2


def test_another_users_pending_upload_cannot_be_confirmed_and_stays_theirs(client, shelf, storage):
    log_in(client, INVENTORY)
    pending = upload_id(upload(client, COUNT))
    intruder = Client()
    log_in(intruder, INVENTORY)

    response = confirm(intruder, pending)

    assert response.status_code == 404
    assert messages_of(response)[0].startswith("This import is no longer waiting for its confirmation")
    assert on_hand(*shelf) == [10, 5]
    assert stored(storage) == [f"{pending}.csv", f"{pending}.json"]
    assert confirm(client, pending).status_code == 302
    assert on_hand(*shelf) == [12, 2]


def test_the_same_user_in_another_session_cannot_confirm_the_upload(client, shelf):
    clerk = log_in(client, INVENTORY)
    pending = upload_id(upload(client, COUNT))
    other_session = Client()
    other_session.force_login(clerk)

    assert confirm(other_session, pending).status_code == 404
    assert on_hand(*shelf) == [10, 5]


def test_an_upload_for_the_product_import_cannot_be_confirmed_as_a_stock_count(client, shelf, storage):
    log_in(client, INVENTORY)
    ProductType.objects.create(name="Kitchen")
    pending = upload_id(upload(client, "sku,price\nCUP-1,3.00\n", model=Product))

    assert confirm(client, pending, model=Stock).status_code == 404
    assert len(stored(storage)) == 2


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "0" * 32,
        "../../../../etc/passwd",
        "../outside",
        "../outside.csv",
        "/etc/passwd",
        "a" * 31 + "/",
        "%2e%2e%2foutside",
        "0" * 32 + "/../outside",
    ],
)
def test_confirming_anything_but_ones_own_pending_upload_is_a_404_with_a_message(
    client, shelf, storage, tmp_path, value
):
    log_in(client, INVENTORY)
    outside = tmp_path / "outside.csv"
    outside.write_text(COUNT)
    (tmp_path / "outside").write_text(COUNT)
    storage.mkdir()
    # A data file without its description, under a well-formed id, is no upload either.
    (storage / f"{'0' * 32}.csv").write_text(COUNT)

    response = confirm(client, value)

    assert response.status_code == 404
    assert "Upload the file again" in messages_of(response)[0]
    assert "Upload and preview" in response.content.decode()
    assert on_hand(*shelf) == [10, 5]
    assert outside.read_text() == COUNT and (tmp_path / "outside").exists()


def test_the_old_import_export_confirmation_fields_find_nothing(client, shelf, tmp_path):
    log_in(client, INVENTORY)
    planted = tmp_path / "planted.csv"
    planted.write_text(COUNT)

    response = client.post(
        admin_url(Stock, "process_import"),
        {"import_file_name": str(planted), "original_file_name": "x.csv", "format": "0", "resource": "0"},
    )

    assert response.status_code == 404
    assert planted.exists() and on_hand(*shelf) == [10, 5]


def test_a_new_upload_replaces_the_users_unconfirmed_one(client, shelf, storage):
    log_in(client, INVENTORY)
    first = upload_id(upload(client, COUNT))

    second = upload_id(upload(client, COUNT))

    assert stored(storage) == [f"{second}.csv", f"{second}.json"]
    assert confirm(client, first).status_code == 404


def test_a_refused_confirmation_leaves_nothing_in_the_storage(client, shelf, storage):
    log_in(client, INVENTORY)
    pending = upload_id(upload(client, "sku,counted\nCUP-1,1\n"))
    from tests.admin_support import place_order

    place_order(shelf[0], quantity=4)  # now 4 allocated: a count of 1 fails

    response = confirm(client, pending)

    assert response.status_code == 200
    assert messages_of(response)[0].startswith("Nothing was imported")
    assert stored(storage) == []
    assert on_hand(*shelf) == [10, 5]


# Expiry and the cleanup command


def _age(storage, upload, seconds):
    meta_path = storage / f"{upload}.json"
    meta = json.loads(meta_path.read_text())
    meta["saved_at"] -= seconds
    meta_path.write_text(json.dumps(meta))


def test_an_expired_upload_cannot_be_confirmed_and_is_deleted(client, shelf, storage, settings):
    log_in(client, INVENTORY)
    pending = upload_id(upload(client, COUNT))
    _age(storage, pending, settings.IMPORT_UPLOAD_MAX_AGE + 1)

    response = confirm(client, pending)

    assert response.status_code == 404
    assert stored(storage) == []
    assert on_hand(*shelf) == [10, 5]


def test_the_cleanup_command_deletes_expired_uploads_and_stray_files_only(client, shelf, storage, settings):
    log_in(client, INVENTORY)
    old = upload_id(upload(client, COUNT))
    other = Client()
    log_in(other, INVENTORY)
    fresh = upload_id(upload(other, COUNT))
    _age(storage, old, settings.IMPORT_UPLOAD_MAX_AGE + 1)
    stray = storage / "left-by-a-crash.taken"
    stray.write_text("x")
    past = time.time() - settings.IMPORT_UPLOAD_MAX_AGE - 10
    os.utime(stray, (past, past))

    call_command("import_uploads_clean", stdout=io.StringIO())

    assert stored(storage) == [f"{fresh}.csv", f"{fresh}.json"]
    call_command("import_uploads_clean", "--all", stdout=io.StringIO())
    assert stored(storage) == []


def test_a_new_upload_clears_the_expired_ones(client, shelf, storage, settings):
    log_in(client, INVENTORY)
    old = upload_id(upload(client, COUNT))
    _age(storage, old, settings.IMPORT_UPLOAD_MAX_AGE + 1)
    other = Client()
    log_in(other, INVENTORY)

    fresh = upload_id(upload(other, COUNT))

    assert stored(storage) == [f"{fresh}.csv", f"{fresh}.json"]


def test_the_cleanup_command_on_a_missing_directory_does_nothing(storage):
    call_command("import_uploads_clean", stdout=io.StringIO())
    assert import_uploads.uploads_clean() == 0


# Files refused before they are imported: a message, nothing imported, nothing kept


def refused(client, storage, data, model=Stock, *, name="count.csv"):
    response = upload(client, data, model=model, name=name)
    assert response.status_code == 200
    assert response.context["confirm_form"] is None
    assert stored(storage) == []
    (message,) = messages_of(response)
    return message


def test_an_oversize_file_is_refused_before_it_is_read(client, shelf, storage, settings):
    log_in(client, INVENTORY)
    settings.IMPORT_MAX_FILE_SIZE = 1024
    data = "sku,counted,note\n" + "CUP-1,12,x\n" * 200

    message = refused(client, storage, data)

    assert message.startswith("The file is more than the 1 KB one import takes.")
    assert on_hand(*shelf) == [10, 5]


def test_an_oversize_upload_is_dropped_while_it_arrives_and_never_written_whole(
    client, shelf, storage, settings, tmp_path, monkeypatch
):
    """A 3 MB file with a 64 KB limit: the handlers behind the size check never get more than the
    limit (nothing of the rest reaches the temporary folder), and the page says why."""
    from django.core.files import uploadhandler

    log_in(client, INVENTORY)
    settings.IMPORT_MAX_FILE_SIZE = 64 * 1024
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0  # straight to a temporary file, as big uploads go
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "spool")
    (tmp_path / "spool").mkdir()
    written = []
    original = uploadhandler.TemporaryFileUploadHandler.receive_data_chunk

    def counting(self, raw_data, start):
        written.append(len(raw_data))
        return original(self, raw_data, start)

    monkeypatch.setattr(uploadhandler.TemporaryFileUploadHandler, "receive_data_chunk", counting)
    data = "sku,counted,note\n" + "CUP-1,12,a note long enough to fill the file\n" * 70_000

    message = refused(client, storage, data)

    assert len(data) > 3_000_000 and sum(written) <= 64 * 1024
    assert message.startswith("The file is more than the 64 KB one import takes.")
    assert list((tmp_path / "spool").iterdir()) == []
    assert on_hand(*shelf) == [10, 5]


def test_a_file_with_too_many_rows_is_refused(client, shelf, storage, settings):
    log_in(client, INVENTORY)
    settings.IMPORT_MAX_ROWS = 3

    message = refused(client, storage, "sku,counted\nCUP-1,1\nPLT-1,2\nA,1\nB,2\n")

    assert message.startswith("The file has more than 3 rows, the most one import takes.")
    assert upload_id(upload(client, "sku,counted\nCUP-1,11\nPLT-1,2\n\n\n"))  # empty lines do not count


@pytest.mark.parametrize(
    ("data", "start"),
    [
        (
            "sku,counted,note\nCUP-1,12,Caf\xe9\n".encode("latin-1"),
            "The file is not UTF-8 text: byte 0xE9 on line 2",
        ),
        ("sku,counted\nCUP-1,12\n".encode("utf-16"), "The file is UTF-16 text"),
        (
            b"PK\x03\x04\x14\x00\x06\x00rest of a workbook",
            "This is a spreadsheet (an Excel workbook), not a CSV",
        ),
        (b"sku,counted\nCUP-1,1\x002\n", "The file has a NUL character on line 2"),
        (b"", "The file is empty."),
        (b"\n\n", "The file is empty."),
        (b"sku,counted\n", "The file has a header but no rows to import."),
        (b"sku,counted\n" + b'CUP-1,"' + b"x" * 200_000 + b'"\n', "Line 2 of the file cannot be read as CSV"),
        (b"sku,sku,counted\nCUP-1,CUP-1,3\n", "The column 'sku' is in the file twice"),
    ],
)
def test_a_file_that_cannot_be_read_is_a_message_naming_the_problem(client, shelf, storage, data, start):
    log_in(client, INVENTORY)

    message = refused(client, storage, data)

    assert message.startswith(start), message
    assert on_hand(*shelf) == [10, 5] and not counts().exists()


def test_the_wrong_encoding_message_says_to_save_as_utf8(client, shelf, storage):
    log_in(client, INVENTORY)

    message = refused(client, storage, "sku,counted,note\nCUP-1,12,Caf\xe9\n".encode("cp1252"))

    assert "Save the file as UTF-8" in message


@pytest.mark.parametrize(
    ("model", "data", "missing"),
    [
        (Stock, "sku,on_hand\nCUP-1,3\n", "'counted'"),
        (Stock, "product,counted\nCUP-1,3\n", "'sku'"),
        (Stock, "name;count\nCups;3\n", "'sku' and no 'counted'"),
        (Product, "name,price\nMug,3.00\n", "'sku'"),
    ],
)
def test_a_missing_required_column_is_named(client, shelf, storage, model, data, missing):
    log_in(client, INVENTORY)

    message = refused(client, storage, data, model=model)

    assert message.startswith(f"The file has no {missing} column."), message
    assert on_hand(*shelf) == [10, 5]


def test_a_file_with_row_errors_is_not_kept(client, shelf, storage):
    log_in(client, INVENTORY)

    response = upload(client, "sku,counted\nCUP-1,12\nNOPE,1\n")

    assert response.context["result"].errors() == {2: {"sku": ["There is no product with the SKU 'NOPE'."]}}
    assert messages_of(response)[0].startswith("Nothing can be imported: 1 of the 2 rows has an error")
    assert stored(storage) == []


def test_a_row_with_more_cells_than_the_header_is_an_error(client, shelf, storage):
    log_in(client, INVENTORY)

    response = upload(client, "sku,counted,note\nCUP-1,12,Aisle 4, left\n")

    assert list(response.context["result"].errors()[1]) == ["__all__"]
    assert stored(storage) == []


# What is read: UTF-8 with or without a byte order mark, commas, semicolons, tabs, any case


@pytest.mark.parametrize(
    "data",
    [
        b"\xef\xbb\xbfsku,counted,note\nCUP-1,12,Caf\xc3\xa9\nPLT-1,2,\n",  # Excel's "CSV UTF-8"
        "SKU;Counted;Note\r\nCUP-1;12;Café\r\nPLT-1;2;\r\n".encode(),  # a European Excel's CSV
        "sku\tcounted\tnote\ncup-1\t12\tCafé\nplt-1\t2\t\n".encode(),  # tabs, SKUs in small letters
        ' Sku ,"COUNTED", note\n CUP-1 , 12 ,Café\nPLT-1,2,\n'.encode(),  # spaces around names
        "sku;counted;note\rCUP-1;12;Café\rPLT-1;2;\r".encode(),  # old Mac line ends
    ],
    ids=["utf8-bom", "semicolons-crlf", "tabs", "spaces-and-case", "cr-only"],
)
def test_utf8_semicolons_tabs_and_headers_in_any_case_are_read(client, shelf, storage, data):
    clerk = log_in(client, INVENTORY)

    response = confirm(client, upload_id(upload(client, data)))

    assert response.status_code == 302
    assert on_hand(*shelf) == [12, 2]
    assert counts().get(product=shelf[0]).note == "Café"
    assert counts().get(product=shelf[0]).actor == clerk
    assert stored(storage) == []


def test_a_semicolon_product_price_list_is_read(client, storage):
    log_in(client, INVENTORY)
    mug = ProductFactory(sku="MUG-1", price="5.00")

    response = confirm(
        client, upload_id(upload(client, "SKU;Price\nmug-1;6.50\n", model=Product)), model=Product
    )

    assert response.status_code == 302
    mug.refresh_from_db()
    assert str(mug.price) == "6.50"


# At size: the page lists the first rows; the queries do not grow with the rows


def test_the_preview_of_a_long_file_lists_the_first_rows_and_counts_them_all(client, storage):
    log_in(client, INVENTORY)
    products = ProductFactory.create_batch(150, stock=1)
    data = "sku,counted\n" + "".join(f"{p.sku},{n % 3}\n" for n, p in enumerate(products))

    response = upload(client, data)

    html = response.content.decode()
    table = html[html.index('id="import-rows"') :]
    assert table.count("<tr") == 101  # the header and the first 100 rows
    assert response.context["result"].totals == {"new": 0, "update": 100, "skip": 50, "error": 0}
    assert "The first 100 rows" in html


def _count_file(products, counted):
    return "sku,counted,note\n" + "".join(f"{p.sku},{counted},n\n" for p in products)


def test_preview_and_import_send_the_same_queries_for_20_or_130_rows(client):
    # Statements are per batch of rows (the most a statement's parameters allow: some 140 rows for
    # the admin's history on SQLite, 500 elsewhere), not per row.
    log_in(client, INVENTORY)
    queries = {}
    for total in (20, 130):
        products = ProductFactory.create_batch(total, stock=1)
        with CaptureQueriesContext(connection) as preview_queries:
            pending = upload_id(upload(client, _count_file(products, 2)))
        with CaptureQueriesContext(connection) as import_queries:
            assert confirm(client, pending).status_code == 302
        queries[total] = (len(preview_queries), len(import_queries))
        assert set(on_hand(*products)) == {2}

    assert queries[20] == queries[130]


def test_a_count_that_matches_the_books_imports_as_all_skipped(client, shelf):
    log_in(client, INVENTORY)

    response = confirm(client, upload_id(upload(client, "sku,counted\nCUP-1,10\nPLT-1,5\n")))

    assert messages_of(response) == ["Import finished: 0 new, 0 updated, 0 deleted and 2 skipped stock."]
    assert not counts().exists()


@hypothesis_settings(max_examples=300, deadline=None)
@given(
    st.binary(max_size=300)
    | st.text(alphabet=",;\t\r\n\"'= abcSKUskucounted0123é\x00", max_size=120).map(str.encode)
)
def test_any_bytes_are_read_or_refused_with_a_message(data):
    try:
        table = read_csv(data, columns=("sku", "counted", "note"), required=("sku", "counted"), max_rows=50)
    except ImportFileError as error:
        assert str(error)
    else:
        assert {"sku", "counted"} <= set(table.headers)
        assert all(len(row) >= len(table.headers) for row in table.rows)
