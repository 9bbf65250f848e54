"""Django's PostgreSQL backend, pointed at the embedded server, which it starts on first use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.db.backends.postgresql import base

from project.embedded import ensure_server


class DatabaseWrapper(base.DatabaseWrapper):
    """Starts the embedded server (settings key ``PGDATA``) before connecting to it."""

    def recover_server(self) -> None:
        """Start the embedded server again if it stopped: called when a request found
        the database unreachable, so the app recovers without a restart."""
        self.close_pool()
        ensure_server(
            Path(self.settings_dict["PGDATA"]), database=self.settings_dict["NAME"], recheck=True
        )

    def get_connection_params(self) -> dict[str, Any]:
        params = super().get_connection_params()
        params["host"] = ensure_server(
            Path(self.settings_dict["PGDATA"]), database=self.settings_dict["NAME"]
        )
        return params
