"""The project's URLs plus the debug toolbar's and a view of a user's own that runs
vector queries: for the tests that switch the toolbar on."""

from debug_toolbar.toolbar import debug_toolbar_urls
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.urls import path
from pgvector.django import CosineDistance, L2Distance

from catalog.models import Item
from project.urls import urlpatterns as project_urlpatterns


def own_vector_view(request: HttpRequest) -> HttpResponse:
    """A view outside the admin: an INSERT that uses <=>, a long-vector comparison, then
    plain ORM searches."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO catalog_item (embedding, label) SELECT embedding, 'copy' "
            "FROM catalog_item ORDER BY embedding <=> '[1,2,3]' LIMIT 1"
        )
        # A 768-d comparison, as with a real embedding model's vectors.
        long_vector = "[" + ",".join("0.5" for _ in range(768)) + "]"
        cursor.execute("SELECT %s::vector <=> %s::vector", [long_vector, long_vector])
    nearest = Item.objects.order_by(CosineDistance("embedding", [1, 2, 3]))[:3]
    farthest = Item.objects.order_by(L2Distance("embedding", [1, 2, 3]).desc())[:2]
    labels = [item.label for item in [*nearest, *farthest]]
    return HttpResponse(f"<html><body>{', '.join(labels)}</body></html>")


urlpatterns = [
    path("own/", own_vector_view),
    *project_urlpatterns,
    *debug_toolbar_urls(),
]
