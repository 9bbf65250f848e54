from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PgvectorAdminConfig(AppConfig):
    name = "pgvector_admin"
    verbose_name = _("pgvector admin")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from pgvector_admin import checks  # noqa: F401  (registers the system checks)
        from pgvector_admin.tasks.workers import mark_worker_connections

        # A task worker's connections carry its name: pages can tell one is running.
        mark_worker_connections()
