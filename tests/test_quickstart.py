import io
import re

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command

from catalog.models import Item

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def few_docstrings(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Three docstrings instead of the interpreter's 6,000 (read and embedded in a few
    seconds), but for the test about them."""
    if "docstrings" in request.node.name:
        return
    from catalog import samples
    from catalog.stdlib_docs import Doc

    monkeypatch.setattr(
        samples,
        "read_corpus",
        lambda: [Doc(f"m.f{i}", "function", "m", f"Return {i}.") for i in range(3)],
    )


def run_quickstart() -> str:
    out = io.StringIO()
    call_command("quickstart", "--no-serve", stdout=out)
    return out.getvalue()


def test_quickstart_creates_admin_with_a_generated_password_printed_once(monkeypatch) -> None:
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)
    first = run_quickstart()
    match = re.search(r"Created superuser 'admin' with password: (\S+)", first)
    assert match, first
    password = match.group(1)
    assert len(password) >= 12
    user = authenticate(username="admin", password=password)
    assert user is not None
    assert user.is_superuser
    assert user.is_staff

    second = run_quickstart()
    assert password not in second
    assert "password is unchanged" in second
    assert authenticate(username="admin", password=password) is not None


def test_quickstart_generates_a_different_password_for_each_new_database(monkeypatch) -> None:
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)
    first = re.search(r"password: (\S+)", run_quickstart()).group(1)
    get_user_model().objects.all().delete()
    second = re.search(r"password: (\S+)", run_quickstart()).group(1)
    assert first != second


def test_quickstart_uses_the_password_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "correct horse battery staple")
    out = run_quickstart()
    assert "correct horse" not in out
    assert authenticate(username="admin", password="correct horse battery staple") is not None


def test_quickstart_loads_the_27_seed_vectors_once() -> None:
    run_quickstart()
    run_quickstart()
    assert Item.objects.count() == 27


def test_quickstart_loads_the_docstrings_once_and_queues_their_embedding() -> None:
    from catalog.models import Docstring
    from pgvector_admin.models import TaskProgress

    out = run_quickstart()
    count = Docstring.objects.count()
    assert f"Loaded {count:,} docstrings of Python's standard library" in out
    assert count > 5_000
    assert Docstring.objects.filter(qualname="time.sleep", kind="function").exists()
    # The tests' task backend runs a queued task at once: the embedding is done.
    task = TaskProgress.objects.get(kind="embed")
    assert (task.phase, task.report["embedded"]) == ("done", count)
    assert not Docstring.objects.filter(embedding__isnull=True).exists()
    assert "docstrings" not in run_quickstart()
    assert Docstring.objects.count() == count
