"""The import_vectors and export_vectors management commands."""

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from catalog.models import Item

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def write(tmp_path: Path, content: str, name: str = "v.csv") -> str:
    path = tmp_path / name
    path.write_text(content)
    return str(path)


def test_import_a_good_file_with_a_summary_and_progress(tmp_path) -> None:
    body = "".join(f'r{i},"[{i + 1},1,1]"\n' for i in range(1200))
    out, err = run(
        "import_vectors", "--model", "catalog.Item", write(tmp_path, "label,embedding\n" + body)
    )
    assert "Imported 1,200 rows (1,200 new, 0 updated) in" in out
    assert "rows/s" in out
    assert "validate: " in err
    assert "100.0% load: 1,200 of 1,200" in err
    assert Item.objects.count() == 1200


def test_a_bad_file_exits_non_zero_names_lines_and_writes_nothing(tmp_path) -> None:
    path = write(tmp_path, 'label,embedding\na,"[1,2,3]"\nb,"[1,2]"\nc,"[nan,1,1]"\n')
    err = io.StringIO()
    with pytest.raises(CommandError, match="Nothing was imported: 2 bad lines"):
        call_command(
            "import_vectors", "--model", "catalog.Item", path, stdout=io.StringIO(), stderr=err
        )
    assert "line 3: embedding: expected 3 dimensions, not 2" in err.getvalue()
    assert "line 4: embedding: Value 1 is NaN" in err.getvalue()
    assert Item.objects.count() == 0


def test_a_missing_file_is_a_clear_error() -> None:
    with pytest.raises(CommandError, match="No such file"):
        run("import_vectors", "--model", "catalog.Item", "/no/such/file.csv")


def test_a_file_that_is_not_csv(tmp_path) -> None:
    path = tmp_path / "image.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00")
    with pytest.raises(CommandError, match="not UTF-8 text"):
        run("import_vectors", "--model", "catalog.Item", str(path))


def test_replace_empties_the_table_and_rebuilds_the_index(tmp_path) -> None:
    Item.objects.create(embedding=[9, 9, 9], label="old")
    out, _ = run(
        "import_vectors",
        "--model",
        "catalog.Item",
        write(tmp_path, 'label,embedding\nnew,"[1,2,3]"\n'),
        "--replace",
    )
    assert "indexes rebuilt" in out
    assert list(Item.objects.values_list("label", flat=True)) == ["new"]


def test_check_validates_without_writing(tmp_path) -> None:
    out, _ = run(
        "import_vectors",
        "--model",
        "catalog.Item",
        write(tmp_path, 'label,embedding\na,"[1,2,3]"\n'),
        "--check",
    )
    assert "1 rows are valid" in out
    assert Item.objects.count() == 0


def test_tsv_by_file_name(tmp_path) -> None:
    run(
        "import_vectors",
        "--model",
        "catalog.Item",
        write(tmp_path, "label\tembedding\nx\t[1,2,3]\n", name="v.tsv"),
    )
    assert Item.objects.get().label == "x"


def test_export_then_import_round_trips(tmp_path) -> None:
    Item.objects.create(embedding=[0.1, 0.2, 0.3], label="a, b")
    Item.objects.create(embedding=[1e-20, -5, 3e38], label="")
    before = list(Item.objects.order_by("id").values_list("id", "label", "embedding"))
    target = tmp_path / "out.csv"
    _, err = run("export_vectors", "--model", "catalog.Item", str(target))
    assert "Wrote" in err
    Item.objects.all().delete()
    run("import_vectors", "--model", "catalog.Item", str(target))
    assert list(Item.objects.order_by("id").values_list("id", "label", "embedding")) == before
