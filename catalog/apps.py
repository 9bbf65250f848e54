from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Vector catalog"

    def ready(self) -> None:
        from catalog.task_workers import mark_worker_connections

        # A task worker's connections carry its name: pages can tell one is running.
        mark_worker_connections()
