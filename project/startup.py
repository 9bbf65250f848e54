"""Checks made when a server starts serving."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def refuse_to_serve_without_a_secret_key() -> None:
    """With DEBUG off the secret key must come from DJANGO_SECRET_KEY: sessions and CSRF
    tokens would otherwise be signed with a key anyone can read."""
    try:
        key = settings.SECRET_KEY
    except ImproperlyConfigured:  # Django's own "must not be empty"
        key = ""
    if not key:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set when DEBUG is off, e.g. "
            'DJANGO_SECRET_KEY="$(python -c "import secrets; print(secrets.token_urlsafe(50))")"'
        )
