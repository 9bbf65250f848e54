"""The vector admin's records (background tasks, saved search settings, long query
vectors) now belong to the installable app ``pgvector_admin``. A database made before
keeps them: the rows are copied with their ids, the grants of the index permission and
of the records' own permissions move to the new app's permissions, the task queue's
rows name the tasks' new module, and the old tables and content types go."""

from django.conf import settings
from django.db import migrations

MODELS = ("taskprogress", "searchdefault", "queryvector")
# The task queue stores each task by its import path (django-tasks-db's task_path) and
# a failure by its exception's: queued and past tasks keep working after the move.
MOVED_PATHS = (
    ("catalog.tasks.", "pgvector_admin.tasks.jobs."),
    ("catalog.task_runs.", "pgvector_admin.tasks.runs."),
)
TASK_TABLE = "django_tasks_database_dbtaskresult"


def _columns(cursor, table: str) -> list[str]:
    cursor.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = %s ORDER BY ordinal_position",
        [table],
    )
    return [row[0] for row in cursor.fetchall()]


def _copy_rows(cursor, source: str, target: str) -> None:
    # The columns both tables have: the app's table may have gained some since (a
    # task's language), which the old table never had.
    shared = [name for name in _columns(cursor, source) if name in _columns(cursor, target)]
    columns = ", ".join(f'"{name}"' for name in shared)
    cursor.execute(f'INSERT INTO "{target}" ({columns}) SELECT {columns} FROM "{source}"')
    if "id" in _columns(cursor, target):
        # The next new row's id comes after the copied ones.
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('\"{target}\"', 'id'), "
            f'COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM "{target}"'
        )


def move_records(apps, schema_editor) -> None:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        for model in MODELS:
            _copy_rows(cursor, f"catalog_{model}", f"pgvector_admin_{model}")
        tables = connection.introspection.table_names(cursor)
        if TASK_TABLE in tables:
            for old, new in MOVED_PATHS:
                for column in ("task_path", "exception_class_path"):
                    cursor.execute(
                        f'UPDATE "{TASK_TABLE}" SET "{column}" = %s || substr("{column}", %s) '
                        f'WHERE starts_with("{column}", %s)',
                        [new, len(old) + 1, old],
                    )
    _move_permissions(apps)


def _move_permissions(apps) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    User = apps.get_model(settings.AUTH_USER_MODEL)
    for model in MODELS:
        old_type = ContentType.objects.filter(app_label="catalog", model=model).first()
        if old_type is None:
            continue
        new_type, _ = ContentType.objects.get_or_create(app_label="pgvector_admin", model=model)
        for old in Permission.objects.filter(content_type=old_type):
            new, _ = Permission.objects.get_or_create(
                content_type=new_type, codename=old.codename, defaults={"name": old.name}
            )
            for group in Group.objects.filter(permissions=old):
                group.permissions.add(new)
            for user in User.objects.filter(user_permissions=old):
                user.user_permissions.add(new)
        # Its permissions (and their grants) go with it; log entries keep their text.
        old_type.delete()


def move_records_back(apps, schema_editor) -> None:
    with schema_editor.connection.cursor() as cursor:
        for model in MODELS:
            _copy_rows(cursor, f"pgvector_admin_{model}", f"catalog_{model}")


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0007_query_vectors"),
        ("pgvector_admin", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(move_records, move_records_back),
        migrations.DeleteModel(name="TaskProgress"),
        migrations.DeleteModel(name="SearchDefault"),
        migrations.DeleteModel(name="QueryVector"),
    ]
