"""Keyword search: a table's PostgreSQL full-text index (GIN, on a ``tsvector`` column
such as a ``SearchVectorField``, or on an expression such as
``to_tsvector('english', text)``), found in the system tables, and the rows that match
a text ranked by ``ts_rank_cd`` over ``websearch_to_tsquery`` (quotes, ``or`` and
``-word`` as in a web search box). The match is written with the index's own
expression, so that index serves it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db import connections, models
from django.db.models import BooleanField, FloatField, QuerySet
from django.db.models.expressions import RawSQL

ALL_WORDS = "all"
ANY_WORD = "any"
_CONFIG = re.compile(r"to_tsvector\('([^']+)'::regconfig")


@dataclass(frozen=True)
class KeywordIndex:
    """A GIN index on a ``tsvector`` of the table."""

    name: str
    # The indexed tsvector as PostgreSQL prints it: a column, or an expression of the
    # table's columns.
    expression: str
    definition: str
    # A generated column's expression (``GENERATED ALWAYS AS (to_tsvector(...))``).
    generated_from: str | None = None

    @property
    def config(self) -> str | None:
        """The text search configuration the expression (or the generated column's)
        names; None for a tsvector column the app fills itself, whose queries use the
        server's ``default_text_search_config``."""
        match = _CONFIG.search(self.generated_from or self.expression)
        return match.group(1) if match else None

    def tsquery(self, match: str = ALL_WORDS) -> str:
        """The SQL of the query, parsed as the index's text was (one ``%s``: the text).
        ``all`` words: ``websearch_to_tsquery`` (every word, "quoted phrases", ``or``,
        ``-word``). ``any`` word: the text's lexemes joined by ``|``, so a row matches on
        one of them and ``ts_rank_cd`` ranks those with more of them, closer, first."""
        config = "" if self.config is None else f"'{self.config}'::regconfig, "
        if match == ANY_WORD:
            return (
                "(SELECT string_agg(quote_literal(lexeme), ' | ')::tsquery "
                f"FROM unnest(tsvector_to_array(to_tsvector({config}%s))) AS lexeme)"
            )
        return f"websearch_to_tsquery({config}%s)"


def keyword_indexes(model: type[models.Model], *, using: str = "default") -> list[KeywordIndex]:
    """``model``'s full-text indexes: GIN indexes of one ``tsvector`` key, not partial."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            """
            SELECT idx.relname, pg_get_indexdef(idx.oid, 1, true), pg_get_indexdef(idx.oid),
                   pg_get_expr(generated.adbin, generated.adrelid)
            FROM pg_index i
            JOIN pg_class idx ON idx.oid = i.indexrelid
            JOIN pg_am am ON am.oid = idx.relam
            JOIN pg_opclass opc ON opc.oid = i.indclass[0]
            LEFT JOIN pg_attribute col
              ON col.attrelid = i.indrelid AND col.attnum = i.indkey[0] AND col.attgenerated = 's'
            LEFT JOIN pg_attrdef generated
              ON generated.adrelid = col.attrelid AND generated.adnum = col.attnum
            WHERE i.indrelid = to_regclass(%s) AND am.amname = 'gin' AND i.indnkeyatts = 1
              AND i.indpred IS NULL AND opc.opcintype = 'tsvector'::regtype
            ORDER BY idx.relname
            """,
            [model._meta.db_table],
        )
        return [KeywordIndex(*row) for row in cursor.fetchall()]


def keyword_queryset(
    *,
    index: KeywordIndex,
    text: str,
    model: type[models.Model],
    within: QuerySet[Any] | None,
    match: str = ALL_WORDS,
) -> QuerySet[Any]:
    """The rows (of ``within``, else all) whose indexed text matches ``text`` (all its
    words, or any, as ``KeywordIndex.tsquery``), with their ``keyword_score``
    (``ts_rank_cd``), best first, ties by primary key."""
    rows = model._default_manager.all()
    if within is not None:
        # By primary key: the index's expression names the table's columns unqualified,
        # which a condition's joins could make ambiguous.
        rows = rows.filter(pk__in=within.values("pk"))
    tsquery = index.tsquery(match)
    return (
        rows.filter(
            RawSQL(f"({index.expression}) @@ {tsquery}", [text], output_field=BooleanField())
        )
        .annotate(
            keyword_score=RawSQL(
                f"ts_rank_cd({index.expression}, {tsquery})", [text], output_field=FloatField()
            )
        )
        .order_by("-keyword_score", "pk")
    )
