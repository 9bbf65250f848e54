"""Rows as 3-d points (pgvector_admin.pictures.point_cloud): the vectors themselves at 3
dimensions, a PCA that agrees with numpy's SVD for longer ones of every type, PostgreSQL's
projection equal to numpy's, and the sample read with TABLESAMPLE."""

from __future__ import annotations

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Item
from pgvector_admin.pictures import point_cloud
from pgvector_admin.pictures.point_cloud import (
    dense_rows,
    fit_projection,
    principal_axes,
    sample_points,
)
from pgvector_admin.vectors.fields import vector_columns
from pgvector_admin.vectors.metrics import COSINE, HAMMING
from tests.vector_data import as_array
from tests.vector_models.models import BitDocument, Document, HalfDocument, SparseDocument

pytestmark = pytest.mark.django_db


def numpy_pca(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """The exact answer: a full SVD of the centred rows."""
    mean = matrix.mean(axis=0)
    _, singular, axes = np.linalg.svd(matrix - mean, full_matrices=False)
    return mean, axes[:3], float(np.sum(singular[:3] ** 2) / np.sum(singular**2))


def test_three_dimensional_vectors_are_drawn_as_they_are(seed_items) -> None:
    column = vector_columns(Item)[0]
    projection = fit_projection(column)
    assert not projection.is_pca
    assert projection.axes == ["x", "y", "z"]
    assert projection.describe() == "The vectors themselves (3 dimensions)."
    query = [3.0, 1.0, 2.0]
    sample = sample_points(column, projection, vector=query, metrics=[COSINE], label_field="label")
    assert not sample.sampled
    points = sample.points
    assert sorted(points.ids) == sorted(item.pk for item in seed_items)
    stored = {item.pk: item for item in seed_items}
    for position, pk in enumerate(points.ids):
        assert np.allclose(points.coordinates[position], stored[pk].embedding, atol=1e-6)
        assert points.labels[position] == stored[pk].label
        vector = np.asarray(stored[pk].embedding)
        cosine = 1 - vector @ query / (np.linalg.norm(vector) * np.linalg.norm(query))
        assert points.distances["cosine"][position] == pytest.approx(cosine, abs=1e-6)


def test_principal_axes_agree_with_a_full_svd() -> None:
    rng = np.random.default_rng(3)
    # Three strong directions and noise, in 300 dimensions.
    matrix = rng.normal(size=(500, 3)) @ (rng.normal(size=(3, 300)) * [[5], [3], [2]])
    matrix += 0.1 * rng.normal(size=(500, 300))
    mean, components, kept = principal_axes(matrix)
    true_mean, true_axes, true_kept = numpy_pca(matrix)
    assert np.allclose(mean, true_mean)
    assert kept == pytest.approx(true_kept, abs=1e-6)
    for axis, true_axis in zip(components, true_axes, strict=True):
        assert abs(axis @ true_axis) == pytest.approx(1, abs=1e-6)  # the same, up to sign
        assert axis[np.argmax(np.abs(axis))] > 0


def test_long_vectors_are_projected_by_postgresql_as_numpy_projects_them(documents) -> None:
    column = vector_columns(Document)[0]
    projection = fit_projection(column)
    matrix = np.asarray([as_array(d.embedding) for d in Document.objects.order_by("pk")])
    _, _, true_kept = numpy_pca(matrix)
    assert projection.is_pca
    assert projection.fitted_on == 300  # fewer rows than FIT_ROWS: every one
    assert projection.variance_kept == pytest.approx(true_kept, abs=1e-4)
    assert "keep" in projection.describe()
    assert f"{100 * true_kept:.1f} %" in projection.describe()
    sample = sample_points(column, projection)
    expected = projection.to_3d(matrix)
    by_pk = dict(
        zip(Document.objects.order_by("pk").values_list("pk", flat=True), expected, strict=True)
    )
    assert len(sample.points.ids) == 300
    for position, pk in enumerate(sample.points.ids):
        assert np.allclose(sample.points.coordinates[position], by_pk[pk], atol=1e-3)


@pytest.mark.parametrize(
    ("model", "fixture", "atol"),
    [(HalfDocument, "half_documents", 0.05), (SparseDocument, "sparse_documents", 1e-3)],
)
def test_halfvec_and_sparsevec_are_projected_by_postgresql_too(
    model: type, fixture: str, atol: float, request: pytest.FixtureRequest
) -> None:
    rows = request.getfixturevalue(fixture)
    column = vector_columns(model)[0]
    projection = fit_projection(column)
    assert projection.is_pca
    assert projection.fitted_on == len(rows)
    values = [column.values(row) for row in model.objects.order_by("pk")]
    expected = projection.to_3d(dense_rows(column, values, projection.support))
    pks = list(model.objects.order_by("pk").values_list("pk", flat=True))
    sample = sample_points(column, projection)
    by_pk = dict(zip(pks, expected, strict=True))
    for position, pk in enumerate(sample.points.ids):
        assert np.allclose(sample.points.coordinates[position], by_pk[pk], atol=atol)
    if model is SparseDocument:
        # The axes use only the dimensions the rows use, of 30,000.
        assert projection.support is not None
        assert len(projection.support) < 30_000
        assert f"of the {len(projection.support):,} of 30,000 dimensions that the rows use" in (
            projection.describe()
        )
        dense = np.asarray([np.asarray(v.to_list()) for v in values])
        _, _, true_kept = numpy_pca(dense)
        assert projection.variance_kept == pytest.approx(true_kept, abs=1e-4)


def test_bits_are_projected_from_their_zeros_and_ones(bit_documents) -> None:
    column = vector_columns(BitDocument)[0]
    projection = fit_projection(column)
    bits = np.asarray(
        [[int(b) for b in str(d.embedding)] for d in BitDocument.objects.order_by("pk")]
    )
    _, _, true_kept = numpy_pca(bits.astype(float))
    assert projection.variance_kept == pytest.approx(true_kept, abs=1e-4)
    query = str(bit_documents[0].embedding)
    sample = sample_points(column, projection, vector=query, metrics=[HAMMING])
    expected = dict(
        zip(
            BitDocument.objects.order_by("pk").values_list("pk", flat=True),
            projection.to_3d(bits),
            strict=True,
        )
    )
    for position, pk in enumerate(sample.points.ids):
        assert np.allclose(sample.points.coordinates[position], expected[pk], atol=1e-9)
    by_pk = {d.pk: str(d.embedding) for d in bit_documents}
    for position, pk in enumerate(sample.points.ids[:20]):
        flips = sum(a != b for a, b in zip(by_pk[pk], query, strict=True))
        assert sample.points.distances["hamming"][position] == flips


def test_a_big_table_is_sampled_by_pages_and_a_condition_is_kept(documents) -> None:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE vector_models_document")
    column = vector_columns(Document)[0]
    within = Document.objects.filter(title__endswith="7")  # 30 of the 300
    projection = fit_projection(column, within)
    assert projection.fitted_on == 30
    with CaptureQueriesContext(connection) as queries:
        sample = sample_points(column, projection, rows=50)
    assert sample.sampled
    assert 0 < len(sample.points.ids) <= 50
    (sql,) = [q["sql"] for q in queries.captured_queries if "TABLESAMPLE" in q["sql"]]
    assert "REPEATABLE" in sql  # the same picture on a reload
    filtered = sample_points(column, projection, within=within, exclude_ids=[documents[7].pk])
    titles = dict(Document.objects.values_list("pk", "title"))
    assert not filtered.sampled
    assert len(filtered.points.ids) == 29
    assert all(titles[pk].endswith("7") for pk in filtered.points.ids)


def test_a_sparse_axis_keeps_the_most_used_dimensions_when_they_are_too_many(
    sparse_documents, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(point_cloud, "SPARSE_MAX_NONZERO", 500)
    column = vector_columns(SparseDocument)[0]
    projection = fit_projection(column)
    assert projection.support is not None
    assert len(projection.support) == 500
    assert projection.dimensions_used > 500
    assert "the 500 dimensions the rows use most" in projection.describe()
    # Still projected by PostgreSQL as numpy projects the rows over those dimensions.
    values = [column.values(row) for row in SparseDocument.objects.order_by("pk")]
    expected = dict(
        zip(
            SparseDocument.objects.order_by("pk").values_list("pk", flat=True),
            projection.to_3d(dense_rows(column, values, projection.support)),
            strict=True,
        )
    )
    sample = sample_points(column, projection)
    for position, pk in enumerate(sample.points.ids):
        assert np.allclose(sample.points.coordinates[position], expected[pk], atol=1e-3)
