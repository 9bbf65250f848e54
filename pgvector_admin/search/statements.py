"""Reading SQL text for vector searches: which distance operator, which order, which
limit, which settings. Pure functions over the statements a request ran, so the debug
toolbar panel can judge any view's vector queries, not only the admin's."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from pgvector_admin.vectors.metrics import OPERATOR_NAMES

# The settings that decide how a vector index scan behaves.
VECTOR_SETTINGS = (
    "hnsw.ef_search",
    "hnsw.iterative_scan",
    "hnsw.max_scan_tuples",
    "ivfflat.probes",
)
_OPERATOR = re.compile("|".join(re.escape(op) for op in OPERATOR_NAMES))
# The % of Jaccard's <%> arrives doubled in Django's raw SQL (%% escapes a placeholder).
_JACCARD_ESCAPED = "<%%>"
_ORDER_BY = re.compile(
    r"\bORDER\s+BY\b(?P<body>.*?)(?:\bLIMIT\b|\bOFFSET\b|\bFOR\s+UPDATE\b|$)", re.I | re.S
)
_LIMIT = re.compile(r"\bLIMIT\s+(\d+)", re.I)
_DESC = re.compile(r"\bDESC\b", re.I)
_WHERE = re.compile(r"\bWHERE\b", re.I)
_FROM_TABLE = re.compile(r'\bFROM\s+"?([A-Za-z_][\w$]*)"?', re.I)
_VECTOR_LITERAL = re.compile(r"'\[([^\]']*)\]'")
_SET_CONFIG = re.compile(
    r"set_config\(\s*'(?P<name>[^']+)'\s*,\s*'(?P<value>[^']*)'\s*,\s*(?P<local>true|false)\s*\)",
    re.I,
)
_SET = re.compile(
    r"^\s*SET\s+(?P<scope>LOCAL\s+|SESSION\s+)?(?P<name>[\w.]+)\s*(?:=|\bTO\b)\s*'?(?P<value>[^';]*)'?",
    re.I,
)
_EXPLAIN = re.compile(r"^\s*EXPLAIN\b", re.I)
_RESET_ON_END = re.compile(r"^\s*(COMMIT|ROLLBACK|END|ABORT)\b", re.I)


@dataclass(frozen=True)
class VectorStatement:
    """What the SQL text of one statement says about its vector search."""

    operator: str
    order_operator: str | None
    descending: bool
    limit: int | None
    has_filter: bool
    table: str | None
    is_select: bool


def distance_operators(sql: str) -> list[str]:
    """The pgvector distance operators in ``sql``, in order of appearance."""
    return _OPERATOR.findall(sql.replace(_JACCARD_ESCAPED, "<%>"))


def inspect(sql: str) -> VectorStatement | None:
    """Describe a statement that uses a distance operator; None if it uses none, or if
    it is an EXPLAIN (which plans a search without running it)."""
    operators = distance_operators(sql)
    if not operators or _EXPLAIN.match(sql):
        return None
    order = _ORDER_BY.search(sql)
    order_operators = distance_operators(order.group("body")) if order else []
    order_operator = order_operators[0] if order_operators else None
    # Django orders by a column's position ("ORDER BY 4 ASC") when it is an annotation:
    # the operator is then the one of that select-list entry.
    if order and order_operator is None:
        position = re.match(r"\s*(\d+)\b", order.group("body"))
        if position:
            order_operator = _select_item_operator(sql, int(position.group(1)))
    limit = _LIMIT.search(sql)
    table = _FROM_TABLE.search(sql)
    return VectorStatement(
        operator=order_operator or operators[0],
        order_operator=order_operator,
        descending=bool(order and _DESC.search(_split_top_level(order.group("body"))[0])),
        limit=int(limit.group(1)) if limit else None,
        has_filter=bool(_WHERE.search(sql)),
        table=table.group(1) if table else None,
        is_select=is_select(sql),
    )


_WHERE_CLAUSE = re.compile(
    r"\bWHERE\b(?P<condition>.*?)(?:\bORDER\s+BY\b|\bLIMIT\b|$)", re.I | re.S
)


def where_clause(sql: str) -> str:
    """The condition of a statement's first WHERE (without the keyword), or ``""``."""
    match = _WHERE_CLAUSE.search(sql)
    return match.group("condition").strip() if match else ""


def is_select(sql: str) -> bool:
    """Only a plain SELECT may be explained with ANALYZE: it reads and writes nothing."""
    return sql.lstrip().upper().startswith("SELECT")


def _select_item_operator(sql: str, position: int) -> str | None:
    select_list = re.search(r"\bSELECT\b(?P<items>.*?)\bFROM\b", sql, re.I | re.S)
    if not select_list:
        return None
    items = _split_top_level(select_list.group("items"))
    if not 1 <= position <= len(items):
        return None
    found = distance_operators(items[position - 1])
    return found[0] if found else None


def _split_top_level(text: str) -> list[str]:
    """Split a select list on commas outside parentheses and quotes."""
    items, depth, quoted, current = [], 0, False, []
    for char in text:
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
        elif not quoted and depth == 0 and char == ",":
            items.append("".join(current))
            current = []
            continue
        current.append(char)
    items.append("".join(current))
    return items


def settings_before(statements: Iterable[tuple[str, str | None]], index: int) -> dict[str, str]:
    """The settings changed by the statements before ``index`` that still held for it.

    ``statements`` are (sql, transaction id) pairs in the order run. ``SET`` and
    ``set_config(..., false)`` last for the session; ``SET LOCAL`` and
    ``set_config(..., true)`` only within their transaction.
    """
    session: dict[str, str] = {}
    local: dict[str, str] = {}
    local_transaction: str | None = None
    listed = list(statements)
    target_transaction = listed[index][1]
    for sql, transaction in listed[:index]:
        if _RESET_ON_END.match(sql):
            local, local_transaction = {}, None
            continue
        for match in _SET_CONFIG.finditer(sql):
            if match.group("local").lower() == "true":
                if transaction != local_transaction:
                    local, local_transaction = {}, transaction
                local[match.group("name")] = match.group("value")
            else:
                session[match.group("name")] = match.group("value")
        set_match = _SET.match(sql)
        if set_match:
            name, value = set_match.group("name"), set_match.group("value").strip()
            if (set_match.group("scope") or "").strip().upper() == "LOCAL":
                if transaction != local_transaction:
                    local, local_transaction = {}, transaction
                local[name] = value
            else:
                session[name] = value
    if target_transaction is not None and target_transaction == local_transaction:
        return {**session, **local}
    return session


def abbreviate_vectors(sql: str, *, keep: int = 6) -> str:
    """Shorten long vector literals: ``'[0.1,0.2,…,0.9]' (768 dims)``."""

    def shorten(match: re.Match[str]) -> str:
        values = match.group(1).split(",")
        if len(values) <= keep + 2:
            return match.group(0)
        head = ",".join(values[:keep])
        return f"'[{head},…,{values[-1]}]' /* {len(values)} dims */"

    return _VECTOR_LITERAL.sub(shorten, sql)
