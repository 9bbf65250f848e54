"""Imports and exports for any model (tests/vector_models): the model's own columns,
each value checked by its field, all or nothing, through the command and through the
admin's import and export screens."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client

from catalog.models import Digit
from catalog.samples import load_digits
from pgvector_admin.transfer.services import import_vectors
from tests.vector_data import MODELS_WITH_DATA, admin_url
from tests.vector_models.models import (
    BitDocument,
    Collection,
    HalfDocument,
    Passage,
    SparseDocument,
    Untyped,
)

pytestmark = pytest.mark.django_db

EVERY_MODEL = MODELS_WITH_DATA
CSV_FORMAT = "0"


def export_to(path: Path, model: type) -> bytes:
    call_command("export_vectors", str(path), "--model", model._meta.label, stderr=io.StringIO())
    return path.read_bytes()


def import_from(path: Path, model: type, *args: str) -> str:
    out = io.StringIO()
    call_command(
        "import_vectors", str(path), "--model", model._meta.label, *args, stdout=out,
        stderr=io.StringIO(),
    )  # fmt: skip
    return out.getvalue()


def passage_file(tmp_path: Path, *lines: str, header: str = "") -> Path:
    papers = Collection.objects.get_or_create(name="papers")[0]
    header = header or "collection,kind,position,published,metadata,code,embedding"
    vector = "[" + ",".join(["0.5"] * 768) + "]"
    body = "\n".join(line.format(c=papers.pk, v=f'"{vector}"') for line in lines)
    path = tmp_path / "passages.csv"
    path.write_text(f"{header}\n{body}\n")
    return path


def index_names(table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [table])
        return {name for (name,) in cursor.fetchall()}


@pytest.mark.parametrize(("model", "fixture"), EVERY_MODEL)
def test_export_then_import_gives_back_every_row_exactly(
    request: pytest.FixtureRequest, tmp_path: Path, model: type, fixture: str
) -> None:
    request.getfixturevalue(fixture)
    count = model.objects.count()
    before = export_to(tmp_path / "before.csv", model)
    model.objects.all().delete()
    out = import_from(tmp_path / "before.csv", model)
    assert f"Imported {count:,} rows ({count:,} new, 0 updated)" in out
    assert export_to(tmp_path / "after.csv", model) == before


def test_the_digits_round_trip_through_their_export(tmp_path: Path) -> None:
    load_digits()
    before = export_to(tmp_path / "digits.csv", Digit)
    out = import_from(tmp_path / "digits.csv", Digit, "--replace")
    assert "Imported 1,797 rows (1,797 new, 0 updated)" in out
    assert export_to(tmp_path / "again.csv", Digit) == before


@pytest.mark.parametrize(("model", "fixture"), EVERY_MODEL)
def test_a_second_import_of_the_same_file_updates_every_row(
    request: pytest.FixtureRequest, tmp_path: Path, model: type, fixture: str
) -> None:
    request.getfixturevalue(fixture)
    count = model.objects.count()
    export_to(tmp_path / "rows.csv", model)
    out = import_from(tmp_path / "rows.csv", model, "--strategy", "live")
    assert f"({0:,} new, {count:,} updated)" in out
    assert model.objects.count() == count


def test_replace_rebuilds_every_declared_index_expression_and_partial_ones_too(
    tmp_path: Path, passages
) -> None:
    export_to(tmp_path / "rows.csv", Passage)
    out = import_from(tmp_path / "rows.csv", Passage, "--replace")
    assert "loaded without the vector indexes, then the indexes rebuilt" in out
    assert {"passage_half_cosine", "passage_bits_hamming", "passage_abstract_l2"} <= index_names(
        Passage._meta.db_table
    )


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("{c},essay,1,,{{}},,{v}", "kind: Value 'essay' is not a valid choice."),
        ("{c},body,-1,,{{}},,{v}", "position: Ensure this value is greater than or equal to 0."),
        ("{c},body,x,,{{}},,{v}", "position: “x” value must be an integer."),
        ("{c},body,1,maybe,{{}},,{v}", "published: “maybe” value must be either True, False,"),
        ("{c},body,1,,{{oops,,{v}", "metadata: not valid JSON"),
        ("{c},body,1,,{{}},ABCDEFGHIJKLMN,{v}", "code: Ensure this value has at most 12 char"),
        ("{c},,1,,{{}},,{v}", "kind: this field cannot be empty"),
        ('{c},body,1,,{{}},,"[1,2,3]"', "embedding: expected 768 dimensions, not 3"),
        ("99999,body,1,,{{}},,{v}", "collection: there is no collection with id 99999"),
        ("abc,body,1,,{{}},,{v}", "collection: “abc” value must be an integer."),
    ],
)
def test_each_value_is_checked_by_its_field_and_nothing_is_written(
    tmp_path: Path, line: str, reason: str
) -> None:
    path = passage_file(tmp_path, "{c},body,0,true,{{}},OK,{v}", line)
    with pytest.raises(CommandError, match="1 bad line"):
        import_from(path, Passage)
    assert Passage.objects.count() == 0
    with open(path, "rb") as stream:
        report = import_vectors(stream, model=Passage, dry_run=True)
    [bad] = report.errors
    assert bad.line == 3
    assert reason in bad.reason


def test_good_values_of_every_kind_are_stored_as_their_fields_read_them(tmp_path: Path) -> None:
    path = passage_file(
        tmp_path,
        '{c},abstract,3,true,"{{""a"": [1, 2]}}",A1,{v}',
        "{c},body,4,,,,{v}",
        "{c},body,,f,[],,{v}",
    )
    assert "3 new" in import_from(path, Passage)
    rows = list(
        Passage.objects.order_by("id").values_list(
            "kind", "position", "published", "metadata", "code"
        )
    )
    # An empty cell: NULL where the field allows it, else the field's default.
    assert rows == [
        ("abstract", 3, True, {"a": [1, 2]}, "A1"),
        ("body", 4, None, {}, None),
        ("body", 0, False, [], None),
    ]


def test_unique_values_repeated_in_the_file_are_named_by_line(tmp_path: Path) -> None:
    path = passage_file(
        tmp_path, "{c},body,0,,{{}},X,{v}", "{c},body,1,,{{}},Y,{v}", "{c},body,2,,{{}},X,{v}"
    )
    with pytest.raises(CommandError, match="1 bad line"):
        import_from(path, Passage)


def test_a_unique_value_already_in_the_table_writes_nothing_and_says_why(
    tmp_path: Path, passages
) -> None:
    count = Passage.objects.count()
    path = passage_file(tmp_path, "{c},body,0,,{{}},NEW1,{v}", "{c},body,1,,{{}},P0000,{v}")
    with pytest.raises(CommandError, match=r"PostgreSQL refused the rows(.|\n)*code"):
        import_from(path, Passage, "--strategy", "live")
    assert Passage.objects.count() == count


def test_a_file_of_some_columns_updates_only_those(tmp_path: Path, passages) -> None:
    target = passages[5]
    before = Passage.objects.values("collection", "kind", "metadata", "code").get(pk=target.pk)
    path = tmp_path / "positions.csv"
    path.write_text(f"id,position\n{target.pk},777\n")
    assert "(0 new, 1 updated)" in import_from(path, Passage)
    after = Passage.objects.get(pk=target.pk)
    assert after.position == 777
    assert Passage.objects.values("collection", "kind", "metadata", "code").get(pk=target.pk) == (
        before
    )
    assert list(after.embedding) == pytest.approx(list(target.embedding), rel=1e-6)


def test_new_rows_in_a_file_of_some_columns_are_named(tmp_path: Path, passages) -> None:
    path = tmp_path / "positions.csv"
    path.write_text(f"id,position\n{passages[0].pk},1\n999999,2\n,3\n")
    with open(path, "rb") as stream:
        report = import_vectors(stream, model=Passage, dry_run=True)
    assert [(bad.line, bad.reason) for bad in report.errors] == [
        (line, "a new row needs 'collection', 'kind' and 'embedding', and the file has none")
        for line in (3, 4)
    ]


def test_a_file_without_the_key_must_have_every_column_new_rows_need(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("kind,position\nbody,1\n")
    with pytest.raises(CommandError, match="The header has no 'collection' and 'embedding'"):
        import_from(path, Passage)


def test_a_column_without_a_declared_length_keeps_one_length(tmp_path: Path, untyped) -> None:
    path = tmp_path / "u.csv"
    path.write_text('name,embedding\na,"[1,2,3,4,5]"\nb,"[1,2,3]"\n')
    with open(path, "rb") as stream:
        report = import_vectors(stream, model=Untyped, dry_run=True)
    [bad] = report.errors
    assert (bad.line, bad.reason) == (
        3,
        "embedding: expected 5 dimensions, not 3: this column's vectors have 5 numbers.",
    )
    Untyped.objects.all().delete()
    path.write_text('name,embedding\na,"[1,2]"\nb,"[1,2,3]"\n')
    with open(path, "rb") as stream:
        report = import_vectors(stream, model=Untyped, dry_run=True)
    assert [bad.line for bad in report.errors] == [3]  # the first row fixed the length


@pytest.mark.parametrize(
    ("model", "text"),
    [
        (SparseDocument, 'title,embedding\nx,"{1:0.5,30000:2}/30000"\n'),
        (BitDocument, "title,embedding\nx," + "01" * 512 + "\n"),
        (HalfDocument, 'title,embedding\nx,"' + ",".join(["0.25"] * 1536) + '"\n'),
    ],
)
def test_each_type_reads_its_own_text(tmp_path: Path, model: type, text: str) -> None:
    path = tmp_path / "one.csv"
    path.write_text(text)
    assert "1 new" in import_from(path, model)
    assert model.objects.count() == 1


@pytest.mark.parametrize(
    ("model", "text", "reason"),
    [
        (SparseDocument, "title,embedding\nx,{1:0.5}/10\n", "expected 30000 dimensions, not 10"),
        (BitDocument, "title,embedding\nx,0102\n", "Character 4 ('2') is not 0 or 1"),
        (
            HalfDocument,
            'title,embedding\nx,"1e6,' + ",".join(["0"] * 1535) + '"\n',
            "out of range for halfvec",
        ),
    ],
)
def test_each_type_refuses_bad_text_by_line(
    tmp_path: Path, model: type, text: str, reason: str
) -> None:
    path = tmp_path / "one.csv"
    path.write_text(text)
    with open(path, "rb") as stream:
        report = import_vectors(stream, model=model, dry_run=True)
    [bad] = report.errors
    assert bad.line == 2
    assert reason in bad.reason


def test_import_vectors_names_a_bad_model_clearly(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("title\nx\n")
    with pytest.raises(CommandError, match=r"No model 'nope\.Nothing'"):
        call_command("import_vectors", str(path), "--model", "nope.Nothing")
    with pytest.raises(CommandError, match=r"auth\.User has no pgvector field"):
        call_command("import_vectors", str(path), "--model", "auth.User")


# The admin's screens, on every model -------------------------------------------------


@pytest.mark.parametrize(("model", "fixture"), EVERY_MODEL)
def test_the_admin_exports_then_imports_every_model(
    admin_client: Client, request: pytest.FixtureRequest, model: type, fixture: str
) -> None:
    request.getfixturevalue(fixture)
    count = model.objects.count()
    fields = [f.name for f in model._meta.concrete_fields]
    prefix = f"{model.__name__.lower()}resource_"
    export = admin_client.post(
        admin_url(model, "export"),
        {"format": CSV_FORMAT, "resource": "0", **{prefix + name: "on" for name in fields}},
    )
    if count > 100:
        # More than a page of rows: written by the task queue (run at once in the tests),
        # then downloaded from the task's page.
        assert export.status_code == 302
        task_page = admin_client.get(export["Location"]).content.decode()
        assert f"Export ready: {count:,} rows" in task_page
        export = admin_client.get(export["Location"].replace("/change/", "/download/"))
    assert export.status_code == 200
    content = b"".join(export.streaming_content)
    assert len(list(csv.reader(io.StringIO(content.decode())))) == count + 1
    model.objects.all().delete()
    preview = admin_client.post(
        admin_url(model, "import"),
        {
            "format": CSV_FORMAT,
            "resource": "0",
            "import_file": SimpleUploadedFile("rows.csv", content),
        },
    )
    assert preview.status_code == 200, preview.content.decode()[:3000]
    assert f"{count:,} rows checked" in preview.content.decode()
    form = preview.context["confirm_form"]
    confirm = admin_client.post(
        admin_url(model, "process_import"),
        {name: form.initial.get(name, "") for name in form.fields},
        follow=True,
    )
    assert f"Import finished: {count:,} new, 0 updated" in confirm.content.decode()
    assert model.objects.count() == count


def test_the_import_page_says_which_columns_the_model_takes(admin_client: Client) -> None:
    page = admin_client.get(admin_url(Passage, "import")).content.decode()
    for text in (
        "<code>collection</code>",
        "the id of a collection; required for new rows",
        "one of abstract, body; required for new rows",
        "vector, 768 dimensions; required for new rows",
        "manage.py import_vectors FILE --model vector_models.Passage",
    ):
        assert text in page
    page = admin_client.get(admin_url(BitDocument, "import")).content.decode()
    assert "bit, 1,024 bits" in page


def test_a_bad_line_in_the_admin_is_named_and_nothing_is_written(admin_client: Client) -> None:
    papers = Collection.objects.create(name="papers")
    vector = ",".join(["0.5"] * 768)
    content = (
        f'collection,kind,embedding\n{papers.pk},body,"[{vector}]"\n424242,body,"[{vector}]"\n'
    )
    preview = admin_client.post(
        admin_url(Passage, "import"),
        {
            "format": CSV_FORMAT,
            "resource": "0",
            "import_file": SimpleUploadedFile("p.csv", content.encode()),
        },
    )
    text = preview.content.decode()
    assert preview.status_code == 400
    assert "Nothing was imported: 1 bad line" in text
    assert "collection: there is no collection with id 424242" in text
    assert Passage.objects.count() == 0
