"""The vector admin: ``VectorModelAdmin`` (or ``VectorAdminMixin`` on your own admin
class) for any model with pgvector fields, and the background tasks' pages, registered
when Django's admin discovers this module."""

from pgvector_admin.admin import tasks as _tasks  # noqa: F401  (registers TaskProgress)
from pgvector_admin.admin.vector_admin import VectorAdminMixin, VectorModelAdmin

__all__ = ["VectorAdminMixin", "VectorModelAdmin"]
