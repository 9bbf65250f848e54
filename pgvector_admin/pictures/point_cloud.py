"""Where the rows are: a vector table as points in 3-d space, for the pictures.

Vectors of up to 3 dimensions are drawn as they are. Longer ones are projected on
their first three principal axes (PCA), fitted on a sample of the table; the share of
the variance the three axes keep says how faithful the picture is. The projection of
the sampled rows is computed by PostgreSQL: a coordinate is an inner product with a
principal axis (pgvector's ``<#>``), so three numbers a row cross the wire, not
hundreds. ``bit`` vectors have no inner product in pgvector: their bits are read and
projected here, from fewer rows when they are long.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.contrib.postgres.fields import ArrayField
from django.db.models import F, FloatField, Func, QuerySet
from django.utils.translation import gettext as _
from pgvector import SparseVector
from pgvector.django import MaxInnerProduct

from pgvector_admin.numbers import grouped
from pgvector_admin.search.catalogue import stored_dimensions
from pgvector_admin.search.table_sample import fetch_sample, sample_sql
from pgvector_admin.vectors.fields import BIT, SPARSEVEC, VectorColumn
from pgvector_admin.vectors.metrics import Metric

SAMPLE_ROWS = 20_000
FIT_ROWS = 1_000
# Seeds of the samples' page choice: the same picture on every reload of a page while
# the table is unchanged.
FIT_SEED, SAMPLE_SEED = 17, 23
# pgvector's sparsevec holds at most 16,000 non-zero values, and a principal axis is
# sent to PostgreSQL as one.
SPARSE_MAX_NONZERO = 16_000
# Bits cross the wire as text: at most this many a picture (5,000 rows of 1,024 bits).
BIT_BUDGET = 5_120_000
# Rounding of what is sent to the browser: enough to tell points and distances apart.
DECIMALS = 6


@dataclass(frozen=True)
class Projection:
    """How a column's vectors become 3-d points: as they are (``components`` None), or
    centred on ``mean`` and multiplied by three principal axes. For ``sparsevec`` the
    axes are over ``support``, the dimensions the fitted rows use (0 elsewhere)."""

    dimensions: int
    mean: np.ndarray | None = None
    components: np.ndarray | None = None
    support: np.ndarray | None = None
    variance_kept: float | None = None
    fitted_on: int = 0
    # sparsevec: how many dimensions the fitted rows use (``support`` may keep fewer).
    dimensions_used: int = 0
    # Why the column is not drawn, when it is not.
    reason: str = ""

    @property
    def is_pca(self) -> bool:
        return self.components is not None

    @property
    def axes(self) -> list[str]:
        if self.is_pca:
            return ["PC1", "PC2", "PC3"]
        return ["x", "y", "z"][: self.dimensions] + ["0"] * (3 - self.dimensions)

    def describe(self) -> str:
        """What the picture's axes are, in words."""
        if self.reason:
            return self.reason
        if not self.is_pca:
            return _("The vectors themselves (%(dimensions)s dimensions).") % {
                "dimensions": self.dimensions
            }
        values = {
            "dimensions": grouped(self.dimensions),
            "used": grouped(self.dimensions_used),
            "kept": grouped(len(self.support) if self.support is not None else 0),
            "most": grouped(SPARSE_MAX_NONZERO),
        }
        over = _("the %(dimensions)s dimensions") % values
        if self.support is not None:
            over = _("the %(kept)s of %(dimensions)s dimensions that the rows use") % values
            if len(self.support) < self.dimensions_used:
                over = (
                    _(
                        "the %(kept)s dimensions the rows use most (of %(used)s used; an axis is "
                        "a sparsevec of at most %(most)s non-zero values)"
                    )
                    % values
                )
        return _(
            "The first three principal axes (PCA) of %(over)s, fitted on %(rows)s sampled "
            "rows: they keep %(percent)s %% of the variance."
        ) % {
            "over": over,
            "rows": grouped(self.fitted_on),
            "percent": grouped(100 * (self.variance_kept or 0), 1),
        }

    def to_3d(self, dense: np.ndarray) -> np.ndarray:
        """Rows of ``dense`` (their full length, or ``support``'s) as 3-d points."""
        dense = np.asarray(dense, dtype=np.float64)
        if dense.size == 0:  # no rows (a search that kept none): no points
            return np.zeros((0, 3))
        dense = np.atleast_2d(dense)
        if self.mean is None or self.components is None:
            points = np.zeros((len(dense), 3))
            points[:, : min(3, dense.shape[1])] = dense[:, :3]
            return points
        if self.support is not None and dense.shape[1] != len(self.support):
            dense = dense[:, self.support]
        return (dense - self.mean) @ self.components.T

    def centre(self, products: np.ndarray) -> np.ndarray:
        """Points from each row's inner products with the three axes: less the mean's."""
        if self.mean is None or self.components is None:
            return products
        return products - self.components @ self.mean


@dataclass
class Points:
    """Rows as 3-d points, with what a picture shows of each."""

    ids: list[Any]
    coordinates: np.ndarray
    labels: list[str] = field(default_factory=list)
    # Each metric's distance (as the pages show it) from the query, by metric name.
    distances: dict[str, np.ndarray] = field(default_factory=dict)
    colours: list[Any] = field(default_factory=list)

    def as_dict(self, *, packed: bool = False) -> dict[str, Any]:
        """The points, ready for JSON: numbers as short decimals, or ``packed`` as
        little-endian float32 in base64 (``{"float32": "…"}``), which encodes 20,000
        points' numbers in a millisecond where decimals take tens."""
        if packed:
            coordinate, distance = _packed, _packed
        else:
            coordinate, distance = _rounded, functools.partial(_rounded, significant=True)
        # Integer or string keys go as they are; others (UUIDs) as text.
        plain = not self.ids or isinstance(self.ids[0], int | str)
        data: dict[str, Any] = {
            "ids": list(self.ids) if plain else [str(pk) for pk in self.ids],
            "x": coordinate(self.coordinates[:, 0]),
            "y": coordinate(self.coordinates[:, 1]),
            "z": coordinate(self.coordinates[:, 2]),
            "labels": self.labels,
            "distances": {name: distance(values) for name, values in self.distances.items()},
        }
        if self.colours:
            data["colours"] = self.colours
        return data


@dataclass
class PointSample:
    """A sample of a table's rows as points, and how it was taken."""

    points: Points
    estimate: int
    sampled: bool


def fit_projection(
    column: VectorColumn, within: QuerySet[Any] | None = None, *, rows: int = FIT_ROWS
) -> Projection:
    """The projection of ``column``'s vectors to 3-d: as they are when they have up to
    3 dimensions, else PCA fitted on up to ``rows`` rows sampled from ``within``."""
    queryset = _with_vectors(column, within)
    dimensions = stored_dimensions(column)
    if dimensions is None:
        return Projection(dimensions=0, reason=_("No row has a vector to draw."))
    if dimensions <= 3:
        return Projection(dimensions=dimensions)
    if column.type is BIT:
        rows = max(10, min(rows, BIT_BUDGET // dimensions))
    values = _fetch(column, queryset, rows, FIT_SEED)
    if len(values) < 4:
        return Projection(
            dimensions=dimensions,
            reason=_("Too few rows to fit a projection on (%(rows)s; 4 are needed).")
            % {"rows": len(values)},
        )
    support = _support(values) if column.type is SPARSEVEC else None
    used = len(support) if support is not None else 0
    if support is not None and len(support) > SPARSE_MAX_NONZERO:
        # Keep the most used dimensions: an axis must fit in one sparsevec.
        counts = _support_counts(values, support)
        support = np.sort(support[np.argsort(-counts, kind="stable")[:SPARSE_MAX_NONZERO]])
    matrix = dense_rows(column, values, support)
    mean, components, kept = principal_axes(matrix)
    return Projection(
        dimensions=dimensions,
        mean=mean,
        components=components,
        support=support,
        variance_kept=kept,
        fitted_on=len(values),
        dimensions_used=used,
    )


def principal_axes(matrix: np.ndarray, count: int = 3) -> tuple[np.ndarray, np.ndarray, float]:
    """The mean of ``matrix``'s rows, its first ``count`` principal axes (rows of unit
    length, each signed so its largest entry is positive) and the share of the
    variance they keep. A randomized SVD (Halko, Martinsson and Tropp) with a fixed
    seed: the same rows give the same axes, in milliseconds for 1,000 rows of 3,072."""
    mean = matrix.mean(axis=0)
    centred = matrix - mean
    total = float(np.sum(centred * centred))
    rank = min(count + 7, *centred.shape)
    basis = centred @ np.random.default_rng(0).standard_normal((centred.shape[1], rank))
    for _step in range(4):  # power iterations: the leading axes stand out
        basis = np.linalg.qr(basis)[0]
        basis = np.linalg.qr(centred.T @ basis)[0]
        basis = centred @ basis
    basis = np.linalg.qr(basis)[0]
    singular, axes = np.linalg.svd(basis.T @ centred, full_matrices=False)[1:]
    components = np.zeros((count, centred.shape[1]))
    found = min(count, len(axes))
    components[:found] = axes[:found]
    for row in components[:found]:
        if row[np.argmax(np.abs(row))] < 0:
            row *= -1
    kept = float(np.sum(singular[:count] ** 2) / total) if total > 0 else 1.0
    return mean, components, min(kept, 1.0)


def sample_points(
    column: VectorColumn,
    projection: Projection,
    *,
    within: QuerySet[Any] | None = None,
    vector: Any = None,
    metrics: Sequence[Metric] = (),
    label_field: str | None = None,
    colour_field: str | None = None,
    exclude_ids: Sequence[Any] = (),
    rows: int = SAMPLE_ROWS,
) -> PointSample:
    """Up to ``rows`` rows of ``within`` (else the whole table) chosen uniformly at
    random without reading the table (``pgvector_admin.search.table_sample``), as 3-d points, with
    each of ``metrics``' distance to ``vector``, their ``label_field`` and
    ``colour_field``. The coordinates are computed by PostgreSQL, except bits'."""
    queryset = _with_vectors(column, within)
    if exclude_ids:
        queryset = queryset.exclude(pk__in=list(exclude_ids))
    bits = column.type is BIT
    if bits:
        rows = max(10, min(rows, BIT_BUDGET // max(projection.dimensions, 1)))
    selected: dict[str, Any] = {}
    if bits:
        selected["bits"] = F(column.name)
    elif projection.is_pca:
        for axis, value in enumerate(_axis_values(column, projection)):
            selected[f"axis_{axis}"] = MaxInnerProduct(column.name, value)
    else:
        # A column an axis: three numbers convert faster than an array a row.
        for axis in range(projection.dimensions):
            selected[f"axis_{axis}"] = _Reals(
                F(column.name), through_vector=column.type is SPARSEVEC, position=axis + 1
            )
    for metric in metrics:
        selected[f"distance_{metric.name}"] = metric.function(column.name, vector)
    names = [
        "pk",
        *([label_field] if label_field else []),
        *([colour_field] if colour_field else []),
    ]
    sample = sample_sql(
        queryset.annotate(**selected).values_list(*names, *selected), rows, repeatable=SAMPLE_SEED
    )
    found = fetch_sample(sample, queryset.db, binary=not bits)
    # Column by column: one pass over the rows, then numpy.
    columns = list(zip(*found, strict=True)) if found else [()] * (len(names) + len(selected))
    ids = list(columns[0])
    position = 1
    labels = [_text(value) for value in columns[position]] if label_field else []
    position += bool(label_field)
    colours = [_value(value) for value in columns[position]] if colour_field else []
    position += bool(colour_field)
    if bits:
        coordinates = projection.to_3d(dense_rows(column, list(columns[position])))
        position += 1
    elif projection.is_pca:
        # <#> is the negative inner product; the mean's own product centres the points.
        raw = -np.asarray(columns[position : position + 3], dtype=np.float64).T
        coordinates = projection.centre(raw.reshape(-1, 3))
        position += 3
    else:
        dimensions = projection.dimensions
        coordinates = projection.to_3d(
            np.asarray(columns[position : position + dimensions], dtype=np.float64)
            .reshape(dimensions, len(found))
            .T
        )
        position += dimensions
    # Every distance (None, from a NaN, as NaN), a row a metric.
    measured = np.asarray(columns[position:], dtype=np.float64).reshape(len(metrics), len(found))
    distances = {
        metric.name: -measured[offset] if metric.negated else measured[offset]
        for offset, metric in enumerate(metrics)
    }
    points = Points(
        ids=ids,
        coordinates=coordinates.reshape(-1, 3),
        labels=labels,
        distances=distances,
        colours=colours,
    )
    return PointSample(points=points, estimate=sample.estimate, sampled=sample.sampled)


def dense_rows(
    column: VectorColumn, values: Sequence[Any], support: np.ndarray | None = None
) -> np.ndarray:
    """``column``'s values as the rows of a matrix of floats: a ``sparsevec`` over its
    ``support`` dimensions only (when given), ``bit`` strings as 0 and 1."""
    if column.type is BIT:
        if not values:
            return np.zeros((0, 0))
        text = "".join(str(value) for value in values).encode()
        return (np.frombuffer(text, dtype=np.uint8) - ord("0")).reshape(len(values), -1)
    if column.type is SPARSEVEC:
        width = len(support) if support is not None else (column.dimensions or 0)
        matrix = np.zeros((len(values), width))
        where = (
            {int(dim): place for place, dim in enumerate(support)} if support is not None else None
        )
        for row, value in enumerate(values):
            for index, entry in zip(value.indices(), value.values(), strict=True):
                place = where.get(index) if where is not None else index
                if place is not None:
                    matrix[row, place] = entry
        return matrix
    return np.asarray([list(value) for value in values], dtype=np.float64)


def _axis_values(column: VectorColumn, projection: Projection) -> list[Any]:
    """The principal axes as values of the column's type, for ``<#>``."""
    assert projection.components is not None
    if column.type is not SPARSEVEC:
        return [[float(entry) for entry in axis] for axis in projection.components]
    assert projection.support is not None
    return [
        SparseVector(
            {
                int(dim): float(entry)
                for dim, entry in zip(projection.support, axis, strict=True)
                if entry
            },
            projection.dimensions,
        )
        for axis in projection.components
    ]


class _Reals(Func):
    """A ``vector`` or ``halfvec`` (a ``sparsevec`` through ``vector``) as ``real[]``,
    which psycopg reads in C: far faster than parsing pgvector's text in Python; or
    one value of it (``position``, from 1), a plain number."""

    output_field = ArrayField(FloatField())

    def __init__(
        self, expression: Any, *, through_vector: bool = False, position: int | None = None
    ) -> None:
        cast = "::vector::real[]" if through_vector else "::real[]"
        if position is None:
            self.template = f"%(expressions)s{cast}"
        else:
            self.template = f"(%(expressions)s{cast})[{int(position)}]"
            self.output_field = FloatField()
        super().__init__(expression)


def _fetch(column: VectorColumn, queryset: QuerySet[Any], rows: int, seed: int) -> list[Any]:
    """A uniform sample of ``queryset``'s values of ``column``, longer than 3: ``vector``
    and ``halfvec`` as lists (``real[]``, read in binary), ``sparsevec`` and ``bit``
    from their text."""
    as_text = column.type in (BIT, SPARSEVEC)
    read = F(column.name) if as_text else _Reals(F(column.name))
    sample = sample_sql(queryset.values_list(read), rows, repeatable=seed)
    found = [value for (value,) in fetch_sample(sample, queryset.db, binary=not as_text)]
    if column.type is SPARSEVEC:
        # Read without the ORM, so without the field's conversion: text.
        field = column.model._meta.get_field(column.name)
        return [field.to_python(value) for value in found]
    return found


def _with_vectors(column: VectorColumn, within: QuerySet[Any] | None) -> QuerySet[Any]:
    rows = column.model._default_manager.all() if within is None else within.all()
    return rows.exclude(**{f"{column.name}__isnull": True}).order_by()


def _support(values: Sequence[SparseVector]) -> np.ndarray:
    """The dimensions (0-based) that any of the sparse ``values`` uses."""
    used = {int(index) for value in values for index in value.indices()}
    return np.asarray(sorted(used), dtype=np.int64)


def _support_counts(values: Sequence[SparseVector], support: np.ndarray) -> np.ndarray:
    where = {int(dim): place for place, dim in enumerate(support)}
    counts = np.zeros(len(support))
    for value in values:
        for index in value.indices():
            counts[where[int(index)]] += 1
    return counts


def _rounded(values: Any, *, significant: bool = False) -> list[float | None]:
    """Floats short enough for a page of 20,000 points (NaN as null)."""
    array = np.asarray(values, dtype=np.float64)
    if significant:
        # Distances near 0 keep their digits: 6 significant figures. Scaled by an exact
        # power of ten either way, so that the result prints as a short decimal.
        with np.errstate(divide="ignore", invalid="ignore"):
            magnitude = np.floor(np.log10(np.abs(array)))
        digits = np.where(np.isfinite(magnitude), DECIMALS - 1 - magnitude, 0)
        up = np.where(digits >= 0, 10.0 ** np.maximum(digits, 0), 1.0)
        down = np.where(digits < 0, 10.0 ** np.maximum(-digits, 0), 1.0)
        array = np.round(array * up / down) * down / up
    else:
        array = np.round(array, DECIMALS)
    if not np.isnan(array).any():
        return array.tolist()
    return [None if np.isnan(value) else value for value in array.tolist()]


def _packed(values: Any) -> dict[str, str]:
    """Numbers as little-endian float32, in base64: read in the browser as a
    ``Float32Array`` (NaN stays NaN)."""
    array = np.asarray(values, dtype="<f4")
    return {"float32": base64.b64encode(array.tobytes()).decode("ascii")}


def _text(value: Any) -> str:
    """A label as text (bytes: a type read in binary that psycopg has no loader for)."""
    if type(value) is str:  # the common case first: 20,000 labels
        return value
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("utf-8", "replace")
    return "" if value is None else str(value)


def _value(value: Any) -> Any:
    return _text(value) if isinstance(value, bytes | memoryview) else value
