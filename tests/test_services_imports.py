import io
import tracemalloc

import pytest
from django.db import connection

from catalog.models import INDEX_NAME, Item
from pgvector_admin.transfer.services import (
    choose_strategy,
    ensure_vector_indexes,
    export_vectors,
    import_vectors,
)

pytestmark = pytest.mark.django_db


def csv_file(*lines: str, header: str = "id,label,embedding") -> io.BytesIO:
    return io.BytesIO(("\n".join([header, *lines]) + "\n").encode())


def generated(count: int, *, start: int = 0) -> io.BytesIO:
    body = "".join(f'r{i},"[{i % 7 + 1}.5,{i % 5}.25,-1]"\n' for i in range(start, start + count))
    return io.BytesIO(("label,embedding\n" + body).encode())


def index_exists() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [INDEX_NAME])
        return cursor.fetchone() is not None


def test_a_dry_run_checks_everything_and_writes_nothing() -> None:
    report = import_vectors(csv_file(',a,"[1,2,3]"', ',b,"[3,2,1]"'), model=Item, dry_run=True)
    assert report.ok
    assert (report.rows, report.new, report.updated, report.written) == (2, 2, 0, False)
    assert Item.objects.count() == 0


@pytest.mark.parametrize("strategy", ["live", "rebuild"])
def test_both_strategies_load_the_same_rows_and_leave_the_index(strategy: str) -> None:
    report = import_vectors(generated(500), model=Item, dry_run=False, strategy=strategy)
    assert report.written
    assert report.strategy == strategy
    assert Item.objects.count() == 500
    assert Item.objects.get(label="r8").embedding == [2.5, 3.25, -1.0]
    assert index_exists()


def test_any_bad_line_and_nothing_is_written() -> None:
    Item.objects.create(embedding=[1, 1, 1], label="before")
    report = import_vectors(
        csv_file(',a,"[1,2,3]"', ',b,"[1,2]"', ',c,"[1,2,3]"', ',d,"[x,1,1]"'),
        dry_run=False,
        model=Item,
    )
    assert not report.ok
    assert not report.written
    assert [(bad.line, bad.reason.split(":")[0]) for bad in report.errors] == [
        (3, "embedding"),
        (5, "embedding"),
    ]
    assert list(Item.objects.values_list("label", flat=True)) == ["before"]


def test_duplicate_ids_are_named_by_line() -> None:
    report = import_vectors(
        csv_file('7,a,"[1,2,3]"', '8,b,"[1,2,3]"', '7,c,"[1,2,3]"', '7,d,"[1,2,3]"'),
        dry_run=True,
        model=Item,
    )
    assert [(bad.line, bad.reason) for bad in report.errors] == [
        (4, "duplicate id 7 (first on line 2)"),
        (5, "duplicate id 7 (first on line 2)"),
    ]


def test_rows_with_ids_upsert_and_the_sequence_moves_past_them() -> None:
    existing = Item.objects.create(embedding=[1, 1, 1], label="old")
    high = existing.pk + 1000
    report = import_vectors(
        csv_file(f'{existing.pk},new,"[2,2,2]"', f'{high},far,"[3,3,3]"', ',auto,"[4,4,4]"'),
        model=Item,
        dry_run=False,
    )
    assert (report.new, report.updated) == (2, 1)
    existing.refresh_from_db()
    assert (existing.label, existing.embedding) == ("new", [2.0, 2.0, 2.0])
    assert Item.objects.get(label="auto").pk > high
    assert Item.objects.create(embedding=[5, 5, 5]).pk > high


def test_replace_empties_the_table_first() -> None:
    Item.objects.create(embedding=[1, 1, 1], label="gone")
    report = import_vectors(generated(50), model=Item, dry_run=False, replace=True)
    assert report.strategy == "rebuild"
    assert Item.objects.count() == 50
    assert not Item.objects.filter(label="gone").exists()
    assert index_exists()


def test_a_failed_replace_keeps_the_old_rows() -> None:
    Item.objects.create(embedding=[1, 1, 1], label="kept")
    report = import_vectors(csv_file(',a,"[1,2]"'), model=Item, dry_run=False, replace=True)
    assert not report.written
    assert list(Item.objects.values_list("label", flat=True)) == ["kept"]


def test_a_missing_index_is_rebuilt_by_the_next_import() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f'DROP INDEX "{INDEX_NAME}"')
    import_vectors(csv_file(',a,"[1,2,3]"'), model=Item, dry_run=False, strategy="live")
    assert index_exists()
    assert ensure_vector_indexes(Item) == []


def test_progress_is_reported_for_each_phase() -> None:
    seen: list[tuple[str, int, int | None]] = []
    import_vectors(
        generated(30),
        dry_run=False,
        strategy="rebuild",
        progress=lambda *a: seen.append(a),
        model=Item,
    )
    phases = {phase for phase, _, _ in seen}
    assert {"validate", "load"} <= phases
    assert ("load", 30, 30) in seen


def test_choose_strategy_follows_the_cost_model() -> None:
    assert choose_strategy(existing=0, incoming=100_000) == "rebuild"
    assert choose_strategy(existing=1_000_000, incoming=1_000) == "live"
    assert choose_strategy(existing=100_000, incoming=100_000) == "rebuild"


def test_unknown_strategy_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown strategy"):
        import_vectors(generated(1), model=Item, dry_run=False, strategy="fastest")


def test_export_then_import_reproduces_identical_vectors() -> None:
    import_vectors(
        csv_file(',"comma, ""quote""",[0.1,-2.5e-7,3.4e38]', ",,[1e-30,2,3]", ",tab\there,[1,2,3]"),
        model=Item,
        dry_run=False,
    )
    before = list(Item.objects.order_by("id").values_list("id", "label", "embedding"))
    out = io.BytesIO()
    written = export_vectors(out, model=Item)
    assert written == len(out.getvalue())
    assert out.getvalue().startswith(b"id,label,embedding\n")
    Item.objects.all().delete()
    out.seek(0)
    assert import_vectors(out, model=Item, dry_run=False).ok
    assert list(Item.objects.order_by("id").values_list("id", "label", "embedding")) == before


def test_export_of_some_ids() -> None:
    a = Item.objects.create(embedding=[1, 2, 3], label="a")
    Item.objects.create(embedding=[1, 2, 3], label="b")
    out = io.BytesIO()
    export_vectors(out, model=Item, ids=[a.pk])
    assert out.getvalue().decode().splitlines() == ["id,label,embedding", f'{a.pk},a,"[1,2,3]"']


def test_memory_does_not_grow_with_the_file() -> None:
    def peak(rows: int) -> int:
        stream = generated(rows)
        tracemalloc.start()
        report = import_vectors(stream, model=Item, dry_run=True)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert report.ok
        return top

    small, large = peak(5_000), peak(50_000)
    # Ten times the rows: the peak stays within a small constant (the 10,000-line
    # COPY buffer, the 100-row sample), far from ten times.
    assert large < small * 2
