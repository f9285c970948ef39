"""Each server's policy: the config file's, with the overrides stored at run time (`dosewise servers set`) on top."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from dosewise.errors import ConfigError
from dosewise.settings import Policy, Settings, server_policy

log = logging.getLogger(__name__)

# Stored rows are not tied to one platform: Discord guild ids and Slack team ids never collide.
ANY_PLATFORM = "any"


class ServerPolicies:
    """Policy lookup per server; cheap on the hot path (a dict hit), rebuilt only when overrides change."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._overrides: dict[str, dict[str, Any]] = {}
        self._cache: dict[str, Policy] = {}

    def policy_for(self, server_id: str) -> Policy:
        """The policy in force for a server."""
        found = self._cache.get(server_id)
        if found is None:
            found = self._build(server_id)
            self._cache[server_id] = found
        return found

    def overrides(self, server_id: str) -> dict[str, Any]:
        """The run-time overrides of one server (key → value)."""
        return dict(self._overrides.get(server_id, {}))

    def update(self, rows: Mapping[str, Mapping[str, Any]]) -> bool:
        """Take the stored overrides (server → key → value); True if anything changed."""
        fresh = {server: dict(values) for server, values in rows.items() if values}
        if fresh == self._overrides:
            return False
        self._overrides = fresh
        self._cache.clear()
        return True

    def _build(self, server_id: str) -> Policy:
        base = self._settings.policy_for(server_id)
        stored = self._overrides.get(server_id)
        if not stored:
            return base
        try:
            return server_policy(base, stored, f"stored settings of server {server_id}")
        except ConfigError as exc:
            # A value written by another version must not stop screening: the config policy still holds.
            log.warning("ignoring the stored settings of server %s: %s", server_id, "; ".join(exc.problems))
            return base
