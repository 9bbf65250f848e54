"""Import and export in the Item admin, through django-import-export's screens."""

from __future__ import annotations

import csv
import html
import io
import re

import pytest
from django.contrib.admin.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings

from catalog.models import Item
from pgvector_admin.transfer.uploads import upload_dir
from tests.conftest import staff_client

pytestmark = pytest.mark.django_db

IMPORT_URL = "/admin/catalog/item/import/"
PROCESS_URL = "/admin/catalog/item/process_import/"
EXPORT_URL = "/admin/catalog/item/export/"
CSV_FORMAT, TSV_FORMAT, JSON_FORMAT = "0", "1", "2"

ALL_FIELDS = {f"itemresource_{name}": "on" for name in ("id", "label", "embedding")}
GOOD = b'label,embedding\nfirst,"[1,2,3]"\nsecond,"4,5,6"\nthird,7 8 9\n'


def upload(client: Client, content: bytes, *, name: str = "vectors.csv", fmt: str = CSV_FORMAT):
    return client.post(
        IMPORT_URL,
        {"format": fmt, "resource": "0", "import_file": SimpleUploadedFile(name, content)},
    )


def confirm(client: Client, preview):
    form = preview.context["confirm_form"]
    data = {name: form.initial.get(name, "") for name in form.fields}
    return client.post(PROCESS_URL, data, follow=True)


def uploads_left() -> list[str]:
    return [path.name for path in upload_dir().iterdir()]


def test_changelist_has_import_and_export_buttons_and_the_vector_form(admin_client) -> None:
    html = admin_client.get("/admin/catalog/item/").content.decode()
    assert "href='/admin/catalog/item/import/'" in html
    assert "/admin/catalog/item/export/" in html
    assert 'name="vector"' in html


def test_a_good_file_previews_without_writing_then_confirms(admin_client) -> None:
    before = set(uploads_left())
    preview = upload(admin_client, GOOD)
    assert preview.status_code == 200
    html = preview.content.decode()
    assert "3 rows checked" in html
    assert "3 new" in html
    assert "Confirm import" in html
    assert Item.objects.count() == 0
    response = confirm(admin_client, preview)
    assert response.status_code == 200
    assert "Import finished: 3 new, 0 updated items from vectors.csv" in response.content.decode()
    assert sorted(Item.objects.values_list("label", "embedding")) == [
        ("first", [1.0, 2.0, 3.0]),
        ("second", [4.0, 5.0, 6.0]),
        ("third", [7.0, 8.0, 9.0]),
    ]
    assert set(uploads_left()) == before  # the temporary file is gone
    entry = LogEntry.objects.get()
    assert "Imported 3 new and 0 updated items from vectors.csv" in entry.change_message


def test_a_bad_file_writes_nothing_and_names_each_bad_line(admin_client) -> None:
    before = set(uploads_left())
    content = (
        b"id,label,embedding\n"
        b'1,ok,"[1,2,3]"\n'
        b'2,dims,"[1,2,3,4]"\n'
        b'3,nan,"[nan,1,2]"\n'
        b'4,inf,"[1,inf,2]"\n'
        b'5,words,"[a,b,c]"\n'
        b"6,empty,\n"
        b'7,brackets,"[1,2,3"\n'
        b'8,wide,"[1,2,3]",extra\n'
        b'1,dup,"[3,2,1]"\n'
    )
    response = upload(admin_client, content)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing was imported: 8 bad lines" in html
    lines = re.findall(r'<td class="line-number">(\d+)</td><td class="errors">([^<]+)</td>', html)
    reasons = {int(line): reason for line, reason in lines}
    assert sorted(reasons) == [3, 4, 5, 6, 7, 8, 9, 10]
    assert "expected 3 dimensions, not 4" in reasons[3]
    assert "NaN" in reasons[4]
    assert "infinite" in reasons[5]
    assert "is not a number" in reasons[6]
    assert reasons[7] == "empty embedding"
    assert "Unbalanced brackets" in reasons[8]
    assert "too many columns" in reasons[9]
    assert "duplicate id 1 (first on line 2)" in reasons[10]
    assert "Confirm import" not in html
    assert Item.objects.count() == 0
    assert set(uploads_left()) == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The submitted file is empty"),
        (b"\n\n", "The file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "not UTF-8 text"),
        (b'{"embedding": [1, 2, 3]}\n', "Unknown column"),
        (b'label,vector\nx,"1,2,3"\n', "Unknown column 'vector'"),
        (b"label\nx\n", "has no 'embedding' column"),
    ],
)
def test_files_that_are_not_vector_csv_get_a_clear_message(admin_client, content, message) -> None:
    response = upload(admin_client, content)
    assert response.status_code in {200, 400}
    assert "Confirm import" not in response.content.decode()
    assert message in html.unescape(response.content.decode())
    assert Item.objects.count() == 0


def test_bom_crlf_blank_lines_and_header_case_are_fine(admin_client) -> None:
    content = (
        b'\xef\xbb\xbf ID , Label ,EMBEDDING \r\n7,a,"[1,2,3]"\r\n\r\n,b,"[3,2,1]"\r\n\r\n\r\n'
    )
    preview = upload(admin_client, content)
    assert preview.status_code == 200, preview.content.decode()[-2000:]
    confirm(admin_client, preview)
    assert sorted(Item.objects.values_list("label", flat=True)) == ["a", "b"]
    assert Item.objects.get(label="a").pk == 7
    assert Item.objects.get(label="b").pk > 7  # the id sequence moved past imported ids


def test_a_tsv_file_imports(admin_client) -> None:
    preview = upload(admin_client, b"label\tembedding\nx\t[1,2,3]\n", name="v.tsv", fmt=TSV_FORMAT)
    confirm(admin_client, preview)
    assert Item.objects.get().label == "x"


def test_rows_with_existing_ids_update_them(admin_client) -> None:
    item = Item.objects.create(embedding=[1, 1, 1], label="old")
    preview = upload(admin_client, f'id,label,embedding\n{item.pk},new,"[2,2,2]"\n'.encode())
    assert "1 updated" in preview.content.decode()
    confirm(admin_client, preview)
    item.refresh_from_db()
    assert (item.label, item.embedding) == ("new", [2.0, 2.0, 2.0])
    assert Item.objects.count() == 1


@override_settings(PGVECTOR_ADMIN={"IMPORT_MAX_BYTES": 100})
def test_an_upload_over_the_size_limit_is_refused(admin_client) -> None:
    before = set(uploads_left())
    response = upload(admin_client, b"label,embedding\n" + b'x,"[1,2,3]"\n' * 20)
    assert response.status_code == 400
    assert "larger than the import limit" in response.content.decode()
    assert Item.objects.count() == 0
    assert set(uploads_left()) == before


def test_the_confirm_step_only_reads_its_own_uploads(admin_client, tmp_path) -> None:
    for name in ["../../etc/passwd", "/etc/passwd", "0" * 31, "g" * 32]:
        response = admin_client.post(
            PROCESS_URL,
            {
                "import_file_name": name,
                "original_file_name": "x.csv",
                "format": CSV_FORMAT,
                "resource": "",
            },
            follow=True,
        )
        assert "Nothing was imported" in response.content.decode()
    assert Item.objects.count() == 0


def test_a_json_file_takes_the_librarys_path(admin_client) -> None:
    preview = upload(
        admin_client, b'[{"label": "j", "embedding": "[1,2,3]"}]', name="v.json", fmt=JSON_FORMAT
    )
    assert preview.status_code == 200
    confirm(admin_client, preview)
    assert Item.objects.get().embedding == [1.0, 2.0, 3.0]


def test_export_streams_csv_that_imports_back_unchanged(admin_client) -> None:
    Item.objects.create(embedding=[0.1, -2.5e-7, 3.4e38], label='tricky, "quoted"\nlabel')
    Item.objects.create(embedding=[1, 2, 3], label="")
    response = admin_client.post(EXPORT_URL, {"format": CSV_FORMAT, "resource": "0", **ALL_FIELDS})
    assert response.status_code == 200
    assert response.streaming
    content = b"".join(response.streaming_content)
    rows = list(csv.reader(io.StringIO(content.decode())))
    assert rows[0] == ["id", "label", "embedding"]
    before = list(Item.objects.order_by("id").values_list("id", "label", "embedding"))
    Item.objects.all().delete()
    confirm(admin_client, upload(admin_client, content))
    assert list(Item.objects.order_by("id").values_list("id", "label", "embedding")) == before


def test_export_of_selected_rows(admin_client) -> None:
    keep = Item.objects.create(embedding=[1, 2, 3], label="keep")
    Item.objects.create(embedding=[3, 2, 1], label="other")
    response = admin_client.post(
        EXPORT_URL,
        {"format": CSV_FORMAT, "resource": "0", "export_items": [str(keep.pk)], **ALL_FIELDS},
    )
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows == [["id", "label", "embedding"], [str(keep.pk), "keep", "[1,2,3]"]]


def test_import_needs_the_add_permission_and_export_the_view_permission() -> None:
    viewer = staff_client("view_item")
    assert viewer.get(IMPORT_URL).status_code == 403
    assert upload(viewer, GOOD).status_code == 403
    assert viewer.get(EXPORT_URL).status_code == 200
    assert Item.objects.count() == 0


def test_import_with_the_add_permission() -> None:
    adder = staff_client("view_item", "add_item")
    preview = upload(adder, GOOD)
    assert preview.status_code == 200
    confirm(adder, preview)
    assert Item.objects.count() == 3


def test_labels_from_a_file_are_escaped_in_the_preview(admin_client) -> None:
    preview = upload(admin_client, b'label,embedding\n<script>alert(1)</script>,"[1,2,3]"\n')
    html = preview.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_export_of_chosen_columns(admin_client) -> None:
    Item.objects.create(embedding=[1, 2, 3], label="x")
    response = admin_client.post(
        EXPORT_URL, {"format": CSV_FORMAT, "resource": "0", "itemresource_embedding": "on"}
    )
    assert b"".join(response.streaming_content).decode().splitlines() == ["embedding", '"[1,2,3]"']


@override_settings(PGVECTOR_ADMIN={"IMPORT_MAX_BYTES": 100_000})
def test_a_big_upload_is_dropped_while_it_arrives(admin_client) -> None:
    content = b"label,embedding\n" + b'x,"[1,2,3]"\n' * 1_000_000  # 12 MB
    response = upload(admin_client, content)
    assert response.status_code == 400
    assert "larger than the import limit" in response.content.decode()
    assert Item.objects.count() == 0


def test_the_size_limit_handler_stops_at_the_first_chunk_past_the_limit() -> None:
    from django.core.files.uploadhandler import SkipFile
    from django.test import RequestFactory

    from pgvector_admin.transfer.uploads import SizeLimitUploadHandler, upload_refused

    request = RequestFactory().post("/")
    handler = SizeLimitUploadHandler(request)
    handler.new_file("import_file", "v.csv", "text/csv", None)
    chunk = b"x" * 65_536
    with override_settings(PGVECTOR_ADMIN={"IMPORT_MAX_BYTES": 150_000}):
        assert handler.receive_data_chunk(chunk, 0) == chunk
        assert handler.receive_data_chunk(chunk, 65_536) == chunk
        with pytest.raises(SkipFile):
            handler.receive_data_chunk(chunk, 131_072)
    assert "larger than the import limit" in upload_refused(request)
