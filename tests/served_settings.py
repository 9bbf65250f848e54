"""The demo's own settings plus the tests' models of every vector type, for the tests
that serve the app for real (``manage.py serve``) in a process of its own."""

from project.settings import *  # noqa: F403
from project.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.vector_models"]
