"""Long query vectors: the search form posts its vector, and the results page's address
carries it inline (``?vector=3,1,2``) when short, else a reference to a copy kept in the
database (``?vector_ref=<digest>``, ``pgvector_admin.models.QueryVector``). Every results
page can so be reloaded and shared, however long its vector, and no address grows past
what servers accept (gunicorn refuses request lines over 4,094 bytes)."""

from __future__ import annotations

import hashlib
from urllib.parse import quote, urlencode

from django.http import QueryDict

from pgvector_admin.models import QueryVector

# Vectors up to this many characters stay readable in the address (a 64-d digit is
# about 250); longer ones are kept and referred to.
INLINE_MAX_CHARS = 1000
REF_PARAM = "vector_ref"
# A query text too long for an address, likewise (its encoded form counts: a Korean
# character is nine bytes there).
TEXT_REF_PARAM = "text_ref"
# The form's own fields that never go into the address.
_NOT_QUERY = {"csrfmiddlewaretoken"}


def remember(text: str) -> str:
    """Keep ``text`` (a vector's or a query's, once, whoever posts it again) and return
    its reference."""
    digest = hashlib.sha256(text.encode()).hexdigest()
    QueryVector.objects.get_or_create(digest=digest, defaults={"text": text})
    return digest


def recall(reference: str) -> str | None:
    """The vector text behind ``reference`` (None when there is none)."""
    return QueryVector.objects.filter(digest=reference[:64]).values_list("text", flat=True).first()


def results_query(posted: QueryDict, carried: QueryDict) -> QueryDict:
    """The results page's query for a posted search form: the form's fields and the
    address's own parameters (the changelist's conditions), the vector inline or, when
    long, by reference."""
    query = carried.copy()
    for name, values in posted.lists():
        if name not in _NOT_QUERY:
            query.setlist(name, values)
    vector = query.get("vector", "")
    if len(vector) > INLINE_MAX_CHARS:
        del query["vector"]
        query[REF_PARAM] = remember(vector)
    elif REF_PARAM in query and vector:
        del query[REF_PARAM]
    text = query.get("text", "")
    if len(quote(text)) > INLINE_MAX_CHARS:
        del query["text"]
        query[TEXT_REF_PARAM] = remember(text)
    elif TEXT_REF_PARAM in query and text:
        del query[TEXT_REF_PARAM]
    return query


def query_string(query: QueryDict) -> str:
    """``query`` written for an address as a form writes it (a space is ``+``), but with
    its commas left as they are: ``vector=3,1,2`` reads as the vector, and a 768-d
    vector inline is encoded in one pass instead of a character at a time."""
    return urlencode(list(query.lists()), doseq=True, safe=",")
