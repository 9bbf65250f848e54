from django.apps import AppConfig


class VectorModelsConfig(AppConfig):
    """Models of every vector type the catalog supports, installed for the tests only."""

    name = "tests.vector_models"
    label = "vector_models"
    default_auto_field = "django.db.models.BigAutoField"
