"""Every page, the action, the import and export screens and both commands, on every
model of the tests' own app and the catalog's: none of them is special."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

from catalog.models import Digit
from catalog.samples import load_digits
from pgvector_admin.vectors.fields import vector_columns
from tests.vector_data import MODELS_WITH_DATA, admin_url

pytestmark = pytest.mark.django_db

MODELS = [*MODELS_WITH_DATA, (Digit, None)]


@pytest.mark.parametrize(("model", "fixture"), MODELS)
def test_every_page_and_the_action_work_on_every_model(
    admin_client: Client,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    model: type,
    fixture: str | None,
) -> None:
    if fixture:
        request.getfixturevalue(fixture)
    else:
        load_digits()
    row = model.objects.order_by("pk")[3]
    for column in vector_columns(model):
        query = column.text(getattr(row, column.name))
        pages = {
            "changelist": admin_client.get(admin_url(model, "")),
            "change": admin_client.get(admin_url(model, "change", row.pk)),
            "search": admin_client.get(
                admin_url(model, "search"), {"vector": query, "field": column.name, "k": 5}
            ),
            "search csv": admin_client.get(
                admin_url(model, "search"),
                {"vector": query, "field": column.name, "k": 5, "format": "csv"},
            ),
            "similar": admin_client.get(
                admin_url(model, "similar", row.pk), {"field": column.name, "k": 5, "recall": 1}
            ),
            "import": admin_client.get(admin_url(model, "import")),
            "export": admin_client.get(admin_url(model, "export")),
        }
        for name, response in pages.items():
            assert response.status_code == 200, (name, response.content[:2000])
        # The search for a row's own vector finds it (or a row just like it) first.
        outcome = pages["search"].context["outcome"]
        assert outcome.neighbours[0].distance(outcome.metric) == pytest.approx(0, abs=1e-4)
        assert len(outcome.neighbours) == 5
        assert len(pages["similar"].context["outcome"].neighbours) == 5
        assert pages["similar"].context["outcome"].recall is not None
    action = admin_client.post(
        admin_url(model, ""),
        {"action": "find_similar", "_selected_action": [str(row.pk)]},
    )
    assert action.status_code == 302
    assert action["Location"] == admin_url(model, "similar", row.pk)
    # Both commands take the model.
    path = tmp_path / "rows.csv"
    call_command("export_vectors", str(path), "--model", model._meta.label, stderr=io.StringIO())
    out = io.StringIO()
    call_command("import_vectors", str(path), "--model", model._meta.label, "--check", stdout=out)
    count = model.objects.count()
    assert f"{count:,} rows are valid (0 new, {count:,} updated); nothing written" in out.getvalue()
