"""django-pgvector-admin: the Django admin for embeddings kept in PostgreSQL with pgvector."""

__version__ = "0.1.0"
