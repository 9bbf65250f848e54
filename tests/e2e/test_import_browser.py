"""Importing a CSV file in the admin, as a person does it in Chromium."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from catalog.models import Item
from tests.e2e.conftest import admin_login

pytestmark = pytest.mark.django_db(transaction=True)


def test_upload_a_bad_file_see_the_error_fix_it_confirm_see_the_rows(
    page: Page, live_server, tmp_path
) -> None:
    User.objects.create_superuser("admin", "", "password")
    admin_login(page, live_server.url, username="admin", password="password")
    bad = tmp_path / "vectors.csv"
    bad.write_text('label,embedding\nalpha,"[1,2,3]"\nbeta,"[1,2]"\ngamma,"[3,2,1]"\n')

    page.goto(f"{live_server.url}/admin/catalog/item/")
    page.click("a.import_link")
    page.set_input_files("#id_import_file", str(bad))
    page.select_option("#id_format", label="csv")
    page.click("input[type=submit][value='Submit']")
    expect(page.locator("h2")).to_contain_text("Nothing was imported: 1 bad line")
    expect(page.locator(".import-errors")).to_contain_text("expected 3 dimensions, not 2")
    expect(page.locator(".import-errors td.line-number")).to_have_text(["3"])
    assert Item.objects.count() == 0

    bad.write_text('label,embedding\nalpha,"[1,2,3]"\nbeta,"[1,2,4]"\ngamma,"[3,2,1]"\n')
    page.set_input_files("#id_import_file", str(bad))
    page.select_option("#id_format", label="csv")
    page.click("input[type=submit][value='Submit']")
    expect(page.locator(".import-summary")).to_contain_text("3 rows checked")
    page.click("input[name=confirm]")
    # The task's progress page (in the tests the task runs as soon as it is queued).
    expect(page).to_have_url(re.compile(r"/admin/pgvector_admin/taskprogress/\d+/change/$"))
    expect(page.locator(".task-finished")).to_contain_text(
        "Import finished: 3 new, 0 updated items"
    )
    page.goto(f"{live_server.url}/admin/catalog/item/")
    expect(page.locator("#result_list tbody tr")).to_have_count(3)
    expect(page.locator("#result_list")).to_contain_text("beta")
    expect(page.locator("#result_list")).to_contain_text("[1, 2, 4]")
