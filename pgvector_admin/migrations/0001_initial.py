import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="QueryVector",
            fields=[
                ("digest", models.CharField(max_length=64, primary_key=True, serialize=False)),
                ("text", models.TextField()),
                ("created", models.DateTimeField(auto_now_add=True)),
            ],
        ),
        migrations.CreateModel(
            name="SearchDefault",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("index_name", models.CharField(max_length=63, unique=True)),
                ("table", models.CharField(max_length=200)),
                ("setting_name", models.CharField(max_length=40)),
                ("value", models.PositiveIntegerField()),
                ("recall", models.FloatField()),
                ("k", models.PositiveIntegerField()),
                ("target", models.FloatField()),
                ("queries", models.PositiveIntegerField()),
                ("saved_at", models.DateTimeField(auto_now=True)),
                (
                    "saved_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="TaskProgress",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("task_id", models.CharField(blank=True, max_length=64, null=True, unique=True)),
                ("title", models.CharField(max_length=300)),
                ("created", models.DateTimeField(auto_now_add=True)),
                ("updated", models.DateTimeField(auto_now=True)),
                ("phase", models.CharField(default="waiting", max_length=100)),
                ("phase_started", models.DateTimeField(blank=True, null=True)),
                ("done", models.BigIntegerField(default=0)),
                ("total", models.BigIntegerField(blank=True, null=True)),
                ("report", models.JSONField(blank=True, default=dict)),
                ("kind", models.CharField(default="import", max_length=20)),
                ("arguments", models.JSONField(blank=True, default=dict)),
                ("cancel_requested", models.BooleanField(default=False)),
                ("download", models.CharField(blank=True, max_length=200)),
                (
                    "started_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "background task",
                "verbose_name_plural": "background tasks",
                "ordering": ["-created"],
                "permissions": [
                    ("manage_vector_indexes", "Can create, rebuild and drop vector indexes")
                ],
            },
        ),
    ]
