"""gunicorn's application class for the project (its documented custom-application API)."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication


class Gunicorn(BaseApplication):  # type: ignore[misc]
    """gunicorn serving ``project.wsgi``; each worker imports the app after it is forked,
    so no database connection is ever shared between processes."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            self.cfg.set(name, value)

    def load(self) -> Any:
        from project.wsgi import application

        return application
