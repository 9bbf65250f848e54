"""What a search returned, and everything needed to judge it: its rows with every
distance, the settings, SQL and plan that served it, notes, recall and the server."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from pgvector_admin.numbers import grouped
from pgvector_admin.replicas import ServerFacts
from pgvector_admin.search.catalogue import VectorIndex
from pgvector_admin.search.plans import index_scan_counts, scanned_index
from pgvector_admin.vectors.fields import VectorColumn
from pgvector_admin.vectors.metrics import Metric


@dataclass(frozen=True)
class Neighbour:
    """One result row: the row's id, its name (``str()``), its vector and its distance
    by every metric of the column's type. A row read for a results table only
    (``nearest`` with ``cells_only``) has its vector's ``cell`` instead of the vector."""

    rank: int
    id: Any
    label: str
    embedding: Any
    distances: dict[str, float]
    # The row itself, for pages that show more of it (a picture, say).
    obj: Any = field(default=None, compare=False, repr=False)
    # Keyword and hybrid searches: the row's place in each ranking (None: not among that
    # ranking's candidates) and its score (ts_rank_cd, or the fused score).
    keyword_rank: int | None = None
    vector_rank: int | None = None
    score: float | None = None
    # The vector as a table cell shows it, made from its parts (pgvector_admin.vectors.parts)
    # when the vector itself was not read (``embedding`` is then None).
    cell: str | None = None

    def distance(self, metric: Metric) -> float:
        return self.distances[metric.name]

    def shown_distance(self, metric: Metric) -> float | None:
        """The distance, or None for a row without a vector (not embedded yet)."""
        return self.distances.get(metric.name)


@dataclass
class SearchOutcome:
    """The rows a search returned and everything needed to judge them."""

    neighbours: list[Neighbour]
    column: VectorColumn
    metric: Metric
    k: int
    exact: bool
    index: VectorIndex | None
    indexes: list[VectorIndex]
    settings: dict[str, str]
    sql: str
    plan: str
    seconds: float
    fell_back_to_exact: bool = False
    recall: float | None = None
    notes: list[str] = field(default_factory=list)
    # Among the rows of a condition (the changelist's filters), not the whole table.
    filtered: bool = False
    # Only rows within this distance (for inner product: at least this product).
    max_distance: float | None = None
    # Where the index scan's ef_search (or probes) came from, in words.
    setting_source: str = ""
    # The query vector, and the row it is (similar pages: left out of the answer).
    vector: Any = field(default=None, repr=False)
    exclude_id: Any = None
    # The server that answered, when the app has read replicas (pgvector_admin.replicas).
    server: ServerFacts | None = None
    # The replicas passed over for this request, and why.
    skipped_servers: list[str] = field(default_factory=list)
    # "vector", or for a text query "keyword" or "hybrid" (pgvector_admin.search.hybrid).
    mode: str = "vector"
    # How a text query became the vector (pgvector_admin.embedders.queries.QueryEmbedding).
    query_embedding: Any = None
    # Keyword and hybrid searches: the keyword ranking's index, SQL, plan and row count.
    keyword: Any = None
    # Hybrid searches: the fusion's constants (pgvector_admin.search.hybrid.Fusion), and
    # how many rows of each ranking were read for it.
    fusion: Any = None
    depth: int | None = None

    @property
    def ranked(self) -> bool:
        """Whether rows carry keyword and vector ranks (keyword and hybrid searches)."""
        return self.mode != "vector"

    @property
    def scan_index(self) -> str | None:
        """The index the query plan scanned, if any: what PostgreSQL actually did."""
        return scanned_index(self.plan, among=[index.name for index in self.indexes])

    @property
    def used_index(self) -> bool:
        return self.scan_index is not None

    @property
    def metrics(self) -> tuple[Metric, ...]:
        """Every metric of the column's type: a column each on the results page."""
        return self.column.metrics

    @property
    def tuples_visited(self) -> tuple[int, int] | None:
        """(tuples visited, rows returned) by the vector index scan, when the plan was
        run (``EXPLAIN ANALYZE``): the rows it returned and those a condition removed."""
        return index_scan_counts(self.plan, self.scan_index)

    @property
    def scan_report(self) -> str | None:
        """What the index scan read, in words, when the plan was run."""
        counts = self.tuples_visited
        if counts is None:
            return None
        visited, returned = counts
        values = {
            "visited": grouped(visited),
            "returned": grouped(returned),
            "removed": grouped(visited - returned),
        }
        if visited > returned:
            text = (
                _(
                    "The index scan visited %(visited)s tuples to return %(returned)s (%(removed)s "
                    "did not meet the condition)"
                )
                % values
            )
        else:
            text = _("The index scan visited %(visited)s tuples to return %(returned)s") % values
        mode = self.settings.get("hnsw.iterative_scan") or self.settings.get(
            "ivfflat.iterative_scan"
        )
        if mode and mode != "off":
            text += _(
                "; an iterative scan (%(mode)s), which goes on past the first candidates until "
                "k rows meet the condition (%(bound)s)"
            ) % {"mode": mode, "bound": scan_bound(self.settings)}
        return text + "."

    @property
    def index_match(self) -> str:
        """How the index chosen serves this search, in words for the results page."""
        shape = self.index.shape if self.index is not None else None
        operator = self.metric.operator
        if shape is None or shape.is_plain:
            return _("which matches the %(operator)s operator") % {"operator": operator}
        values = {"shape": shape.describe(), "operator": operator}
        if shape.quantized:
            return (
                _(
                    "on %(shape)s: candidates by the Hamming distance (<~>) of the bits, re-ranked "
                    "by %(operator)s"
                )
                % values
            )
        return _("on %(shape)s, which matches the %(operator)s operator on those values") % values

    @property
    def opclass(self) -> str:
        """The opclass an index would need to serve this search."""
        return self.column.type.opclass(self.metric)


def scan_bound(settings: dict[str, str]) -> str:
    """Where an iterative index scan gives up, as the settings in force say."""
    if "ivfflat.max_probes" in settings:
        return _("it probes at most ivfflat.max_probes = %(probes)s lists") % {
            "probes": settings["ivfflat.max_probes"]
        }
    tuples = settings.get("hnsw.max_scan_tuples") or "20000"
    return _("it visits at most hnsw.max_scan_tuples = %(tuples)s tuples") % {"tuples": tuples}
