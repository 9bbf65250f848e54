"""Searches by text: by keyword (the table's full-text index), or hybrid, the keyword
ranking and the vector ranking fused by reciprocal rank fusion (RRF: Cormack, Clarke
and Büttcher, 2009): each row scores ``sum(weight / (rrf_k + rank))`` over the rankings
it appears in, and the best ``k`` scores win, ties by primary key.

Each ranking is its own query, each shown with its SQL and plan: the vector one is
``searches.nearest`` (index, settings, recall and all), the keyword one
``keywords.keyword_queryset``. Both read among the same rows (the changelist's
conditions).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

from pgvector_admin.search.distance_query import distance_queryset
from pgvector_admin.search.keywords import ALL_WORDS, KeywordIndex, keyword_queryset
from pgvector_admin.search.limits import MAX_K
from pgvector_admin.search.outcome import Neighbour, SearchOutcome
from pgvector_admin.search.recorded import run_recorded
from pgvector_admin.search.searches import nearest, neighbours_of
from pgvector_admin.vectors.fields import VectorColumn
from pgvector_admin.vectors.metrics import Metric

MODES = ("vector", "keyword", "hybrid")
DEFAULT_RRF_K = 60
# How deep each ranking is read for the fusion: a row below both rankings' first
# DEPTH rows cannot outscore one inside either (with equal weights).
DEPTH = 100


@dataclass(frozen=True)
class Fusion:
    """Reciprocal rank fusion's constants."""

    rrf_k: int = DEFAULT_RRF_K
    keyword_weight: float = 1.0
    vector_weight: float = 1.0

    def score(self, keyword_rank: int | None, vector_rank: int | None) -> float:
        """A row's fused score from its place in each ranking (None: not in it)."""
        score = 0.0
        if keyword_rank is not None:
            score += self.keyword_weight / (self.rrf_k + keyword_rank)
        if vector_rank is not None:
            score += self.vector_weight / (self.rrf_k + vector_rank)
        return score


@dataclass
class KeywordRanking:
    """The keyword query's answer: row ids best first, their ``ts_rank_cd``, how it ran."""

    index: KeywordIndex
    text: str
    match: str
    ids: list[Any]
    scores: dict[Any, float]
    sql: str
    plan: str
    seconds: float
    notes: list[str] = field(default_factory=list)

    @property
    def scan_index(self) -> str | None:
        """Whether the full-text index served the match, as the plan says."""
        return self.index.name if self.index.name in self.plan else None


def fuse(
    keyword_ids: list[Any], vector_ids: list[Any], fusion: Fusion
) -> list[tuple[Any, int | None, int | None, float]]:
    """Every row of either ranking as ``(id, keyword rank, vector rank, score)``, best
    fused score first, ties by id."""
    keyword_rank = {pk: rank for rank, pk in enumerate(keyword_ids, start=1)}
    vector_rank = {pk: rank for rank, pk in enumerate(vector_ids, start=1)}
    fused = [
        (pk, keyword_rank.get(pk), vector_rank.get(pk))
        for pk in dict.fromkeys([*keyword_ids, *vector_ids])
    ]
    scored = [(pk, kw, vec, fusion.score(kw, vec)) for pk, kw, vec in fused]
    return sorted(scored, key=lambda row: (-row[3], row[0]))


def keyword_ranking(
    *,
    index: KeywordIndex,
    text: str,
    model: Any,
    within: QuerySet[Any] | None,
    limit: int,
    match: str = ALL_WORDS,
) -> KeywordRanking:
    """The first ``limit`` rows matching ``text`` by keyword, with the SQL and plan."""
    queryset = keyword_queryset(index=index, text=text, model=model, within=within, match=match)
    started = time.perf_counter()
    rows, sql, plan, _ = run_recorded(
        queryset.values_list("pk", "keyword_score")[:limit], {}, (), analyze=False
    )
    return KeywordRanking(
        index=index,
        text=text,
        match=match,
        ids=[pk for pk, _ in rows],
        scores=dict(rows),
        sql=sql,
        plan=plan,
        seconds=time.perf_counter() - started,
    )


def text_search(
    *,
    mode: str,
    column: VectorColumn,
    vector: Any,
    text: str,
    index: KeywordIndex,
    k: int,
    metric: Metric,
    exact: bool = False,
    with_recall: bool = False,
    within: QuerySet[Any] | None = None,
    fusion: Fusion | None = None,
    match: str = ALL_WORDS,
) -> SearchOutcome:
    """The ``k`` best rows for ``text`` by keyword (``mode="keyword"``: ``ts_rank_cd``
    order; rows with ``match`` = all the words, or any) or hybrid (that ranking fused
    with the vector ranking of ``vector``, the text's embedding, by ``fusion``). Every
    row shown carries every distance to ``vector``. Exactly ``min(k, rows in either
    ranking)`` rows are returned."""
    if mode not in {"keyword", "hybrid"}:
        raise ValueError(f"mode must be keyword or hybrid, not {mode!r}")
    if not 1 <= k <= MAX_K:
        raise ValueError(f"k must be between 1 and {MAX_K}, not {k}")
    started = time.perf_counter()
    model = column.model
    depth = k if mode == "keyword" else min(max(k, DEPTH), MAX_K)
    keyword = keyword_ranking(
        index=index, text=text, model=model, within=within, limit=depth, match=match
    )
    if mode == "keyword":
        outcome = SearchOutcome(
            neighbours=[],
            column=column,
            metric=metric,
            k=k,
            exact=False,
            index=None,
            indexes=[],
            settings={},
            sql=keyword.sql,
            plan=keyword.plan,
            seconds=0.0,
            filtered=within is not None,
            vector=vector,
        )
        ranked = [(pk, rank, None, keyword.scores[pk]) for rank, pk in enumerate(keyword.ids, 1)]
    else:
        fusion = fusion or Fusion()
        outcome = nearest(
            column=column,
            vector=vector,
            k=depth,
            metric=metric,
            exact=exact,
            with_recall=with_recall,
            within=within,
        )
        vector_ids = [neighbour.id for neighbour in outcome.neighbours]
        ranked = fuse(keyword.ids, vector_ids, fusion)[:k]
        outcome.k = k
        outcome.fusion = fusion
        outcome.depth = depth
    outcome.mode = mode
    outcome.keyword = keyword
    outcome.neighbours = _ranked_rows(ranked, column, vector, metric)
    outcome.seconds = time.perf_counter() - started
    return outcome


def _ranked_rows(
    ranked: list[tuple[Any, int | None, int | None, float]],
    column: VectorColumn,
    vector: Any,
    metric: Metric,
) -> list[Neighbour]:
    """The rows of ``ranked`` read with every distance to ``vector``, in ranked order."""
    ids = [pk for pk, _, _, _ in ranked]
    rows = distance_queryset(column=column, vector=vector, metric=metric, vectorless=True)
    rows = rows.filter(pk__in=ids)
    by_id = {row.pk: row for row in rows}
    plain = neighbours_of([by_id[pk] for pk in ids if pk in by_id], column)
    places = {pk: (kw, vec, score) for pk, kw, vec, score in ranked}
    return [
        Neighbour(
            rank=rank,
            id=neighbour.id,
            label=neighbour.label,
            embedding=neighbour.embedding,
            distances=neighbour.distances,
            obj=neighbour.obj,
            keyword_rank=places[neighbour.id][0],
            vector_rank=places[neighbour.id][1],
            score=places[neighbour.id][2],
        )
        for rank, neighbour in enumerate(plain, start=1)
    ]
